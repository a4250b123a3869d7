import Testing
@testable import LinearAlgebra

@Suite struct SparseStructureTests {
    func roundTrips<S: BLASScalar>(_: S.Type) throws {
        let f = SparseFixture<S>(rows: 45, columns: 38, density: 0.3, seed: 7)
        let a = try f.coo.toCSR()
        #expect(a.toDense() == f.dense)
        #expect(a.rowOffsets.count == 46 && a.rowOffsets[0] == 0)
        // The arrays are canonical: the validating initialiser accepts them.
        #expect(try CSRMatrix(rows: 45, columns: 38, rowOffsets: a.rowOffsets, columnIndices: a.columnIndices, values: a.values) == a)
        let c = a.toCSC()
        #expect(c.toDense() == f.dense)
        #expect(try CSCMatrix(rows: 45, columns: 38, columnOffsets: c.columnOffsets, rowIndices: c.rowIndices, values: c.values) == c)
        #expect(c.toCSR() == a)
        #expect(try f.coo.toCSC() == c)
        #expect(try a.toCOO().toCSR() == a)
        #expect(try c.toCOO().toCSC() == c)
        #expect(a.transposed().toDense() == f.dense.transposed())
        #expect(a.transposed().transposed() == a)
        #expect(c.transposed().toDense() == f.dense.transposed())
        #expect(c.transposeAsCSR == a.transposed())
        #expect(CSRMatrix(dense: f.dense) == a)
        for i in 0..<45 { for j in 0..<38 { #expect(a[i, j] == f.dense[i, j] && c[i, j] == f.dense[i, j]) } }
        #expect(a.converted(to: Double.self).toDense() == f.dense.converted(to: Double.self))
        #expect(c.converted(to: Float.self).toDense() == f.dense.converted(to: Float.self))
        #expect(a.mapValues { 2 * $0 }.toDense() == 2 * f.dense)
        #expect(c.mapValues { -$0 }.toDense() == -1 * f.dense)
    }

    @Test func roundTripsFloat() throws { try roundTrips(Float.self) }
    @Test func roundTripsDouble() throws { try roundTrips(Double.self) }

    /// Entries: row 0 gets 40 shuffled columns (sorted by the key path) with column 5 three
    /// times; row 2 gets a short unsorted row (insertion path) with column 1 twice.
    func duplicateBuilder<S: BLASScalar>(_: S.Type) -> COOMatrix<S> {
        var coo = COOMatrix<S>(rows: 3, columns: 50)
        var columns = Array(0..<40)
        var rng = Xoshiro256(seed: 4)
        columns.shuffle(using: &rng)
        for j in columns { coo.append(row: 0, column: j, value: S(j)) }
        coo.append(row: 0, column: 5, value: 100)
        coo.append(row: 2, column: 3, value: 1)
        coo.append(row: 2, column: 1, value: 2)
        coo.append(row: 0, column: 5, value: 1000)
        coo.append(row: 2, column: 1, value: 4)
        return coo
    }

    func duplicates<S: BLASScalar>(_: S.Type) throws {
        let coo = duplicateBuilder(S.self)
        let summed = try coo.toCSR(duplicates: .sum)
        #expect(summed.nonzeroCount == 42)
        #expect(summed[0, 5] == 1105 && summed[2, 1] == 6 && summed[2, 3] == 1 && summed[0, 39] == 39)
        let first = try coo.toCSR(duplicates: .keepFirst)
        #expect(first.nonzeroCount == 42)
        #expect(first[0, 5] == 5 && first[2, 1] == 2)
        #expect(try coo.toCSC(duplicates: .keepFirst) == first.toCSC())
        #expect(try coo.toCSC(duplicates: .sum) == summed.toCSC())
        let error = #expect(throws: SparseMatrixError.self) { try coo.toCSR(duplicates: .reject) }
        #expect(error?.message.contains("row 0, column 5") == true, "\(String(describing: error))")
        // The first (0, 5) entry sits where column 5 fell in the shuffle; the second is entry 40.
        let firstFive = coo.columnIndices.firstIndex(of: 5)!
        #expect(error?.message.contains("entries \(firstFive) and 40") == true, "\(String(describing: error))")
        let errorCSC = #expect(throws: SparseMatrixError.self) { try coo.toCSC(duplicates: .reject) }
        #expect(errorCSC?.message.contains("row 0, column 5") == true || errorCSC?.message.contains("row 2, column 1") == true,
                "\(String(describing: errorCSC))")
        // No duplicates: .reject succeeds.
        var clean = COOMatrix<S>(rows: 2, columns: 2)
        clean.append(row: 1, column: 0, value: 3)
        clean.append(row: 0, column: 1, value: 4)
        #expect(try clean.toCSR(duplicates: .reject).toDense() == Matrix(rows: [[0, 4], [3, 0]]))
    }

    @Test func duplicatesFloat() throws { try duplicates(Float.self) }
    @Test func duplicatesDouble() throws { try duplicates(Double.self) }

    func sumsAndScaling<S: BLASScalar>(_: S.Type) throws {
        let f = SparseFixture<S>(rows: 33, columns: 27, density: 0.4, seed: 8)
        let a = try f.coo.toCSR(), c = a.toCSC()
        let ones = Matrix<S>(rows: 27, columns: 1, repeating: 1)
        let onesT = Matrix<S>(rows: 33, columns: 1, repeating: 1)
        let rowRef = Matrix.product(f.dense, .none, ones, .none).elements
        let colRef = Matrix.product(f.dense, .transpose, onesT, .none).elements
        let rowBound = Matrix.product(f.dense.absolute(), .none, ones, .none).elements
        let colBound = Matrix.product(f.dense.absolute(), .transpose, onesT, .none).elements
        func close(_ x: [S], _ y: [S], _ b: [S]) -> Bool {
            zip(zip(x, y), b).allSatisfy { Swift.abs($0.0 - $0.1) <= S(64) * S.ulpOfOne * $1 }
        }
        #expect(close(a.rowSums(), rowRef, rowBound))
        #expect(close(c.rowSums(), rowRef, rowBound))
        #expect(close(a.columnSums(), colRef, colBound))
        #expect(close(c.columnSums(), colRef, colBound))
        let rowCounts = (0..<33).map { i in (0..<27).filter { f.dense[i, $0] != 0 }.count }
        let colCounts = (0..<27).map { j in (0..<33).filter { f.dense[$0, j] != 0 }.count }
        #expect(a.rowNonzeroCounts() == rowCounts && c.rowNonzeroCounts() == rowCounts)
        #expect(a.columnNonzeroCounts() == colCounts && c.columnNonzeroCounts() == colCounts)
        #expect(rowCounts[3] == 0 && colCounts[2] == 0)
        let dr = (0..<33).map { S($0) - 5 }, dc = (0..<27).map { S(1) / S($0 + 1) }
        var dense = f.dense
        dense.scaleRows(by: dr)
        dense.scaleColumns(by: dc)
        // Each scaled entry is one or two exactly rounded products: identical in both orders.
        #expect(a.scaledRows(by: dr).scaledColumns(by: dc).toDense() == dense)
        #expect(c.scaledRows(by: dr).scaledColumns(by: dc).toDense() == dense)
        var ai = a, ci = c
        ai.scaleRows(by: dr); ai.scaleColumns(by: dc)
        ci.scaleRows(by: dr); ci.scaleColumns(by: dc)
        #expect(ai.toDense() == dense && ci.toDense() == dense)
    }

    @Test func sumsAndScalingFloat() throws { try sumsAndScaling(Float.self) }
    @Test func sumsAndScalingDouble() throws { try sumsAndScaling(Double.self) }

    // Float and Double: each has its own specialisation of subMatrix (the generic body serves the rest).
    @Test func subMatrixSelectsAndReordersFloat() throws { try subMatrixSelectsAndReorders(Float.self) }
    @Test func subMatrixSelectsAndReordersDouble() throws { try subMatrixSelectsAndReorders(Double.self) }

    func subMatrixSelectsAndReorders<S: BLASScalar>(_: S.Type) throws {
        let f = SparseFixture<S>(rows: 30, columns: 25, density: 0.4, seed: 12)
        let a = try f.coo.toCSR()
        let rowSel = [29, 0, 3, 3, 17, 8], colSel = [24, 2, 0, 13, 7, 11, 1]
        let s = try a.subMatrix(rows: rowSel, columns: colSel)
        #expect(s.rows == 6 && s.columns == 7)
        for (r, i) in rowSel.enumerated() { for (c, j) in colSel.enumerated() { #expect(s[r, c] == f.dense[i, j]) } }
        // Canonical output (sorted columns within rows).
        #expect(try CSRMatrix(rows: 6, columns: 7, rowOffsets: s.rowOffsets, columnIndices: s.columnIndices, values: s.values) == s)
        #expect(try a.subMatrix(rows: Array(0..<30), columns: Array(0..<25)) == a)
        #expect(try a.subMatrix(rows: [], columns: [1]).rows == 0)
        #expect(throws: SparseMatrixError.self) { try a.subMatrix(rows: [30], columns: [0]) }
        #expect(throws: SparseMatrixError.self) { try a.subMatrix(rows: [0], columns: [-1]) }
        let dup = #expect(throws: SparseMatrixError.self) { try a.subMatrix(rows: [0], columns: [4, 5, 4]) }
        #expect(dup?.message.contains("column 4 is selected twice") == true)
    }

    /// Columns selected in increasing order take the direct two-pass copy (split over threads
    /// above 2^14 selected rows): the same arrays as the triplet build of the same entries, with
    /// repeated, unordered rows.
    @Test func subMatrixWithIncreasingColumnsEqualsTheTripletBuild() throws {
        let a = try CSRMatrix<Float>.randomUniform(rows: 50_000, columns: 3_000, nonzeros: 400_000, seed: 21)
        var rng = Xoshiro256(seed: 4)
        let rowSel = (0..<45_000).map { _ in Int(rng.next() % 50_000) }
        let colSel = (0..<3_000).filter { _ in rng.next() % 3 != 0 }
        let s = try a.subMatrix(rows: rowSel, columns: colSel)
        var map = [Int](repeating: -1, count: 3_000)
        for (c, j) in colSel.enumerated() { map[j] = c }
        var coo = COOMatrix<Float>(rows: rowSel.count, columns: colSel.count)
        for (r, i) in rowSel.enumerated() {
            for p in Int(a.rowOffsets[i])..<Int(a.rowOffsets[i + 1]) where map[Int(a.columnIndices[p])] >= 0 {
                coo.append(row: r, column: map[Int(a.columnIndices[p])], value: a.values[p])
            }
        }
        let expected = try coo.toCSR()
        #expect(s.nonzeroCount > 100_000)
        #expect(s == expected)
    }

    @Test func builderErrors() throws {
        var coo = COOMatrix<Float>(rows: 3, columns: 4)
        coo.append(row: 0, column: 0, value: 1)
        coo.append(row: 2, column: 4, value: 1)
        coo.append(row: -1, column: 0, value: 1)
        #expect(coo.count == 3)
        let e = #expect(throws: SparseMatrixError.self) { try coo.toCSR() }
        #expect(e?.message.contains("entry 1 at (row 2, column 4)") == true, "\(String(describing: e))")
        #expect(throws: SparseMatrixError.self) { try coo.toCSC() }
        let big = COOMatrix<Float>(rows: Int(Int32.max) + 1, columns: 2)
        let eb = #expect(throws: SparseMatrixError.self) { try big.toCSR() }
        #expect(eb?.message.contains("Int32.max") == true)
        #expect(throws: SparseMatrixError.self) { try COOMatrix<Float>(rows: -1, columns: 2).toCSR() }
        #expect(throws: SparseMatrixError.self) {
            try COOMatrix<Double>(rows: 2, columns: 2, rowIndices: [0, 1], columnIndices: [0], values: [1, 2])
        }
        let eo = #expect(throws: SparseMatrixError.self) {
            try COOMatrix<Double>(rows: 2, columns: 2, rowIndices: [0, 1], columnIndices: [0, 2], values: [1, 2])
        }
        #expect(eo?.message.contains("entry 1") == true)
        #expect(try COOMatrix<Double>(rows: 2, columns: 2, rowIndices: [1, 0], columnIndices: [0, 1], values: [1, 2]).toCSR().toDense()
                == Matrix(rows: [[0, 2], [1, 0]]))
    }

