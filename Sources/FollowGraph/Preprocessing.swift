import LinearAlgebra
import RealModule

/// How edge weights enter the matrix that is factorised.
public enum EdgeWeighting: String, CaseIterable, Sendable, Codable {
    /// Every edge weighs 1 (repeated edges count once).
    case binary
    /// `1 + log(w)` for an edge of weight (multiplicity) `w >= 1`: damps heavy repeat edges.
    case log
    /// `idf_j = 1 + log((1 + rows) / (1 + followers_j))`: down-weights popular accounts, whose
    /// follows say little about a user (the smoothed inverse document frequency of text retrieval).
    case idf
}

/// How the weighted matrix is normalised before the SVD.
public enum GraphNormalization: String, CaseIterable, Sendable, Codable {
    /// Factorise the weighted matrix as it is.
    case none
    /// `(D_out + tau)^-1/2 A (D_in + tau)^-1/2` with the weighted out- and in-degrees: the
    /// regularised normalised adjacency of spectral methods (Qin and Rohe 2013; `tau` defaults to
    /// the mean degree, `tau = 0` is the plain `D_out^-1/2 A D_in^-1/2`). Keeps hubs from taking over
    /// the leading singular vectors, and the regularisation keeps tiny weakly attached groups from it too.
    case degree
}

/// Which accounts enter the factorisation.
public struct NodeSelection: Sendable, Equatable, Codable {
    /// Keep accounts followed by at least this many users (producers; every node when undirected).
    public var minFollowers: Int
    /// Keep users who follow at least this many kept accounts (consumers; every node when undirected).
    public var minFollowing: Int
    /// Keep at most this many accounts, the most-followed first (ties by first appearance).
    public var maxNodes: Int?

    /// - Parameters default to keeping everything that has at least one edge.
    public init(minFollowers: Int = 1, minFollowing: Int = 1, maxNodes: Int? = nil) {
        self.minFollowers = minFollowers; self.minFollowing = minFollowing; self.maxNodes = maxNodes
    }
}

/// A follow graph ready for the SVD: the selected, weighted adjacency and the diagonal scalings of
/// its normalisation, plus the maps from its rows and columns back to node indices.
public struct PreparedFollowGraph: Sendable {
    /// The selected, weighted adjacency: `consumers.count x producers.count`.
    public let matrix: CSRMatrix<Float>
    /// `D_out^-1/2` (length rows) when normalising by degree, else `nil`.
    public let rowScale: [Float]?
    /// `D_in^-1/2` (length columns) when normalising by degree, else `nil`.
    public let columnScale: [Float]?
    /// Row `i` of `matrix` is node `consumers[i]` of the input.
    public let consumers: [Int32]
    /// Column `j` of `matrix` is node `producers[j]` of the input.
    public let producers: [Int32]

    /// The operator the SVD factorises: `D1 A D2` without copying `A`.
    public var linearOperator: DiagonallyScaledOperator<CSRMatrix<Float>> {
        matrix.diagonallyScaled(left: rowScale, right: columnScale)
    }
}

