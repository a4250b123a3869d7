import ArgumentParser
import EmbeddingStore
import Evaluation
import FollowGraph
import Foundation
import GraphData
import LinearAlgebra

BLAS.useAVX512KernelsIfAvailable()

struct FollowGraphSVDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow-graph-svd",
        abstract: "Embed the accounts of a follow graph by a truncated SVD of its (normalised) adjacency matrix.",
        discussion: """
        Reads an edge list (one edge per line: `follower<TAB>followed [weight]`; tab, space or comma \
        separated; `#` and `%` comments; ids are any text), selects and weights the accounts, \
        normalises the matrix, computes a rank-`--dim` truncated SVD A ≈ U S V' and writes embedding tables:

          directed:   DIR/consumers  (followers, U S^1/2)
                      DIR/producers  (accounts followed, V S^1/2)
                      DIR/nodes      (every account, both sides: [U S^1/2 | V S^1/2], 2 x dim)
          undirected: DIR/nodes      (U S^1/2)

        Each table holds vectors.npy (float32, one row per account), ids.tsv (row i's account id) and \
        meta.json (algorithm, parameters, input checksum, singular values, residual). Tables are \
        written to a temporary directory and renamed into place, so a failed run leaves no half table.

        Examples:
          follow-graph-svd --demo --output demo
          follow-graph-svd edges.tsv --output emb --dim 128 --report report.json
          follow-graph-svd graph.csv --undirected --output emb --labels labels.tsv
        """)

    @Argument(help: "The edge list to embed (omit with --demo).")
    var edges: String?

    @Option(name: .shortAndLong, help: "Directory that receives the embedding tables.")
    var output: String

    @Option(help: "Embedding dimension (SVD rank).")
    var dim: Int = 64

    @Option(help: "SVD back-end: randomized (Halko et al.; fast) or arpack (Lanczos; residuals near machine precision).")
    var solver: FollowGraphSolver = .randomized

    @Option(help: "Randomized SVD: extra random vectors beyond --dim.")
    var oversamples: Int = 10

    @Option(help: "Randomized SVD: power iterations (default: 7 when dim < 0.1 min(m, n), else 4, as scikit-learn).")
    var powerIterations: Int?

    @Option(help: "Seed of every random draw; the same seed gives the same embedding.")
    var seed: UInt64 = 0

    @Option(help: "Threads for sparse products and BLAS (default: all cores, or EMBEDDINGS_THREADS).")
    var threads: Int?

    @Flag(name: .customLong("directed"), help: "A line `a b` means a follows b (default).")
    var directedFlag = false

    @Flag(name: .customLong("undirected"), help: "Edges have no direction: the graph is symmetrised and one table, DIR/nodes, is written.")
    var undirected = false

    @Flag(help: "Keep self-loops (dropped by default: following oneself says nothing).")
    var keepSelfLoops = false

    @Option(help: "Keep only accounts with at least this many followers.")
    var minFollowers: Int = 1

    @Option(help: "Keep only users following at least this many kept accounts.")
    var minFollowing: Int = 1

    @Option(help: "Keep at most this many accounts, the most-followed first.")
    var maxNodes: Int?

    @Option(help: "Edge weighting: binary, log (1 + log multiplicity) or idf (down-weights popular accounts).")
    var weighting: EdgeWeighting = .binary

    @Option(help: "Normalisation: none, or degree: (D_out + tau)^-1/2 A (D_in + tau)^-1/2 with tau from --degree-regularization.")
    var normalization: GraphNormalization = .degree

    @Option(help: "Degree normalisation: tau added to every degree, (D + tau)^-1/2 (default: the mean degree; 0: none).")
    var degreeRegularization: Float?

    @Option(help: "Write a JSON report (sizes, seconds per phase, singular values, residual, peak memory) to this file.")
    var report: String?

    @Option(help: "Labels (`node<TAB>label`, several lines per node allowed): after embedding, run the topic/metadata prediction benchmark (5-fold logistic regression ROC-AUC) and store the scores in meta.json.")
    var labels: String?

    @Flag(help: "Generate a synthetic follow graph with planted topics (in DIR/demo-input), embed it and benchmark it.")
    var demo = false

    @Flag(name: .shortAndLong, help: "Print progress lines on stderr even when it is not a terminal.")
    var verbose = false

    mutating func validate() throws {
        if demo && edges != nil { throw ValidationError("give either an edge list or --demo, not both") }
        if !demo && edges == nil { throw ValidationError("missing the edge list (or --demo to run on a generated graph)") }
        if directedFlag && undirected { throw ValidationError("--directed and --undirected exclude each other") }
        if dim < 1 { throw ValidationError("--dim must be at least 1") }
        if oversamples < 0 { throw ValidationError("--oversamples must be non-negative") }
        if let q = powerIterations, q < 0 { throw ValidationError("--power-iterations must be non-negative") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if let m = maxNodes, m < 1 { throw ValidationError("--max-nodes must be at least 1") }
        if let t = degreeRegularization, !(t >= 0) { throw ValidationError("--degree-regularization must be non-negative") }
    }

    func run() throws {
        if let t = threads { Parallel.threads = t; BLAS.threads = t }
        MemoryLimits.adaptAllocatorToLimits()
        try BLAS.reserveWorkBuffers()
        let progress = verbose || isatty(STDERR_FILENO) != 0
        let log: (String) -> Void = { if progress { FileHandle.standardError.write(Data(("follow-graph-svd: " + $0 + "\n").utf8)) } }
        let outputURL = URL(fileURLWithPath: output)
        let totalStart = Date()

        // Output and report paths are checked before any work; the run is staged and committed whole.
        let run = try FollowGraphEmbedding.startOutput(outputURL)
        if let report { try OutputRun.checkWritableFile(report) }
        var edgePath = edges ?? ""
        var labelPath = labels
        var directed = !undirected
        if demo {
            let input = run.staging.appendingPathComponent("demo-input")
            log("generating a synthetic follow graph with planted topics in \(input.path)")
            let files = try DemoGraph.write(to: input, seed: seed)
            edgePath = files.edges.path
            labelPath = files.labels.path
            directed = true
        }

        var configuration = FollowGraphSVDConfiguration()
        configuration.dimension = dim
        configuration.solver = solver
        configuration.oversamples = oversamples
        configuration.powerIterations = powerIterations
        configuration.seed = seed
        configuration.directed = directed
        configuration.selection = NodeSelection(minFollowers: minFollowers, minFollowing: minFollowing, maxNodes: maxNodes)
        configuration.weighting = weighting
        configuration.normalization = normalization
        configuration.degreeRegularization = degreeRegularization

        _ = try FollowGraphSVD.readBudget(edgeFile: edgePath, directed: directed)
        let readStart = Date()
        var options = EdgeListReader.Options()
        options.directed = directed
        options.selfLoops = keepSelfLoops ? .keep : .drop
        options.duplicates = weighting == .log ? .sum : .keepOne
        let graph = try EdgeList.read(path: edgePath, options: options)
        let readSeconds = Date().timeIntervalSince(readStart)
        log("read \(graph.edgeCount) edges over \(graph.nodeCount) nodes from \(edgePath) in \(String(format: "%.2f", readSeconds)) s")

        let budget = FollowGraphSVD.budget(graph: graph, configuration: configuration)
        budget.lines.forEach(log)
        try budget.check()
        var embedding = try FollowGraphSVD.embed(edges: graph, configuration: configuration,
                                                 inputFile: URL(fileURLWithPath: edgePath), log: log)

        var scoreRows: [(table: String, benchmark: String, value: Double)] = []
        if let labelPath {
            let labelTable = try LabelTable.read(path: labelPath, options: .init(unknownNodes: .skip))
            // Every account has a row in the both-sides table of a directed graph.
            let evaluated = embedding.nodes ?? embedding.consumers
            let result = try PredictionBenchmark.run(embeddings: evaluated, labels: labelTable.labelNamesByNode, seed: seed)
            if embedding.nodes != nil {
                embedding.nodes!.metadata.scores["prediction_macro_auc"] = result.macroAUC
                embedding.nodes!.metadata.scores["prediction_micro_auc"] = result.microAUC
            } else {
                embedding.consumers.metadata.scores["prediction_macro_auc"] = result.macroAUC
                embedding.consumers.metadata.scores["prediction_micro_auc"] = result.microAUC
            }
            scoreRows.append(("nodes", "label prediction macro ROC-AUC", result.macroAUC))
            scoreRows.append(("nodes", "label prediction micro ROC-AUC", result.microAUC))
            log("label prediction (\(result.folds)-fold logistic regression): macro AUC \(String(format: "%.4f", result.macroAUC)), micro AUC \(String(format: "%.4f", result.microAUC))")
        }
        if directed && (demo || labelPath != nil) {
            let followed = try FollowSets(rowOffsets: embedding.adjacency.rowOffsets, columnIndices: embedding.adjacency.columnIndices)
            let jaccard = try JaccardBenchmark.run(embeddings: embedding.nodes ?? embedding.consumers, followed: followed,
                                                   rowIDs: graph.sourceIDs.ids, seed: seed)
            if embedding.nodes != nil { embedding.nodes!.metadata.scores["jaccard_spearman"] = jaccard.spearman } else { embedding.consumers.metadata.scores["jaccard_spearman"] = jaccard.spearman }
            scoreRows.append(("nodes", "follow-Jaccard Spearman rho", jaccard.spearman))
        }

        let writeStart = Date()
        try embedding.write(into: run, directed: directed,
                            inputShownAs: demo ? outputURL.appendingPathComponent("demo-input/edges.tsv").path : nil)
        let writeSeconds = Date().timeIntervalSince(writeStart)
        let totalSeconds = Date().timeIntervalSince(totalStart)
        let peak = peakResidentMemoryBytes()

        let svd = embedding.svd
        print("follow-graph-svd: \(graph.nodeCount) nodes, \(graph.edgeCount) edges -> \(embedding.rows) x \(embedding.columns) matrix, \(embedding.nonzeros) nonzeros")
        print("  \(svd.diagnostics.method): rank \(svd.rank), s1 = \(svd.s.first ?? 0), s\(svd.rank) = \(svd.s.last ?? 0), max relative residual \(String(format: "%.3g", svd.diagnostics.maxRelativeResidual))")
        print(String(format: "  seconds: read %.2f  build %.2f  solve %.2f  write %.2f  total %.2f", readSeconds, embedding.buildSeconds, embedding.solveSeconds, writeSeconds, totalSeconds))
        if let peak { print(String(format: "  peak memory: %.1f MiB", Double(peak) / 1_048_576)) }
        print("  wrote " + (directed ? "\(output)/consumers (\(embedding.consumers.count) x \(dim)), \(output)/producers (\(embedding.producers.count) x \(dim)) and \(output)/nodes (\(embedding.nodes?.count ?? 0) x \(2 * dim), both sides)" : "\(output)/nodes (\(embedding.consumers.count) x \(dim))"))
        if !scoreRows.isEmpty {
            print("")
            print("  table      benchmark                          score")
            for row in scoreRows {
                print("  " + row.table.padding(toLength: 10, withPad: " ", startingAt: 0) + " " +
                      row.benchmark.padding(toLength: 34, withPad: " ", startingAt: 0) + " " + String(format: "%.4f", row.value))
            }
        }

        if let report {
            var object: [String: Any] = [
                "nodes": graph.nodeCount, "edges": graph.edgeCount,
                "matrix": ["rows": embedding.rows, "columns": embedding.columns, "nonzeros": embedding.nonzeros],
                "seconds": ["read": readSeconds, "build": embedding.buildSeconds, "solve": embedding.solveSeconds,
                            "write": writeSeconds, "total": totalSeconds],
                "singular_values": svd.s.map { Double($0) },
                "max_relative_residual": svd.diagnostics.maxRelativeResidual,
                "solver": svd.diagnostics.method, "passes": svd.diagnostics.passes, "seed": seed,
                "solver_phases": Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +),
                "dimension": dim, "directed": directed,
                "weighting": weighting.rawValue, "normalization": normalization.rawValue,
                "peak_memory_bytes": peak ?? -1,
            ]
            if !scoreRows.isEmpty {
                object["scores"] = Dictionary(scoreRows.map { ("\($0.table): \($0.benchmark)", $0.value) }, uniquingKeysWith: { a, _ in a })
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: report), options: .atomic)
        }
    }
}

extension FollowGraphSolver: ExpressibleByArgument {}
extension EdgeWeighting: ExpressibleByArgument {}
extension GraphNormalization: ExpressibleByArgument {}

/// Runs the command, printing library errors (which name file, line and problem) without a stack trace.
do {
    var command = try FollowGraphSVDCommand.parseAsRoot()
    try command.run()
} catch let error as MemoryBudgetError {
    error.exitImmediately()
} catch {
    FollowGraphSVDCommand.exit(withError: error)
}
