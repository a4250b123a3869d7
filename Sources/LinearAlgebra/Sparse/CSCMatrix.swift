/// A sparse matrix in compressed-sparse-column form with 32-bit row indices and 64-bit column
/// offsets: column `j` holds entries `columnOffsets[j] ..< columnOffsets[j + 1]` of `rowIndices`
/// and `values`, with strictly increasing rows.
///
/// The arrays of the CSC form of `A` are exactly those of the CSR form of `A'`, so `A X` here
/// runs the scatter kernel of ``CSRMatrix/applyTranspose(_:into:)`` and `A' X` the gather kernel
/// of ``CSRMatrix/apply(_:into:)``; both are parallel and form no transpose.
public struct CSCMatrix<Scalar: BLASScalar>: CompressedSparseMatrix, Sendable {
    /// The arrays by column, with the shape (see ``CompressedStorage``); their cached transposed
    /// index is the CSR form, which `A X` products build as ``CSRMatrix``'s does (at the first
    /// product of eight or more columns or the second of any width) so that they run as gathers.
    public var storage: CompressedStorage<Scalar>
    /// `columns + 1` offsets into ``rowIndices`` and ``values``; `columnOffsets[0] == 0`.
    @inlinable public var columnOffsets: [Int64] { storage.offsets }
    /// Row of each stored entry, strictly increasing within a column.
    @inlinable public var rowIndices: [Int32] { storage.indices }
    /// The CSC form compresses columns.
    public static var compressesRows: Bool { false }

    /// The CSC matrix over `storage` (its major slices are columns). Cost: O(1).
    public init(storage: CompressedStorage<Scalar>) { self.storage = storage }

    /// A CSC matrix over the given arrays, validated. Cost: O(columns + nnz).
    /// - Throws: ``SparseMatrixError`` if the shape is negative or above `Int32.max`, the
    ///   offsets are malformed, a row index is out of bounds, or the rows of a column are not
    ///   strictly increasing (the message names the entry and column).
    public init(rows: Int, columns: Int, columnOffsets: [Int64], rowIndices: [Int32], values: [Scalar]) throws {
        storage = try Self.validatedStorage(rows: rows, columns: columns, offsets: columnOffsets, indices: rowIndices, values: values)
    }

    /// A CSC matrix over arrays the caller guarantees to be valid. Only the array lengths are
    /// checked (O(1)); out-of-bounds row indices are undefined behaviour in the kernels.
    /// - Precondition: `columnOffsets.count == columns + 1`, `columnOffsets.last == rowIndices.count == values.count`.
    public init(uncheckedRows rows: Int, columns: Int, columnOffsets: [Int64], rowIndices: [Int32], values: [Scalar]) {
        storage = Self.uncheckedStorage(rows: rows, columns: columns, offsets: columnOffsets, indices: rowIndices, values: values)
    }

    /// The same matrix in CSR form. Cost: O(nnz + rows) (a counting sort), or O(1) when the
    /// row index exists (the arrays are shared).
    public func toCSR() -> CSRMatrix<Scalar> { CSRMatrix(storage: storage.transposed()) }

    /// The transpose `A'` as a CSC matrix. Cost: O(nnz + rows), or O(1) when the row index exists.
    public func transposed() -> CSCMatrix { CSCMatrix(storage: storage.transposed()) }

    /// `A'` in CSR form, which has exactly this matrix's arrays (and shares its cached row
    /// index). Cost: O(1) (arrays are shared, copy-on-write).
    public var transposeAsCSR: CSRMatrix<Scalar> { CSRMatrix(storage: storage) }

    /// The same matrix with values converted to `T`. Cost: O(nnz).
    public func converted<T: BLASScalar>(to _: T.Type = T.self) -> CSCMatrix<T> {
        CSCMatrix<T>(storage: storage.replacingValues(values.map { T($0) }))
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
