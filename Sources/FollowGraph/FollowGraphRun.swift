import EmbeddingStore
import Evaluation
import Foundation
import GraphData
import LinearAlgebra
import Solvers

// The whole `follow-graph-svd` job as one library call (read, embed, benchmark, write, report),
// so that the tool is argument parsing only and the job can be run and tested from Swift.

/// What ``FollowGraphRun/run(_:log:)`` does: the input, the embedding settings and the outputs.
public struct FollowGraphRunOptions: Sendable {
    /// The edge list to embed; `nil` with ``demo``.
    public var edges: URL?
    /// Generate the built-in synthetic follow graph (``DemoGraph``) into `output/demo-input`,
    /// embed it and benchmark it against its planted topics.
    public var demo: Bool
    /// The directory that receives the tables (`consumers`, `producers`, `nodes` or `nodes`).
    public var output: URL
    /// The embedding settings (``FollowGraphSVDConfiguration``; `directed` is forced on by ``demo``).
    public var configuration: FollowGraphSVDConfiguration
    /// Keep self-loops (dropped by default).
    public var keepSelfLoops: Bool
    /// Labels (`node<TAB>label`): run the label-prediction benchmark and store its scores.
    public var labels: URL?
    /// The edge list's first line is a header (otherwise one is skipped only when detection is
    /// certain, and then said on stderr).
    public var header: Bool = false
    /// Accept zero, negative and subnormal weights (rejected with file and line by default).
    public var allowNonPositiveWeights: Bool = false

    /// Options; everything but the output defaults to a plain run on `edges`.
    public init(edges: URL?, demo: Bool = false, output: URL, configuration: FollowGraphSVDConfiguration = .init(),
                keepSelfLoops: Bool = false, labels: URL? = nil) {
        self.edges = edges; self.demo = demo; self.output = output; self.configuration = configuration
        self.keepSelfLoops = keepSelfLoops; self.labels = labels
    }
}

/// The typed report of one `follow-graph-svd` run (`--report` writes it as JSON; the keys are
/// the snake_case names in ``CodingKeys``).
public struct FollowGraphReport: Codable, Sendable, Equatable {
    /// The factorised matrix's shape.
    public struct MatrixShape: Codable, Sendable, Equatable { public var rows, columns, nonzeros: Int }
    /// Wall-clock seconds per stage.
    public struct Seconds: Codable, Sendable, Equatable { public var read, build, solve, write, total: Double }
    /// One written table: its directory name and shape.
    public struct Table: Codable, Sendable, Equatable { public var name: String; public var rows, columns: Int }
    /// One benchmark score of a table.
    public struct Score: Codable, Sendable, Equatable { public var table, benchmark: String; public var value: Double }

    public var nodes: Int, edges: Int
    public var matrix: MatrixShape
    public var seconds: Seconds
    public var singularValues: [Double]
    public var maxRelativeResidual: Double
    /// The SVD method (``SolverDiagnostics/method``).
    public var solver: String
    /// Operator applications of the SVD (``SolverDiagnostics/operatorApplications``).
    public var passes: Int
    public var seed: UInt64
    /// Seconds per solver phase, by phase name.
    public var solverPhases: [String: Double]
    public var dimension: Int
    public var directed: Bool
    public var weighting: String, normalization: String
    /// Peak resident memory, or -1 where it cannot be read.
    public var peakMemoryBytes: Int
    public var tables: [Table]
    /// Benchmark scores by `"table: benchmark"`; absent when no benchmark ran.
    public var scores: [String: Double]?
    /// The solver's full diagnostics.
    public var diagnostics: SolverDiagnostics

    enum CodingKeys: String, CodingKey {
        case nodes, edges, matrix, seconds, solver, passes, seed, dimension, directed, weighting, normalization, tables, scores, diagnostics
        case singularValues = "singular_values", maxRelativeResidual = "max_relative_residual"
        case solverPhases = "solver_phases", peakMemoryBytes = "peak_memory_bytes"
    }

