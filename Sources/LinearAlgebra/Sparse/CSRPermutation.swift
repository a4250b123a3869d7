// Renumbering the rows and columns of a CSR matrix (a node order for the gathers' locality):
// the permuted matrix and its transposed index, built together by two counting sorts.

extension CSRMatrix {
    /// The matrix with its rows and columns renumbered: row `r` of the result is row
    /// `rowOrder[r]` of this matrix, column `c` is column `columnOrder[c]` (the same matrix as
    /// ``subMatrix(rows:columns:)`` with these selections), returned with its transposed index
    /// already built (the `A' X` gathers need no counting sort of their own).
    ///
    /// Built as two counting sorts, no row gather and no per-row sort: the result's transposed
    /// index first (the rows visited in the new order, each entry put in the bucket of its new
    /// column: entries new rows, increasing), then the result as its transpose (entries new
    /// columns, increasing). The values are moved, never recomputed.
    /// Cost: O(rows + columns + nnz) time, two copies of the arrays at the peak besides this one.
    /// - Precondition: `rowOrder` is a permutation of `0..<rows` and `columnOrder` of `0..<columns`
    ///   (checked, O(rows + columns)).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(rowOrder: [Int32], columnOrder: [Int32]) -> CSRMatrix {
        precondition(isPermutation(rowOrder, of: rows) && isPermutation(columnOrder, of: columns),
                     "CSRMatrix.permuted: the orders must be permutations of the rows (\(rows)) and columns (\(columns))")
        let ct = permutedTranspose(rowOrder: rowOrder, columnOrder: columnOrder)
        let c = transposeCompressed(majorCount: columns, minorCount: rows, offsets: ct.offsets, indices: ct.indices, values: ct.values)
        var s = CompressedStorage<Scalar>(majorCount: rows, minorCount: columns, arrays: c)
        s.transposeIndex = TransposeIndex(prebuilt: ct)
        s.automaticTransposeIndex = storage.automaticTransposeIndex
        return CSRMatrix(storage: s)
    }

    /// The transposed index of ``permuted(rowOrder:columnOrder:)``'s result (slice `c`: the
    /// entries of column `columnOrder[c]`, as new row numbers in increasing order), by one
    /// counting sort of the entries into their new columns, the rows visited in the new order
    /// (parallel over blocks of rows, the same arrays for any thread count).
    func permutedTranspose(rowOrder: [Int32], columnOrder: [Int32]) -> (offsets: [Int64], indices: [Int32], values: [Scalar]) {
        var newColumn = [Int32](repeating: 0, count: columns)
        for (c, j) in columnOrder.enumerated() { newColumn[Int(j)] = Int32(c) }
        return countingSortTranspose(majorCount: rows, minorCount: columns, offsets: storage.offsets, indices: storage.indices,
                                     values: storage.values, majorOrder: rowOrder, minorMap: newColumn)
    }
}
