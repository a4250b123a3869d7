import Testing
@testable import LinearAlgebra

/// Renumbered sparse matrices (the node order for the gathers' locality) and dense blocks.
@Suite struct PermutationTests {
    func shuffled(_ n: Int, seed: UInt64) -> [Int32] { randomPermutation(n, seed: seed) }

    @Test func randomPermutationIsASeededPermutation() {
        let a = randomPermutation(1_000, seed: 1)
        #expect(isPermutation(a, of: 1_000) && a != (0..<Int32(1_000)).map { $0 })
        #expect(a == randomPermutation(1_000, seed: 1) && a != randomPermutation(1_000, seed: 2))
        #expect(randomPermutation(0, seed: 1).isEmpty && randomPermutation(1, seed: 1) == [0])
    }

    /// `permuted` equals the sorted triplet build of `subMatrix` with the same selections, its
    /// transposed index is the transpose of that, and its products equal the original's
    /// renumbered, in both precisions (values moved, never recomputed: equal bits).
    func permutedEqualsSubMatrix<S: BLASScalar>(_: S.Type) throws {
        let a = try CSRMatrix<S>.randomUniform(rows: 20_000, columns: 3_001, nonzeros: 150_000, seed: 31)
        let rows = shuffled(20_000, seed: 5), columns = shuffled(3_001, seed: 6)
        let p = a.permuted(rowOrder: rows, columnOrder: columns)
        let expected = try a.subMatrix(rows: rows.map(Int.init), columns: columns.map(Int.init))
        #expect(p == expected)
        #expect(p.hasTransposeIndex)
        #expect(p.transposed() == expected.transposed())   // the prebuilt index against a counting sort
        #expect(try CSRMatrix(rows: p.rows, columns: p.columns, rowOffsets: p.rowOffsets, columnIndices: p.columnIndices,
                              values: p.values) == p)        // canonical (validated) arrays
        let t = p.transposed()
        #expect(try CSRMatrix(rows: t.rows, columns: t.columns, rowOffsets: t.rowOffsets, columnIndices: t.columnIndices,
                              values: t.values) == t)
        // Identity orders give the matrix back.
        let identity = a.permuted(rowOrder: (0..<Int32(a.rows)).map { $0 }, columnOrder: (0..<Int32(a.columns)).map { $0 })
        #expect(identity == a)
    }

    @Test func permutedEqualsSubMatrixFloat() throws { try permutedEqualsSubMatrix(Float.self) }
    @Test func permutedEqualsSubMatrixDouble() throws { try permutedEqualsSubMatrix(Double.self) }

    @Test func emptyRowsAndColumnsSurvive() throws {
        let f = SparseFixture<Float>(rows: 45, columns: 38, density: 0.3, seed: 9)
        let a = try f.coo.toCSR()
        let rows = shuffled(45, seed: 1), columns = shuffled(38, seed: 2)
        let p = a.permuted(rowOrder: rows, columnOrder: columns)
        for i in 0..<45 { for j in 0..<38 { #expect(p[i, j] == f.dense[Int(rows[i]), Int(columns[j])]) } }
        #expect(p.transposed().toDense() == p.toDense().transposed())
    }

    @Test func permutationCheck() {
        #expect(isPermutation([2, 0, 1], of: 3))
        #expect(isPermutation([], of: 0))
        #expect(!isPermutation([0, 0, 1], of: 3))
        #expect(!isPermutation([0, 1], of: 3))
        #expect(!isPermutation([0, 1, 3], of: 3))
        #expect(!isPermutation([0, -1, 2], of: 3))
    }

    /// Row and column gathers and scatters move bits (above and below the parallel threshold)
    /// and the scatters undo the gathers.
    func denseMoves<S: BLASScalar>(_: S.Type, rows m: Int, columns n: Int) {
        var rng = Xoshiro256(seed: 12)
        let x = Matrix<S>(rows: m, columns: n, elements: (0..<(m * n)).map { _ in S(2 * rng.nextUniform() - 1) })
        let ro = shuffled(m, seed: 3), co = shuffled(n, seed: 4)
        let gr = x.gatheringRows(ro), gc = x.gatheringColumns(co)
        for j in Swift.stride(from: 0, to: n, by: max(1, n / 7)) {
            for i in Swift.stride(from: 0, to: m, by: max(1, m / 9)) {
                #expect(gr[i, j] == x[Int(ro[i]), j])
                #expect(gc[i, j] == x[i, Int(co[j])])
            }
        }
        #expect(gr.scatteringRows(ro) == x)
        #expect(gc.scatteringColumns(co) == x)
        #expect(x.scatteringRows(ro).gatheringRows(ro) == x)
        #expect(x.gatheringColumns([1, 1, 0]).columns == 3)   // gathers may repeat
    }

    @Test func denseMovesSmall() { denseMoves(Float.self, rows: 7, columns: 5); denseMoves(Double.self, rows: 5, columns: 9) }
    @Test func denseMovesParallel() { denseMoves(Float.self, rows: 74, columns: 20_000); denseMoves(Double.self, rows: 20_000, columns: 60) }
}

/// The counting-sort transpose behind `transposed()` and `permuted`, split over threads: the
/// same arrays as one thread for every split (rows visited in order, each block's start in every
/// slice from the counts of the blocks before it), with and without a row order and column map.
@Suite struct CountingSortTransposeTests {
    @Test(arguments: [2, 3, 7])
    func threadsGiveTheSequentialArrays(threads: Int) throws {
        let a = try CSRMatrix<Float>.randomUniform(rows: 5_003, columns: 811, nonzeros: 60_000, seed: 17)
        let rows = randomPermutation(5_003, seed: 3), columns = randomPermutation(811, seed: 4)
        var newColumn = [Int32](repeating: 0, count: 811)
        for (c, j) in columns.enumerated() { newColumn[Int(j)] = Int32(c) }
        for (order, map) in [(nil, nil), (rows, newColumn)] as [([Int32]?, [Int32]?)] {
            let one = countingSortTranspose(majorCount: a.rows, minorCount: a.columns, offsets: a.rowOffsets, indices: a.columnIndices,
                                            values: a.values, majorOrder: order, minorMap: map, threads: 1)
            let many = countingSortTranspose(majorCount: a.rows, minorCount: a.columns, offsets: a.rowOffsets, indices: a.columnIndices,
                                             values: a.values, majorOrder: order, minorMap: map, threads: threads, parallelMinimum: 0)
            #expect(one.offsets == many.offsets && one.indices == many.indices)
            #expect(one.values.map(\.bitPattern) == many.values.map(\.bitPattern))
        }
        // Against the definition: the transpose, and the renumbered matrix's transpose (a dense check).
        let t = countingSortTranspose(majorCount: a.rows, minorCount: a.columns, offsets: a.rowOffsets, indices: a.columnIndices,
                                      values: a.values, majorOrder: nil, minorMap: nil, threads: threads, parallelMinimum: 0)
        #expect(try CSRMatrix(rows: a.columns, columns: a.rows, rowOffsets: t.offsets, columnIndices: t.indices, values: t.values).toDense()
                == a.toDense().transposed())
        let pt = countingSortTranspose(majorCount: a.rows, minorCount: a.columns, offsets: a.rowOffsets, indices: a.columnIndices,
                                       values: a.values, majorOrder: rows, minorMap: newColumn, threads: threads, parallelMinimum: 0)
        let expected = try a.subMatrix(rows: rows.map(Int.init), columns: columns.map(Int.init))
        #expect(try CSRMatrix(rows: a.columns, columns: a.rows, rowOffsets: pt.offsets, columnIndices: pt.indices, values: pt.values).toDense()
                == expected.toDense().transposed())
    }

    @Test func emptyAndTinyInputs() {
        let t = countingSortTranspose(majorCount: 3, minorCount: 4, offsets: [0, 0, 0, 0], indices: [], values: [Float](),
                                      majorOrder: nil, minorMap: nil, threads: 4, parallelMinimum: 0)
        #expect(t.offsets == [0, 0, 0, 0, 0] && t.indices.isEmpty && t.values.isEmpty)
        // One row, more threads than rows.
        let u = countingSortTranspose(majorCount: 1, minorCount: 3, offsets: [0, 2], indices: [0, 2], values: [Float(1), 2],
                                      majorOrder: nil, minorMap: nil, threads: 4, parallelMinimum: 0)
        #expect(u.offsets == [0, 1, 1, 2] && u.indices == [0, 0] && u.values == [1, 2])
    }
}
