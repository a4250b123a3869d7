/// A sparse matrix under construction, as a list of (row, column, value) triplets: the
/// builder for ``CSRMatrix`` and ``CSCMatrix``.
///
/// Append entries in any order, then compress. Compression is a counting sort by row (O(nnz +
/// rows)) followed by a sort of each row's columns and the merge of duplicates, so the total cost
/// is O(nnz + rows + sum over rows of r log r) for rows of length r, with no per-entry objects.
///
/// ```swift
/// var coo = COOMatrix<Float>(rows: 3, columns: 4)
/// coo.append(row: 0, column: 2, value: 1)
/// coo.append(row: 2, column: 1, value: 5)
/// coo.append(row: 0, column: 2, value: 1)     // a duplicate: summed by default
/// let a = try coo.toCSR()                     // a[0, 2] == 2
/// ```
///
/// Indices are stored as `Int32`; matrices with more than `Int32.max` rows or columns are
/// rejected when compressed. ``append(row:column:value:)`` does not throw: an out-of-bounds
/// entry is remembered and reported (with its position) by ``toCSR(duplicates:)`` and
/// ``toCSC(duplicates:)``.
public struct COOMatrix<Scalar: BLASScalar>: Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// Row of each entry, in the order appended.
    public private(set) var rowIndices: [Int32]
    /// Column of each entry, in the order appended.
    public private(set) var columnIndices: [Int32]
    /// Value of each entry, in the order appended.
    public private(set) var values: [Scalar]
    /// The first appended entry that was out of bounds: (position, row, column).
    private var firstInvalidEntry: (index: Int, row: Int, column: Int)?

    /// An empty `rows x columns` builder. Cost: O(1).
    ///
    /// A negative shape or one above `Int32.max` is reported by the compressing methods.
    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        self.rowIndices = []
        self.columnIndices = []
        self.values = []
        self.firstInvalidEntry = nil
    }

    /// A builder over existing triplet arrays (entry `e` is `(rowIndices[e], columnIndices[e],
    /// values[e])`). Cost: O(nnz) to validate.
    /// - Throws: ``SparseMatrixError`` if the shape is negative or exceeds `Int32.max`, the
    ///   three arrays differ in length, or an entry lies outside the matrix (the message names
    ///   the first such entry).
    public init(rows: Int, columns: Int, rowIndices: [Int32], columnIndices: [Int32], values: [Scalar]) throws {
        try checkSparseShape(rows, columns, "COOMatrix")
        guard rowIndices.count == columnIndices.count, rowIndices.count == values.count else {
            throw SparseMatrixError("COOMatrix: \(rowIndices.count) row indices, \(columnIndices.count) column indices and \(values.count) values; the three must have the same length")
        }
        let m = Int32(rows), n = Int32(columns)
        let bad: Int? = rowIndices.withUnsafeBufferPointer { r in
            columnIndices.withUnsafeBufferPointer { c in
                for e in 0..<r.count where r[e] < 0 || r[e] >= m || c[e] < 0 || c[e] >= n { return e }
                return nil
            }
        }
        if let e = bad {
            throw SparseMatrixError("COOMatrix: entry \(e) at (row \(rowIndices[e]), column \(columnIndices[e])) is outside the \(rows) x \(columns) matrix")
        }
        self.rows = rows
        self.columns = columns
        self.rowIndices = rowIndices
        self.columnIndices = columnIndices
        self.values = values
        self.firstInvalidEntry = nil
    }

    /// Number of entries appended so far (duplicates counted separately).
    public var count: Int { values.count }

    /// Reserves room for `capacity` entries, so that appending them does not reallocate.
    public mutating func reserveCapacity(_ capacity: Int) {
        rowIndices.reserveCapacity(capacity)
        columnIndices.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// Appends entry `(row, column) = value`. Cost: amortised O(1).
    ///
    /// An entry outside the matrix is not a crash: the first one is remembered and
    /// ``toCSR(duplicates:)``/``toCSC(duplicates:)`` throw a ``SparseMatrixError`` naming it.
    public mutating func append(row: Int, column: Int, value: Scalar) {
        if row < 0 || row >= rows || column < 0 || column >= columns
            || row > sparseMaximumDimension || column > sparseMaximumDimension {
            if firstInvalidEntry == nil { firstInvalidEntry = (values.count, row, column) }
        }
        rowIndices.append(Int32(truncatingIfNeeded: row))
        columnIndices.append(Int32(truncatingIfNeeded: column))
        values.append(value)
    }

    private func validate(_ what: String) throws {
        try checkSparseShape(rows, columns, what)
        if let bad = firstInvalidEntry {
            throw SparseMatrixError("\(what): entry \(bad.index) at (row \(bad.row), column \(bad.column)) is outside the \(rows) x \(columns) matrix")
        }
    }

    /// The compressed-sparse-row form: rows in order, columns sorted within each row, each
    /// coordinate once. Explicit zeros (including sums that cancel) are kept.
    ///
    /// Cost: O(nnz + rows) for the counting sort plus the per-row sorts (none when each row's
    /// entries were appended in increasing column order). Memory: the output plus O(nnz).
    /// - Parameter duplicates: how repeated coordinates are merged (default: summed, in the
    ///   order appended).
    /// - Throws: ``SparseMatrixError`` for an out-of-bounds entry, an oversized shape, or a
    ///   duplicate under ``DuplicatePolicy/reject`` (the message names the coordinate and the
    ///   positions of the two entries).
    public func toCSR(duplicates: DuplicatePolicy = .sum) throws -> CSRMatrix<Scalar> {
        try validate("COOMatrix.toCSR")
        let c = try compressTriplets(majorCount: rows, major: rowIndices, minor: columnIndices,
                                     values: values, policy: duplicates, transposed: false)
        return CSRMatrix(uncheckedRows: rows, columns: columns, rowOffsets: c.offsets,
                         columnIndices: c.indices, values: c.values)
    }

    /// The compressed-sparse-column form: columns in order, rows sorted within each column,
    /// each coordinate once. Same cost, policy and errors as ``toCSR(duplicates:)``.
    public func toCSC(duplicates: DuplicatePolicy = .sum) throws -> CSCMatrix<Scalar> {
        try validate("COOMatrix.toCSC")
        let c = try compressTriplets(majorCount: columns, major: columnIndices, minor: rowIndices,
                                     values: values, policy: duplicates, transposed: true)
        return CSCMatrix(uncheckedRows: rows, columns: columns, columnOffsets: c.offsets,
                         rowIndices: c.indices, values: c.values)
    }
}

