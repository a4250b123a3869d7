// Renumbering the rows and columns of a CSR matrix (a node order for the gathers' locality):
// the permuted matrix and its transposed index, built together without sorting any row.

extension CSRMatrix {
    /// The matrix with its rows and columns renumbered: row `r` of the result is row
    /// `rowOrder[r]` of this matrix, column `c` is column `columnOrder[c]` (the same matrix as
    /// ``subMatrix(rows:columns:)`` with these selections), returned with its transposed index
    /// already built (the `A' X` gathers need no counting sort of their own).
    ///
    /// Built as two row gathers and two counting sorts, no per-row sort: the rows gathered in
    /// the new order (`B`), `B'` by a counting sort (rows: old columns; entries: new rows, in
    /// increasing order), `B'`'s rows gathered in the new column order (the result's transposed
    /// index), and that transposed once more (entries: new columns, increasing). The values are
    /// moved, never recomputed.
    /// Cost: O(rows + columns + nnz) time, about three copies of the arrays at the peak.
    /// - Precondition: `rowOrder` is a permutation of `0..<rows` and `columnOrder` of `0..<columns`
    ///   (checked, O(rows + columns)).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(rowOrder: [Int32], columnOrder: [Int32]) -> CSRMatrix {
        precondition(isPermutation(rowOrder, of: rows) && isPermutation(columnOrder, of: columns),
                     "CSRMatrix.permuted: the orders must be permutations of the rows (\(rows)) and columns (\(columns))")
        let gathered = gatherSlices(offsets: storage.offsets, indices: storage.indices, values: storage.values, order: rowOrder)
        let bt = transposeCompressed(majorCount: rows, minorCount: columns, offsets: gathered.offsets,
                                     indices: gathered.indices, values: gathered.values)
        let ct = gatherSlices(offsets: bt.offsets, indices: bt.indices, values: bt.values, order: columnOrder)
        let c = transposeCompressed(majorCount: columns, minorCount: rows, offsets: ct.offsets, indices: ct.indices, values: ct.values)
        var s = CompressedStorage<Scalar>(majorCount: rows, minorCount: columns, arrays: c)
        s.transposeIndex = TransposeIndex(prebuilt: ct)
        s.automaticTransposeIndex = storage.automaticTransposeIndex
        return CSRMatrix(storage: s)
    }
}

/// The compressed arrays with slice `r` of the result = slice `order[r]` of the input (entries
/// in their order), copied in parallel chunks of slices.
func gatherSlices<S>(offsets: [Int64], indices: [Int32], values: [S], order: [Int32])
    -> (offsets: [Int64], indices: [Int32], values: [S]) {
    let count = order.count, nnz = indices.count
    var newOffsets = [Int64](repeating: 0, count: count + 1)
    for r in 0..<count { let i = Int(order[r]); newOffsets[r + 1] = newOffsets[r] + offsets[i + 1] - offsets[i] }
    var newIndices = [Int32](repeating: 0, count: nnz)
    let newValues = [S](unsafeUninitializedCapacity: nnz) { nv, initialized in
        offsets.withUnsafeBufferPointer { o in
            indices.withUnsafeBufferPointer { ix in
                values.withUnsafeBufferPointer { v in
                    order.withUnsafeBufferPointer { ord in
                        newOffsets.withUnsafeBufferPointer { no in
                            newIndices.withUnsafeMutableBufferPointer { ni in
                                let box = UnsafeSendableBox((o.baseAddress!, ix.baseAddress, v.baseAddress, ord.baseAddress,
                                                             no.baseAddress!, ni.baseAddress, nv.baseAddress))
                                Parallel.forEachChunk(count: count, minimumChunk: 1 << 14) { range in
                                    let (o, ix, v, ord, no, ni, nv) = box.value
                                    for r in range {
                                        let i = Int(ord![r]), from = Int(o[i]), length = Int(o[i + 1]) - from, to = Int(no[r])
                                        guard length > 0 else { continue }
                                        (ni! + to).update(from: ix! + from, count: length)
                                        (nv! + to).initialize(from: v! + from, count: length)
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
    return (newOffsets, newIndices, newValues)
}
