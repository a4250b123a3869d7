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
    print("umbrella: \(edges.edgeCount) edges, table \(table.count) x \(table.dimension), \(diagnostics.method)")
}
