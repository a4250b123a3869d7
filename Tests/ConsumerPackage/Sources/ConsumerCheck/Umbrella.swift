import Embeddings
import Foundation

/// Touches one public entry point of every library module through `import Embeddings` alone, so
/// that a module missing from the umbrella fails this package's build.
func umbrellaCheck() throws {
    // GraphData, with a URL.
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("consumer-check-edges.tsv")
    try "a\tb\nb\tc\nc\ta\na\tc\n".write(to: file, atomically: true, encoding: .utf8)
    let edges = try EdgeList.read(file)
    // FollowGraph, Solvers and EmbeddingStore.
    var configuration = FollowGraphSVDConfiguration()
    configuration.dimension = 1
    let embedding = try FollowGraphSVD.embed(edges: edges, configuration: configuration)
    let table: EmbeddingTable = embedding.consumers
    let diagnostics: SolverDiagnostics = embedding.svd.diagnostics
    // Evaluation and Compression types are visible.
    let _: PredictionReport.Type = PredictionReport.self
    let _: CompressionConfiguration = CompressionConfiguration()
    // Neighbors: an exact index over the table, queried with its own first id.
    let index = try NeighborIndexes.make(kind: .exact, dimension: table.dimension, metric: .cosine)
    try index.add(table, threads: 1)
    let neighbours = try index.search(ids: [table.ids[0]], parameters: SearchParameters(k: 1))
    // WordEmbeddings and Temporal types are visible.
    let _: TokenizerMode = .tweet
    let _: TemporalEmbeddingConfiguration.Type = TemporalEmbeddingConfiguration.self
    print("umbrella: nearest neighbour of \(table.ids[0]) is \(neighbours[0].first?.id ?? "none")")
    print("umbrella: \(edges.edgeCount) edges, table \(table.count) x \(table.dimension), \(diagnostics.method)")
}
