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
    /// Keep self-loops (the default: a self-loop is part of its account's follow set, which the
    /// directed consumers table embeds and follow-Jaccard counts; on slashdot, 78k self-loops,
    /// dropping them costs 0.09 of follow-Jaccard).
    public var keepSelfLoops: Bool
    /// Labels (`node<TAB>label`): run the label-prediction benchmark and store its scores.
    public var labels: URL?
    /// The edge list's first line is a header (otherwise one is skipped only when detection is
    /// certain, and then said on stderr).
    public var header: Bool = false
    /// Accept zero, negative and subnormal weights (rejected with file and line by default).
    public var allowNonPositiveWeights: Bool = false
    /// Verify a binary CSR input's checksum before the run (one sequential read of the file).
    public var verifyCSRChecksum: Bool = true
    /// How errors, warnings and memory advice name the settings to change: library names
    /// (``FollowGraphParameter/libraryName``) unless a tool maps them to its flags.
    public var parameterNames: FollowGraphParameterNames = [:]
    /// Receives each warning as it is final (singular values numerically zero, a solver that
    /// stopped short: `SolverDiagnostics/convergenceWarning`); the report keeps them
    /// too. Default: `follow-graph-svd: warning: ...` on stderr, also with progress lines off.
    public var warn: @Sendable (String) -> Void = { warning in
        FileHandle.standardError.write(Data("follow-graph-svd: warning: \(warning)\n".utf8))
    }

    /// Options; everything but the output defaults to a plain run on `edges`.
    public init(edges: URL?, demo: Bool = false, output: URL, configuration: FollowGraphSVDConfiguration = .init(),
                keepSelfLoops: Bool = true, labels: URL? = nil) {
        self.edges = edges; self.demo = demo; self.output = output; self.configuration = configuration
        self.keepSelfLoops = keepSelfLoops; self.labels = labels
    }
}

/// The typed report of one `follow-graph-svd` run (`--report` writes it as JSON; the keys are
/// the snake_case names in `CodingKeys`).
public struct FollowGraphReport: Codable, Sendable, Equatable {
    /// The factorised matrix's shape.
    public struct MatrixShape: Codable, Sendable, Equatable { public var rows, columns, nonzeros: Int }
    /// Wall-clock seconds per stage.
    public struct Seconds: Codable, Sendable, Equatable { public var read, build, solve, write, total: Double }
    /// One written table: its directory name and shape.
    public struct Table: Codable, Sendable, Equatable { public var name: String; public var rows, columns: Int }
    /// One phase of the run: wall-clock seconds and the peak resident memory during it
    /// (`VmHWM`, reset at the phase's start where Linux allows, else the peak so far; -1 unknown).
    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
        public var peakMemoryBytes: Int
        enum CodingKeys: String, CodingKey { case name, seconds, peakMemoryBytes = "peak_memory_bytes" }
    }
    /// One benchmark score of a table.
    public struct Score: Codable, Sendable, Equatable { public var table, benchmark: String; public var value: Double }

    public var nodes: Int, edges: Int
    public var matrix: MatrixShape
    public var seconds: Seconds
    public var singularValues: [Double]
    public var maxRelativeResidual: Double
    /// The SVD method (`SolverDiagnostics/method`).
    public var solver: String
    /// Operator applications of the SVD (`SolverDiagnostics/operatorApplications`).
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
    /// Each phase's seconds and peak memory, in order (read, build, solve, write).
    public var phases: [Phase]? = nil
    /// `edge list` or `binary CSR (memory-mapped)`.
    public var inputFormat: String? = nil
    /// The run's warnings (``FollowGraphRunOptions/warn``), in order; absent when there were none.
    public var warnings: [String]? = nil
    /// The directed spectral method's second SVD (the consumers table's): its phases' seconds
    /// (`second_solver_phases`); absent for one-SVD runs.
    public var secondSolverPhases: [String: Double]? = nil
    /// The second SVD's full diagnostics (`second_diagnostics`: passes, residuals, phases with
    /// their bytes); absent for one-SVD runs.
    public var secondDiagnostics: SolverDiagnostics? = nil

    enum CodingKeys: String, CodingKey {
        case nodes, edges, matrix, seconds, solver, passes, seed, dimension, directed, weighting, normalization, tables, scores, diagnostics
        case singularValues = "singular_values", maxRelativeResidual = "max_relative_residual"
        case solverPhases = "solver_phases", secondSolverPhases = "second_solver_phases", secondDiagnostics = "second_diagnostics", peakMemoryBytes = "peak_memory_bytes", phases, inputFormat = "input_format", warnings
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
        if let phases, !phases.isEmpty {
            lines.append("  phases: " + phases.map { p in
                String(format: "%@ %.2f s", p.name, p.seconds) + (p.peakMemoryBytes >= 0 ? " peak " + MemoryBudget.format(p.peakMemoryBytes) : "")
            }.joined(separator: ", "))
        }
        if let second = secondDiagnostics {
            lines.append("  second SVD (consumers): \(second.method), \(second.operatorApplications) passes, max relative residual \(String(format: "%.3g", second.maxRelativeResidual)); phases: "
                         + second.phases.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", "))
        }
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