    /// The lines the tool prints: sizes, solver, seconds, memory, tables and a score table.
    public var summary: [String] {
        var lines = [
            "follow-graph-svd: \(nodes) nodes, \(edges) edges -> \(matrix.rows) x \(matrix.columns) matrix, \(matrix.nonzeros) nonzeros",
            "  \(solver): rank \(singularValues.count), s1 = \(String(format: "%.4g", singularValues.first ?? 0)), s\(singularValues.count) = \(String(format: "%.4g", singularValues.last ?? 0)), max relative residual \(String(format: "%.3g", maxRelativeResidual))",
            String(format: "  seconds: read %.2f  build %.2f  solve %.2f  write %.2f  total %.2f",
                   seconds.read, seconds.build, seconds.solve, seconds.write, seconds.total),
        ]
        if peakMemoryBytes >= 0 { lines.append(String(format: "  peak memory: %.1f MiB", Double(peakMemoryBytes) / 1_048_576)) }
        lines.append("  wrote " + tables.map { "\($0.name) (\($0.rows) x \($0.columns))" }.joined(separator: ", "))
        let rows = (scores ?? [:]).sorted { $0.key < $1.key }
        if !rows.isEmpty {
            lines += ["", "  table      benchmark                          score"]
            for (key, value) in rows {
                let parts = key.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                lines.append("  " + parts[0].padding(toLength: 10, withPad: " ", startingAt: 0) + " " +
                             (parts.last ?? "").padding(toLength: 34, withPad: " ", startingAt: 0) + " " + String(format: "%.4f", value))
            }
        }
        return lines
    }
}

extension FollowGraphEmbedding {
    /// The table the benchmarks score: the both-sides `nodes` table of a directed graph (every
    /// account has a row there), else `consumers`.
    public var benchmarkedTable: EmbeddingTable {
        get { nodes ?? consumers }
        set { if nodes != nil { nodes = newValue } else { consumers = newValue } }
    }
}

