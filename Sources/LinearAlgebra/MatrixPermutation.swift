// Renumbering the rows or columns of a dense block: the test matrix of a renumbered sparse
// operator and the factors that go back to the original numbering.

/// A uniformly random permutation of `0..<count` (Fisher-Yates on ``Xoshiro256`` seeded with
/// `seed`: the same seed gives the same order), in the form `CSRMatrix.permuted(rowOrder:columnOrder:)`
/// and the gathers below take. Cost: O(count).
public func randomPermutation(_ count: Int, seed: UInt64) -> [Int32] {
    precondition(count >= 0 && count <= Int(Int32.max), "randomPermutation: count \(count) out of range")
    var rng = Xoshiro256(seed: seed)
    var order = (0..<Int32(count)).map { $0 }
    order.shuffle(using: &rng)
    return order
}

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

    /// The matrix whose row `i` is row `order[i]` of this one (rows may repeat), column by
    /// column (split over ``Parallel/threads`` above 2^20 elements). Cost: O(columns * order.count).
    /// - Precondition: every entry of `order` is in `0..<rows`.
    public func gatheringRows(_ order: [Int32]) -> Matrix {
        precondition(order.allSatisfy { $0 >= 0 && Int($0) < rows }, "Matrix.gatheringRows: an entry is outside 0..<\(rows)")
        return moveRows(count: order.count, order, gather: true)
    }

    /// The matrix whose row `order[i]` is row `i` of this one: the inverse of ``gatheringRows(_:)``.
    /// - Precondition: `order` is a permutation of `0..<rows`.
    public func scatteringRows(_ order: [Int32]) -> Matrix {
        precondition(isPermutation(order, of: rows), "Matrix.scatteringRows: the order must be a permutation of 0..<\(rows)")
        return moveRows(count: rows, order, gather: false)
    }

    /// A `count x columns` matrix: row `i` = this row `order[i]` (`gather`), or row `order[i]` =
    /// this row `i`. The elements move as 4- or 8-byte words (concrete loops in generic code).
    private func moveRows(count: Int, _ order: [Int32], gather: Bool) -> Matrix {
        var result = Matrix(rows: count, columns: columns)
        let m = rows, n = columns
        if count == 0 || n == 0 { return result }
        let threads = count * n >= 1 << 20 ? Parallel.threads : 1
        func move<W>(_ src: UnsafePointer<W>, _ dst: UnsafeMutablePointer<W>, _ ord: UnsafePointer<Int32>) {
            let box = UnsafeSendableBox((src, dst, ord))
            Parallel.forEachChunk(count: n, threads: threads) { range in
                let (src, dst, ord) = box.value
                for c in range {
                    let from = src + c * m, to = dst + c * count
                    if gather { for i in 0..<count { to[i] = from[Int(ord[i])] } }
                    else { for i in 0..<count { to[Int(ord[i])] = from[i] } }
                }
            }
        }
        elements.withUnsafeBytes { src in
            result.elements.withUnsafeMutableBytes { dst in
                order.withUnsafeBufferPointer { ord in
                    switch MemoryLayout<Scalar>.stride {
                    case 4: move(src.bindMemory(to: UInt32.self).baseAddress!, dst.bindMemory(to: UInt32.self).baseAddress!, ord.baseAddress!)
                    case 8: move(src.bindMemory(to: UInt64.self).baseAddress!, dst.bindMemory(to: UInt64.self).baseAddress!, ord.baseAddress!)
                    default: move(src.bindMemory(to: Scalar.self).baseAddress!, dst.bindMemory(to: Scalar.self).baseAddress!, ord.baseAddress!)
                    }
                }
            }
        }
        return result
    }

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