/// The `follow-graph-svd` job: read the edge list (or generate the demo graph, or map a binary
/// CSR file), embed it (``FollowGraphSVD``), run the label-prediction and follow-Jaccard
/// benchmarks when labels are given (or with the demo), write the tables atomically and return
/// the report.
///
/// Without labels the tables are streamed to the output's staging directory as soon as each is
/// final (row blocks, never a whole table in memory) and the edge list is released once the
/// matrix is built; with labels the benchmarked tables are held in memory (small graphs).
public enum FollowGraphRun {
    /// Runs the job. `log` receives one progress line per phase, each starting with the elapsed
    /// time and the resident memory (``ProgressClock``).
    /// - Throws: `GraphDataError` for unreadable input (naming file, line and
    ///   problem), ``FollowGraphError`` for an unusable graph or dimension, solver and benchmark
    ///   errors as they come, `EmbeddingStoreError` when a table cannot be written.
    public static func run(_ options: FollowGraphRunOptions, log rawLog: @escaping (String) -> Void = { _ in }) throws -> FollowGraphReport {
        do { return try runJob(options, log: rawLog) } catch let error as FollowGraphError {
            throw error.naming(options.parameterNames)
        }
    }

    static func runJob(_ options: FollowGraphRunOptions, log rawLog: @escaping (String) -> Void) throws -> FollowGraphReport {
        let progress = ProgressClock()
        let log = { (line: String) in rawLog(progress.line(line)) }
        var phases = PhaseRecorder()
        var c = options.configuration
        var edgeURL = options.edges, labelURL = options.labels
        // Before any work: OpenBLAS's buffers against the address-space limit, the output
        // directory (staged whole, committed at the end), the read phase's memory.
        MemoryLimits.adaptAllocatorToLimits()
        // The solvers' n x (dim + oversamples) blocks reuse freed pages instead of faulting in
        // fresh zeroed ones (not under a memory limit).
        MemoryLimits.keepFreedBlocksForReuse()
        try BLAS.reserveWorkBuffers()
        let output = try FollowGraphEmbedding.startOutput(options.output)
        if options.demo {
            let input = output.staging.appendingPathComponent("demo-input")
            log("generating a synthetic follow graph with planted topics in \(input.path)")
            let files = try DemoGraph.write(to: input, seed: c.seed)
            edgeURL = files.edges; labelURL = files.labels; c.directed = true
        }
        guard let edgeURL else { throw FollowGraphError("no edge list given (and not a demo run)") }
        if GraphCSRFile.isCSRFile(path: edgeURL.path) {
            return try runMapped(edgeURL, options, c, output: output, progress: progress, log: log)
        }

        _ = try FollowGraphSVD.readBudget(edgeFile: edgeURL.path, directed: c.directed)
        phases.start()
        let readOptions = readerOptions(options, c)
        var graph: EdgeList? = try EdgeList.read(path: edgeURL.path, options: readOptions)
        let nodeCount = graph!.nodeCount, edgeCount = graph!.edgeCount, ids = graph!.sourceIDs
        guard edgeCount > 0 else {
            throw FollowGraphError("\(edgeURL.path): the graph has no edges (\(graph!.statistics.dataLines) edge lines\(options.keepSelfLoops ? "" : ", self-loops dropped")); nothing to embed")
        }
        if graph!.statistics.headerSkipped && !options.header {
            FileHandle.standardError.write(Data("follow-graph-svd: \(edgeURL.path): the first line names the columns; skipped it as a header\n".utf8))
        }
        let readSeconds = phases.end("read")
        log("read \(edgeCount) edges over \(nodeCount) nodes from \(edgeURL.path) in \(String(format: "%.2f", readSeconds)) s")

        let names = options.parameterNames
        var budget = FollowGraphSVD.budget(graph: graph!, configuration: c, streamedTables: labelURL == nil, names: names)
        if skipResiduals(&c, budget, log: log) { budget = FollowGraphSVD.budget(graph: graph!, configuration: c, streamedTables: labelURL == nil, names: names) }
        budget.lines.forEach(log)
        try budget.check()

        guard labelURL == nil else {
            return try runInMemory(graph!, edgeURL: edgeURL, labelURL: labelURL!, options, c, output: output,
                                   readSeconds: readSeconds, phases: &phases, progress: progress, log: log)
        }
        // Streamed: the edge list goes once the adjacency exists; tables go to disk as they are final.
        phases.start()
        var adjacency = try FollowGraphSVD.adjacencyMatrix(graph!)
        graph = nil
        let buildStart = Date()
        let prepared = try FollowGraphPreprocessing.prepare(
            adjacency: adjacency, directed: c.directed, selection: c.selection,
            weighting: c.weighting, normalization: .none, degreeRegularization: c.degreeRegularization)
        adjacency = CSRMatrix(zeros: 0, columns: 0)
        _ = phases.end("build")
        var writer = StreamedTables(output: output, id: { ids[$0] })
        phases.start()
        // The selected matrix is handed over, so that a renumbered run (node order) frees it.
        let matrix = prepared.matrix, consumers = prepared.consumers, producers = prepared.producers
        _ = consume prepared
        let result = try FollowGraphSVD.factorizeSelected(
            consume matrix, consumers: consumers, producers: producers, nodeCount: nodeCount,
            configuration: c, inputFile: edgeURL, buildStart: buildStart, log: log) { try writer.write($0, log: log) }
        _ = phases.end("solve")
        return try finish(result, writer: &writer, output: output, options, c, nodes: nodeCount, edges: edgeCount,
                          readSeconds: readSeconds, phases: &phases, inputFormat: "edge list", progress: progress, log: log)
    }

