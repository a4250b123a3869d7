extension CSRMatrix {
    /// A random `rows x columns` matrix with exactly `nonzeros` stored entries, spread evenly
    /// over the rows (each row gets `nonzeros / rows` or one more), at distinct uniformly random
    /// columns, with values uniform in [-1, 1). The same seed gives the same matrix whatever
    /// the thread count: rows are generated in fixed blocks, each from its own
    /// ``Xoshiro256/stream(seed:index:)``.
    ///
    /// This is the benchmark matrix of the SpMM kernel (`randomUniform(rows: 1_000_000,
    /// columns: 1_000_000, nonzeros: 10_000_000, seed: 1)`) and a test fixture.
    /// Cost: O(rows + nonzeros log(nonzeros / rows)), parallel.
    /// - Throws: ``SparseMatrixError`` if the shape is negative or above `Int32.max`, or
    ///   `nonzeros` is negative or more than `rows * columns`.
    public static func randomUniform(rows: Int, columns: Int, nonzeros: Int, seed: UInt64) throws -> CSRMatrix {
        try checkSparseShape(rows, columns, "CSRMatrix.randomUniform")
        guard nonzeros >= 0, rows > 0 && columns > 0 || nonzeros == 0,
              nonzeros <= rows.multipliedReportingOverflow(by: columns).partialValue || rows.multipliedReportingOverflow(by: columns).overflow else {
            throw SparseMatrixError("CSRMatrix.randomUniform: \(nonzeros) nonzeros do not fit in a \(rows) x \(columns) matrix")
        }
        var offsets = [Int64](repeating: 0, count: rows + 1)
        for i in 0..<rows { offsets[i + 1] = Int64((Int64(i + 1) * Int64(nonzeros)) / Int64(max(rows, 1))) }
        var indices = [Int32](repeating: 0, count: nonzeros)
        var values = [Scalar](repeating: 0, count: nonzeros)
        let blockRows = 16_384
        let blocks = (rows + blockRows - 1) / blockRows
        offsets.withUnsafeBufferPointer { off in
            indices.withUnsafeMutableBufferPointer { idx in
                values.withUnsafeMutableBufferPointer { val in
                    let box = UnsafeSendableBox((off.baseAddress!, idx.baseAddress, val.baseAddress))
                    Parallel.forEachChunk(count: blocks) { blockRange in
                        let (off, idx, val) = box.value
                        guard let idx, let val else { return }
                        for b in blockRange {
                            var rng = Xoshiro256.stream(seed: seed, index: UInt64(b))
                            for i in (b * blockRows)..<min(rows, (b + 1) * blockRows) {
                                let lo = Int(off[i]), count = Int(off[i + 1]) - lo
                                fillDistinctSortedColumns(idx + lo, count: count, columns: columns, rng: &rng)
                                for p in lo..<(lo + count) { val[p] = Scalar(2 * rng.nextUniform() - 1) }
                            }
                        }
                    }
                }
            }
        }
        return CSRMatrix(uncheckedRows: rows, columns: columns, rowOffsets: offsets, columnIndices: indices, values: values)
    }
}

/// Writes `count` distinct uniformly random columns of `0..<columns`, increasing, to `out`.
func fillDistinctSortedColumns(_ out: UnsafeMutablePointer<Int32>, count: Int, columns: Int, rng: inout Xoshiro256) {
    if count == 0 { return }
    if count * 4 > columns {
        // Selection sampling (Knuth's algorithm S): scan the columns once.
        var needed = count, written = 0
        for j in 0..<columns where needed > 0 {
            if Double(columns - j) * rng.nextUniform() < Double(needed) {
                out[written] = Int32(j); written += 1; needed -= 1
            }
        }
        return
    }
    let range = UInt64(columns)
    var filled = 0
    while filled < count {
        for p in filled..<count { out[p] = Int32(truncatingIfNeeded: range.multipliedFullWidth(by: rng.next()).high) }
        // Insertion sort (rows are short), then drop duplicates and redraw the missing ones.
        for p in 1..<count {
            let key = out[p]
            var q = p
            while q > 0 && out[q - 1] > key { out[q] = out[q - 1]; q -= 1 }
            out[q] = key
        }
        var w = 1
        for p in 1..<count where out[p] != out[w - 1] { out[w] = out[p]; w += 1 }
        filled = w
    }
}
