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
        self.init(rows: rows, columns: columns)   // the empty builder's state, then the arrays
        self.rowIndices = rowIndices
        self.columnIndices = columnIndices
        self.values = values
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
        let c = try compressed(byColumns: false, duplicates)
        return CSRMatrix(uncheckedRows: rows, columns: columns, rowOffsets: c.offsets,
                         columnIndices: c.indices, values: c.values)
    }

    /// The compressed-sparse-column form: columns in order, rows sorted within each column,
    /// each coordinate once. Same cost, policy and errors as ``toCSR(duplicates:)``.
    public func toCSC(duplicates: DuplicatePolicy = .sum) throws -> CSCMatrix<Scalar> {
        let c = try compressed(byColumns: true, duplicates)
        return CSCMatrix(uncheckedRows: rows, columns: columns, columnOffsets: c.offsets,
                         rowIndices: c.indices, values: c.values)
    }

    /// The validated triplets compressed by row (CSR arrays) or by column (CSC arrays).
    private func compressed(byColumns: Bool, _ duplicates: DuplicatePolicy) throws
        -> (offsets: [Int64], indices: [Int32], values: [Scalar]) {
        try validate(byColumns ? "COOMatrix.toCSC" : "COOMatrix.toCSR")
        return try compressTriplets(majorCount: byColumns ? columns : rows, major: byColumns ? columnIndices : rowIndices,
                                    minor: byColumns ? rowIndices : columnIndices, values: values,
                                    policy: duplicates, transposed: byColumns)
    }
}

/// Compresses triplets by their `major` index (rows for CSR, columns for CSC) with
/// ``CSRBuilder``, merging duplicates under `policy`. Indices are assumed in bounds.
/// `transposed` only changes the wording of error messages.
func compressTriplets<Scalar: BLASScalar>(majorCount: Int, major: [Int32], minor: [Int32], values: [Scalar],
                                          policy: DuplicatePolicy, transposed: Bool) throws
    -> (offsets: [Int64], indices: [Int32], values: [Scalar]) {
    let built = major.withUnsafeBufferPointer { maj in
        minor.withUnsafeBufferPointer { mnr in
            values.withUnsafeBufferPointer { val in
                CSRBuilder.build(rowCount: majorCount, rows: maj, columns: mnr, values: val, duplicates: policy)
            }
        }
    }
    if let d = built.firstDuplicate {
        // Error path only: find the positions of the two clashing entries.
        var positions = [Int]()
        for e in 0..<values.count where Int(major[e]) == d.row && minor[e] == d.column {
            positions.append(e)
            if positions.count == 2 { break }
        }
        let (row, column) = transposed ? (Int(d.column), d.row) : (d.row, Int(d.column))
        throw SparseMatrixError("duplicate entry at (row \(row), column \(column)): entries \(positions.map(String.init).joined(separator: " and ")) have the same coordinates (policy .reject)")
    }
    return (built.offsets, built.columns, built.values ?? [])
}
