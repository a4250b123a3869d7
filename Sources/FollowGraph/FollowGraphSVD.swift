import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra
import Solvers

/// The truncated SVD back-end of ``FollowGraphSVD``.
public enum FollowGraphSolver: String, CaseIterable, Sendable, Codable {
    /// Randomized range finder with power iterations (Halko, Martinsson, Tropp): fast, a few passes.
    case randomized
    /// ARPACK Lanczos on `A'A`: many passes, residuals near machine precision.
    case arpack
}

/// Everything that determines a follow-graph embedding. Defaults are the settings measured best on
/// the real graphs in `../shared/data` (see the README's quality table).
public struct FollowGraphSVDConfiguration: Sendable, Equatable {
    /// The embedding method (default ``FollowGraphMethod/spectral``; `.svd` is the plain SVD).
    public var method: FollowGraphMethod = .spectral
    /// Settings of the spectral method's propagation (ProNE's published values).
    public var spectral = SpectralPropagationConfiguration()
    /// Embedding dimension (the SVD rank).
    public var dimension: Int = 64
    /// The SVD back-end.
    public var solver: FollowGraphSolver = .randomized
    /// Randomized SVD oversampling.
    public var oversamples: Int = 10
    /// Randomized SVD power iterations (`nil`: scikit-learn's rule, 7 when k < 0.1 min(m, n), else 4).
    public var powerIterations: Int? = nil
    /// Seed of every random draw.
    public var seed: UInt64 = 0
    /// `true`: a line `a b` means a follows b; `false`: the graph is undirected (symmetrised).
    public var directed: Bool = true
    /// Node selection.
    public var selection = NodeSelection()
    /// Edge weighting.
    public var weighting: EdgeWeighting = .binary
    /// Matrix normalisation of the `.svd` method (the spectral method normalises as it describes).
    public var normalization: GraphNormalization = .degree
    /// `tau` of the degree normalisation (`nil`: the mean degree; 0: unregularised).
    public var degreeRegularization: Float? = nil
    /// Randomized SVD: compute the per-triplet residuals (two extra products and three blocks
    /// of `dimension` columns; `follow-graph-svd` turns them off when they would not fit).
    public var computeResiduals: Bool = true
    /// ARPACK: the most restarts before it returns what converged (`nil`: `ARPACKOptions`'s
    /// default). A run that stops short returns fewer values and says so in its warnings.
    public var arpackMaxIterations: Int? = nil
    /// How the selected matrix's rows and columns are numbered for the products (default
    /// ``FollowGraphNodeOrder/input``; ``FollowGraphNodeOrder/auto`` groups them by label
    /// propagation when the graph is large enough for the gathers' cache misses to cost; the
    /// tables are in the input order either way). The default stays `input` until a quiet
    /// measurement shows the order paying for itself (README Performance, session 11).
    public var nodeOrder: FollowGraphNodeOrder = .input
    /// Rounds of label propagation of the locality order (default ``FollowGraphLocality/rounds``;
    /// at least 1; only read when the run reorders).
    public var localityRounds: Int = FollowGraphLocality.rounds

    public init() {}
}

/// The result of ``FollowGraphSVD/embed(edges:configuration:inputFile:log:)``.
public struct FollowGraphEmbedding: Sendable {
    /// Followers (rows): `U S^1/2`. For an undirected graph, the node embedding.
    public var consumers: EmbeddingTable
    /// Accounts followed (columns): `V S^1/2`. For an undirected graph, the same nodes as `consumers`.
    public var producers: EmbeddingTable
    /// Directed graphs: every account on either side with both its embeddings side by side,
    /// `[U S^1/2 | V S^1/2]` (2 x dimension; zeros for a side the account is not on). Users are
    /// described both by whom they follow and by who follows them, and every account has a row.
    /// `nil` for undirected graphs, where `consumers` already covers every node.
    public var nodes: EmbeddingTable?
    /// The SVD's singular values and diagnostics (residuals, passes, phases, seed); its `u` and
    /// `vt` are empty (0 x 0): they were scaled into the tables without a copy.
    public var svd: TruncatedSVD<Float>
    /// The matrix factorised.
    public var rows: Int, columns: Int, nonzeros: Int
    /// Seconds spent building the matrix (selection, weighting, normalisation) and solving.
    public var buildSeconds: Double, solveSeconds: Double
    /// The solvers' warnings (`SolverDiagnostics/convergenceWarning`: an ARPACK run
    /// that returned fewer values than asked), in order; empty when every solve converged.
    public var warnings: [String] = []
    /// The input graph's adjacency (node x node, before selection and weighting), whose rows are
    /// the follow sets of the follow-Jaccard benchmark.
    public var adjacency: CSRMatrix<Float>
}

