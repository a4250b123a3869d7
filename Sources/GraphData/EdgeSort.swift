/// Linear-time ordering of (row, column) pairs: two stable counting-sort passes over
/// `UInt64` keys `row << 32 | column` (by column, then by row), no per-edge objects.
enum EdgeSort {
    @inline(__always) static func key(_ r: Int32, _ c: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: r)) << 32 | UInt64(UInt32(bitPattern: c))
    }

    /// Whether the pairs are already in (row, column) order (non-decreasing).
    static func isSorted(_ rows: UnsafeBufferPointer<Int32>, _ columns: UnsafeBufferPointer<Int32>) -> Bool {
        var i = 1
        let m = rows.count
        while i < m {
            if key(rows[i - 1], columns[i - 1]) > key(rows[i], columns[i]) { return false }
            i += 1
        }
        return true
    }

    /// The pairs' keys in (row, column) order, and the weights permuted alike. Stable: equal
    /// pairs keep their input order. Cost: O(m + rowCount + columnCount) time, 2m keys of memory.
    /// - Precondition: `0 <= rows[i] < rowCount`, `0 <= columns[i] < columnCount`.
    static func sortedKeys(rowCount: Int, columnCount: Int,
                           _ rows: UnsafeBufferPointer<Int32>, _ columns: UnsafeBufferPointer<Int32>,
                           _ weights: UnsafeBufferPointer<Float>?) -> (keys: [UInt64], weights: [Float]?) {
        let m = rows.count
        if isSorted(rows, columns) {
            var keys = [UInt64](repeating: 0, count: m)
            keys.withUnsafeMutableBufferPointer { k in
                for i in 0..<m { k[i] = key(rows[i], columns[i]) }
            }
            return (keys, weights.map { Array($0) })
        }
        // Pass 1: by column.
        let tmpKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: max(m, 1))
        let tmpWeights: UnsafeMutablePointer<Float>? = weights == nil ? nil : .allocate(capacity: max(m, 1))
        defer { tmpKeys.deallocate(); tmpWeights?.deallocate() }
        var next = [Int](repeating: 0, count: max(columnCount, rowCount) + 1)
        next.withUnsafeMutableBufferPointer { nx in
            for i in 0..<m { nx[Int(columns[i]) + 1] += 1 }
            for c in 0..<columnCount { nx[c + 1] += nx[c] }
            for i in 0..<m {
                let c = Int(columns[i])
                let pos = nx[c]
                nx[c] = pos + 1
                tmpKeys[pos] = key(rows[i], columns[i])
                if let tmpWeights { tmpWeights[pos] = weights![i] }
            }
        }
        // Pass 2: by row, stable.
        for i in 0...rowCount { next[i] = 0 }
        var outWeights: [Float]? = weights == nil ? nil : [Float](repeating: 0, count: m)
        let keys = [UInt64](unsafeUninitializedCapacity: m) { out, initialized in
            next.withUnsafeMutableBufferPointer { nx in
                for i in 0..<m { nx[Int(tmpKeys[i] >> 32) + 1] += 1 }
                for r in 0..<rowCount { nx[r + 1] += nx[r] }
                if let tmpWeights {
                    outWeights!.withUnsafeMutableBufferPointer { ow in
                        for i in 0..<m {
                            let r = Int(tmpKeys[i] >> 32)
                            let pos = nx[r]
                            nx[r] = pos + 1
                            out[pos] = tmpKeys[i]
                            ow[pos] = tmpWeights[i]
                        }
                    }
                } else {
                    for i in 0..<m {
                        let r = Int(tmpKeys[i] >> 32)
                        let pos = nx[r]
                        nx[r] = pos + 1
                        out[pos] = tmpKeys[i]
                    }
                }
            }
            initialized = m
        }
        return (keys, outWeights)
    }
}
