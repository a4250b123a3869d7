/// A sparse matrix in compressed-sparse-row form with 32-bit column indices and 64-bit row
/// offsets: row `i` holds entries `rowOffsets[i] ..< rowOffsets[i + 1]` of `columnIndices` and
/// `values`, with strictly increasing columns (canonical form: sorted, no duplicates; explicit
/// zeros may be stored).
///
/// It is a ``LinearOperator``: ``apply(_:into:)`` (SpMM, `A X`) and ``applyTranspose(_:into:)``
/// (`A' X`) run on `Parallel.threads` threads with SIMD accumulators, the package's hot kernel.
/// `A' X` gathers over a transposed copy of the index arrays, built once when a product needs
/// it (``automaticTransposeIndex``); ``multiply(rowMajor:columns:into:threads:)`` and
/// ``multiply(_:into:threads:)`` take blocks and single vectors in the kernels' own layout.
///
/// ```swift
/// var coo = COOMatrix<Float>(rows: 2, columns: 3)
/// coo.append(row: 0, column: 1, value: 2)
/// coo.append(row: 1, column: 2, value: 3)
/// let a = try coo.toCSR()
/// let y = a.apply(Matrix<Float>.gaussian(rows: 3, columns: 16, seed: 7))   // 2 x 16
/// ```
public struct CSRMatrix<Scalar: BLASScalar>: CompressedSparseMatrix, Sendable {
    /// The arrays by row, with the shape (see ``CompressedStorage``).
    public var storage: CompressedStorage<Scalar>
    /// `rows + 1` offsets into ``columnIndices`` and ``values``; `rowOffsets[0] == 0`.
    @inlinable public var rowOffsets: [Int64] { storage.offsets }
    /// Column of each stored entry, strictly increasing within a row.
    @inlinable public var columnIndices: [Int32] { storage.indices }
    /// The CSR form compresses rows.
    public static var compressesRows: Bool { true }

    /// The CSR matrix over `storage` (its major slices are rows). Cost: O(1).
    public init(storage: CompressedStorage<Scalar>) { self.storage = storage }

    /// A CSR matrix over the given arrays, validated. Cost: O(rows + nnz).
    /// - Throws: ``SparseMatrixError`` if the shape is negative or above `Int32.max`, the
    ///   offsets do not have `rows + 1` entries starting at 0 and ending at the entry count, the
    ///   offsets decrease, a column index is out of bounds, or the columns of a row are not
    ///   strictly increasing (the message names the entry and row).
    public init(rows: Int, columns: Int, rowOffsets: [Int64], columnIndices: [Int32], values: [Scalar]) throws {
        storage = try Self.validatedStorage(rows: rows, columns: columns, offsets: rowOffsets, indices: columnIndices, values: values)
    }

    /// A CSR matrix over arrays the caller guarantees to be valid (as the throwing initialiser
    /// checks). Only the array lengths are checked (O(1)); out-of-bounds column indices are
    /// undefined behaviour in the kernels.
    /// - Precondition: `rowOffsets.count == rows + 1`, `rowOffsets.last == columnIndices.count == values.count`.
    public init(uncheckedRows rows: Int, columns: Int, rowOffsets: [Int64], columnIndices: [Int32], values: [Scalar]) {
        storage = Self.uncheckedStorage(rows: rows, columns: columns, offsets: rowOffsets, indices: columnIndices, values: values)
    }