/// The `follow-graph-svd` job: read the edge list (or generate the demo graph), embed it
/// (``FollowGraphSVD``), run the label-prediction and follow-Jaccard benchmarks when labels are
/// given (or with the demo), write the tables atomically and return the report.
public enum FollowGraphRun {
    /// Runs the job. `log` receives one progress line per stage.
    /// - Throws: ``GraphData/GraphDataError`` for unreadable input (naming file, line and
    ///   problem), ``FollowGraphError`` for an unusable graph or dimension, solver and benchmark
    ///   errors as they come, ``EmbeddingStore/EmbeddingStoreError`` when a table cannot be written.
    public static func run(_ options: FollowGraphRunOptions, log: (String) -> Void = { _ in }) throws -> FollowGraphReport {
        let clock = Date()
        var c = options.configuration
        var edgeURL = options.edges, labelURL = options.labels
        // Before any work: OpenBLAS's buffers against the address-space limit, the output
        // directory (staged whole, committed at the end), the read phase's memory.
        MemoryLimits.adaptAllocatorToLimits()
        try BLAS.reserveWorkBuffers()
        let output = try FollowGraphEmbedding.startOutput(options.output)
        if options.demo {
            let input = output.staging.appendingPathComponent("demo-input")
            log("generating a synthetic follow graph with planted topics in \(input.path)")
            let files = try DemoGraph.write(to: input, seed: c.seed)
            edgeURL = files.edges; labelURL = files.labels; c.directed = true
        }
        guard let edgeURL else { throw FollowGraphError("no edge list given (and not a demo run)") }

        _ = try FollowGraphSVD.readBudget(edgeFile: edgeURL.path, directed: c.directed)
        let readStart = Date()
        var readOptions = EdgeListReader.Options()
        readOptions.directed = c.directed
        readOptions.selfLoops = options.keepSelfLoops ? .keep : .drop
        readOptions.duplicates = c.weighting == .log ? .sum : .keepOne
        readOptions.header = options.header ? .present : .auto
        readOptions.allowNonPositiveWeights = options.allowNonPositiveWeights
        let graph = try EdgeList.read(path: edgeURL.path, options: readOptions)
        if graph.statistics.headerSkipped && !options.header {
            FileHandle.standardError.write(Data("follow-graph-svd: \(edgeURL.path): the first line names the columns; skipped it as a header\n".utf8))
        }
        let readSeconds = Date().timeIntervalSince(readStart)
        log("read \(graph.edgeCount) edges over \(graph.nodeCount) nodes from \(edgeURL.path) in \(String(format: "%.2f", readSeconds)) s")

        let budget = FollowGraphSVD.budget(graph: graph, configuration: c)
        budget.lines.forEach(log)
        try budget.check()
        var embedding = try FollowGraphSVD.embed(edges: graph, configuration: c, inputFile: edgeURL, log: log)
        if let warning = embedding.rankWarning {
            FileHandle.standardError.write(Data("follow-graph-svd: warning: \(warning)\n".utf8))
        }
        var scores: [String: Double] = [:]
        func record(_ metaKey: String, _ benchmark: String, _ value: Double) {
            embedding.benchmarkedTable.metadata.scores[metaKey] = value
            scores["nodes: \(benchmark)"] = value
        }
        if let labelURL {
            let labels = try LabelTable.read(path: labelURL.path, options: .init(unknownNodes: .skip))
            let result = try PredictionBenchmark.run(embeddings: embedding.benchmarkedTable, labels: labels.labelNamesByNode, seed: c.seed)
            record("prediction_macro_auc", "label prediction macro ROC-AUC", result.macroAUC)
            record("prediction_micro_auc", "label prediction micro ROC-AUC", result.microAUC)
            log("label prediction (\(result.folds)-fold logistic regression): macro AUC \(String(format: "%.4f", result.macroAUC)), micro AUC \(String(format: "%.4f", result.microAUC))")
        }
        if c.directed && labelURL != nil {
            let followed = try FollowSets(rowOffsets: embedding.adjacency.rowOffsets, columnIndices: embedding.adjacency.columnIndices)
            let jaccard = try JaccardBenchmark.run(embeddings: embedding.benchmarkedTable, followed: followed,
                                                   rowIDs: graph.sourceIDs.ids, seed: c.seed)
            record("jaccard_spearman", "follow-Jaccard Spearman rho", jaccard.spearman)
        }

        let writeStart = Date()
        let named = try embedding.write(into: output, directed: c.directed,
                                        inputShownAs: options.demo ? options.output.appendingPathComponent("demo-input/edges.tsv").path : nil)
        let writeSeconds = Date().timeIntervalSince(writeStart)

        let svd = embedding.svd
        return FollowGraphReport(
            nodes: graph.nodeCount, edges: graph.edgeCount,
            matrix: .init(rows: embedding.rows, columns: embedding.columns, nonzeros: embedding.nonzeros),
            seconds: .init(read: readSeconds, build: embedding.buildSeconds, solve: embedding.solveSeconds,
                           write: writeSeconds, total: Date().timeIntervalSince(clock)),
            singularValues: svd.s.map { Double($0) }, maxRelativeResidual: svd.diagnostics.maxRelativeResidual,
            solver: svd.diagnostics.method, passes: svd.diagnostics.operatorApplications, seed: c.seed,
            solverPhases: Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +),
            dimension: c.dimension, directed: c.directed, weighting: c.weighting.rawValue,
            normalization: c.normalization.rawValue, peakMemoryBytes: peakResidentMemoryBytes() ?? -1,
            tables: named.map { .init(name: options.output.appendingPathComponent($0.0).path, rows: $0.1.count, columns: $0.1.dimension) },
            scores: scores.isEmpty ? nil : scores, diagnostics: svd.diagnostics)
    }
}
