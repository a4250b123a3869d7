import Foundation
import LinearAlgebra

/// How the selected matrix's rows and columns are numbered for the SVD's sparse products.
/// The tables are the same either way (the factor rows go back to the input order before
/// they are written), up to the rounding of sums taken in another order.
public enum FollowGraphNodeOrder: String, CaseIterable, Sendable, Codable {
    /// ``locality`` when the randomized SVD's dense block (`max(rows, columns) x (dimension +
    /// oversamples)` scalars) is larger than ``FollowGraphLocality/automaticBlockBytes``, else
    /// ``input``: the gathers' misses only cost when the block is far larger than the caches.
    case auto
    /// The order of the input (nodes by their first appearance).
    case input
    /// Nodes grouped by label propagation on the symmetrised graph
    /// (``FollowGraphLocality/labelPropagationOrder(_:consumers:producers:nodeCount:rounds:)``),
    /// so that the rows a gather reads for one output row are mostly near each other.
    /// Applies to the randomized solver on a matrix in memory, method `svd` or directed `spectral`.
    case locality
}

/// The node order for the gathers' locality (issue 11; `Benchmarks/scale/locality.c` measured it).
public enum FollowGraphLocality {
    /// ``FollowGraphNodeOrder/auto`` reorders when the dense block of the randomized SVD is
    /// larger than this (128 MiB): on the generated 1M / 20M graph (a 296 MB block) three rounds
    /// of label propagation cut the missing cache lines from 60 / 82 % to 16 / 21 % and the
    /// products by 1.5-1.8x; on slashdot (a 24 MB block) nothing changed.
    public static let automaticBlockBytes = 128 << 20
    /// Rounds of label propagation (3: 93 labels for the generated graph's 100 communities).
    public static let rounds = 3

    /// Whether a run with these settings reorders a `rows x columns` matrix (in memory or not).
    public static func applies(_ c: FollowGraphSVDConfiguration, rows: Int, columns: Int, inMemory: Bool) -> Bool {
        guard inMemory, c.solver == .randomized, c.method == .svd || c.directed else { return false }
        switch c.nodeOrder {
        case .input: return false
        case .locality: return true
        case .auto: return max(rows, columns) * (c.dimension + c.oversamples) * MemoryLayout<Float>.stride > automaticBlockBytes
        }
    }

    /// The row and column orders (row `r` of the reordered matrix is row `rows[r]` of `a`, column
    /// `c` is column `columns[c]`) from `rounds` rounds of label propagation on the symmetrised
    /// graph of the nodes: row `i` of `a` is node `consumers[i]`, column `j` node `producers[j]`
    /// (one label per node, shared by its row and its column). Each round visits the nodes in
    /// id order and gives each the label most frequent among its out- and in-neighbours (ties:
    /// the smallest label), starting from its own id; the rows and then the columns are sorted
    /// by their node's final label, stably. Deterministic; one thread. Cost: O(rounds nnz + n),
    /// plus the transposed arrays of `a`: its transposed index when built, else a counting sort
    /// held only during the call (not cached on `a`, so that a renumbering after this one,
    /// which does not need it, does not hold a fourth copy of the arrays).
    public static func labelPropagationOrder(_ a: CSRMatrix<Float>, consumers: [Int32], producers: [Int32], nodeCount n: Int,
                                             rounds: Int = rounds) -> (rows: [Int32], columns: [Int32]) {
        precondition(consumers.count == a.rows && producers.count == a.columns, "labelPropagationOrder: the node lists do not match the matrix")
        let t = a.transposed()       // the index's arrays (O(1)) when built, else a counting sort
        var rowOf = [Int32](repeating: -1, count: n), columnOf = [Int32](repeating: -1, count: n)
        for (i, v) in consumers.enumerated() { rowOf[Int(v)] = Int32(i) }
        for (j, v) in producers.enumerated() { columnOf[Int(v)] = Int32(j) }
        var label = (0..<Int32(n)).map { $0 }
        // Each row's and column's node label, kept equal to `label` as it changes: a vote reads
        // one array at the neighbour's position instead of its node id and then its label.
        var rowLabel = consumers, columnLabel = producers
        var count = [Int32](repeating: 0, count: n), seen = [Int32](repeating: 0, count: n)
        let offsets = a.rowOffsets, indices = a.columnIndices, tOffsets = t.rowOffsets, tIndices = t.columnIndices
        offsets.withUnsafeBufferPointer { off in
        indices.withUnsafeBufferPointer { idx in
        tOffsets.withUnsafeBufferPointer { toff in
        tIndices.withUnsafeBufferPointer { tidx in
        rowLabel.withUnsafeMutableBufferPointer { rowLabel in
        columnLabel.withUnsafeMutableBufferPointer { columnLabel in
        label.withUnsafeMutableBufferPointer { label in
        count.withUnsafeMutableBufferPointer { count in
        seen.withUnsafeMutableBufferPointer { seen in
            for _ in 0..<rounds {
                for v in 0..<n {
                    let r = Int(rowOf[v]), c = Int(columnOf[v])
                    if r < 0 && c < 0 { continue }
                    var distinct = 0, best = label[v], bestCount: Int32 = 0
                    // One vote per neighbour: `neighbours[lo..<hi]` are positions in `labels`.
                    func vote(_ lo: Int64, _ hi: Int64, _ neighbours: UnsafeBufferPointer<Int32>, _ labels: UnsafeMutableBufferPointer<Int32>) {
                        for p in Int(lo)..<Int(hi) {
                            let l = labels[Int(neighbours[p])]
                            let k = count[Int(l)] &+ 1
                            count[Int(l)] = k
                            if k == 1 { seen[distinct] = l; distinct &+= 1 }
                            if k > bestCount || (k == bestCount && l < best) { bestCount = k; best = l }
                        }
                    }
                    if r >= 0 { vote(off[r], off[r + 1], idx, columnLabel) }   // out-neighbours: the row's columns
                    if c >= 0 { vote(toff[c], toff[c + 1], tidx, rowLabel) }   // in-neighbours: the column's rows
                    for q in 0..<distinct { count[Int(seen[q])] = 0 }
                    label[v] = best
                    if r >= 0 { rowLabel[r] = best }
                    if c >= 0 { columnLabel[c] = best }
                }
            }
        }}}}}}}}}
        /// The positions `0..<nodes.count` sorted by their node's label (a stable counting sort).
        func grouped(_ nodes: [Int32]) -> [Int32] {
            var start = [Int](repeating: 0, count: n + 1)
            for v in nodes { start[Int(label[Int(v)]) + 1] += 1 }
            for l in 0..<n { start[l + 1] += start[l] }
            var order = [Int32](repeating: 0, count: nodes.count)
            for (i, v) in nodes.enumerated() {
                let l = Int(label[Int(v)])
                order[start[l]] = Int32(i); start[l] += 1
            }
            return order
        }
        return (grouped(consumers), grouped(producers))
    }
}