    /// The run on a binary CSR file: mapped, selected and weighted on the fly (``MappedFollowGraph``).
    static func runMapped(_ url: URL, _ options: FollowGraphRunOptions, _ configuration: FollowGraphSVDConfiguration, output: OutputRun,
                          progress: ProgressClock, log: (String) -> Void) throws -> FollowGraphReport {
        var c = configuration
        var phases = PhaseRecorder()
        phases.start()
        let file = try GraphCSRFile(path: url.path, verifyChecksum: options.verifyCSRChecksum)
        guard file.directed == c.directed else {
            throw FollowGraphError(message: file.directed
                ? "\(url.path): the binary CSR file holds a directed graph, the run is undirected (\(parameter: .undirected)): run it directed, or rewrite the file"
                : "\(url.path): the binary CSR file holds an undirected graph, the run is directed (without \(parameter: .undirected)): run it undirected, or rewrite the file")
        }
        let readSeconds = phases.end("read")
        log("mapped binary CSR \(url.path): \(file.nodeCount) nodes, \(file.edgeCount) edges, \(MemoryBudget.format(file.fileSize))\(options.verifyCSRChecksum ? ", checksum verified" : "") in \(String(format: "%.2f", readSeconds)) s")
        var writer = StreamedTables(output: output, id: { file.id($0) })
        let result: FollowGraphFactorization
        if file.directed {
            phases.start()
            let buildStart = Date()
            let matrix = try MappedFollowGraph(file: file, selection: c.selection, weighting: c.weighting)
            _ = phases.end("build")
            var budget = FollowGraphSVD.mappedBudget(file: file, rows: matrix.rows, columns: matrix.columns, configuration: c,
                                                     names: options.parameterNames)
            if skipResiduals(&c, budget, log: log) {
                budget = FollowGraphSVD.mappedBudget(file: file, rows: matrix.rows, columns: matrix.columns, configuration: c,
                                                     names: options.parameterNames)
            }
            budget.lines.forEach(log)
            try budget.check()
            file.adviseSequential(true)
            phases.start()
            result = try FollowGraphSVD.factorizeSelected(
                matrix, consumers: matrix.consumers, producers: matrix.producers, nodeCount: file.nodeCount,
                configuration: c, inputFile: url, buildStart: buildStart, log: log) { try writer.write($0, log: log) }
            _ = phases.end("solve")
            if let anon = procStatusKB("RssAnon:"), let mapped = procStatusKB("RssFile:") {
                log("resident now: \(MemoryBudget.format(anon * 1024)) anonymous, \(MemoryBudget.format(mapped * 1024)) file-backed (pages of the mapped matrix, dropped under memory pressure)")
            }
        } else {
            // Undirected methods run on the matrix in memory: copy it out of the mapping.
            phases.start()
            let adjacency = file.csrMatrix()
            _ = phases.end("build")
            phases.start()
            result = try FollowGraphSVD.factorize(adjacency: adjacency, configuration: c, inputFile: url, log: log) { try writer.write($0, log: log) }
            _ = phases.end("solve")
        }
        return try finish(result, writer: &writer, output: output, options, c, nodes: file.nodeCount, edges: file.edgeCount,
                          readSeconds: readSeconds, phases: &phases, inputFormat: file.directed ? "binary CSR (memory-mapped)" : "binary CSR (copied to memory)",
                          progress: progress, log: log)
    }

