/// A sparse matrix in compressed-sparse-column form with 32-bit row indices and 64-bit column
/// offsets: column `j` holds entries `columnOffsets[j] ..< columnOffsets[j + 1]` of `rowIndices`
/// and `values`, with strictly increasing rows.
///
/// The arrays of the CSC form of `A` are exactly those of the CSR form of `A'`, so `A X` here
/// runs the scatter kernel of ``CSRMatrix/applyTranspose(_:into:)`` and `A' X` the gather kernel
/// of ``CSRMatrix/apply(_:into:)``; both are parallel and form no transpose.
public struct CSCMatrix<Scalar: BLASScalar>: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// `columns + 1` offsets into ``rowIndices`` and ``values``; `columnOffsets[0] == 0`.
    public private(set) var columnOffsets: [Int64]
    /// Row of each stored entry, strictly increasing within a column.
    public private(set) var rowIndices: [Int32]
    /// Value of each stored entry.
    public private(set) var values: [Scalar]

    /// A CSC matrix over the given arrays, validated. Cost: O(columns + nnz).
    /// - Throws: ``SparseMatrixError`` if the shape is negative or above `Int32.max`, the
    ///   offsets are malformed, a row index is out of bounds, or the rows of a column are not
    ///   strictly increasing (the message names the entry and column).
    public init(rows: Int, columns: Int, columnOffsets: [Int64], rowIndices: [Int32], values: [Scalar]) throws {
        try validateSparse(rows: rows, columns: columns, byRows: false, offsets: columnOffsets, indices: rowIndices,
                           values: values, what: "CSCMatrix")
        self.init(uncheckedRows: rows, columns: columns, columnOffsets: columnOffsets, rowIndices: rowIndices, values: values)
    }

    /// A CSC matrix over arrays the caller guarantees to be valid. Only the array lengths are
    /// checked (O(1)); out-of-bounds row indices are undefined behaviour in the kernels.
    /// - Precondition: `columnOffsets.count == columns + 1`, `columnOffsets.last == rowIndices.count == values.count`.
    public init(uncheckedRows rows: Int, columns: Int, columnOffsets: [Int64], rowIndices: [Int32], values: [Scalar]) {
        checkCompressedLengths(rows: rows, columns: columns, majorCount: columns, offsets: columnOffsets,
                               indexCount: rowIndices.count, valueCount: values.count, "CSCMatrix(uncheckedRows:)")
        self.rows = rows
        self.columns = columns
        self.columnOffsets = columnOffsets
        self.rowIndices = rowIndices
        self.values = values
    }

    /// Number of stored entries (explicit zeros included).
    @inlinable public var nonzeroCount: Int { values.count }

    /// Element `(i, j)` (zero when not stored). Cost: O(log(column length)).
    /// - Precondition: `0 <= i < rows`, `0 <= j < columns`.
    public subscript(i: Int, j: Int) -> Scalar {
        precondition(i >= 0 && i < rows && j >= 0 && j < columns, "CSCMatrix: index (\(i), \(j)) out of \(rows) x \(columns)")
        return compressedElement(offsets: columnOffsets, indices: rowIndices, values: values, major: j, minor: i)
    }

    /// The same matrix in CSR form. Cost: O(nnz + rows) (a counting sort).
    public func toCSR() -> CSRMatrix<Scalar> {
        let t = transposeCompressed(majorCount: columns, minorCount: rows, offsets: columnOffsets,
                                    indices: rowIndices, values: values)
        return CSRMatrix(uncheckedRows: rows, columns: columns, rowOffsets: t.offsets, columnIndices: t.indices, values: t.values)
    }

    /// The transpose `A'` as a CSC matrix (it shares this matrix's arrays read as CSR of `A`):
    /// Cost: O(nnz + rows).
    public func transposed() -> CSCMatrix {
        let t = transposeCompressed(majorCount: columns, minorCount: rows, offsets: columnOffsets,
                                    indices: rowIndices, values: values)
        return CSCMatrix(uncheckedRows: columns, columns: rows, columnOffsets: t.offsets, rowIndices: t.indices, values: t.values)
    }

    /// `A'` in CSR form, which has exactly this matrix's arrays. Cost: O(1) (arrays are shared, copy-on-write).
    public var transposeAsCSR: CSRMatrix<Scalar> {
        var t = CSRMatrix(uncheckedRows: columns, columns: rows, rowOffsets: columnOffsets, columnIndices: rowIndices, values: values)
        t.transposeIndex = rowIndex
        return t
    }

    /// The CSR arrays of this matrix, built by `A X` products (as ``CSRMatrix``'s transposed
    /// index: at the first product of eight or more columns or the second of any width) so that
    /// they run as gathers; shared by copies, replaced on mutation.
    var rowIndex = TransposeIndex<Scalar>()

    /// Equal shape and equal arrays (the cached row index is not compared).
    public static func == (a: CSCMatrix, b: CSCMatrix) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.columnOffsets == b.columnOffsets
            && a.rowIndices == b.rowIndices && a.values == b.values
    }

    /// The entries as triplets, in column-major order. Cost: O(nnz).
    public func toCOO() -> COOMatrix<Scalar> {
        try! COOMatrix(rows: rows, columns: columns, rowIndices: rowIndices,
                       columnIndices: CSRBuilder.rowIndices(offsets: columnOffsets), values: values)
    }

    /// The dense (column-major) matrix. Cost: O(rows * columns + nnz).
    public func toDense() -> Matrix<Scalar> {
        denseFromCompressed(rows: rows, columns: columns, byRows: false, offsets: columnOffsets, indices: rowIndices, values: values)
    }

    /// The same matrix with values converted to `T`. Cost: O(nnz).
    public func converted<T: BLASScalar>(to _: T.Type = T.self) -> CSCMatrix<T> {
        CSCMatrix<T>(uncheckedRows: rows, columns: columns, columnOffsets: columnOffsets, rowIndices: rowIndices,
                     values: values.map { T($0) })
    }

    /// The same pattern with `transform` applied to every stored value. Cost: O(nnz).
    public func mapValues(_ transform: (Scalar) throws -> Scalar) rethrows -> CSCMatrix {
        CSCMatrix(uncheckedRows: rows, columns: columns, columnOffsets: columnOffsets, rowIndices: rowIndices,
                  values: try values.map(transform))
    }

    // MARK: Reductions and scaling

    /// Sum of each row. Cost: O(rows + nnz).
    public func rowSums() -> [Scalar] { minorSums(minorCount: rows, indices: rowIndices, values: values) }
    /// Sum of each column. Cost: O(columns + nnz).
    public func columnSums() -> [Scalar] { majorSums(majorCount: columns, offsets: columnOffsets, values: values) }
    /// Stored entries in each row. Cost: O(rows + nnz).
    public func rowNonzeroCounts() -> [Int] { minorCounts(minorCount: rows, indices: rowIndices) }
    /// Stored entries in each column. Cost: O(columns).
    public func columnNonzeroCounts() -> [Int] { majorCounts(majorCount: columns, offsets: columnOffsets) }

    /// `diag(d) A` in place. Cost: O(nnz). - Precondition: `d.count == rows`.
    public mutating func scaleRows(by d: [Scalar]) {
        precondition(d.count == rows, "CSCMatrix.scaleRows: \(d.count) factors for \(rows) rows")
        scaleMinor(&values, indices: rowIndices, by: d)
        rowIndex = TransposeIndex()
    }
    /// `A diag(d)` in place. Cost: O(nnz). - Precondition: `d.count == columns`.
    public mutating func scaleColumns(by d: [Scalar]) {
        precondition(d.count == columns, "CSCMatrix.scaleColumns: \(d.count) factors for \(columns) columns")
        scaleMajor(&values, offsets: columnOffsets, by: d)
        rowIndex = TransposeIndex()
    }
    /// `diag(d) A` as a new matrix. - Precondition: `d.count == rows`.
    public func scaledRows(by d: [Scalar]) -> CSCMatrix { var m = self; m.scaleRows(by: d); return m }
    /// `A diag(d)` as a new matrix. - Precondition: `d.count == columns`.
    public func scaledColumns(by d: [Scalar]) -> CSCMatrix { var m = self; m.scaleColumns(by: d); return m }

    // MARK: Products

    /// `A x`. Cost: O(columns + nnz). - Precondition: `x.count == columns`.
    public func multiply(vector x: [Scalar]) -> [Scalar] {
        precondition(x.count == columns, "CSCMatrix.multiply(vector:): vector has \(x.count) entries, matrix has \(columns) columns")
        return apply(Matrix(rows: columns, columns: 1, elements: x)).elements
    }

    /// `A' x`. Cost: O(columns + nnz). - Precondition: `x.count == rows`.
    public func multiplyTranspose(vector x: [Scalar]) -> [Scalar] {
        precondition(x.count == rows, "CSCMatrix.multiplyTranspose(vector:): vector has \(x.count) entries, matrix has \(rows) rows")
        return applyTranspose(Matrix(rows: rows, columns: 1, elements: x)).elements
    }
}

extension CSCMatrix: LinearOperator {
    /// `Y = A X` (the scatter kernel over columns; see ``CSRMatrix/applyTranspose(_:into:)``).
    /// Cost: O(nnz * k + (rows + columns) * k).
    /// - Precondition: `x.rows == columns`, `y` is `rows x x.columns`.
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        _ = productHasWork("CSCMatrix.apply", rows: rows, columns: columns, x, y, transposed: false)
        transposeAsCSR.applyTranspose(x, into: &y)
    }

    /// `Y = A' X` (the gather kernel over columns; see ``CSRMatrix/apply(_:into:)``).
    /// Cost: O(nnz * k + (rows + columns) * k).
    /// - Precondition: `x.rows == rows`, `y` is `columns x x.columns`.
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        _ = productHasWork("CSCMatrix.applyTranspose", rows: rows, columns: columns, x, y, transposed: true)
        transposeAsCSR.apply(x, into: &y)
    }
}
