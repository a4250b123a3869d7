import Testing
@testable import LinearAlgebra

/// Tolerance `factor * n * eps` for the scalar type: backward-stable LAPACK routines keep
/// errors within a small multiple of the dimension times machine epsilon.
func tolerance<S: BLASScalar>(_: S.Type, n: Int, factor: Double = 10) -> S {
    S(factor) * S(Swift.max(n, 1)) * S.ulpOfOne
}

/// `||A - B||_F / max(||B||_F, 1)`.
func relativeError<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> S {
    (a - b).frobeniusNorm / Swift.max(b.frobeniusNorm, 1)
}

/// `||Q'Q - I||_F` for a matrix with (supposedly) orthonormal columns.
func orthonormalityError<S: BLASScalar>(_ q: Matrix<S>) -> S {
    (Matrix.product(q, .transpose, q) - Matrix<S>.identity(q.columns)).frobeniusNorm
}

/// A well-conditioned symmetric positive definite matrix `G'G + n I`.
func spd<S: BLASScalar>(_: S.Type, n: Int, seed: UInt64) -> Matrix<S> {
    let g = Matrix<S>.gaussian(rows: n, columns: n, seed: seed)
    return Matrix.product(g, .transpose, g) + S(n) * Matrix<S>.identity(n)
}

@Suite struct DenseConstructionTests {
    @Test func rowsColumnsAndAccess() {
        let a = Matrix<Double>(rows: [[1, 2, 3], [4, 5, 6]])
        #expect(a.rows == 2 && a.columns == 3)
        #expect(a.elements == [1, 4, 2, 5, 3, 6]) // column-major
        #expect(a[1, 2] == 6)
        #expect(a.row(1) == [4, 5, 6])
        #expect(a.column(2) == [3, 6])
        #expect(Matrix<Double>(columns: [[1, 4], [2, 5], [3, 6]]) == a)
        #expect(a.transposed() == Matrix(rows: [[1, 4], [2, 5], [3, 6]]))
        var b = a
        b.setRow(0, [7, 8, 9]); b.setColumn(0, [0, 0])
        #expect(b == Matrix(rows: [[0, 8, 9], [0, 5, 6]]))
        #expect(a[0, 0] == 1, "copy-on-write keeps the original")
    }

    @Test func identityAndDiagonal() {
        let i = Matrix<Float>.identity(3)
        #expect(i == Matrix.diagonal([1, 1, 1]))
        let a = Matrix<Float>.gaussian(rows: 3, columns: 3, seed: 1)
        #expect(i * a == a)
    }

    @Test func gaussianIsSeededAndStandard() {
        let a = Matrix<Double>.gaussian(rows: 200, columns: 100, seed: 42)
        let b = Matrix<Double>.gaussian(rows: 200, columns: 100, seed: 42)
        let c = Matrix<Double>.gaussian(rows: 200, columns: 100, seed: 43)
        #expect(a == b)
        #expect(a != c)
        let n = Double(a.elements.count)
        let mean = a.elements.reduce(0, +) / n
        let variance = a.elements.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        #expect(abs(mean) < 0.02)   // 5 standard errors at n = 20000
        #expect(abs(variance - 1) < 0.05)
    }

    @Test func columnViewsShareStorage() {
        let a = Matrix<Double>.gaussian(rows: 5, columns: 6, seed: 3)
        let view = a.columns(2..<5)
        #expect(view.rows == 5 && view.columns == 3)
        #expect(view[4, 0] == a[4, 2])
        #expect(view.copy() == Matrix(columns: [a.column(2), a.column(3), a.column(4)]))
        // GEMM reads the view in place.
        let x = Matrix<Double>.gaussian(rows: 3, columns: 2, seed: 4)
        #expect(relativeError(Matrix.product(view, .none, x), view.copy() * x) < tolerance(Double.self, n: 5))
        var b = a
        b.setColumns(startingAt: 1, from: view.copy())
        #expect(b.column(1) == a.column(2) && b.column(3) == a.column(4) && b.column(0) == a.column(0))
    }

