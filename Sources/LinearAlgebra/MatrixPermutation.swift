// Renumbering the rows or columns of a dense block: the test matrix of a renumbered sparse
// operator and the factors that go back to the original numbering.

/// Whether `order` holds every value of `0..<count` exactly once (a permutation, as
/// `CSRMatrix.permuted(rowOrder:columnOrder:)` and the gathers below take). Cost: O(count).
public func isPermutation(_ order: [Int32], of count: Int) -> Bool {
    guard order.count == count else { return false }
    var seen = [Bool](repeating: false, count: count)
    for i in order {
        guard i >= 0 && Int(i) < count && !seen[Int(i)] else { return false }
        seen[Int(i)] = true
    }
    return true
}

extension Matrix {
    /// The matrix whose column `j` is column `order[j]` of this one (columns may repeat).
    /// Each column is one contiguous copy; above 2^20 elements the columns are split over
    /// ``Parallel/threads``. Cost: O(rows * order.count).
    /// - Precondition: every entry of `order` is in `0..<columns`.
    public func gatheringColumns(_ order: [Int32]) -> Matrix {
        precondition(order.allSatisfy { $0 >= 0 && Int($0) < columns }, "Matrix.gatheringColumns: an entry is outside 0..<\(columns)")
        return moveColumns(count: order.count) { j in (from: Int(order[j]), to: j) }
    }

    /// The matrix whose column `order[j]` is column `j` of this one: the inverse of
    /// ``gatheringColumns(_:)`` for a permutation `order`.
    /// - Precondition: `order` is a permutation of `0..<columns`.
    public func scatteringColumns(_ order: [Int32]) -> Matrix {
        precondition(isPermutation(order, of: columns), "Matrix.scatteringColumns: the order must be a permutation of 0..<\(columns)")
        return moveColumns(count: columns) { j in (from: j, to: Int(order[j])) }
    }

    /// The matrix whose row `i` is row `order[i]` of this one (two tiled transposes around
    /// ``gatheringColumns(_:)``). Cost: O(columns * order.count).
    /// - Precondition: every entry of `order` is in `0..<rows`.
    public func gatheringRows(_ order: [Int32]) -> Matrix { transposed().gatheringColumns(order).transposed() }

    /// The matrix whose row `order[i]` is row `i` of this one: the inverse of ``gatheringRows(_:)``.
    /// - Precondition: `order` is a permutation of `0..<rows`.
    public func scatteringRows(_ order: [Int32]) -> Matrix { transposed().scatteringColumns(order).transposed() }

    /// A `rows x count` matrix with column `to` = this matrix's column `from`, for the `count`
    /// pairs `move(j)`, which must write every result column once.
    private func moveColumns(count: Int, _ move: @Sendable (Int) -> (from: Int, to: Int)) -> Matrix {
        var result = Matrix(rows: rows, columns: count)
        let m = rows, bytes = rows * MemoryLayout<Scalar>.stride
        if m == 0 || count == 0 { return result }
        let threads = m * count >= 1 << 20 ? Parallel.threads : 1
        elements.withUnsafeBytes { src in
            result.elements.withUnsafeMutableBytes { dst in
                let box = UnsafeSendableBox((src.baseAddress!, dst.baseAddress!))
                Parallel.forEachChunk(count: count, threads: threads) { range in
                    let (src, dst) = box.value
                    for j in range {
                        let (from, to) = move(j)
                        (dst + to * bytes).copyMemory(from: src + from * bytes, byteCount: bytes)
                    }
                }
            }
        }
        return result
    }
}