/// What ``FollowGraphSVD/factorize(adjacency:configuration:inputFile:log:table:)`` returns
/// besides the tables it hands over.
public struct FollowGraphFactorization: Sendable {
    /// The SVD's singular values and diagnostics (`u` and `vt` are empty: the factors went to the tables).
    public var svd: TruncatedSVD<Float>
    /// The matrix factorised.
    public var rows: Int, columns: Int, nonzeros: Int
    /// Seconds spent building the matrix and solving.
    public var buildSeconds: Double, solveSeconds: Double
    /// The solvers' warnings (`SolverDiagnostics/convergenceWarning`), in order.
    public var warnings: [String] = []
    /// The directed spectral method's second SVD (the consumers table's, `D_out^-1/2 A D_in^-e`):
    /// its diagnostics and phases; `nil` for one-SVD runs.
    public var secondSVD: SolverDiagnostics? = nil
}

/// Follow-graph SVD: selection, weighting, normalisation, truncated SVD, embedding tables.
public enum FollowGraphSVD {
    /// Embeds a follow graph, with its tables in memory (for the library and small graphs; the
    /// `follow-graph-svd` run streams them to disk with ``factorize(adjacency:configuration:inputFile:log:table:)``).
    ///
    /// - Parameters:
    ///   - edges: the graph, read with one shared id map (`EdgeList`).
    ///   - c: the embedding settings.
    ///   - inputFile: recorded with its SHA-256 in each table's `meta.json` when given.
    ///   - log: receives one line per phase (e.g. printed to stderr by the tool).
    /// - Throws: ``FollowGraphError`` for an empty graph or a dimension larger than the selected
    ///   graph; solver errors as they come.
    /// - Complexity: O(nnz) to build; the solver's passes each cost one SpMM of `dimension +
    ///   oversamples` columns.
    public static func embed(edges: EdgeList, configuration c: FollowGraphSVDConfiguration, inputFile: URL? = nil,
                             log: (String) -> Void = { _ in }) throws -> FollowGraphEmbedding {
        guard edges.edgeCount > 0 else {
            throw FollowGraphError("the graph has no edges\(inputFile.map { " (\($0.path))" } ?? "")")
        }
        let adjacency = try adjacencyMatrix(edges)
        var tables: [String: EmbeddingTable] = [:]
        let result = try factorize(adjacency: adjacency, configuration: c, inputFile: inputFile, log: log) { table in
            tables[table.name] = try table.table(id: { node in edges.sourceIDs[node] })
        }
        let consumers = tables["consumers"] ?? tables["nodes"]!
        return FollowGraphEmbedding(consumers: consumers, producers: tables["producers"] ?? consumers,
                                    nodes: c.directed ? tables["nodes"] : nil, svd: result.svd,
                                    rows: result.rows, columns: result.columns, nonzeros: result.nonzeros,
                                    buildSeconds: result.buildSeconds, solveSeconds: result.solveSeconds,
                                    warnings: result.warnings, adjacency: adjacency)
    }

    /// The node x node adjacency of an edge list (validated CSR; weights, or 1 for every edge).
    public static func adjacencyMatrix(_ edges: EdgeList) throws -> CSRMatrix<Float> {
        let arrays: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
        return try CSRMatrix<Float>(rows: edges.nodeCount, columns: edges.nodeCount, rowOffsets: arrays.rowOffsets,
                                    columnIndices: arrays.columnIndices, values: arrays.values)
    }

