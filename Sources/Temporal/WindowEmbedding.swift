import EmbeddingStore
import FollowGraph
import Foundation
import GraphData
import LinearAlgebra
import Solvers

/// How a pair's events become one matrix entry.
public enum EventWeighting: String, CaseIterable, Sendable, Codable {
    /// 1 per pair that interacted (times the decay of its most recent event in a decayed window).
    case binary
    /// The number of events of the pair (each times its decay).
    case count
    /// `log(1 + count)`: repeat interactions count, but sub-linearly.
    case log
}

/// Everything that determines one window's embedding (a follow-graph SVD of the window's graph).
public struct TemporalEmbeddingConfiguration: Sendable, Equatable {
    /// Embedding dimension (SVD rank).
    public var dimension: Int = 32
    /// `true` (default): an event `a -> b` links a and b both ways, and each account gets one vector
    /// `U S^1/2` (cosine ≈ "likely to interact"); `false`: the directed follow-graph SVD, each
    /// account `[U S^1/2 | V S^1/2]` (its out- and in-side, `2 * dimension` columns).
    public var symmetric: Bool = true
    /// How events become matrix entries.
    public var weighting: EventWeighting = .binary
    /// Use the events' weight column (e.g. trust ratings) as a factor; off by default, as negative
    /// ratings are not affinities.
    public var useEventWeights: Bool = false
    /// Leave out events from an account to itself.
    public var dropSelfLoops: Bool = true
    /// Keep accounts with at least this many distinct partners in the window.
    public var minimumDegree: Int = 1
    /// `tau` of the regularised degree normalisation (`nil`: the mean degree, as FollowGraph).
    public var degreeRegularization: Float? = nil
    /// Randomized SVD oversampling and power iterations (`nil`: scikit-learn's rule).
    public var oversamples: Int = 10
    public var powerIterations: Int? = nil
    /// Seed of the randomized SVD.
    public var seed: UInt64 = 0

    public init() {}

    /// The parameters as JSON for `meta.json` and reports.
    public var parameters: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "dimension": .int(Int64(dimension)), "symmetric": .bool(symmetric), "weighting": .string(weighting.rawValue),
            "use_event_weights": .bool(useEventWeights), "drop_self_loops": .bool(dropSelfLoops),
            "minimum_degree": .int(Int64(minimumDegree)), "oversamples": .int(Int64(oversamples)),
            "normalization": .string("degree"),
            "degree_regularization": degreeRegularization.map { .double(Double($0)) } ?? .string("mean degree"),
        ]
        if let q = powerIterations { p["power_iterations"] = .int(Int64(q)) }
        return p
    }
}

/// The events of one window as a weighted node x node matrix (global node indices of the events).
public struct WindowGraph: Sendable {
    /// `n x n` (every node of the events), nonnegative weights.
    public let adjacency: CSRMatrix<Float>
    /// Events that entered the matrix.
    public let events: Int

    /// Builds the graph of `events[range]`; with `halfLife`, each event weighs
    /// `2^(-(reference - t) / halfLife)`.
    /// - Complexity: O(events in range + n) plus the row sorts of the compression.
    public static func build(_ events: TemporalEvents, range: Range<Int>, configuration c: TemporalEmbeddingConfiguration,
                             halfLife: TimeSpan? = nil, reference: Int64 = 0) throws -> WindowGraph {
        let n = events.nodeCount
        var coo = COOMatrix<Float>(rows: n, columns: n)
        coo.reserveCapacity(range.count * (c.symmetric ? 2 : 1))
        var used = 0
        // Newest first, so that `.keepFirst` keeps the most recent event of a pair (binary weighting).
        for k in range.reversed() {
            let a = Int(events.sources[k]), b = Int(events.targets[k])
            if a == b && c.dropSelfLoops { continue }
            var w: Float = 1
            if let h = halfLife {
                w = Float(exp2(-Double(reference - events.times[k]) / Double(h.seconds)))
            }
            if c.useEventWeights, let ew = events.weights {
                w *= ew[k]
                if w <= 0 { continue }
            }
            coo.append(row: a, column: b, value: w)
            if c.symmetric && a != b { coo.append(row: b, column: a, value: w) }
            used += 1
        }
        var m = try coo.toCSR(duplicates: c.weighting == .binary ? .keepFirst : .sum)
        if c.weighting == .log { m = m.mapValues { Float(Foundation.log1p(Double($0))) } }
        return WindowGraph(adjacency: m, events: used)
    }
}

/// A rank-k SVD embedding of one window with what fold-in needs: the factors and the
/// normalisation in force (``FoldIn``).
public struct WindowEmbedding: Sendable {
    /// One row per account kept: `U S^1/2` (symmetric) or `[U S^1/2 | V S^1/2]` (directed).
    public var table: EmbeddingTable
    /// Node index (into the events' ids) of each row of `u` and of each row of `v`.
    public let rowNodes: [Int32], columnNodes: [Int32]
    /// The SVD of `D_r^-1/2 W D_c^-1/2`: `u` (rows x k), `s`, `v` (columns x k).
    public let u: Matrix<Float>, s: [Float], v: Matrix<Float>
    /// The normalisation: `1/sqrt(d + tau)` per row and column, and the two `tau`s.
    public let rowScale: [Float], columnScale: [Float], rowTau: Float, columnTau: Float
    /// Whether the graph was symmetrised (then rows and columns are the same accounts).
    public let symmetric: Bool
    /// Matrix size, nonzeros and solver diagnostics.
    public let rows: Int, columns: Int, nonzeros: Int
    public let diagnostics: SolverDiagnostics
    /// Seconds to prepare the matrix and to solve.
    public let buildSeconds: Double, solveSeconds: Double
}

