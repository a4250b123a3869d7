import Testing
@testable import LinearAlgebra

@Suite struct SparseProductTests {
    static let blockWidths = [1, 7, 16, 33, 64]

    func checkProducts<S: BLASScalar>(_: S.Type, rows m: Int, columns n: Int, density: Double, seed: UInt64) throws {
        let f = SparseFixture<S>(rows: m, columns: n, density: density, seed: seed)
        let a = try f.coo.toCSR()
        let c = try f.coo.toCSC()
        let absA = f.dense.absolute()
        for k in Self.blockWidths {
            let x = Matrix<S>.gaussian(rows: n, columns: k, seed: seed &+ UInt64(k))
            let xt = Matrix<S>.gaussian(rows: m, columns: k, seed: seed &+ 1000 &+ UInt64(k))
            let ref = Matrix.product(f.dense, .none, x, .none)
            let refT = Matrix.product(f.dense, .transpose, xt, .none)
            let bound = Matrix.product(absA, .none, x.absolute(), .none)
            let boundT = Matrix.product(absA, .transpose, xt.absolute(), .none)
            #expect(withinSumBound(a.apply(x), ref, bound: bound, terms: f.maxRowLength), "CSR A X, k = \(k)")
            #expect(withinSumBound(a.applyTranspose(xt), refT, bound: boundT, terms: f.maxColumnLength), "CSR A' X, k = \(k)")
            #expect(withinSumBound(c.apply(x), ref, bound: bound, terms: f.maxRowLength), "CSC A X, k = \(k)")
            #expect(withinSumBound(c.applyTranspose(xt), refT, bound: boundT, terms: f.maxColumnLength), "CSC A' X, k = \(k)")
            // Output is overwritten, not accumulated.
            var y = Matrix<S>(rows: m, columns: k, repeating: 9)
            a.apply(x, into: &y)
            #expect(withinSumBound(y, ref, bound: bound, terms: f.maxRowLength), "apply overwrites, k = \(k)")
            var yt = Matrix<S>(rows: n, columns: k, repeating: 9)
            a.applyTranspose(xt, into: &yt)
            #expect(withinSumBound(yt, refT, bound: boundT, terms: f.maxColumnLength), "applyTranspose overwrites, k = \(k)")
            // Row-major entry points.
            let xr = x.transposed().elements, xtr = xt.transposed().elements
            var yr = [S](repeating: 7, count: m * k), ytr = [S](repeating: 7, count: n * k)
            xr.withUnsafeBufferPointer { xp in yr.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0) } }
            xtr.withUnsafeBufferPointer { xp in ytr.withUnsafeMutableBufferPointer { a.multiplyTranspose(rowMajor: xp, columns: k, into: $0) } }
            #expect(withinSumBound(Matrix(rows: k, columns: m, elements: yr).transposed(), ref, bound: bound, terms: f.maxRowLength), "row-major A X, k = \(k)")
            #expect(withinSumBound(Matrix(rows: k, columns: n, elements: ytr).transposed(), refT, bound: boundT, terms: f.maxColumnLength), "row-major A' X, k = \(k)")
        }
        // SpMV.
        let v = Matrix<S>.gaussian(rows: n, columns: 1, seed: seed ^ 0xABC)
        let w = Matrix<S>.gaussian(rows: m, columns: 1, seed: seed ^ 0xDEF)
        let refV = Matrix.product(f.dense, .none, v, .none)
        let refW = Matrix.product(f.dense, .transpose, w, .none)
        let bV = Matrix.product(absA, .none, v.absolute(), .none)
        let bW = Matrix.product(absA, .transpose, w.absolute(), .none)
        #expect(withinSumBound(Matrix(rows: m, columns: 1, elements: a.multiply(vector: v.elements)), refV, bound: bV, terms: f.maxRowLength))
        #expect(withinSumBound(Matrix(rows: n, columns: 1, elements: a.multiplyTranspose(vector: w.elements)), refW, bound: bW, terms: f.maxColumnLength))
        #expect(withinSumBound(Matrix(rows: m, columns: 1, elements: c.multiply(vector: v.elements)), refV, bound: bV, terms: f.maxRowLength))
        #expect(withinSumBound(Matrix(rows: n, columns: 1, elements: c.multiplyTranspose(vector: w.elements)), refW, bound: bW, terms: f.maxColumnLength))
    }

    @Test func productsMatchDenseFloat() throws {
        try checkProducts(Float.self, rows: 37, columns: 53, density: 0.2, seed: 1)
        try checkProducts(Float.self, rows: 120, columns: 41, density: 0.5, seed: 2)
    }

    @Test func productsMatchDenseDouble() throws {
        try checkProducts(Double.self, rows: 37, columns: 53, density: 0.2, seed: 3)
        try checkProducts(Double.self, rows: 120, columns: 41, density: 0.5, seed: 4)
    }

    @Test func degenerateShapes() throws {
        // No nonzeros at all: products are zero (and overwrite the output).
        let z = CSRMatrix<Float>(zeros: 4, columns: 3)
        var y = Matrix<Float>(rows: 4, columns: 5, repeating: 1)
        z.apply(Matrix<Float>.gaussian(rows: 3, columns: 5, seed: 1), into: &y)
        #expect(y == Matrix<Float>(rows: 4, columns: 5))
        var yt = Matrix<Float>(rows: 3, columns: 5, repeating: 1)
        z.applyTranspose(Matrix<Float>.gaussian(rows: 4, columns: 5, seed: 1), into: &yt)
        #expect(yt == Matrix<Float>(rows: 3, columns: 5))
        // Zero columns / zero rows.
        let empty = CSRMatrix<Double>(zeros: 3, columns: 0)
        #expect(empty.apply(Matrix<Double>(rows: 0, columns: 2)) == Matrix<Double>(rows: 3, columns: 2))
        #expect(empty.applyTranspose(Matrix<Double>.gaussian(rows: 3, columns: 2, seed: 2)).rows == 0)
    }

    func checkThreadsAgree<S: BLASScalar>(_: S.Type) throws {
        let a = try CSRMatrix<S>.randomUniform(rows: 3000, columns: 2500, nonzeros: 60_000, seed: 11)
        for k in [1, 7, 33] {
            let x = Matrix<S>.gaussian(rows: 2500, columns: k, seed: 5)
            let xt = Matrix<S>.gaussian(rows: 3000, columns: k, seed: 6)
            var y1 = Matrix<S>(rows: 3000, columns: k), y4 = y1
            a.apply(x, into: &y1, threads: 1)
            a.apply(x, into: &y4, threads: 4)
            #expect(y1 == y4, "A X, k = \(k)")
            var t1 = Matrix<S>(rows: 2500, columns: k), t4 = t1
            a.applyTranspose(xt, into: &t1, threads: 1)
            a.applyTranspose(xt, into: &t4, threads: 4)
            #expect(t1 == t4, "A' X, k = \(k)")
        }
    }

    @Test func multithreadedEqualsSingleThreaded() throws {
        try checkThreadsAgree(Float.self)
        try checkThreadsAgree(Double.self)
    }

    @Test func skewedColumnsBalanceAndStayCorrect() throws {
        // Half of all entries in column 0: the transpose product's column partition must still cover every column once.
        var coo = COOMatrix<Double>(rows: 4000, columns: 300)
        var rng = Xoshiro256(seed: 9)
        for i in 0..<4000 {
            coo.append(row: i, column: 0, value: 1)
            coo.append(row: i, column: 1 + Int(rng.next() % 299), value: rng.nextUniform())
        }
        let a = try coo.toCSR()
        let x = Matrix<Double>.gaussian(rows: 4000, columns: 16, seed: 3)
        var t1 = Matrix<Double>(rows: 300, columns: 16), t4 = t1
        a.applyTranspose(x, into: &t1, threads: 1)
        a.applyTranspose(x, into: &t4, threads: 4)
        #expect(t1 == t4)
        let ref = Matrix.product(a.toDense(), .transpose, x, .none)
        let bound = Matrix.product(a.toDense().absolute(), .transpose, x.absolute(), .none)
        #expect(withinSumBound(t4, ref, bound: bound, terms: 4000))
    }

    @Test func operatorCompositionWithDiagonalScaling() throws {
        let f = SparseFixture<Double>(rows: 20, columns: 30, density: 0.3, seed: 21)
        let a = try f.coo.toCSR()
        let left = (0..<20).map { Double($0 + 1) }, right = (0..<30).map { 1 / Double($0 + 1) }
        let op = a.diagonallyScaled(left: left, right: right)
        let x = Matrix<Double>.gaussian(rows: 30, columns: 3, seed: 1)
        let direct = a.scaledRows(by: left).scaledColumns(by: right).apply(x)
        let diff = (op.apply(x) - direct).frobeniusNorm
        #expect(diff <= 64 * Double.ulpOfOne * direct.frobeniusNorm)
    }
}