    /// Embeds a follow graph given as its adjacency and id map, handing each table to `table` as
    /// soon as its vectors are final and keeping no reference to it afterwards: a directed
    /// `.spectral` run hands over `producers` and `nodes` after the first SVD and `consumers`
    /// after the second, so the first SVD's blocks are gone (written, when `table` writes) before
    /// the second starts. The adjacency is released once the selected matrix is built (unless
    /// the caller keeps a copy).
    ///
    /// Tables: directed graphs give `consumers`, `producers` and `nodes` (both sides); undirected
    /// ones `nodes`.
    /// - Returns: the SVD's singular values and diagnostics (its `u` and `vt` are empty: the
    ///   scaled factors went to the tables), the matrix shape, seconds.
    /// - Throws: as ``embed(edges:configuration:inputFile:log:)``, and what `table` throws.
    public static func factorize(adjacency: consuming CSRMatrix<Float>, configuration c: FollowGraphSVDConfiguration,
                                 inputFile: URL? = nil, log: (String) -> Void = { _ in },
                                 table emit: (FollowGraphFactorTable) throws -> Void) throws -> FollowGraphFactorization {
        guard adjacency.nonzeroCount > 0 else {
            throw FollowGraphError("the graph has no edges\(inputFile.map { " (\($0.path))" } ?? "")")
        }
        guard c.dimension >= 1 else { throw FollowGraphError(message: "\(parameter: .dimension) must be at least 1 (got \(c.dimension))") }
        let buildStart = Date()
        let n = adjacency.rows
        let prepared = try FollowGraphPreprocessing.prepare(
            adjacency: adjacency, directed: c.directed, selection: c.selection,
            weighting: c.weighting, normalization: .none, degreeRegularization: c.degreeRegularization)
        _ = consume adjacency
        // The selected matrix is handed over (not kept here), so that a renumbered run frees it.
        let matrix = prepared.matrix, consumers = prepared.consumers, producers = prepared.producers
        _ = consume prepared
        return try factorizeSelected(consume matrix, consumers: consumers, producers: producers,
                                     nodeCount: n, configuration: c, inputFile: inputFile, buildStart: buildStart,
                                     log: log, table: emit)
    }

    /// ``factorize(adjacency:configuration:inputFile:log:table:)`` after selection and
    /// weighting, on a matrix in memory or mapped (``MappedFollowGraph``). The undirected
    /// `.spectral` method needs the matrix in memory (a ``LinearAlgebra/CSRMatrix``).
    public static func factorizeSelected<M: FollowGraphMatrix>(
        _ matrix: consuming M, consumers: [Int32], producers: [Int32], nodeCount n: Int, configuration c: FollowGraphSVDConfiguration,
        inputFile: URL? = nil, buildStart: Date = Date(), log: (String) -> Void = { _ in },
        table emit: (FollowGraphFactorTable) throws -> Void) throws -> FollowGraphFactorization {
        let m = matrix.rows, k = matrix.columns
        guard c.dimension <= min(m, k) else {
            throw FollowGraphError(message: "\(parameter: .dimension) \(c.dimension) is larger than the selected graph allows: the matrix is \(m) x \(k), so at most \(min(m, k)) dimensions")
        }
        guard c.localityRounds >= 1 else { throw FollowGraphError(message: "the locality order needs at least 1 round of label propagation (got \(c.localityRounds))") }
        var notes: [String] = []
        if M.self == CSRMatrix<Float>.self, FollowGraphLocality.applies(c, rows: m, columns: k, inMemory: true) {
            // The node order for the gathers' locality: the SVDs run on the renumbered matrix
            // (with its transposed index), their test matrix's rows renumbered with its columns
            // (the seed's draw), and the factors go back to the input order before any table.
            // The matrix in the input order is released once renumbered (when the caller handed it over).
            let (renumbered, order) = renumber(consume matrix, consumers: consumers, producers: producers, nodeCount: n,
                                               rounds: c.localityRounds, log: log)
            return try factorizeOrdered(renumbered, order: order, consumers: consumers, producers: producers, nodeCount: n,
                                        configuration: c, inputFile: inputFile, buildStart: buildStart, log: log, table: emit)
        }
        if c.nodeOrder == .locality {
            notes.append("the locality node order applies to the randomized solver on a matrix in memory (method svd or a directed graph): this run kept the input order")
        }
        return try factorizeOrdered(matrix, order: nil, consumers: consumers, producers: producers, nodeCount: n, configuration: c,
                                    inputFile: inputFile, buildStart: buildStart, log: log, notes: notes, table: emit)
    }

