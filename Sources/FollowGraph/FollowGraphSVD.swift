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
    /// The SVD, with its diagnostics (residuals, passes, phases, seed).
    public var svd: TruncatedSVD<Float>
    /// The matrix factorised.
    public var rows: Int, columns: Int, nonzeros: Int
    /// Seconds spent building the matrix (selection, weighting, normalisation) and solving.
    public var buildSeconds: Double, solveSeconds: Double
    /// The input graph's adjacency (node x node, before selection and weighting), whose rows are
    /// the follow sets of the follow-Jaccard benchmark.
    public var adjacency: CSRMatrix<Float>
}

/// Follow-graph SVD: selection, weighting, normalisation, truncated SVD, embedding tables.
public enum FollowGraphSVD {
    /// Embeds a follow graph.
    ///
    /// - Parameters:
    ///   - edges: the graph, read with one shared id map (``GraphData/EdgeList``).
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
        guard c.dimension >= 1 else { throw FollowGraphError("--dim must be at least 1 (got \(c.dimension))") }
        let buildStart = Date()
        let n = edges.nodeCount
        let arrays: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
        let adjacency = try CSRMatrix<Float>(rows: n, columns: n, rowOffsets: arrays.rowOffsets,
                                             columnIndices: arrays.columnIndices, values: arrays.values)
        let prepared = try FollowGraphPreprocessing.prepare(
            adjacency: adjacency, directed: c.directed, selection: c.selection,
            weighting: c.weighting, normalization: c.method == .svd ? c.normalization : .none,
            degreeRegularization: c.degreeRegularization)
        let m = prepared.matrix.rows, k = prepared.matrix.columns
        guard c.dimension <= min(m, k) else {
            throw FollowGraphError("--dim \(c.dimension) is larger than the selected graph allows: the matrix is \(m) x \(k), so at most \(min(m, k)) dimensions")
        }
        let buildSeconds = Date().timeIntervalSince(buildStart)
        log("built \(m) x \(k) matrix with \(prepared.matrix.nonzeroCount) nonzeros in \(format(buildSeconds)) s (weighting \(c.weighting.rawValue), normalization \(c.normalization.rawValue))")