/// Item selection, weighting and normalisation of a follow graph (the preprocessing of
/// Embeddings@Twitter's follow-graph SVD).
public enum FollowGraphPreprocessing {
    /// Prepares `adjacency` (node x node, `a_ij` = weight of "i follows j") for factorisation.
    ///
    /// Directed graphs: producers are the accounts with at least `minFollowers` followers (the
    /// `maxNodes` most-followed of them when set); consumers are the users following at least
    /// `minFollowing` kept producers. Undirected graphs (a symmetric adjacency): one node set,
    /// selected by degree, is both rows and columns, so the two sides share indices.
    ///
    /// - Precondition: `adjacency` is square.
    /// - Throws: ``FollowGraphError`` when nothing survives the selection.
    /// - Complexity: O(nnz + n log n).
    public static func prepare(adjacency: CSRMatrix<Float>, directed: Bool, selection: NodeSelection = .init(),
                               weighting: EdgeWeighting = .binary,
                               normalization: GraphNormalization = .degree,
                               degreeRegularization: Float? = nil) throws -> PreparedFollowGraph {
        precondition(adjacency.rows == adjacency.columns, "prepare: adjacency is \(adjacency.rows) x \(adjacency.columns)")
        guard adjacency.nonzeroCount > 0 else { throw FollowGraphError("the graph has no edges") }
        let n = adjacency.rows
        let followers = adjacency.columnNonzeroCounts()
        var consumers: [Int], producers: [Int]
        var selected: CSRMatrix<Float>
        if directed {
            producers = (0..<n).filter { followers[$0] >= selection.minFollowers && followers[$0] > 0 }
            if let cap = selection.maxNodes, producers.count > cap { producers = mostFollowed(producers, followers, cap) }
            guard !producers.isEmpty else {
                throw FollowGraphError(message: "no account has at least \(selection.minFollowers) followers (\(parameter: .minFollowers))")
            }
            // No copy for a side that keeps every row (column): large graphs with the default
            // selection keep all columns that have a follower and all rows that follow someone.
            let columnsKept = try producers.count == n ? adjacency : adjacency.subMatrix(rows: Array(0..<n), columns: producers)
            let following = columnsKept.rowNonzeroCounts()
            consumers = (0..<n).filter { following[$0] >= max(1, selection.minFollowing) }
            guard !consumers.isEmpty else {
                throw FollowGraphError(message: "no user follows at least \(selection.minFollowing) of the kept accounts (\(parameter: .minFollowing))")
            }
            selected = try consumers.count == n ? columnsKept : columnsKept.subMatrix(rows: consumers, columns: Array(0..<producers.count))
        } else {
            let threshold = max(1, selection.minFollowers, selection.minFollowing)
            var nodes = (0..<n).filter { followers[$0] >= threshold }
            if let cap = selection.maxNodes, nodes.count > cap { nodes = mostFollowed(nodes, followers, cap) }
            // Dropping nodes can leave others isolated; they keep a zero row, which the SVD ignores.
            guard !nodes.isEmpty else { throw FollowGraphError("no node has degree at least \(threshold)") }
            consumers = nodes; producers = nodes
            selected = try nodes.count == n ? adjacency : adjacency.subMatrix(rows: nodes, columns: nodes)
        }
        guard selected.nonzeroCount > 0 else { throw FollowGraphError("no edges remain after node selection") }

        switch weighting {
        case .binary:
            // Unweighted input already holds ones: share its values instead of copying them.
            if !selected.values.allSatisfy({ $0 == 1 }) { selected = selected.mapValues { _ in 1 } }
        case .log:
            selected = selected.mapValues { 1 + Float.log(Swift.max($0, 1)) }
        case .idf:
            let df = selected.columnNonzeroCounts()
            let rows = Float(selected.rows)
            let idf = df.map { 1 + Float.log((1 + rows) / (1 + Float($0))) }
            selected = selected.mapValues { _ in 1 }
            if directed {
                selected.scaleColumns(by: idf)
            } else {
                // Keep an undirected graph's matrix symmetric: w_ij = sqrt(idf_i idf_j).
                let root = idf.map { $0.squareRoot() }
                selected.scaleRows(by: root)
                selected.scaleColumns(by: root)
            }
        }

        var rowScale: [Float]? = nil, columnScale: [Float]? = nil
        if normalization == .degree {
            (rowScale, columnScale) = degreeScales(selected, degreeRegularization: degreeRegularization)
        }
        return PreparedFollowGraph(matrix: selected, rowScale: rowScale, columnScale: columnScale,
                                   consumers: consumers.map(Int32.init), producers: producers.map(Int32.init))
    }

    /// `(D_out + tau)^-1/2` and `(D_in + tau)^-1/2` of a weighted matrix (``GraphNormalization/degree``):
    /// regularised degrees (Qin and Rohe 2013), `tau` the mean degree by default, so that
    /// low-degree "whiskers" do not take the leading singular vectors. Cost: one pass over each side.
    public static func degreeScales<M: FollowGraphMatrix>(_ matrix: M, degreeRegularization: Float?) -> (rows: [Float], columns: [Float]) {
        let rowSums = matrix.rowSums(), columnSums = matrix.columnSums()
        let total = rowSums.reduce(0, +)
        let tauRows = degreeRegularization ?? total / Float(max(1, rowSums.count))
        let tauColumns = degreeRegularization ?? total / Float(max(1, columnSums.count))
        return (rowSums.map { $0 + tauRows > 0 ? 1 / ($0 + tauRows).squareRoot() : 0 },
                columnSums.map { $0 + tauColumns > 0 ? 1 / ($0 + tauColumns).squareRoot() : 0 })
    }

    /// The `cap` entries of `nodes` with the most followers, in their original order.
    static func mostFollowed(_ nodes: [Int], _ followers: [Int], _ cap: Int) -> [Int] {
        let ranked = nodes.sorted { followers[$0] != followers[$1] ? followers[$0] > followers[$1] : $0 < $1 }
        return ranked.prefix(cap).sorted()
    }
}