    /// The label propagation order of a selected matrix in memory and the matrix renumbered by it
    /// (``FollowGraphLocality``); `matrix` (a `CSRMatrix<Float>`) and its transposed index are
    /// released on return unless the caller keeps a copy.
    static func renumber<M: FollowGraphMatrix>(_ matrix: consuming M, consumers: [Int32], producers: [Int32], nodeCount n: Int,
                                               rounds: Int, log: (String) -> Void) -> (CSRMatrix<Float>, (rows: [Int32], columns: [Int32])) {
        let csr = (consume matrix) as! CSRMatrix<Float>
        let orderStart = Date(), orderCPU = processCPUSeconds()
        let order = FollowGraphLocality.labelPropagationOrder(csr, consumers: consumers, producers: producers, nodeCount: n, rounds: rounds)
        let orderSeconds = Date().timeIntervalSince(orderStart), permuteStart = Date(), permuteCPU = processCPUSeconds()
        let renumbered = csr.permuted(rowOrder: order.rows, columnOrder: order.columns)
        log("node order: \(rounds) round\(rounds == 1 ? "" : "s") of label propagation in \(format(orderSeconds)) s (CPU \(format(permuteCPU - orderCPU)) s), matrix renumbered in \(format(Date().timeIntervalSince(permuteStart))) s (CPU \(format(processCPUSeconds() - permuteCPU)) s)")
        return (renumbered, order)
    }