    /// Turns off the randomized SVD's residual diagnostics when the budget with them passes 80 %
    /// of the memory available (``FollowGraphSVD/memoryAvailable(_:)``), and says so.
    static func skipResiduals(_ c: inout FollowGraphSVDConfiguration, _ budget: MemoryBudget, log: (String) -> Void) -> Bool {
        let available = FollowGraphSVD.memoryAvailable()
        guard c.solver == .randomized, c.computeResiduals, budget.peak.bytes > available / 5 * 4 else { return false }
        c.computeResiduals = false
        log("the residual diagnostics would take the \(budget.peak.name) phase to \(MemoryBudget.format(budget.peak.bytes)) of \(MemoryBudget.format(available)) available: skipped (the report's residual is then 0)")
        return true
    }

    /// Commits a streamed run and builds its report.
    static func finish(_ result: FollowGraphFactorization, writer: inout StreamedTables, output: OutputRun,
                       _ options: FollowGraphRunOptions, _ c: FollowGraphSVDConfiguration, nodes: Int, edges: Int,
                       readSeconds: Double, phases: inout PhaseRecorder, inputFormat: String,
                       progress: ProgressClock, log: (String) -> Void) throws -> FollowGraphReport {
        let warnings = report(warnings: result.warnings, singularValues: result.svd.s, options)
        phases.start()
        try output.commit()
        _ = phases.end("commit")
        // The tables written during the solve count as the write phase.
        phases.moveTime(writer.seconds, from: "solve", to: "write")
        log("wrote \(writer.written.map { "\($0.name) (\($0.rows) x \($0.columns))" }.joined(separator: ", ")) into \(options.output.path)")
        let svd = result.svd
        return FollowGraphReport(
            nodes: nodes, edges: edges,
            matrix: .init(rows: result.rows, columns: result.columns, nonzeros: result.nonzeros),
            seconds: .init(read: readSeconds, build: result.buildSeconds, solve: result.solveSeconds - writer.seconds,
                           write: writer.seconds + phases.seconds("commit"), total: progress.elapsed),
            singularValues: svd.s.map { Double($0) }, maxRelativeResidual: svd.diagnostics.maxRelativeResidual,
            solver: svd.diagnostics.method, passes: svd.diagnostics.operatorApplications, seed: c.seed,
            solverPhases: Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +),
            dimension: c.dimension, directed: c.directed, weighting: c.weighting.rawValue,
            normalization: c.normalization.rawValue, peakMemoryBytes: phases.peak,
            tables: writer.written.map { .init(name: options.output.appendingPathComponent($0.name).path, rows: $0.rows, columns: $0.columns) },
            scores: nil, diagnostics: svd.diagnostics, phases: phases.phases, inputFormat: inputFormat,
            warnings: warnings.isEmpty ? nil : warnings,
            secondSolverPhases: result.secondSVD.map { Dictionary($0.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +) },
            secondDiagnostics: result.secondSVD)
    }

    /// The solver's warnings and the rank warning, handed to ``FollowGraphRunOptions/warn``.
    static func report(warnings solverWarnings: [String], singularValues: [Float],
                       _ options: FollowGraphRunOptions) -> [String] {
        let rank = FollowGraphEmbedding.rankWarning(singularValues: singularValues, names: options.parameterNames)
        let warnings = solverWarnings + (rank.map { [$0] } ?? [])
        warnings.forEach(options.warn)
        return warnings
    }

    /// The run with labels: tables in memory for the benchmarks, written at the end.
    static func runInMemory(_ graph: EdgeList, edgeURL: URL, labelURL: URL, _ options: FollowGraphRunOptions,
                            _ c: FollowGraphSVDConfiguration, output: OutputRun, readSeconds: Double,
                            phases: inout PhaseRecorder, progress: ProgressClock, log: (String) -> Void) throws -> FollowGraphReport {
        phases.start()
        var embedding = try FollowGraphSVD.embed(edges: graph, configuration: c, inputFile: edgeURL, log: log)
        _ = phases.end("solve")
        let warnings = report(warnings: embedding.warnings, singularValues: embedding.svd.s, options)
        phases.start()
        var scores: [String: Double] = [:]
        func record(_ metaKey: String, _ benchmark: String, _ value: Double) {
            embedding.benchmarkedTable.metadata.scores[metaKey] = value
            scores["nodes: \(benchmark)"] = value
        }
        let labels = try LabelTable.read(path: labelURL.path, options: .init(unknownNodes: .skip))
        let result = try PredictionBenchmark.run(embeddings: embedding.benchmarkedTable, labels: labels.labelNamesByNode, seed: c.seed)
        record("prediction_macro_auc", "label prediction macro ROC-AUC", result.macroAUC)
        record("prediction_micro_auc", "label prediction micro ROC-AUC", result.microAUC)
        log("label prediction (\(result.folds)-fold logistic regression): macro AUC \(String(format: "%.4f", result.macroAUC)), micro AUC \(String(format: "%.4f", result.microAUC))")
        if c.directed {
            let followed = try FollowSets(rowOffsets: embedding.adjacency.rowOffsets, columnIndices: embedding.adjacency.columnIndices)
            let jaccard = try JaccardBenchmark.run(embeddings: embedding.benchmarkedTable, followed: followed,
                                                   rowIDs: graph.sourceIDs.ids, seed: c.seed)
            record("jaccard_spearman", "follow-Jaccard Spearman rho", jaccard.spearman)
        }
        _ = phases.end("benchmark")
        phases.start()
        let writeStart = Date()
        let named = try embedding.write(into: output, directed: c.directed,
                                        inputShownAs: options.demo ? options.output.appendingPathComponent("demo-input/edges.tsv").path : nil)
        let writeSeconds = Date().timeIntervalSince(writeStart)
        _ = phases.end("write")
        log("wrote " + named.map { "\($0.0) (\($0.1.count) x \($0.1.dimension))" }.joined(separator: ", ") + " into \(options.output.path)")
        let svd = embedding.svd
        return FollowGraphReport(
            nodes: graph.nodeCount, edges: graph.edgeCount,
            matrix: .init(rows: embedding.rows, columns: embedding.columns, nonzeros: embedding.nonzeros),
            seconds: .init(read: readSeconds, build: embedding.buildSeconds, solve: embedding.solveSeconds,
                           write: writeSeconds, total: progress.elapsed),
            singularValues: svd.s.map { Double($0) }, maxRelativeResidual: svd.diagnostics.maxRelativeResidual,
            solver: svd.diagnostics.method, passes: svd.diagnostics.operatorApplications, seed: c.seed,
            solverPhases: Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +),
            dimension: c.dimension, directed: c.directed, weighting: c.weighting.rawValue,
            normalization: c.normalization.rawValue, peakMemoryBytes: phases.peak,
            tables: named.map { .init(name: options.output.appendingPathComponent($0.0).path, rows: $0.1.count, columns: $0.1.dimension) },
            scores: scores.isEmpty ? nil : scores, diagnostics: svd.diagnostics, phases: phases.phases, inputFormat: "edge list",
            warnings: warnings.isEmpty ? nil : warnings)
    }

    /// The edge-list reader's options for a run's options and configuration.
    static func readerOptions(_ options: FollowGraphRunOptions, _ c: FollowGraphSVDConfiguration) -> EdgeListReader.Options {
        var readOptions = EdgeListReader.Options()
        readOptions.directed = c.directed
        readOptions.selfLoops = options.keepSelfLoops ? .keep : .drop
        readOptions.duplicates = c.weighting == .log ? .sum : .keepOne
        readOptions.header = options.header ? .present : .auto
        readOptions.allowNonPositiveWeights = options.allowNonPositiveWeights
        return readOptions
    }

    /// Converts an edge list to a binary CSR file (`GraphCSRFile`): read with the
    /// run's reader options, written through a temporary file renamed into place.
    /// - Returns: nodes and edges written.
    public static func writeCSR(_ options: FollowGraphRunOptions, to path: String, log rawLog: @escaping (String) -> Void = { _ in }) throws -> (nodes: Int, edges: Int) {
        let progress = ProgressClock()
        let log = { (line: String) in rawLog(progress.line(line)) }
        guard let edgeURL = options.edges else { throw FollowGraphError("no edge list given to convert") }
        let c = options.configuration
        _ = try FollowGraphSVD.readBudget(edgeFile: edgeURL.path, directed: c.directed)
        let readOptions = readerOptions(options, c)
        let graph = try EdgeList.read(path: edgeURL.path, options: readOptions)
        log("read \(graph.edgeCount) edges over \(graph.nodeCount) nodes from \(edgeURL.path)")
        try GraphCSRFile.write(graph, to: path)
        log("wrote binary CSR \(path)")
        return (graph.nodeCount, graph.edgeCount)
    }
}

