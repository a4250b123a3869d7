import Foundation
import Testing
@testable import EmbeddingStore
@testable import FollowGraph
import LinearAlgebra

/// A factor table's rows (the blocks side by side, in C order) as `fill` hands them to the
/// writer: column-major and transposed blocks, row maps with missing rows, every block size.
@Suite struct FactorTableTests {
    /// A block whose element (row r, column j) is `1000 * tag + 10 * r + j`: every value names its place.
    static func half(tag: Int, rows: Int, dimension: Int, transposed: Bool, blockRow: [Int32]?) -> FollowGraphFactorTable.Half {
        var m = Matrix<Float>(rows: transposed ? dimension : rows, columns: transposed ? rows : dimension)
        for r in 0..<rows {
            for j in 0..<dimension {
                let x = Float(1000 * tag + 10 * r + j)
                if transposed { m[j, r] = x } else { m[r, j] = x }
            }
        }
        return .init(vectors: m, transposed: transposed, blockRow: blockRow)
    }

    @Test(arguments: [1, 7, 1000, 3001])
    func fillPlacesEveryElement(count: Int) throws {
        let rows = count + 2
        // Table row i reads block row (i * 5) % rows, or nothing every third row.
        let map: [Int32] = (0..<count).map { $0 % 3 == 2 ? -1 : Int32(($0 * 5) % rows) }
        let halves = [Self.half(tag: 1, rows: count, dimension: 3, transposed: false, blockRow: nil),
                      Self.half(tag: 2, rows: rows, dimension: 5, transposed: false, blockRow: map),
                      Self.half(tag: 3, rows: rows, dimension: 4, transposed: true, blockRow: map),
                      Self.half(tag: 4, rows: count, dimension: 2, transposed: true, blockRow: nil)]
        let table = FollowGraphFactorTable(name: "t", nodes: (0..<Int32(count)).map { $0 }, halves: halves,
                                           metadata: EmbeddingMetadata(entityType: "node", algorithm: "test"))
        #expect(table.dimension == 14)
        func expected(_ i: Int, _ column: Int) -> Float {
            var j = column
            for (k, h) in halves.enumerated() {
                if j < h.dimension {
                    let r = h.blockRow.map { Int($0[i]) } ?? i
                    return r < 0 ? 0 : Float(1000 * (k + 1) + 10 * r + j)
                }
                j -= h.dimension
            }
            fatalError("column out of range")
        }
        // Blocks of rows at several offsets, as the writer asks for them.
        for range in [0..<count, 0..<min(count, 5), (count / 2)..<count] where !range.isEmpty {
            var buffer = [Float](repeating: -1, count: range.count * 14)
            buffer.withUnsafeMutableBufferPointer { table.fill(range, $0) }
            let wrong = range.flatMap { i in (0..<14).filter { buffer[(i - range.lowerBound) * 14 + $0] != expected(i, $0) } }
            #expect(wrong.isEmpty, "rows \(range): \(wrong.count) misplaced elements")
        }
        // The in-memory table (filled in blocks of rows) holds the same values.
        let t = try table.table(id: { "n\($0)" })
        #expect((0..<count).allSatisfy { i in (0..<14).allSatisfy { t.vectors[i, $0] == expected(i, $0) } })
    }
}
