// A follow graph's selected, weighted adjacency as an operator over a memory-mapped binary CSR
// file (GraphCSRFile): the products read the file's pages as they go, so the matrix need not fit
// in memory; only the node maps, the diagonal scalings and the dense blocks are held.
import Foundation
import GraphData
import LinearAlgebra
import RealModule

/// The matrix that ``FollowGraphSVD`` factorises, in memory (``LinearAlgebra/CSRMatrix``) or
/// memory-mapped (``MappedFollowGraph``): its shape, its weighted row and column sums, and the
/// operator `D1 A D2` for diagonal scalings.
public protocol FollowGraphMatrix: Sendable {
    associatedtype Scaled: LinearOperator where Scaled.Scalar == Float
    var rows: Int { get }
    var columns: Int { get }
    var nonzeroCount: Int { get }
    func rowSums() -> [Float]
    func columnSums() -> [Float]
    /// `diag(rows) A diag(columns)` (`nil`: no scaling on that side), without copying `A`.
    func scaled(rows: [Float]?, columns: [Float]?) -> Scaled
}

extension CSRMatrix: FollowGraphMatrix where Scalar == Float {
    public func scaled(rows: [Float]?, columns: [Float]?) -> DiagonallyScaledOperator<CSRMatrix<Float>> {
        diagonallyScaled(left: rows, right: columns)
    }
}

/// The selected and weighted adjacency of a directed graph in a `GraphCSRFile`, as a
/// `LinearOperator` whose products gather over the mapped arrays (`A X` over the
/// rows, `A' X` over the stored transpose), parallel over row ranges of near-equal nonzeros.
///
/// Selection and weighting are those of ``FollowGraphPreprocessing/prepare(adjacency:directed:selection:weighting:normalization:degreeRegularization:)``
/// for a directed graph; entries are computed on the fly (binary: 1; log: `1 + log w`; idf: the
/// column's idf). Memory: 4 bytes a node for each of the two node maps, 8 a row and a column for
/// the balanced ranges, and per product one row-major copy of the input block.
public struct MappedFollowGraph: FollowGraphMatrix, LinearOperator, @unchecked Sendable {
    public typealias Scalar = Float
    /// The mapped file.
    public let file: GraphCSRFile
    /// Row `i` is node `consumers[i]`; column `j` is node `producers[j]`.
    public let consumers: [Int32], producers: [Int32]
    let rowOf: [Int32], columnOf: [Int32]
    let weighting: EdgeWeighting
    /// Per-column factor of the weighting (idf), `nil` for none.
    let columnWeight: [Float]?
    /// Diagonal scalings of the operator (`D1 A D2`).
    var rowScale: [Float]? = nil, columnScale: [Float]? = nil
    /// Prefix sums of the stored entries of the selected rows (columns) in the file, for balanced chunks.
    let rowWork: [Int64], columnWork: [Int64]
    public let nonzeroCount: Int

    public var rows: Int { consumers.count }
    public var columns: Int { producers.count }