/// Writes a run's tables into its staging directory as they are handed over, timing it.
struct StreamedTables {
    let output: OutputRun
    let id: (Int) -> String
    var written: [(name: String, rows: Int, columns: Int)] = []
    var seconds = 0.0

    mutating func write(_ table: FollowGraphFactorTable, log: (String) -> Void) throws {
        let start = Date()
        try table.write(into: output.staging.appendingPathComponent(table.name), id: id)
        seconds += Date().timeIntervalSince(start)
        written.append((table.name, table.count, table.dimension))
        log("wrote table \(table.name) (\(table.count) x \(table.dimension)) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
    }
}

/// Phases' seconds and peak resident memory (`VmHWM`, reset at each phase's start where Linux
/// allows it: `/proc/self/clear_refs`).
struct PhaseRecorder {
    var phases: [FollowGraphReport.Phase] = []
    var started = Date()
    var resetWorked = false

    mutating func start() {
        started = Date()
        resetWorked = resetPeakResidentMemory()
    }

    /// Ends the phase; returns its seconds.
    mutating func end(_ name: String) -> Double {
        let seconds = Date().timeIntervalSince(started)
        phases.append(.init(name: name, seconds: seconds, peakMemoryBytes: peakResidentMemoryBytes() ?? -1))
        return seconds
    }