    @Test func validatingInitialisersReject() {
        // Wrong offsets count, bad start, bad end, decreasing, out-of-range index, unsorted, duplicate, value count.
        let bad: [([Int64], [Int32], [Double])] = [
            ([0, 1], [0], [1]),
            ([1, 1, 1], [0], [1]),
            ([0, 1, 1], [0, 1], [1, 2]),
            ([0, 2, 1], [0, 1], [1, 2]),
            ([0, 1, 1], [3], [1]),
            ([0, 2, 2], [1, 0], [1, 2]),
            ([0, 2, 2], [1, 1], [1, 2]),
            ([0, 1, 1], [0], [1, 2]),
        ]
        for (o, i, v) in bad {
            #expect(throws: SparseMatrixError.self) { try CSRMatrix(rows: 2, columns: 3, rowOffsets: o, columnIndices: i, values: v) }
            #expect(throws: SparseMatrixError.self) { try CSCMatrix(rows: 3, columns: 2, columnOffsets: o, rowIndices: i, values: v) }
        }
        let e = #expect(throws: SparseMatrixError.self) {
            try CSRMatrix(rows: 2, columns: 3, rowOffsets: [0, 2, 2], columnIndices: [1, 0], values: [1, 2])
        }
        #expect(e?.message.contains("entry 1 in row 0") == true, "\(String(describing: e))")
        #expect(throws: SparseMatrixError.self) {
            try CSRMatrix<Float>(rows: Int(Int32.max) + 5, columns: 1, rowOffsets: [0], columnIndices: [], values: [])
        }
    }

    @Test func randomUniformIsReproducibleAndValid() throws {
        let a = try CSRMatrix<Float>.randomUniform(rows: 40_000, columns: 900, nonzeros: 250_003, seed: 5)
        let b = try CSRMatrix<Float>.randomUniform(rows: 40_000, columns: 900, nonzeros: 250_003, seed: 5)
        let c = try CSRMatrix<Float>.randomUniform(rows: 40_000, columns: 900, nonzeros: 250_003, seed: 6)
        #expect(a == b && a != c)
        #expect(a.nonzeroCount == 250_003)
        let counts = a.rowNonzeroCounts()
        #expect(counts.min()! >= 6 && counts.max()! <= 7)
        #expect(try CSRMatrix(rows: a.rows, columns: a.columns, rowOffsets: a.rowOffsets, columnIndices: a.columnIndices, values: a.values) == a)
        #expect(a.values.allSatisfy { $0 >= -1 && $0 < 1 })
        // Dense rows use selection sampling.
        let d = try CSRMatrix<Double>.randomUniform(rows: 3, columns: 10, nonzeros: 30, seed: 1)
        #expect(d.rowNonzeroCounts() == [10, 10, 10])
        #expect(throws: SparseMatrixError.self) { try CSRMatrix<Double>.randomUniform(rows: 3, columns: 10, nonzeros: 31, seed: 1) }
        #expect(throws: SparseMatrixError.self) { try CSRMatrix<Double>.randomUniform(rows: 3, columns: 10, nonzeros: -1, seed: 1) }
    }
}