/// Embeds window graphs with the follow-graph SVD: FollowGraph's node selection, the regularised
/// degree normalisation `(D_r + tau)^-1/2 W (D_c + tau)^-1/2` of the *weighted* window matrix (so that
/// decayed weights count), and a randomized truncated SVD.
public enum WindowEmbedder {
    /// Embeds `graph`. `ids` names the nodes; `metadata` extras go into each table's `meta.json`.
    /// - Throws: ``TemporalError`` when the window has no edges or fewer accounts than dimensions;
    ///   solver errors as they come.
    public static func embed(_ graph: WindowGraph, ids: IDMap, configuration c: TemporalEmbeddingConfiguration,
                             extraParameters: [String: JSONValue] = [:]) throws -> WindowEmbedding {
        let start = Date()
        guard graph.adjacency.nonzeroCount > 0 else { throw TemporalError("the window has no edges to embed") }
        let selection = NodeSelection(minFollowers: c.minimumDegree, minFollowing: c.minimumDegree)
        let prepared = try FollowGraphPreprocessing.prepare(adjacency: graph.adjacency, directed: !c.symmetric,
                                                            selection: selection, weighting: .binary, normalization: .none)
        // Same sparsity as prepared.matrix, with the window's weights.
        let matrix = try graph.adjacency.subMatrix(rows: prepared.consumers.map(Int.init), columns: prepared.producers.map(Int.init))
        let m = matrix.rows, p = matrix.columns
        guard c.dimension >= 1, c.dimension <= min(m, p) else {
            throw TemporalError("dimension \(c.dimension) needs a window with at least \(c.dimension) active accounts (this one has \(min(m, p)))")
        }
        let rowSums = matrix.rowSums(), columnSums = matrix.columnSums()
        let total = rowSums.reduce(0, +)
        let rowTau = c.degreeRegularization ?? total / Float(m)
        let columnTau = c.degreeRegularization ?? total / Float(p)
        let rowScale = rowSums.map { $0 + rowTau > 0 ? 1 / ($0 + rowTau).squareRoot() : 0 }
        let columnScale = columnSums.map { $0 + columnTau > 0 ? 1 / ($0 + columnTau).squareRoot() : 0 }
        let buildSeconds = Date().timeIntervalSince(start)

        let solveStart = Date()
        let svd = try RandomizedSVD.compute(matrix.diagonallyScaled(left: rowScale, right: columnScale),
                                            .init(rank: c.dimension, oversamples: c.oversamples,
                                                  powerIterations: c.powerIterations, seed: c.seed))
        let solveSeconds = Date().timeIntervalSince(solveStart)
        let roots = svd.s.map { Swift.max($0, 0).squareRoot() }
        var left = svd.u
        left.scaleColumns(by: roots)
        let v = svd.vt.transposed()
        var right = v
        right.scaleColumns(by: roots)

        var parameters = c.parameters
        parameters["singular_values"] = .array(svd.s.map { .double(Double($0)) })
        parameters["max_relative_residual"] = .double(svd.diagnostics.maxRelativeResidual)
        for (key, value) in extraParameters { parameters[key] = value }
        let vectors: Matrix<Float>, nodes: [Int32]
        if c.symmetric {
            vectors = left; nodes = prepared.consumers
        } else {
            (vectors, nodes) = bothSides(left: left, leftNodes: prepared.consumers, right: right,
                                         rightNodes: prepared.producers, nodeCount: ids.count)
        }
        let meta = EmbeddingMetadata(entityType: "account", algorithm: c.symmetric
                                     ? "temporal follow-graph SVD (symmetrised, U S^1/2)"
                                     : "temporal follow-graph SVD ([U S^1/2 | V S^1/2])",
                                     parameters: parameters, seed: c.seed)
        let table = try EmbeddingTable(ids: nodes.map { ids[Int($0)] }, vectors: vectors, metadata: meta)
        return WindowEmbedding(table: table, rowNodes: prepared.consumers, columnNodes: prepared.producers,
                               u: svd.u, s: svd.s, v: v, rowScale: rowScale, columnScale: columnScale,
                               rowTau: rowTau, columnTau: columnTau, symmetric: c.symmetric,
                               rows: m, columns: p, nonzeros: matrix.nonzeroCount, diagnostics: svd.diagnostics,
                               buildSeconds: buildSeconds, solveSeconds: solveSeconds)
    }

    /// `[left | right]` per account on either side (zeros for a missing side), in node order.
    static func bothSides(left: Matrix<Float>, leftNodes: [Int32], right: Matrix<Float>, rightNodes: [Int32],
                          nodeCount: Int) -> (Matrix<Float>, [Int32]) {
        var rowOf = [Int32](repeating: -1, count: nodeCount)
        for node in leftNodes { rowOf[Int(node)] = 0 }
        for node in rightNodes { rowOf[Int(node)] = 0 }
        var order = [Int32]()
        for node in 0..<nodeCount where rowOf[node] == 0 { rowOf[node] = Int32(order.count); order.append(Int32(node)) }
        let d = left.columns
        var both = Matrix<Float>(rows: order.count, columns: 2 * d)
        for (i, node) in leftNodes.enumerated() {
            for j in 0..<d { both[Int(rowOf[Int(node)]), j] = left[i, j] }
        }
        for (i, node) in rightNodes.enumerated() {
            for j in 0..<d { both[Int(rowOf[Int(node)]), d + j] = right[i, j] }
        }
        return (both, order)
    }
}