    /// The run's peak resident memory: the largest phase peak (`VmHWM` is reset per phase, so
    /// the process's own high-water mark, and `/usr/bin/time`'s, only cover the last phase).
    var peak: Int { max(peakResidentMemoryBytes() ?? -1, phases.map(\.peakMemoryBytes).max() ?? -1) }

    func seconds(_ name: String) -> Double { phases.first { $0.name == name }?.seconds ?? 0 }

    /// Moves `seconds` of one phase's time to another (appended when absent); the peak memory
    /// stays with the phase that measured it.
    mutating func moveTime(_ seconds: Double, from: String, to: String) {
        guard seconds > 0, let i = phases.firstIndex(where: { $0.name == from }) else { return }
        phases[i].seconds -= seconds
        if let j = phases.firstIndex(where: { $0.name == to }) { phases[j].seconds += seconds } else {
            phases.insert(.init(name: to, seconds: seconds, peakMemoryBytes: phases[i].peakMemoryBytes), at: i + 1)
        }
    }
}

/// Progress lines for logs: each message prefixed with the seconds since the start and the
/// process's resident memory, e.g. `[  12.3 s, RSS  1.24 GiB] read 20000000 edges ...`.
public struct ProgressClock: Sendable {
    public let start = Date()
    public init() {}
    public var elapsed: Double { Date().timeIntervalSince(start) }
    public func line(_ message: String) -> String {
        let rss = residentMemoryBytes().map { String(format: "%5.2f GiB", Double($0) / 1_073_741_824) } ?? "   ?    "
        return String(format: "[%7.1f s, RSS %@] ", elapsed, rss) + message
    }
}

/// The process's resident memory now (`VmRSS`), in bytes; `nil` where it cannot be read.
public func residentMemoryBytes() -> Int? { procStatusKB("VmRSS:").map { $0 * 1024 } }

/// Resets the peak resident memory (`VmHWM`) to the current one (Linux: `5` into
/// `/proc/self/clear_refs`); false where that is not possible.
@discardableResult
public func resetPeakResidentMemory() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
}

func procStatusKB(_ key: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(key) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if fields.count >= 2, let kb = Int(fields[1]) { return kb }
    }
    return nil
}