    /// Selects and weights a directed graph's adjacency as ``FollowGraphPreprocessing`` does.
    /// - Throws: ``FollowGraphError`` when nothing survives the selection, the file holds an
    ///   undirected graph, or a weighting needs weights the file does not have.
    public init(file: GraphCSRFile, selection: NodeSelection = .init(), weighting: EdgeWeighting = .binary) throws {
        guard file.directed else {
            throw FollowGraphError("\(file.path): holds an undirected graph; the mapped operator embeds directed graphs (load it in memory instead)")
        }
        let n = file.nodeCount
        guard file.edgeCount > 0 else { throw FollowGraphError("\(file.path): the graph has no edges") }
        let co = file.columnOffsets, ro = file.rowOffsets
        let followers = (0..<n).map { Int(co[$0 + 1] - co[$0]) }
        var producers = (0..<n).filter { followers[$0] >= selection.minFollowers && followers[$0] > 0 }
        if let cap = selection.maxNodes, producers.count > cap {
            producers = FollowGraphPreprocessing.mostFollowed(producers, followers, cap)
        }
        guard !producers.isEmpty else {
            throw FollowGraphError("no account has at least \(selection.minFollowers) followers (minFollowers)")
        }
        var columnOf = [Int32](repeating: -1, count: n)
        for (j, node) in producers.enumerated() { columnOf[node] = Int32(j) }
        let everyFollowedKept = producers.count == followers.lazy.filter { $0 > 0 }.count
        var following = [Int](repeating: 0, count: n)
        columnOf.withUnsafeBufferPointer { cmap in
            for r in 0..<n {
                if everyFollowedKept { following[r] = Int(ro[r + 1] - ro[r]); continue }
                var count = 0
                for p in Int(ro[r])..<Int(ro[r + 1]) where cmap[Int(file.columnIndices[p])] >= 0 { count += 1 }
                following[r] = count
            }
        }
        let consumers = (0..<n).filter { following[$0] >= max(1, selection.minFollowing) }
        guard !consumers.isEmpty else {
            throw FollowGraphError("no user follows at least \(selection.minFollowing) of the kept accounts (minFollowing)")
        }
        var rowOf = [Int32](repeating: -1, count: n)
        for (i, node) in consumers.enumerated() { rowOf[node] = Int32(i) }
        var rowWork = [Int64](repeating: 0, count: consumers.count + 1)
        for (i, node) in consumers.enumerated() { rowWork[i + 1] = rowWork[i] + ro[node + 1] - ro[node] }
        var columnWork = [Int64](repeating: 0, count: producers.count + 1)
        for (j, node) in producers.enumerated() { columnWork[j + 1] = columnWork[j] + co[node + 1] - co[node] }
        self.file = file
        self.consumers = consumers.map(Int32.init)
        self.producers = producers.map(Int32.init)
        self.rowOf = rowOf
        self.columnOf = columnOf
        self.weighting = weighting
        self.nonzeroCount = consumers.reduce(0) { $0 + following[$1] }
        self.rowWork = rowWork
        self.columnWork = columnWork
        if weighting == .idf {
            // Document frequency: kept users following each kept account.
            var df = [Float](repeating: 0, count: producers.count)
            for (j, node) in producers.enumerated() {
                var count = 0
                for p in Int(co[node])..<Int(co[node + 1]) where rowOf[Int(file.rowIndices[p])] >= 0 { count += 1 }
                df[j] = Float(count)
            }
            let total = Float(consumers.count)
            self.columnWeight = df.map { 1 + Float.log((1 + total) / (1 + $0)) }
        } else {
            self.columnWeight = nil
        }
    }

    /// Weighted row sums of the selected matrix (before scaling). One pass over the rows.
    public func rowSums() -> [Float] { unscaledTimesOnes(transposed: false) }

    /// Weighted column sums of the selected matrix (before scaling). One pass over the transpose.
    public func columnSums() -> [Float] { unscaledTimesOnes(transposed: true) }

    /// The selected, weighted matrix without its scalings (or its transpose) times a vector of ones.
    private func unscaledTimesOnes(transposed: Bool) -> [Float] {
        var plain = self
        plain.rowScale = nil; plain.columnScale = nil
        let (inner, outer) = transposed ? (rows, columns) : (columns, rows)
        let ones = Matrix<Float>(rows: inner, columns: 1, elements: [Float](repeating: 1, count: inner))
        var out = Matrix<Float>(rows: outer, columns: 1)
        if transposed { plain.applyTranspose(ones, into: &out) } else { plain.apply(ones, into: &out) }
        return out.elements
    }

    public func scaled(rows: [Float]?, columns: [Float]?) -> MappedFollowGraph {
        var copy = self
        copy.rowScale = rows; copy.columnScale = columns
        return copy
    }