/// Compresses triplets by their `major` index (rows for CSR, columns for CSC): counting sort,
/// then per-major sort of the minor indices and merge of duplicates under `policy`.
/// Indices are assumed in bounds. `transposed` only changes the wording of error messages.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func compressTriplets<Scalar: BLASScalar>(majorCount: Int, major: [Int32], minor: [Int32], values: [Scalar],
                                          policy: DuplicatePolicy, transposed: Bool) throws
    -> (offsets: [Int64], indices: [Int32], values: [Scalar]) {
    let nnz = values.count
    var offsets = [Int64](repeating: 0, count: majorCount + 1)
    var outIndices = [Int32](repeating: 0, count: nnz)
    var outValues = [Scalar](repeating: 0, count: nnz)
    var duplicate: (major: Int, minor: Int32)? = nil

    offsets.withUnsafeMutableBufferPointer { off in
        major.withUnsafeBufferPointer { maj in
            for e in 0..<nnz { off[Int(maj[e]) + 1] += 1 }
        }
        for r in 0..<majorCount { off[r + 1] += off[r] }
        // Scatter, stable in input order.
        var next = [Int64](off[0..<majorCount])
        next.withUnsafeMutableBufferPointer { next in
            major.withUnsafeBufferPointer { maj in
                minor.withUnsafeBufferPointer { mnr in
                    values.withUnsafeBufferPointer { val in
                        outIndices.withUnsafeMutableBufferPointer { oi in
                            outValues.withUnsafeMutableBufferPointer { ov in
                                for e in 0..<nnz {
                                    let r = Int(maj[e])
                                    let p = Int(next[r]); next[r] += 1
                                    oi[p] = mnr[e]; ov[p] = val[e]
                                }
                            }
                        }
                    }
                }
            }
        }
        // Per-major sort and merge, compacting in place (the write cursor never passes the read cursor).
        outIndices.withUnsafeMutableBufferPointer { idx in
            outValues.withUnsafeMutableBufferPointer { val in
                var keys = [UInt64]()
                var scratch = [Scalar]()
                var write = 0
                var start = 0
                for r in 0..<majorCount {
                    let end = Int(off[r + 1])
                    let length = end - start
                    // Sort [start, end) by minor index, stably.
                    var sorted = true
                    if length > 1 {
                        for p in (start + 1)..<end where idx[p] < idx[p - 1] { sorted = false; break }
                    }
                    if !sorted {
                        if length <= 32 {
                            for p in (start + 1)..<end {
                                let ki = idx[p], kv = val[p]
                                var q = p
                                while q > start && idx[q - 1] > ki { idx[q] = idx[q - 1]; val[q] = val[q - 1]; q -= 1 }
                                idx[q] = ki; val[q] = kv
                            }
                        } else {
                            keys.removeAll(keepingCapacity: true)
                            scratch.removeAll(keepingCapacity: true)
                            for p in start..<end {
                                keys.append(UInt64(UInt32(idx[p])) << 32 | UInt64(p - start))
                                scratch.append(val[p])
                            }
                            keys.sort()
                            for (q, key) in keys.enumerated() {
                                idx[start + q] = Int32(truncatingIfNeeded: key >> 32)
                                val[start + q] = scratch[Int(key & 0xFFFF_FFFF)]
                            }
                        }
                    }
                    // Merge duplicates while compacting.
                    off[r] = Int64(write)
                    var p = start
                    while p < end {
                        let j = idx[p]
                        var v = val[p]
                        var q = p + 1
                        while q < end && idx[q] == j {
                            switch policy {
                            case .sum: v += val[q]
                            case .keepFirst: break
                            case .reject: if duplicate == nil { duplicate = (r, j) }
                            }
                            q += 1
                        }
                        idx[write] = j; val[write] = v
                        write += 1
                        p = q
                    }
                    if duplicate != nil { return }
                    start = end
                }
                off[majorCount] = Int64(write)
            }
        }
    }
    if let d = duplicate {
        // Error path only: find the positions of the two clashing entries.
        var positions = [Int]()
        for e in 0..<nnz where Int(major[e]) == d.major && minor[e] == d.minor {
            positions.append(e)
            if positions.count == 2 { break }
        }
        let (row, column) = transposed ? (Int(d.minor), d.major) : (d.major, Int(d.minor))
        throw SparseMatrixError("duplicate entry at (row \(row), column \(column)): entries \(positions.map(String.init).joined(separator: " and ")) have the same coordinates (policy .reject)")
    }
    let finalCount = Int(offsets[majorCount])
    if finalCount < nnz {
        outIndices.removeLast(nnz - finalCount)
        outValues.removeLast(nnz - finalCount)
    }
    return (offsets, outIndices, outValues)
}