    /// The CPU seconds of the process so far (user + system, every thread).
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
    }

    /// ``factorizeSelected(_:consumers:producers:nodeCount:configuration:inputFile:buildStart:log:table:)``
    /// on `matrix`, whose rows and columns are renumbered by `order` when it is given (row `r`
    /// is the selected matrix's row `order.rows[r]`): the factors go back to the selection's
    /// order before they are handed over.
    static func factorizeOrdered<M: FollowGraphMatrix>(
        _ matrix: M, order: (rows: [Int32], columns: [Int32])?, consumers: [Int32], producers: [Int32], nodeCount n: Int,
        configuration c: FollowGraphSVDConfiguration, inputFile: URL?, buildStart: Date, log: (String) -> Void,
        notes: [String] = [], table emit: (FollowGraphFactorTable) throws -> Void) throws -> FollowGraphFactorization {
        let m = matrix.rows, k = matrix.columns
        let buildSeconds = Date().timeIntervalSince(buildStart)
        log("built \(m) x \(k) matrix with \(matrix.nonzeroCount) nonzeros in \(format(buildSeconds)) s (weighting \(c.weighting.rawValue), normalization \(c.normalization.rawValue)\(order == nil ? "" : ", nodes in the locality order"))")

        // The input's SHA-256, computed once for all tables.
        var inputRecord = EmbeddingMetadata(entityType: "", algorithm: "")
        if let url = inputFile { try inputRecord.recordInput(url) }
        var parameters: [String: JSONValue] = [
            "method": .string(c.method.rawValue),
            "solver": .string(c.solver.rawValue),
            "dimension": .int(Int64(c.dimension)),
            "directed": .bool(c.directed),
            "weighting": .string(c.weighting.rawValue),
            "normalization": .string(c.normalization.rawValue),
            "degree_regularization": c.degreeRegularization.map { .double(Double($0)) } ?? .string("mean degree"),
            "min_followers": .int(Int64(c.selection.minFollowers)),
            "min_following": .int(Int64(c.selection.minFollowing)),
            "node_order": .string(order == nil ? FollowGraphNodeOrder.input.rawValue : FollowGraphNodeOrder.locality.rawValue),
        ]
        if c.solver == .randomized {
            parameters["oversamples"] = .int(Int64(c.oversamples))
            parameters["power_iterations"] = .int(Int64(c.powerIterations ?? RandomizedSVD.Configuration(rank: c.dimension).resolvedPowerIterations(rows: m, columns: k)))
        }
        if order != nil { parameters["locality_rounds"] = .int(Int64(c.localityRounds)) }
        if let cap = c.selection.maxNodes { parameters["max_nodes"] = .int(Int64(cap)) }
        func metadata(_ entity: String, _ factor: String, _ svd: TruncatedSVD<Float>) -> EmbeddingMetadata {
            var p = parameters
            p["singular_values"] = .array(svd.s.map { .double(Double($0)) })
            p["max_relative_residual"] = .double(svd.diagnostics.maxRelativeResidual)
            p["passes"] = .int(Int64(svd.diagnostics.operatorApplications))
            return EmbeddingMetadata(entityType: entity, algorithm: "follow-graph-svd (\(factor))", parameters: p,
                                     inputFile: inputRecord.inputFile, inputChecksum: inputRecord.inputChecksum, seed: c.seed)
        }

        let solveStart = Date()
        var warnings = notes
        /// The SVD of `op`; a partial convergence is kept as a warning for the result.
        func solve<Op: LinearOperator>(_ op: Op, powerIterations: Int? = c.powerIterations) throws -> TruncatedSVD<Float> where Op.Scalar == Float {
            let svd: TruncatedSVD<Float>
            switch c.solver {
            case .randomized:
                var settings = RandomizedSVD.Configuration(rank: c.dimension, oversamples: c.oversamples,
                                                           powerIterations: powerIterations, seed: c.seed,
                                                           computeResiduals: c.computeResiduals)
                settings.testMatrixRowOrder = order?.columns
                svd = try RandomizedSVD.compute(op, settings)
            case .arpack:
                // ARPACK near full rank runs for minutes: a progress line every few seconds.
                svd = try ARPACKSVD.compute(op, .init(rank: c.dimension, maxIterations: c.arpackMaxIterations, seed: c.seed)) {
                    log($0.description)
                }
            }
            if let warning = svd.diagnostics.convergenceWarning {
                // Nothing converged: no table to write (an empty embedding is not a result).
                if svd.s.isEmpty { throw FollowGraphError(message: "no singular value converged, so there is nothing to write. \(warning)") }
                warnings.append(warning)
            }
            return svd
        }
        /// `U S^power` (column-major, rows x d) and `V S^power` held as `S^power V'` (d x columns),
        /// moved out of `svd` (left empty) and scaled in place.
        func factors(_ svd: inout TruncatedSVD<Float>, power: Float) -> (FollowGraphFactorTable.Half, FollowGraphFactorTable.Half) {
            let weights = svd.s.map { power == 1 ? Swift.max($0, 0) : Swift.max($0, 0).squareRoot() }
            var u = svd.u, vt = svd.vt
            svd.u = Matrix(rows: 0, columns: 0); svd.vt = Matrix(rows: 0, columns: 0)
            if let order {   // back to the selection's order
                u = u.scatteringRows(order.rows); vt = vt.scatteringColumns(order.columns)
            }
            u.scaleColumns(by: weights); vt.scaleRows(by: weights)
            return (.init(vectors: u, transposed: false, blockRow: nil), .init(vectors: vt, transposed: true, blockRow: nil))
        }
        let entity = (consumer: c.directed ? "consumer" : "node", producer: c.directed ? "producer" : "node")
        var svd: TruncatedSVD<Float>
        var secondDiagnostics: SolverDiagnostics? = nil
        switch (c.method, c.directed) {
        case (.svd, _):
            let scales: (rows: [Float], columns: [Float])? = c.normalization == .degree
                ? FollowGraphPreprocessing.degreeScales(matrix, degreeRegularization: c.degreeRegularization) : nil
            svd = try solve(matrix.scaled(rows: scales?.rows, columns: scales?.columns))
            let (left, right) = factors(&svd, power: 0.5)
            if c.directed {
                try emit(.init(name: "consumers", nodes: consumers, halves: [left], metadata: metadata(entity.consumer, "U S^1/2", svd)))
                try emit(.init(name: "producers", nodes: producers, halves: [right], metadata: metadata(entity.producer, "V S^1/2", svd)))
                try emit(.bothSides(consumers: consumers, left: consume left, producers: producers, right: consume right,
                                    nodeCount: n, metadata: metadata("account", "[U S^1/2 | V S^1/2]", svd)))
            } else {
                try emit(.init(name: "nodes", nodes: consumers, halves: [consume left], metadata: metadata(entity.consumer, "U S^1/2", svd)))
            }
        case (.spectral, true):
            // The both-sides table and producers: U S^1/2, V S^1/2 of the regularised
            // degree-normalised adjacency (the label task); followers: U S of D_out^-1/2 A D_in^-e
            // (cosines of follow sets, the similarity task). Two SVDs of the same cost, on one matrix.
            // The transposed index (for the `A' X` gathers) is built once here, on the unscaled
            // matrix: both scaled copies inherit it (scaling its values, O(nnz)) instead of each
            // running its own counting sort.
            (matrix as? CSRMatrix<Float>)?.buildTransposeIndex()
            let scales = FollowGraphPreprocessing.degreeScales(matrix, degreeRegularization: c.degreeRegularization)
            svd = try solve(matrix.scaled(rows: scales.rows, columns: scales.columns))
            do {
                let (nodeLeft, nodeRight) = factors(&svd, power: 0.5)
                try emit(.init(name: "producers", nodes: producers, halves: [nodeRight], metadata: metadata(entity.producer, "V S^1/2", svd)))
                try emit(.bothSides(consumers: consumers, left: consume nodeLeft, producers: producers, right: consume nodeRight,
                                    nodeCount: n, metadata: metadata("account", "[U S^1/2 | V S^1/2]", svd)))
            }
            log("spectral: first SVD (degree-normalised) done in \(format(Date().timeIntervalSince(solveStart))) s; producers and nodes tables handed over")
            let rowScale = matrix.rowSums().map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
            let exponent = Double(c.spectral.consumerColumnExponent)
            let columnScale = exponent == 0 ? nil : matrix.columnSums().map { $0 > 0 ? Float(pow(Double($0), -exponent)) : 0 }
            var second = try solve(matrix.scaled(rows: rowScale, columns: columnScale),
                                   powerIterations: c.spectral.consumerPowerIterations ?? c.powerIterations)
            secondDiagnostics = second.diagnostics
            var (left, _) = factors(&second, power: 1)
            EmbeddingScaling.unitRMS(&left.vectors)
            var consumerMetadata = metadata(entity.consumer, "U S of D_out^-1/2 A D_in^-\(exponent)", second)
            if c.solver == .randomized, let q = c.spectral.consumerPowerIterations { consumerMetadata.parameters["power_iterations"] = .int(Int64(q)) }
            try emit(.init(name: "consumers", nodes: consumers, halves: [consume left], metadata: consumerMetadata))
        case (.spectral, false):
            guard let inMemory = matrix as? CSRMatrix<Float> else {
                throw FollowGraphError("the undirected spectral method needs the matrix in memory")
            }
            if c.solver != .randomized {
                warnings.append("the undirected spectral method takes its proximity SVD with the randomized solver; solver \(c.solver.rawValue) applies to method svd")
            }
            let result = try SpectralEmbedding.propagated(adjacency: inMemory, dimension: c.dimension,
                                                          oversamples: c.oversamples, powerIterations: c.powerIterations,
                                                          seed: c.seed, settings: c.spectral)
            svd = result.proximitySVD
            svd.u = Matrix(rows: 0, columns: 0); svd.vt = Matrix(rows: 0, columns: 0)
            try emit(.init(name: "nodes", nodes: consumers, halves: [.init(vectors: result.embedding, transposed: false, blockRow: nil)],
                           metadata: metadata(entity.consumer, c.spectral.neighbourhoodHops > 0 ? "spectral propagation, \(c.spectral.neighbourhoodHops) neighbourhood blocks" : "spectral propagation", svd)))
        }
        let solveSeconds = Date().timeIntervalSince(solveStart)
        log("\(c.method.rawValue): \(svd.diagnostics.method) SVD of rank \(svd.rank)\(c.method == .spectral ? " and propagation" : "") in \(format(solveSeconds)) s, \(svd.diagnostics.operatorApplications) SVD passes")
        return FollowGraphFactorization(svd: svd, rows: m, columns: k, nonzeros: matrix.nonzeroCount,
                                        buildSeconds: buildSeconds, solveSeconds: solveSeconds, warnings: warnings,
                                        secondSVD: secondDiagnostics)
    }

    static func format(_ seconds: Double) -> String { String(format: "%.2f", seconds) }
}

/// The process's peak resident memory (`VmHWM` in `/proc/self/status`), in bytes; `nil` where
/// the file does not exist.
public func peakResidentMemoryBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if fields.count >= 2, let kb = Int(fields[1]) { return kb * 1024 }
    }
    return nil
}
