// Structure operations shared by CSR and CSC storage, written in terms of the major dimension
// (rows for CSR, columns for CSC) and the minor dimension.

/// Validates compressed arrays: offsets count, monotone offsets, index bounds, strictly increasing
/// indices within each major slice. `major`/`minor` name the dimensions in error messages.
func validateCompressed<S>(majorCount: Int, minorCount: Int, offsets: [Int64], indices: [Int32], values: [S],
                           what: String, major: String, minor: String) throws {
    guard offsets.count == majorCount + 1 else {
        throw SparseMatrixError("\(what): \(offsets.count) \(major) offsets for \(majorCount) \(major)s; expected \(majorCount + 1)")
    }
    guard indices.count == values.count else {
        throw SparseMatrixError("\(what): \(indices.count) \(minor) indices but \(values.count) values")
    }
    guard offsets[0] == 0 else { throw SparseMatrixError("\(what): \(major) offsets must start at 0, found \(offsets[0])") }
    guard offsets[majorCount] == Int64(indices.count) else {
        throw SparseMatrixError("\(what): the last \(major) offset is \(offsets[majorCount]) but there are \(indices.count) entries")
    }
    let bound = Int32(truncatingIfNeeded: minorCount)
    for r in 0..<majorCount {
        let lo = offsets[r], hi = offsets[r + 1]
        guard lo <= hi else {
            throw SparseMatrixError("\(what): \(major) offsets decrease at \(major) \(r) (\(lo) > \(hi))")
        }
        var previous: Int32 = -1
        for p in Int(lo)..<Int(hi) {
            let j = indices[p]
            guard j >= 0 && j < bound else {
                throw SparseMatrixError("\(what): entry \(p) in \(major) \(r) has \(minor) index \(j), outside 0..<\(minorCount)")
            }
            guard j > previous else {
                throw SparseMatrixError("\(what): entry \(p) in \(major) \(r) has \(minor) index \(j) after \(previous); indices must be strictly increasing within a \(major) (sorted, no duplicates)")
            }
            previous = j
        }
    }
}