    /// An all-zero `rows x columns` matrix (no stored entries).
    /// - Precondition: `0 <= rows, columns <= Int32.max`.
    public init(zeros rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0 && rows <= sparseMaximumDimension && columns <= sparseMaximumDimension,
                     "CSRMatrix(zeros:): bad shape \(rows) x \(columns)")
        self.init(uncheckedRows: rows, columns: columns, rowOffsets: [Int64](repeating: 0, count: rows + 1),
                  columnIndices: [], values: [])
    }

    /// A CSR matrix holding the nonzero elements of a dense matrix. Cost: O(rows * columns).
    /// - Precondition: the shape fits in `Int32`.
    public init(dense: Matrix<Scalar>) {
        precondition(dense.rows <= sparseMaximumDimension && dense.columns <= sparseMaximumDimension,
                     "CSRMatrix(dense:): shape exceeds Int32.max")
        var offsets = [Int64](repeating: 0, count: dense.rows + 1)
        var idx = [Int32](), val = [Scalar]()
        for i in 0..<dense.rows {
            for j in 0..<dense.columns {
                let v = dense.elements[i + j * dense.rows]
                if v != 0 { idx.append(Int32(j)); val.append(v) }
            }
            offsets[i + 1] = Int64(idx.count)
        }
        self.init(uncheckedRows: dense.rows, columns: dense.columns, rowOffsets: offsets, columnIndices: idx, values: val)
    }

    // MARK: Conversions

    /// The same matrix in CSC form. Cost: O(nnz + columns) (a counting sort), rows sorted
    /// within columns; O(1) when the transposed index exists (the arrays are shared).
    public func toCSC() -> CSCMatrix<Scalar> { CSCMatrix(storage: storage.transposed()) }

    /// The transpose `A'` (`columns x rows`), materialised. Cost: O(nnz + columns), or O(1)
    /// when the transposed index exists (the arrays are shared, and the result's own transposed
    /// index is this matrix). To multiply by `A'` use ``applyTranspose(_:into:)``.
    public func transposed() -> CSRMatrix { CSRMatrix(storage: storage.transposed()) }

    /// The same matrix with values converted to `T` (rounded to nearest). Cost: O(nnz).
    public func converted<T: BLASScalar>(to _: T.Type = T.self) -> CSRMatrix<T> {
        CSRMatrix<T>(storage: storage.replacingValues(values.map { T($0) }))
    }

    /// The submatrix `A[rowSelection, columnSelection]`: row `r` of the result is row
    /// `rowSelection[r]` of `A` (rows may repeat), column `c` is column `columnSelection[c]`
    /// (columns must be distinct). Use it to select and reorder items.
    /// Cost: O(columns + nnz of the selected rows), plus a sort of each row when
    /// `columnSelection` is not increasing.
    /// - Throws: ``SparseMatrixError`` if a selected row or column is out of bounds or a column
    ///   is selected twice.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func subMatrix(rows rowSelection: [Int], columns columnSelection: [Int]) throws -> CSRMatrix {
        for (r, i) in rowSelection.enumerated() where i < 0 || i >= rows {
            throw SparseMatrixError("CSRMatrix.subMatrix: selected row \(r) is \(i), outside 0..<\(rows)")
        }
        var map = [Int32](repeating: -1, count: columns)
        for (c, j) in columnSelection.enumerated() {
            guard j >= 0 && j < columns else {
                throw SparseMatrixError("CSRMatrix.subMatrix: selected column \(c) is \(j), outside 0..<\(columns)")
            }
            guard map[j] < 0 else {
                throw SparseMatrixError("CSRMatrix.subMatrix: column \(j) is selected twice (positions \(map[j]) and \(c))")
            }
            map[j] = Int32(c)
        }
        // The arrays are read once here, not through `storage` per entry: in code not
        // specialised for `Scalar`, each such read copies the storage through its value witness
        // (a metadata lookup and five retains); on a 4M-edge graph that tripled the selection's cost.
        let offsets = storage.offsets, indices = storage.indices, values = storage.values
        if !rowSelection.isEmpty && !indices.isEmpty && !columnSelection.isEmpty,
           columnSelection.indices.dropFirst().allSatisfy({ columnSelection[$0 - 1] < columnSelection[$0] }) {
            return Self.selectedSortedColumns(offsets: offsets, indices: indices, values: values, rows: rowSelection,
                                              map: map, columns: columnSelection.count)
        }
        var newRows = [Int32](), newColumns = [Int32](), newValues = [Scalar]()
        for (r, i) in rowSelection.enumerated() {
            for p in Int(offsets[i])..<Int(offsets[i + 1]) {
                let c = map[Int(indices[p])]
                if c >= 0 { newRows.append(Int32(r)); newColumns.append(c); newValues.append(values[p]) }
            }
        }
        let c = try compressTriplets(majorCount: rowSelection.count, major: newRows, minor: newColumns,
                                     values: newValues, policy: .reject, transposed: false)
        return CSRMatrix(uncheckedRows: rowSelection.count, columns: columnSelection.count, rowOffsets: c.offsets,
                         columnIndices: c.indices, values: c.values)
    }

    /// ``subMatrix(rows:columns:)`` when the columns are selected in increasing order: each
    /// kept row's entries stay in their order (`map` is increasing on the kept columns), so the
    /// arrays are written directly, in two passes over the selected rows (count, then copy),
    /// each split over ``Parallel/threads``: no triplets and no sort, the same arrays.
    static func selectedSortedColumns(offsets: [Int64], indices: [Int32], values: [Scalar], rows rowSelection: [Int],
                                      map: [Int32], columns: Int) -> CSRMatrix {
        let count = rowSelection.count
        var newOffsets = [Int64](repeating: 0, count: count + 1)
        offsets.withUnsafeBufferPointer { o in
            indices.withUnsafeBufferPointer { ix in
                map.withUnsafeBufferPointer { mp in
                    rowSelection.withUnsafeBufferPointer { sel in
                        newOffsets.withUnsafeMutableBufferPointer { no in
                            let box = UnsafeSendableBox((o.baseAddress!, ix.baseAddress!, mp.baseAddress!, sel.baseAddress!, no.baseAddress!))
                            Parallel.forEachChunk(count: count, minimumChunk: 1 << 14) { range in
                                let (o, ix, mp, sel, no) = box.value
                                for r in range {
                                    let i = sel[r]
                                    var kept: Int64 = 0
                                    for p in Int(o[i])..<Int(o[i + 1]) where mp[Int(ix[p])] >= 0 { kept += 1 }
                                    no[r + 1] = kept
                                }
                            }
                        }
                    }
                }
            }
        }
        for r in 0..<count { newOffsets[r + 1] += newOffsets[r] }
        let total = Int(newOffsets[count])
        var newColumns = [Int32](repeating: 0, count: total)
        var newValues = [Scalar](repeating: 0, count: total)
        offsets.withUnsafeBufferPointer { o in
            indices.withUnsafeBufferPointer { ix in
                values.withUnsafeBufferPointer { v in
                    map.withUnsafeBufferPointer { mp in
                        rowSelection.withUnsafeBufferPointer { sel in
                            newOffsets.withUnsafeBufferPointer { no in
                                newColumns.withUnsafeMutableBufferPointer { nc in
                                    newValues.withUnsafeMutableBufferPointer { nv in
                                        let box = UnsafeSendableBox((o.baseAddress!, ix.baseAddress!, v.baseAddress!, mp.baseAddress!,
                                                                     sel.baseAddress!, no.baseAddress!, nc.baseAddress, nv.baseAddress))
                                        Parallel.forEachChunk(count: count, minimumChunk: 1 << 14) { range in
                                            let (o, ix, v, mp, sel, no, nc, nv) = box.value
                                            for r in range {
                                                let i = sel[r]
                                                var q = Int(no[r])
                                                for p in Int(o[i])..<Int(o[i + 1]) {
                                                    let c = mp[Int(ix[p])]
                                                    if c >= 0 { nc![q] = c; nv![q] = v[p]; q += 1 }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return CSRMatrix(uncheckedRows: count, columns: columns, rowOffsets: newOffsets, columnIndices: newColumns, values: newValues)
    }

    // MARK: Products

    /// `Y = A X` for row-major blocks: `x` is `columns x k`, `y` is `rows x k`, both with
    /// leading dimension `k` (element (i, c) at `i * k + c`). This is the kernel without the
    /// layout conversions of ``apply(_:into:)``; callers that keep their blocks row-major save
    /// two transpositions per product. Cost: O(nnz * k), parallel over row blocks of equal nnz.
    /// - Precondition: `x.count >= columns * k`, `y.count >= rows * k`, and the two do not overlap.
    public func multiply(rowMajor x: UnsafeBufferPointer<Scalar>, columns k: Int, into y: UnsafeMutableBufferPointer<Scalar>,
                         threads: Int = Parallel.threads) {
        precondition(k >= 0 && x.count >= columns * k && y.count >= rows * k, "CSRMatrix.multiply(rowMajor:): buffers too small")
        guard rows > 0, k > 0 else { return }
        let xv = rowMajorView(readOnly: x.baseAddress, rows: columns, columns: k)
        storage.withView { compressedGather($0, nonzeros: nonzeroCount, x: xv, y: rowMajorView(y.baseAddress!, rows: rows, columns: k), threads: threads) }
    }

    /// `Y = alpha A X + beta X - Z` for a square `A` and row-major `n x k` blocks (leading
    /// dimension `k`; `Z` optional), in one pass: each row of `A X` is finished in registers
    /// before it is stored, so the block is not read again by a separate element-wise pass. This
    /// is the three-term step of a Chebyshev filter, `T_(j+1) = 2 B T_j - T_(j-1)` with
    /// `B = (A - c I) / e` (`alpha = 2 / e`, `beta = -2 c / e`, `Z = T_(j-1)`). The result equals
    /// ``multiply(rowMajor:columns:into:threads:)`` followed by `alpha y + beta x - z` element by
    /// element, to the bit (same operations in the same order). Cost: O(nnz * k + n * k).
    /// - Precondition: `A` is square, `x`, `y` (and `z`) hold at least `rows * k` elements, and
    ///   `y` overlaps neither `x` nor `z`.
    public func multiplyAdd(rowMajor x: UnsafeBufferPointer<Scalar>, columns k: Int, alpha: Scalar, beta: Scalar,
                            subtracting z: UnsafeBufferPointer<Scalar>?, into y: UnsafeMutableBufferPointer<Scalar>,
                            threads: Int = Parallel.threads) {
        precondition(rows == columns, "CSRMatrix.multiplyAdd(rowMajor:): the matrix is \(rows) x \(columns), not square")
        precondition(k >= 0 && x.count >= rows * k && y.count >= rows * k && (z?.count ?? rows * k) >= rows * k,
                     "CSRMatrix.multiplyAdd(rowMajor:): buffers too small")
        guard rows > 0, k > 0 else { return }
        let xv = rowMajorView(readOnly: x.baseAddress, rows: columns, columns: k)
        let epilogue = GatherEpilogue(alpha: alpha, beta: beta, z: z?.baseAddress)
        storage.withView {
            compressedGather($0, nonzeros: nonzeroCount, x: xv, y: rowMajorView(y.baseAddress!, rows: rows, columns: k),
                             threads: threads, epilogue: epilogue)
        }
    }

    /// `Y = A' X` for row-major blocks: `x` is `rows x k`, `y` is `columns x k`, leading
    /// dimension `k`. A gather over the transposed index when it exists (see
    /// ``automaticTransposeIndex``), else a scatter. Cost: O(nnz * k).
    /// - Precondition: `x.count >= rows * k`, `y.count >= columns * k`, and the two do not overlap.
    public func multiplyTranspose(rowMajor x: UnsafeBufferPointer<Scalar>, columns k: Int, into y: UnsafeMutableBufferPointer<Scalar>,
                                  threads: Int = Parallel.threads) {
        precondition(k >= 0 && x.count >= rows * k && y.count >= columns * k, "CSRMatrix.multiplyTranspose(rowMajor:): buffers too small")
        guard columns > 0, k > 0 else { return }
        transposeProduct(x: rowMajorView(readOnly: x.baseAddress, rows: rows, columns: k),
                         y: rowMajorView(y.baseAddress!, rows: columns, columns: k), threads: threads)
    }

    /// `y = A x` for one vector at raw pointers: no allocation, no copy (ARPACK's reverse
    /// communication hands out such pointers). Cost: O(rows + nnz), parallel over row blocks.
    /// - Precondition: `x` holds `columns` elements, `y` holds `rows`, and they do not overlap.
    public func multiply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int = Parallel.threads) {
        multiply(rowMajor: UnsafeBufferPointer(start: x, count: columns), columns: 1,
                 into: UnsafeMutableBufferPointer(start: y, count: rows), threads: threads)
    }

    /// `y = A' x` for one vector at raw pointers: no allocation, no copy; a gather on every
    /// thread once the transposed index exists (see ``automaticTransposeIndex``).
    /// - Precondition: `x` holds `rows` elements, `y` holds `columns`, and they do not overlap.
    public func multiplyTranspose(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int = Parallel.threads) {
        multiplyTranspose(rowMajor: UnsafeBufferPointer(start: x, count: rows), columns: 1,
                          into: UnsafeMutableBufferPointer(start: y, count: columns), threads: threads)
    }

    /// `Y = A' X`: a gather over the transposed index when it exists or the policy builds it,
    /// else a scatter over `A`'s own arrays.
    func transposeProduct(x: DenseView<Scalar>, y: DenseView<Scalar>, threads: Int) {
        if storage.transposeIndex.shouldUse(width: x.columns, automatic: automaticTransposeIndex) {
            storage.cachedTranspose().withView { compressedGather($0, nonzeros: nonzeroCount, x: x, y: y, threads: threads) }
        } else {
            storage.withView { compressedScatter($0, nonzeros: nonzeroCount, x: x, y: y, threads: threads) }
        }
    }
}

extension CSRMatrix: LinearOperator {
    /// `Y = A X` (SpMM). `X` is transposed to row-major once (O(columns * k)) so that each
    /// nonzero gathers one contiguous dense row; the rows of `Y` are computed in SIMD registers
    /// and stored directly into the column-major `y`. Rows are split across `Parallel.threads`
    /// threads in blocks of equal nonzero count. Cost: O(nnz * k + (rows + columns) * k).
    /// - Precondition: `x.rows == columns`, `y` is `rows x x.columns`.
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        apply(x, into: &y, threads: Parallel.threads)
    }

    /// ``apply(_:into:)`` on at most `threads` threads.
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>, threads: Int) {
        guard productHasWork("CSRMatrix.apply", rows: rows, columns: columns, x, y, transposed: false) else { return }
        withColumnMajorViews(x, &y) { xv, yv in
            storage.withView { compressedGather($0, nonzeros: nonzeroCount, x: xv, y: yv, threads: threads) }
        }
    }

    /// `Y = A' X`. With the transposed index (built automatically, see
    /// ``automaticTransposeIndex``) this is the gather of ``apply(_:into:)`` on `A'`'s arrays,
    /// parallel over output rows. Without it, threads own disjoint ranges of output rows
    /// (balanced by nonzero count), scatter `A[i, j] X[i, :]` into a row-major accumulator, then
    /// write their rows of the column-major `y`. Cost: O(nnz * k + (rows + columns) * k).
    /// - Precondition: `x.rows == rows`, `y` is `columns x x.columns`.
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        applyTranspose(x, into: &y, threads: Parallel.threads)
    }

    /// ``applyTranspose(_:into:)`` on at most `threads` threads.
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>, threads: Int) {
        guard productHasWork("CSRMatrix.applyTranspose", rows: rows, columns: columns, x, y, transposed: true) else { return }
        withColumnMajorViews(x, &y) { xv, yv in transposeProduct(x: xv, y: yv, threads: threads) }
    }
}