    /// Row-major blocks held as their transposes, joined into one column-major table: each
    /// block's transpose lands in its columns, bit for bit, serial and parallel sizes alike.
    @Test func joiningTransposesPlacesEveryBlock() {
        for (k, n) in [(3, 5), (16, 70_000)] {   // 70,000 x 48 passes the parallel threshold
            let blocks = (0..<3).map { Matrix<Float>.gaussian(rows: k, columns: n, seed: UInt64(10 + $0)) }
            let joined = Matrix(joiningTransposesOf: blocks)
            #expect(joined.rows == n && joined.columns == 3 * k)
            var mismatches = 0
            for (b, block) in blocks.enumerated() {
                for c in 0..<k { for i in 0..<n where joined[i, b * k + c].bitPattern != block[c, i].bitPattern { mismatches += 1 } }
            }
            #expect(mismatches == 0, "\(k) x \(n)")
        }
        let none = Matrix<Double>(joiningTransposesOf: [])
        #expect(none.rows == 0 && none.columns == 0)
        let filled = Matrix<Double>(rows: 2, columns: 3) { buffer in for i in buffer.indices { buffer[i] = Double(i) } }
        #expect(filled == Matrix(rows: [[0, 2, 4], [1, 3, 5]]))
    }

    @Test func transposeOfLargeRectangle() {
        let a = Matrix<Float>.gaussian(rows: 67, columns: 45, seed: 5)
        let t = a.transposed()
        #expect(t.rows == 45 && t.columns == 67)
        for i in 0..<67 { for j in 0..<45 { #expect(a[i, j] == t[j, i]) } }
        #expect(t.transposed() == a)
    }

    /// Above 2^20 elements the transpose is split over threads by tiles: every element lands
    /// in its place as the same bits (negative zero and a negative NaN included), for ragged
    /// shapes in both precisions and for a wide and a tall block (the sparse SVD's test matrix).
    @Test func parallelTransposeMovesEveryElementsBits() {
        func check<S: BLASScalar>(_: S.Type, rows m: Int, columns n: Int, bits: (S) -> UInt64) {
            var a = Matrix<Double>.gaussian(rows: m, columns: n, seed: UInt64(m + n)).converted(to: S.self)
            a[0, 0] = -S.zero
            a[m - 1, n - 1] = -S.nan
            let t = a.transposed()
            #expect(t.rows == n && t.columns == m)
            var mismatches = 0
            for j in 0..<n { for i in 0..<m where bits(a[i, j]) != bits(t[j, i]) { mismatches += 1 } }
            #expect(mismatches == 0, "\(S.self) \(m) x \(n)")
        }
        for (m, n) in [(1031, 1029), (74, 20_011), (20_011, 74)] {
            check(Float.self, rows: m, columns: n) { UInt64($0.bitPattern) }
            check(Double.self, rows: m, columns: n) { $0.bitPattern }
        }
    }
}

@Suite struct DenseBLASTests {
    @Test func gramOfRowsIsXXTranspose() {
        // Integer entries: every product and sum is exact in Double, so SYRK and GEMM agree exactly.
        var x = Matrix<Double>(rows: 5, columns: 37)
        for j in 0..<37 { for i in 0..<5 { x[i, j] = Double((i * 7 + j * 3) % 11) - 5 } }
        #expect(x.gramOfRows() == Matrix.product(x, .none, x, .transpose))
        #expect(Matrix<Float>(rows: 0, columns: 4).gramOfRows().rows == 0)
    }

    func naiveProduct<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> Matrix<S> {
        var c = Matrix<S>(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows { for j in 0..<b.columns {
            var s: S = 0
            for k in 0..<a.columns { s += a[i, k] * b[k, j] }
            c[i, j] = s
        } }
        return c
    }

    func gemmAllTransposes<S: BLASScalar>(_: S.Type) {
        let m = 7, n = 5, k = 9
        let a = Matrix<S>.gaussian(rows: m, columns: k, seed: 10)
        let b = Matrix<S>.gaussian(rows: k, columns: n, seed: 11)
        let expected = naiveProduct(a, b)
        let tol = tolerance(S.self, n: k)
        #expect(relativeError(Matrix.product(a, .none, b, .none), expected) < tol)
        #expect(relativeError(Matrix.product(a.transposed(), .transpose, b, .none), expected) < tol)
        #expect(relativeError(Matrix.product(a, .none, b.transposed(), .transpose), expected) < tol)
        #expect(relativeError(Matrix.product(a.transposed(), .transpose, b.transposed(), .transpose), expected) < tol)
        // alpha and beta
        var c = Matrix<S>.gaussian(rows: m, columns: n, seed: 12)
        let c0 = c
        Matrix.gemm(a, .none, b, .none, alpha: 2, beta: -1, into: &c)
        #expect(relativeError(c, 2 * expected - c0) < tol)
    }

    @Test func gemmFloat() { gemmAllTransposes(Float.self) }
    @Test func gemmDouble() { gemmAllTransposes(Double.self) }

    @Test func gemmWithEmptyInnerDimension() {
        let a = Matrix<Double>(rows: 3, columns: 0), b = Matrix<Double>(rows: 0, columns: 2)
        #expect(a * b == Matrix(rows: 3, columns: 2))
    }

    @Test func gemvAxpyScaleDotNorm() {
        let a = Matrix<Double>(rows: [[1, 2], [3, 4], [5, 6]])
        #expect(a.multiply([1, 1]) == [3, 7, 11])
        #expect(a.multiply([1, 0, 1], .transpose) == [6, 8])
        var y: [Double] = [1, 1, 1]
        a.gemv(.none, [1, 1], alpha: 2, beta: 3, into: &y)
        #expect(y == [9, 17, 25])
        var b = a
        b.axpy(2, a)
        #expect(b == 3 * a)
        b.scale(by: 0.5)
        #expect(b == Matrix(rows: [[1.5, 3], [4.5, 6], [7.5, 9]]))
        #expect(a.dot(a) == 91)
        #expect(abs(a.frobeniusNorm - 91.0.squareRoot()) < 4 * Double.ulpOfOne * 10)
        #expect(a.columnNorms().map { ($0 * $0).rounded() } == [35, 56])
    }

    @Test func frobeniusNormDoesNotOverflow() {
        let big = Matrix<Float>(rows: 2, columns: 2, repeating: 1e30)
        #expect(abs(big.frobeniusNorm / 2e30 - 1) < 1e-6)
    }

    @Test func rowAndColumnScaling() {
        var a = Matrix<Float>(rows: [[1, 2], [3, 4]])
        a.scaleRows(by: [2, 3])
        #expect(a == Matrix(rows: [[2, 4], [9, 12]]))
        a.scaleColumns(by: [1, 0.5])
        #expect(a == Matrix(rows: [[2, 2], [9, 6]]))
    }
}

@Suite struct DenseLAPACKTests {
    func qrInvariants<S: BLASScalar>(_: S.Type, m: Int, n: Int) throws {
        let a = Matrix<S>.gaussian(rows: m, columns: n, seed: UInt64(m * 100 + n))
        let f = try a.qr()
        let p = min(m, n)
        #expect(f.q.rows == m && f.q.columns == p && f.r.rows == p && f.r.columns == n)
        #expect(orthonormalityError(f.q) < tolerance(S.self, n: m))
        #expect(relativeError(f.q * f.r, a) < tolerance(S.self, n: m))
        for j in 0..<n { for i in (j + 1)..<max(p, j + 1) { #expect(f.r[i, j] == 0) } }
        let q2 = try a.orthonormalized()
        #expect(relativeError(q2, f.q) < tolerance(S.self, n: m))
    }

    @Test(arguments: [(50, 8), (8, 8), (6, 11)])
    func qr(shape: (Int, Int)) throws {
        try qrInvariants(Float.self, m: shape.0, n: shape.1)
        try qrInvariants(Double.self, m: shape.0, n: shape.1)
    }

    func svdInvariants<S: BLASScalar>(_: S.Type, m: Int, n: Int) throws {
        let a = Matrix<S>.gaussian(rows: m, columns: n, seed: UInt64(7 + m + n))
        let f = try a.svd()
        let p = min(m, n)
        #expect(f.s.count == p)
        #expect(zip(f.s, f.s.dropFirst()).allSatisfy { $0 >= $1 }, "descending")
        #expect(orthonormalityError(f.u) < tolerance(S.self, n: m))
        #expect(orthonormalityError(f.vt.transposed()) < tolerance(S.self, n: n))
        var us = f.u
        us.scaleColumns(by: f.s)
        #expect(relativeError(us * f.vt, a) < tolerance(S.self, n: max(m, n)))
        let values = try a.singularValues()
        for (x, y) in zip(values, f.s) { #expect(abs(x - y) <= tolerance(S.self, n: max(m, n)) * f.s[0]) }
        let full = try a.svd(full: true)
        #expect(full.u.columns == m && full.vt.rows == n)
        #expect(orthonormalityError(full.u) < tolerance(S.self, n: m))
    }

    @Test(arguments: [(40, 12), (12, 40), (15, 15)])
    func svd(shape: (Int, Int)) throws {
        try svdInvariants(Float.self, m: shape.0, n: shape.1)
        try svdInvariants(Double.self, m: shape.0, n: shape.1)
    }

    @Test func svdRecoversKnownSingularValues() throws {
        let u = try Matrix<Double>.gaussian(rows: 30, columns: 5, seed: 1).orthonormalized()
        let v = try Matrix<Double>.gaussian(rows: 20, columns: 5, seed: 2).orthonormalized()
        let s: [Double] = [10, 5, 2, 1, 0.5]
        var us = u
        us.scaleColumns(by: s)
        let a = Matrix.product(us, .none, v, .transpose)
        let f = try a.singularValues()
        for i in 0..<5 { #expect(abs(f[i] - s[i]) < 100 * Double.ulpOfOne * 10) }
        for i in 5..<20 { #expect(f[i] < 100 * Double.ulpOfOne * 10) }
    }

    func eigenInvariants<S: BLASScalar>(_: S.Type, n: Int) throws {
        let g = Matrix<S>.gaussian(rows: n, columns: n, seed: 99)
        let a = g + g.transposed()
        let e = try a.symmetricEigen()
        #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 }, "ascending")
        #expect(orthonormalityError(e.vectors) < tolerance(S.self, n: n))
        var vl = e.vectors
        vl.scaleColumns(by: e.values)
        let scale = e.values.map { abs($0) }.max()!
        #expect((a * e.vectors - vl).frobeniusNorm / scale < tolerance(S.self, n: n))
        let valuesOnly = try a.symmetricEigen(vectors: false)
        for (x, y) in zip(valuesOnly.values, e.values) { #expect(abs(x - y) <= tolerance(S.self, n: n) * scale) }
    }

    @Test func symmetricEigen() throws {
        try eigenInvariants(Float.self, n: 25)
        try eigenInvariants(Double.self, n: 25)
    }

    func solves<S: BLASScalar>(_: S.Type) throws {
        let n = 12
        let a = spd(S.self, n: n, seed: 5)
        let xTrue = Matrix<S>.gaussian(rows: n, columns: 3, seed: 6)
        let b = a * xTrue
        // Cholesky
        let c = try a.cholesky()
        #expect(relativeError(Matrix.product(c.lower, .none, c.lower, .transpose), a) < tolerance(S.self, n: n))
        for j in 1..<n { for i in 0..<j { #expect(c.lower[i, j] == 0) } }
        #expect(relativeError(try c.solve(b), xTrue) < tolerance(S.self, n: n, factor: 100))
        // LU (gesv) on a nonsymmetric matrix
        let g = Matrix<S>.gaussian(rows: n, columns: n, seed: 7) + S(n) * Matrix<S>.identity(n)
        #expect(relativeError(try g.solve(g * xTrue), xTrue) < tolerance(S.self, n: n, factor: 100))
        let lu = try g.lu()
        #expect(relativeError(lu.permutedLower * lu.upper, g) < tolerance(S.self, n: n))
        // Least squares: compare with the normal equations solved by Cholesky.
        let tall = Matrix<S>.gaussian(rows: 40, columns: 6, seed: 8)
        let rhs = Matrix<S>.gaussian(rows: 40, columns: 2, seed: 9)
        let ls = try tall.leastSquares(rhs)
        let normal = try Matrix.product(tall, .transpose, tall).cholesky().solve(Matrix.product(tall, .transpose, rhs))
        #expect(relativeError(ls, normal) < tolerance(S.self, n: 40, factor: 1000))
        // The residual is orthogonal to the range of A.
        let residual = tall * ls - rhs
        #expect(Matrix.product(tall, .transpose, residual).frobeniusNorm / rhs.frobeniusNorm < tolerance(S.self, n: 40, factor: 100))
    }

    @Test func solvesFloat() throws { try solves(Float.self) }
    @Test func solvesDouble() throws { try solves(Double.self) }

    @Test func underdeterminedLeastSquaresGivesMinimumNorm() throws {
        let a = Matrix<Double>(rows: [[1, 1]])
        let x = try a.leastSquares(Matrix(rows: [[2]]))
        #expect(abs(x[0, 0] - 1) < 1e-12 && abs(x[1, 0] - 1) < 1e-12)
    }

    @Test func lapackFailuresAreThrownWithTheRoutineName() throws {
        let notSPD = Matrix<Double>(rows: [[1, 2], [2, 1]])
        do {
            _ = try notSPD.cholesky()
            Issue.record("expected a failure")
        } catch let error as LAPACKError {
            #expect(error.routine == "dpotrf")
            #expect(error.info == 2)
            #expect(error.description.contains("not positive definite"))
        }
        let singular = Matrix<Float>(rows: [[1, 2], [2, 4]])
        #expect(throws: LAPACKError.self) { try singular.solve(Matrix(rows: [[1], [1]])) }
        do {
            _ = try singular.solve(Matrix(rows: [[1], [1]]))
        } catch let error as LAPACKError {
            #expect(error.routine == "sgesv")
            #expect(error.description.contains("singular"))
        }
        let rankDeficient = Matrix<Double>(rows: [[1, 0], [2, 0], [3, 0]]) // an exactly zero column
        #expect(throws: LAPACKError.self) { try rankDeficient.leastSquares(Matrix(rows: [[1], [1], [1]])) }
    }
}

@Suite struct OperatorTests {
    @Test func compositesMatchDenseAlgebra() {
        let a = Matrix<Double>.gaussian(rows: 6, columns: 4, seed: 1)
        let b = Matrix<Double>.gaussian(rows: 4, columns: 5, seed: 2)
        let c = Matrix<Double>.gaussian(rows: 6, columns: 4, seed: 3)
        let x = Matrix<Double>.gaussian(rows: 4, columns: 3, seed: 4)
        let tol = tolerance(Double.self, n: 10)
        #expect(relativeError(a.apply(x), a * x) < tol)
        #expect(relativeError(a.transposedOperator.densified(), a.transposed()) < tol)
        #expect(relativeError(a.scaled(by: -2).densified(), -2 * a) < tol)
        let d1: [Double] = [1, 2, 3, 4, 5, 6], d2: [Double] = [0.5, 1, 1.5, 2]
        var scaled = a
        scaled.scaleRows(by: d1); scaled.scaleColumns(by: d2)
        let ds = a.diagonallyScaled(left: d1, right: d2)
        #expect(relativeError(ds.densified(), scaled) < tol)
        #expect(relativeError(ds.transposedOperator.densified(), scaled.transposed()) < tol)
        #expect(relativeError(SumOperator(a, c).densified(), a + c) < tol)
        #expect(relativeError(SumOperator(a, c).transposedOperator.densified(), (a + c).transposed()) < tol)
        let p = ProductOperator(a, b)
        #expect(p.rows == 6 && p.columns == 5)
        #expect(relativeError(p.densified(), a * b) < tol)
        #expect(relativeError(p.transposedOperator.densified(), (a * b).transposed()) < tol)
        let erased = AnyLinearOperator(p)
        #expect(relativeError(erased.apply(Matrix.identity(5)), a * b) < tol)
        #expect(relativeError(Matrix(rows: 4, columns: 1, elements: a.applyTranspose(vector: [1, 0, 0, 0, 0, 0])),
                              Matrix(rows: 4, columns: 1, elements: a.row(0))) < tol)
    }
}

@Suite struct RandomTests {
    @Test func streamsAreReproducibleAndDistinct() {
        var a = Xoshiro256(seed: 7), b = Xoshiro256(seed: 7)
        let xs = (0..<10).map { _ in a.next() }, ys = (0..<10).map { _ in b.next() }
        #expect(xs == ys)
        var s0 = Xoshiro256.stream(seed: 7, index: 0), s1 = Xoshiro256.stream(seed: 7, index: 1)
        #expect(s0.next() != s1.next())
        var u = Xoshiro256(seed: 1)
        let uniforms = (0..<10000).map { _ in u.nextUniform() }
        #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(uniforms.reduce(0, +) / 10000 - 0.5) < 0.015)
    }
}
