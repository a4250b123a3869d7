/// The package's one triplet-to-CSR builder: the compressed-sparse-row form of a list of
/// (row, column, value) entries, in O(m + n) plus short per-row sorts, with no per-entry objects.
/// One counting scatter by row (optionally adding the reverse of every entry and dropping
/// self-loops on the way; a plain copy when the rows are already grouped), a stable sort of each
/// row's columns (rows split across threads), and a merge of repeated columns under a
/// ``DuplicatePolicy``. ``COOMatrix/toCSR(duplicates:)`` and ``COOMatrix/toCSC(duplicates:)``
/// and GraphData's edge-list and label readers build their arrays with it.
package enum CSRBuilder {
    /// The CSR arrays; `values` is nil when the input had none and nothing was summed.
    package struct Rows<S> {
        package var offsets: [Int64]
        package var columns: [Int32]
        package var values: [S]?
        /// With ``DuplicatePolicy/reject``: the first repeated (row, column) found, if any
        /// (the entries are then merged as with `.keepFirst`).
        package var firstDuplicate: (row: Int, column: Int32)?
    }

    /// - Parameters:
    ///   - rowCount: the number of rows; every `rows[i]` is in `0..<rowCount`.
    ///   - values: one value per entry, or nil (then a `.sum` counts the repeats, and the result
    ///     has values).
    ///   - symmetric: also add (column, row) for every entry with row != column.
    ///   - dropLoops: leave out entries with row == column.
    ///   - duplicates: how repeated (row, column) entries merge; nil keeps them all (adjacent,
    ///     in input order). `.keepFirst` keeps the first in input order (for symmetric input, the
    ///     reverse of entry k counts as entry k); `.sum` adds their values; `.reject` merges as
    ///     `.keepFirst` and reports the first repeat in ``Rows/firstDuplicate``.
    /// - Precondition: `0 <= rows[i] < rowCount`, `columns[i] >= 0`, and `columns[i] < rowCount`
    ///   when symmetric.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func build<S: BLASScalar>(rowCount: Int, rows: UnsafeBufferPointer<Int32>, columns: UnsafeBufferPointer<Int32>,
                                             values: UnsafeBufferPointer<S>?, symmetric: Bool = false, dropLoops: Bool = false,
                                             duplicates: DuplicatePolicy?, threads: Int = Parallel.threads) -> Rows<S> {
        let m = rows.count
        var offsets = [Int64](repeating: 0, count: rowCount + 1)
        var rowsAscending = true
        offsets.withUnsafeMutableBufferPointer { o in
            var previous: Int32 = 0
            for i in 0..<m {
                let r = rows[i], c = columns[i]
                if r < previous { rowsAscending = false }
                previous = r
                if r == c {
                    if !dropLoops { o[Int(r) + 1] += 1 }
                } else {
                    o[Int(r) + 1] += 1
                    if symmetric { o[Int(c) + 1] += 1 }
                }
            }
            for i in 0..<rowCount { o[i + 1] += o[i] }
        }
        let total = Int(offsets[rowCount])
        let valued = values != nil || duplicates == .sum
        var outColumns = [Int32](repeating: 0, count: total)
        var outValues = [S](repeating: 1, count: valued ? total : 0)
        outColumns.withUnsafeMutableBufferPointer { oc in
            outValues.withUnsafeMutableBufferPointer { ov in
                if rowsAscending && !symmetric && total == m {
                    if m > 0 {
                        oc.baseAddress!.update(from: columns.baseAddress!, count: m)
                        if let values { ov.baseAddress!.update(from: values.baseAddress!, count: m) }
                    }
                } else {
                    var next = offsets
                    next.withUnsafeMutableBufferPointer { nx in
                        for i in 0..<m {
                            let r = Int(rows[i]), c = columns[i]
                            if Int(c) == r && dropLoops { continue }
                            let pos = Int(nx[r]); nx[r] = Int64(pos + 1)
                            oc[pos] = c
                            if let values { ov[pos] = values[i] }
                            if symmetric && Int(c) != r {
                                let q = Int(nx[Int(c)]); nx[Int(c)] = Int64(q + 1)
                                oc[q] = Int32(r)
                                if let values { ov[q] = values[i] }
                            }
                        }
                    }
                }
                sortRows(offsets, oc, values != nil ? ov : nil, threads: threads)
            }
        }
        guard let duplicates else {
            return Rows(offsets: offsets, columns: outColumns, values: valued ? outValues : nil, firstDuplicate: nil)
        }
        // Merge repeated columns (now adjacent, in input order) row by row, compacting in place.
        var write = 0
        var firstDuplicate: (row: Int, column: Int32)? = nil
        outColumns.withUnsafeMutableBufferPointer { oc in
            outValues.withUnsafeMutableBufferPointer { ov in
                offsets.withUnsafeMutableBufferPointer { o in
                    var lo = 0
                    for r in 0..<rowCount {
                        let hi = Int(o[r + 1])
                        let rowStart = write
                        for k in lo..<hi {
                            let c = oc[k]
                            if write > rowStart && oc[write - 1] == c {
                                if duplicates == .sum { ov[write - 1] += ov[k] }
                                if duplicates == .reject && firstDuplicate == nil { firstDuplicate = (r, c) }
                                continue
                            }
                            oc[write] = c
                            if valued { ov[write] = ov[k] }
                            write += 1
                        }
                        lo = hi
                        o[r + 1] = Int64(write)
                    }
                }
            }
        }
        outColumns.removeLast(total - write)
        if valued { outValues.removeLast(total - write) }
        return Rows(offsets: offsets, columns: outColumns, values: valued ? outValues : nil, firstDuplicate: firstDuplicate)
    }

    /// The row index of every entry of a CSR structure.
    package static func rowIndices(offsets: [Int64]) -> [Int32] {
        let n = Int(offsets.last ?? 0)
        return [Int32](unsafeUninitializedCapacity: n) { out, initialized in
            for r in 0..<(offsets.count - 1) {
                for k in Int(offsets[r])..<Int(offsets[r + 1]) { out[k] = Int32(r) }
            }
            initialized = n
        }
    }

    /// Sorts every row's columns (stably, carrying the values), rows split across threads.
    static func sortRows<S: BLASScalar>(_ offsets: [Int64], _ columns: UnsafeMutableBufferPointer<Int32>,
                                        _ values: UnsafeMutableBufferPointer<S>?, threads: Int) {
        let rowCount = offsets.count - 1
        guard rowCount > 0 else { return }
        offsets.withUnsafeBufferPointer { o in
            let box = UnsafeSendableBox((columns, values, o))
            let chunks = Int(o[rowCount]) < 1 << 16 ? 1 : max(1, threads)
            Parallel.forEachWeightedChunk(prefix: o, chunks: chunks) { _, range in
                let (cols, vals, o) = box.value
                var keys: [UInt64] = []
                var scratch: [S] = []
                var radixScratch: [Int32] = []
                for r in range {
                    let lo = Int(o[r]), hi = Int(o[r + 1])
                    if hi - lo < 2 { continue }
                    var sorted = true
                    for k in (lo + 1)..<hi where cols[k - 1] > cols[k] { sorted = false; break }
                    if sorted { continue }
                    if let vals {
                        // Stable: sort (column, position) keys, then permute the values.
                        keys.removeAll(keepingCapacity: true)
                        scratch.removeAll(keepingCapacity: true)
                        for k in lo..<hi {
                            keys.append(UInt64(UInt32(bitPattern: cols[k])) << 32 | UInt64(k - lo))
                            scratch.append(vals[k])
                        }
                        keys.sort()
                        for (j, key) in keys.enumerated() {
                            cols[lo + j] = Int32(truncatingIfNeeded: key >> 32)
                            vals[lo + j] = scratch[Int(key & 0xFFFF_FFFF)]
                        }
                    } else if hi - lo < 96 {
                        introSort(cols.baseAddress!, lo, hi, depth: 2 * (Int.bitWidth - (hi - lo).leadingZeroBitCount))
                    } else {
                        if radixScratch.count < hi - lo { radixScratch = [Int32](repeating: 0, count: hi - lo) }
                        radixScratch.withUnsafeMutableBufferPointer { scratch in
                            radixSort(cols.baseAddress! + lo, hi - lo, scratch.baseAddress!)
                        }
                    }
                }
            }
        }
    }
    /// Sorts `n` non-negative values at `a` with a least-significant-digit radix sort (8-bit
    /// digits below 4096 values, 11-bit above; as many passes as the largest value needs),
    /// using `scratch` (`n` entries).
    static func radixSort(_ a: UnsafeMutablePointer<Int32>, _ n: Int, _ scratch: UnsafeMutablePointer<Int32>) {
        var maxValue: Int32 = 0
        for i in 0..<n { maxValue = max(maxValue, a[i]) }
        let bits = 32 - UInt32(bitPattern: maxValue).leadingZeroBitCount
        var from = a, to = scratch
        var shift: UInt32 = 0
        let digitBits: UInt32 = n < 4096 ? 8 : 11
        let buckets = 1 << Int(digitBits)
        let digitMask = UInt32(buckets - 1)
        var counts = [Int](repeating: 0, count: buckets)
        counts.withUnsafeMutableBufferPointer { c in
            while shift < UInt32(bits) {
                for d in 0..<buckets { c[d] = 0 }
                for i in 0..<n { c[Int((UInt32(bitPattern: from[i]) >> shift) & digitMask)] += 1 }
                var sum = 0
                for d in 0..<buckets { let t = c[d]; c[d] = sum; sum += t }
                for i in 0..<n {
                    let v = from[i]
                    let d = Int((UInt32(bitPattern: v) >> shift) & digitMask)
                    to[c[d]] = v
                    c[d] += 1
                }
                swap(&from, &to)
                shift += digitBits
            }
        }
        if from != a { a.update(from: from, count: n) }
    }

    /// Sorts `a[lo..<hi]`: quicksort (median of three, Hoare partition) down to short ranges,
    /// insertion sort below, and the standard library's sort if `depth` runs out (bad pivots).
    static func introSort(_ a: UnsafeMutablePointer<Int32>, _ lo: Int, _ hi: Int, depth: Int) {
        var lo = lo, hi = hi, depth = depth
        while hi - lo > 24 {
            if depth == 0 {
                var rest = UnsafeMutableBufferPointer(start: a + lo, count: hi - lo)
                rest.sort()
                return
            }
            depth -= 1
            let mid = lo + (hi - lo) / 2
            var x = a[lo], y = a[mid], z = a[hi - 1]
            if x > y { swap(&x, &y) }
            if y > z { swap(&y, &z) }
            if x > y { swap(&x, &y) }
            let pivot = y
            var i = lo - 1, j = hi
            while true {
                repeat { i += 1 } while a[i] < pivot
                repeat { j -= 1 } while a[j] > pivot
                if i >= j { break }
                let t = a[i]; a[i] = a[j]; a[j] = t
            }
            // a[lo...j] <= pivot <= a[j+1..<hi]; recurse on the smaller part.
            if j + 1 - lo < hi - j - 1 {
                introSort(a, lo, j + 1, depth: depth)
                lo = j + 1
            } else {
                introSort(a, j + 1, hi, depth: depth)
                hi = j + 1
            }
        }
        if hi - lo < 2 { return }
        for k in (lo + 1)..<hi {
            let c = a[k]
            var j = k
            while j > lo && a[j - 1] > c { a[j] = a[j - 1]; j -= 1 }
            a[j] = c
        }
    }
}