        let solveStart = Date()
        let svd: TruncatedSVD<Float>
        // consumers / producers tables, and the two halves of the directed both-sides table.
        var left: Matrix<Float>, right: Matrix<Float>, nodeLeft: Matrix<Float>, nodeRight: Matrix<Float>
        func solve<Op: LinearOperator>(_ op: Op) throws -> TruncatedSVD<Float> where Op.Scalar == Float {
            switch c.solver {
            case .randomized:
                return try RandomizedSVD.compute(op, .init(rank: c.dimension, oversamples: c.oversamples,
                                                           powerIterations: c.powerIterations, seed: c.seed))
            case .arpack:
                return try ARPACKSVD.compute(op, .init(rank: c.dimension, seed: c.seed))
            }
        }
        func factors(_ svd: TruncatedSVD<Float>, power: Float) -> (Matrix<Float>, Matrix<Float>) {
            let weights = svd.s.map { power == 1 ? Swift.max($0, 0) : Swift.max($0, 0).squareRoot() }
            var u = svd.u, v = svd.vt.transposed()
            u.scaleColumns(by: weights); v.scaleColumns(by: weights)
            return (u, v)
        }
        switch (c.method, c.directed) {
        case (.svd, _):
            svd = try solve(prepared.linearOperator)
            (left, right) = factors(svd, power: 0.5)
            (nodeLeft, nodeRight) = (left, right)
        case (.spectral, true):
            // The both-sides table and producers: U S^1/2, V S^1/2 of the regularised
            // degree-normalised adjacency (the label task); followers: U S of D_out^-1/2 A (cosines
            // of follow sets, the similarity task). Two SVDs of the same cost.
            let normalised = try FollowGraphPreprocessing.prepare(
                adjacency: adjacency, directed: true, selection: c.selection, weighting: c.weighting,
                normalization: .degree, degreeRegularization: c.degreeRegularization)
            svd = try solve(normalised.linearOperator)
            (nodeLeft, nodeRight) = factors(svd, power: 0.5)
            right = nodeRight
            let rowScale = SpectralEmbedding.inverseSquareRootRowSums(prepared.matrix)
            (left, _) = factors(try solve(prepared.matrix.diagonallyScaled(left: rowScale, right: nil)), power: 1)
            EmbeddingScaling.unitRMS(&left)
        case (.spectral, false):
            let result = try SpectralEmbedding.propagated(adjacency: prepared.matrix, dimension: c.dimension,
                                                          oversamples: c.oversamples, powerIterations: c.powerIterations,
                                                          seed: c.seed, settings: c.spectral)
            svd = result.proximitySVD
            (left, right) = (result.embedding, result.embedding)
            (nodeLeft, nodeRight) = (left, right)
        }
        let solveSeconds = Date().timeIntervalSince(solveStart)
        log("\(c.method.rawValue): \(svd.diagnostics.method) SVD of rank \(svd.rank) and propagation in \(format(solveSeconds)) s, \(svd.diagnostics.operatorApplications) SVD passes")

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
            "singular_values": .array(svd.s.map { .double(Double($0)) }),
            "max_relative_residual": .double(svd.diagnostics.maxRelativeResidual),
            "passes": .int(Int64(svd.diagnostics.operatorApplications)),
        ]
        if c.solver == .randomized {
            parameters["oversamples"] = .int(Int64(c.oversamples))
            parameters["power_iterations"] = .int(Int64(c.powerIterations ?? RandomizedSVD.Configuration(rank: c.dimension).resolvedPowerIterations(rows: m, columns: k)))
        }
        if let cap = c.selection.maxNodes { parameters["max_nodes"] = .int(Int64(cap)) }

        // The input's SHA-256, computed once for all tables.
        var inputRecord = EmbeddingMetadata(entityType: "", algorithm: "")
        if let url = inputFile { try inputRecord.recordInput(url) }
        func table(_ vectors: Matrix<Float>, nodes: [Int32], entity: String, factor: String) throws -> EmbeddingTable {
            let meta = EmbeddingMetadata(entityType: entity, algorithm: "follow-graph-svd (\(factor))",
                                         parameters: parameters, inputFile: inputRecord.inputFile,
                                         inputChecksum: inputRecord.inputChecksum, seed: c.seed,
                                         count: vectors.rows, dimension: vectors.columns)
            return try EmbeddingTable(ids: nodes.map { edges.sourceIDs[Int($0)] }, vectors: vectors, metadata: meta)
        }
        let spectralDirected = c.method == .spectral && c.directed
        let consumerFactor = c.method == .svd ? "U S^1/2" : spectralDirected ? "U S of D_out^-1/2 A" : "spectral propagation"
        let producerFactor = c.method == .svd || spectralDirected ? "V S^1/2" : "spectral propagation"
        let consumers = try table(left, nodes: prepared.consumers, entity: c.directed ? "consumer" : "node", factor: consumerFactor)
        let producers = try table(right, nodes: prepared.producers, entity: c.directed ? "producer" : "node", factor: producerFactor)
        var nodes: EmbeddingTable? = nil
        if c.directed {
            // Accounts on either side, in order of first appearance in the input.
            var rowOf = [Int32](repeating: -1, count: n)
            for node in prepared.consumers { rowOf[Int(node)] = 0 }
            for node in prepared.producers { rowOf[Int(node)] = 0 }
            var order = [Int32]()
            for node in 0..<n where rowOf[node] == 0 { rowOf[node] = Int32(order.count); order.append(Int32(node)) }
            let d = c.dimension
            var both = Matrix<Float>(rows: order.count, columns: 2 * d)
            let rowsBoth = order.count
            both.withUnsafeMutableBufferPointer { out in
                nodeLeft.withUnsafeBufferPointer { l in
                    for (i, node) in prepared.consumers.enumerated() {
                        let r = Int(rowOf[Int(node)])
                        for j in 0..<d { out[r + j * rowsBoth] = l[i + j * m] }
                    }
                }
                nodeRight.withUnsafeBufferPointer { rt in
                    for (i, node) in prepared.producers.enumerated() {
                        let r = Int(rowOf[Int(node)])
                        for j in 0..<d { out[r + (d + j) * rowsBoth] = rt[i + j * k] }
                    }
                }
            }
            nodes = try table(both, nodes: order, entity: "account", factor: "[U S^1/2 | V S^1/2]")
        }
        return FollowGraphEmbedding(consumers: consumers, producers: producers, nodes: nodes, svd: svd, rows: m, columns: k,
                                    nonzeros: prepared.matrix.nonzeroCount,
                                    buildSeconds: buildSeconds, solveSeconds: solveSeconds, adjacency: adjacency)
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
