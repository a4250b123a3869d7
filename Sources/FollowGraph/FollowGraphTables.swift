// The tables of a follow-graph embedding as factor blocks (before they become EmbeddingTables or
// files): each table is one or two blocks side by side, written row block by row block to disk or
// assembled in memory, so that a large run never holds a table beside the blocks it comes from.
import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra

/// One table of a follow-graph embedding, held as the factor blocks it is made of.
///
/// Row `i` of the table is node `nodes[i]`; its vector is the concatenation of one row of each
/// block in ``halves`` (zeros where a block has no row for that node).
public struct FollowGraphFactorTable: Sendable {
    /// One block of columns of the table.
    public struct Half: Sendable {
        /// The block: `rows x dimension` column-major, or (``transposed``) `dimension x rows`,
        /// so that a row of the table is a contiguous column of it.
        public var vectors: Matrix<Float>
        /// Whether ``vectors`` holds the block transposed.
        public var transposed: Bool
        /// Table row -> block row (-1: zeros); `nil` when table row `i` is block row `i`.
        public var blockRow: [Int32]?

        public var dimension: Int { transposed ? vectors.rows : vectors.columns }
        var blockRows: Int { transposed ? vectors.columns : vectors.rows }
    }

    /// Directory name in the output (`consumers`, `producers`, `nodes`).
    public var name: String
    /// Node index (into the id map) of each table row.
    public var nodes: [Int32]
    /// The column blocks, side by side.
    public var halves: [Half]
    /// The table's metadata (count and dimension are set when it is written or assembled).
    public var metadata: EmbeddingMetadata

    /// Total columns.
    public var dimension: Int { halves.reduce(0) { $0 + $1.dimension } }
    /// Rows.
    public var count: Int { nodes.count }

    /// Fills `buffer` with rows `range` in C order. A column-major block is read column by
    /// column (contiguous reads, writes strided inside the buffer, which stays in cache), not
    /// row by row (one cache line per element); the values are copied, never recomputed.
    func fill(_ range: Range<Int>, _ buffer: UnsafeMutableBufferPointer<Float>) {
        let d = dimension, out = buffer.baseAddress!
        var offset = 0
        for half in halves {
            let hd = half.dimension, rows = half.blockRows
            half.vectors.withUnsafeBufferPointer { v in
                let v = v.baseAddress!
                if half.transposed {
                    for i in range {
                        let o = out + (i - range.lowerBound) * d + offset
                        let r = half.blockRow.map { Int($0[i]) } ?? i
                        if r < 0 { o.update(repeating: 0, count: hd) } else { o.update(from: v + r * hd, count: hd) }
                    }
                } else if let blockRow = half.blockRow {
                    blockRow.withUnsafeBufferPointer { blockRow in
                        for j in 0..<hd {
                            let column = v + j * rows
                            var o = out + offset + j
                            for i in range {
                                let r = Int(blockRow[i])
                                o.pointee = r < 0 ? 0 : column[r]
                                o += d
                            }
                        }
                    }
                } else {
                    for j in 0..<hd {
                        let column = v + j * rows
                        var o = out + offset + j
                        for i in range { o.pointee = column[i]; o += d }
                    }
                }
            }
            offset += hd
        }
    }

    /// Writes `vectors.npy`, `ids.tsv` and `meta.json` into `directory` (created here), streamed
    /// in blocks of rows (`EmbeddingTable/writeStreamedFiles(into:count:dimension:metadata:id:rows:)`);
    /// `id(node)` names a node.
    public func write(into directory: URL, id: (Int) -> String) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false) } catch {
            throw FollowGraphError("\(directory.path): cannot create directory: \(error.localizedDescription)")
        }
        let nodes = self.nodes
        try EmbeddingTable.writeStreamedFiles(into: directory, count: count, dimension: dimension, metadata: metadata,
                                              id: { id(Int(nodes[$0])) }, rows: { fill($0, $1) })
    }

    /// The table in memory (the ids' index and a column-major copy of the vectors).
    public func table(id: (Int) -> String) throws -> EmbeddingTable {
        let m = count, d = dimension
        var vectors = Matrix<Float>(rows: m, columns: d)
        if m > 0 && d > 0 {
            let block = max(1, min(m, (1 << 16) / d))
            var buffer = [Float](repeating: 0, count: block * d)
            vectors.withUnsafeMutableBufferPointer { out in
                var r0 = 0
                while r0 < m {
                    let r1 = min(m, r0 + block)
                    buffer.withUnsafeMutableBufferPointer { b in
                        fill(r0..<r1, b)
                        for i in r0..<r1 { for j in 0..<d { out[i + j * m] = b[(i - r0) * d + j] } }
                    }
                    r0 = r1
                }
            }
        }
        return try EmbeddingTable(ids: nodes.map { id(Int($0)) }, vectors: vectors, metadata: metadata)
    }

    /// The both-sides table of a directed graph: every account on either side, in node order,
    /// `[left | right]` (zeros for a side the account is not on).
    static func bothSides(consumers: [Int32], left: Half, producers: [Int32], right: Half, nodeCount n: Int,
                          metadata: EmbeddingMetadata) -> FollowGraphFactorTable {
        var present = [Bool](repeating: false, count: n)
        for node in consumers { present[Int(node)] = true }
        for node in producers { present[Int(node)] = true }
        var order = [Int32]()
        var rowOf = [Int32](repeating: -1, count: n)
        for node in 0..<n where present[node] { rowOf[node] = Int32(order.count); order.append(Int32(node)) }
        present = []
        func map(_ side: [Int32]) -> [Int32] {
            var blockRow = [Int32](repeating: -1, count: order.count)
            for (i, node) in side.enumerated() { blockRow[Int(rowOf[Int(node)])] = Int32(i) }
            return blockRow
        }
        var l = left, r = right
        l.blockRow = map(consumers); r.blockRow = map(producers)
        return FollowGraphFactorTable(name: "nodes", nodes: order, halves: [l, r], metadata: metadata)
    }
}