    public func apply(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        precondition(x.rows == columns && y.rows == rows && y.columns == x.columns, "MappedFollowGraph.apply: shape mismatch")
        let columnFactor = Self.combine(columnWeight, columnScale)
        gather(x, inputFactor: columnFactor, outputFactor: rowScale, into: &y, outputNodes: consumers, inputOf: columnOf,
               offsets: file.rowOffsets, indices: file.columnIndices, values: file.values, work: rowWork)
    }

    public func applyTranspose(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        precondition(x.rows == rows && y.rows == columns && y.columns == x.columns, "MappedFollowGraph.applyTranspose: shape mismatch")
        let columnFactor = Self.combine(columnWeight, columnScale)
        gather(x, inputFactor: rowScale, outputFactor: columnFactor, into: &y, outputNodes: producers, inputOf: rowOf,
               offsets: file.columnOffsets, indices: file.rowIndices, values: file.transposeValues, work: columnWork)
    }

    static func combine(_ a: [Float]?, _ b: [Float]?) -> [Float]? {
        guard let a else { return b }
        guard let b else { return a }
        return zip(a, b).map { $0 * $1 }
    }

    /// `y[i, :] = out[i] * sum_p w(v_p) * in[q] * x[q, :]` over the stored entries `p` of node
    /// `outputNodes[i]` whose other end maps to a kept index `q = inputOf[index_p]`.
    func gather(_ x: Matrix<Float>, inputFactor: [Float]?, outputFactor: [Float]?, into y: inout Matrix<Float>,
                outputNodes: [Int32], inputOf: [Int32], offsets: UnsafePointer<Int64>, indices: UnsafePointer<Int32>,
                values: UnsafePointer<Float>?, work: [Int64]) {
        let k = x.columns, nIn = x.rows, nOut = y.rows
        guard k > 0, nOut > 0 else { return }
        // Row-major copy of x with the input scaling folded in.
        let xr = UnsafeMutablePointer<Float>.allocate(capacity: max(1, nIn * k))
        defer { xr.deallocate() }
        x.withUnsafeBufferPointer { xb in
            let box = UnsafeSendableBox((xb.baseAddress!, xr, inputFactor))
            Parallel.forEachChunk(count: nIn, minimumChunk: 4096) { range in
                let (src, dst, factor) = box.value
                for i in range {
                    let f = factor?[i] ?? 1
                    for c in 0..<k { dst[i * k + c] = src[i + c * nIn] * f }
                }
            }
        }
        let weighting = self.weighting
        y.withUnsafeMutableBufferPointer { yb in
            outputNodes.withUnsafeBufferPointer { nodes in
                inputOf.withUnsafeBufferPointer { map in
                    work.withUnsafeBufferPointer { prefix in
                        let box = UnsafeSendableBox((yb.baseAddress!, nodes.baseAddress!, map.baseAddress!, offsets, indices, values, outputFactor, UnsafePointer(xr)))
                        Parallel.forEachWeightedChunk(prefix: prefix, chunks: Parallel.threads) { _, range in
                            let (out, nodes, map, offsets, indices, values, factor, xr) = box.value
                            let acc = UnsafeMutablePointer<Float>.allocate(capacity: k)
                            defer { acc.deallocate() }
                            for i in range {
                                acc.update(repeating: 0, count: k)
                                let node = Int(nodes[i])
                                for p in Int(offsets[node])..<Int(offsets[node + 1]) {
                                    let q = Int(map[Int(indices[p])])
                                    if q < 0 { continue }
                                    var w: Float = 1
                                    if weighting == .log, let values { w = 1 + Float.log(Swift.max(values[p], 1)) }
                                    let row = xr + q * k
                                    for c in 0..<k { acc[c] += w * row[c] }
                                }
                                let f = factor?[i] ?? 1
                                for c in 0..<k { out[i + c * nOut] = acc[c] * f }
                            }
                        }
                    }
                }
            }
        }
    }
}