/// The same matrix compressed along the other dimension (a counting sort). Cost: O(nnz + minorCount).
/// Indices in the result are sorted within each slice because major slices are visited in order.
@_specialize(where S == Float)
@_specialize(where S == Double)
func transposeCompressed<S>(majorCount: Int, minorCount: Int, offsets: [Int64], indices: [Int32], values: [S])
    -> (offsets: [Int64], indices: [Int32], values: [S]) {
    let nnz = indices.count
    var tOffsets = [Int64](repeating: 0, count: minorCount + 1)
    var tIndices = [Int32](repeating: 0, count: nnz)
    let tValues = [S](unsafeUninitializedCapacity: nnz) { tv, initialized in
        tOffsets.withUnsafeMutableBufferPointer { to in
            indices.withUnsafeBufferPointer { idx in
                for p in 0..<nnz { to[Int(idx[p]) + 1] += 1 }
                for j in 0..<minorCount { to[j + 1] += to[j] }
                var next = [Int64](to[0..<minorCount])
                next.withUnsafeMutableBufferPointer { next in
                    offsets.withUnsafeBufferPointer { off in
                        values.withUnsafeBufferPointer { val in
                            tIndices.withUnsafeMutableBufferPointer { ti in
                                for r in 0..<majorCount {
                                    for p in Int(off[r])..<Int(off[r + 1]) {
                                        let j = Int(idx[p])
                                        let q = Int(next[j]); next[j] += 1
                                        ti[q] = Int32(truncatingIfNeeded: r)
                                        (tv.baseAddress! + q).initialize(to: val[p])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        initialized = nnz
    }
    return (tOffsets, tIndices, tValues)
}

/// Sum of each major slice.
@_specialize(where S == Float)
@_specialize(where S == Double)
func majorSums<S: BLASScalar>(majorCount: Int, offsets: [Int64], values: [S]) -> [S] {
    var sums = [S](repeating: 0, count: majorCount)
    offsets.withUnsafeBufferPointer { off in
        values.withUnsafeBufferPointer { val in
            for r in 0..<majorCount {
                var t: S = 0
                for p in Int(off[r])..<Int(off[r + 1]) { t += val[p] }
                sums[r] = t
            }
        }
    }
    return sums
}

/// Sum of each minor slice.
@_specialize(where S == Float)
@_specialize(where S == Double)
func minorSums<S: BLASScalar>(minorCount: Int, indices: [Int32], values: [S]) -> [S] {
    var sums = [S](repeating: 0, count: minorCount)
    sums.withUnsafeMutableBufferPointer { s in
        indices.withUnsafeBufferPointer { idx in
            values.withUnsafeBufferPointer { val in
                for p in 0..<idx.count { s[Int(idx[p])] += val[p] }
            }
        }
    }
    return sums
}

/// Stored entries of each major slice.
func majorCounts(majorCount: Int, offsets: [Int64]) -> [Int] {
    (0..<majorCount).map { Int(offsets[$0 + 1] - offsets[$0]) }
}

/// Stored entries of each minor slice.
func minorCounts(minorCount: Int, indices: [Int32]) -> [Int] {
    var counts = [Int](repeating: 0, count: minorCount)
    counts.withUnsafeMutableBufferPointer { c in
        indices.withUnsafeBufferPointer { idx in
            for p in 0..<idx.count { c[Int(idx[p])] += 1 }
        }
    }
    return counts
}

/// Multiplies every value of major slice `r` by `d[r]`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func scaleMajor<S: BLASScalar>(_ values: inout [S], offsets: [Int64], by d: [S]) {
    values.withUnsafeMutableBufferPointer { val in
        offsets.withUnsafeBufferPointer { off in
            for r in 0..<d.count {
                let f = d[r]
                for p in Int(off[r])..<Int(off[r + 1]) { val[p] *= f }
            }
        }
    }
}

/// Multiplies every value in minor slice `j` by `d[j]`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func scaleMinor<S: BLASScalar>(_ values: inout [S], indices: [Int32], by d: [S]) {
    values.withUnsafeMutableBufferPointer { val in
        indices.withUnsafeBufferPointer { idx in
            d.withUnsafeBufferPointer { d in
                for p in 0..<idx.count { val[p] *= d[Int(idx[p])] }
            }
        }
    }
}

/// The throwing initialisers' checks of CSR and CSC arrays (`byRows`: offsets per row, column
/// indices; otherwise per column, row indices): shape within `Int32`, then ``validateCompressed``.
func validateSparse<S>(rows: Int, columns: Int, byRows: Bool, offsets: [Int64], indices: [Int32], values: [S],
                       what: String) throws {
    try checkSparseShape(rows, columns, what)
    try validateCompressed(majorCount: byRows ? rows : columns, minorCount: byRows ? columns : rows, offsets: offsets,
                           indices: indices, values: values, what: what,
                           major: byRows ? "row" : "column", minor: byRows ? "column" : "row")
}

/// The unchecked initialisers' O(1) check: consistent array lengths for `majorCount` slices.
func checkCompressedLengths(rows: Int, columns: Int, majorCount: Int, offsets: [Int64], indexCount: Int, valueCount: Int,
                            _ what: @autoclosure () -> String) {
    precondition(rows >= 0 && columns >= 0 && offsets.count == majorCount + 1 && indexCount == valueCount
                 && offsets[majorCount] == Int64(valueCount), "\(what()): inconsistent array lengths")
}

/// The stored value at (`major`, `minor`) by binary search of the major slice, or zero.
func compressedElement<S: BLASScalar>(offsets: [Int64], indices: [Int32], values: [S], major: Int, minor: Int) -> S {
    var lo = Int(offsets[major]), hi = Int(offsets[major + 1])
    let end = hi, target = Int32(minor)
    while lo < hi {
        let mid = (lo + hi) / 2
        if indices[mid] < target { lo = mid + 1 } else { hi = mid }
    }
    return lo < end && indices[lo] == target ? values[lo] : 0
}

/// The dense column-major `rows x columns` matrix of compressed arrays (`byRows`: CSR, else CSC).
func denseFromCompressed<S: BLASScalar>(rows: Int, columns: Int, byRows: Bool, offsets: [Int64], indices: [Int32],
                                        values: [S]) -> Matrix<S> {
    var d = Matrix<S>(rows: rows, columns: columns)
    for major in 0..<(byRows ? rows : columns) {
        for p in Int(offsets[major])..<Int(offsets[major + 1]) {
            let (i, j) = byRows ? (major, Int(indices[p])) : (Int(indices[p]), major)
            d.elements[i + j * rows] = values[p]
        }
    }
    return d
}
