import Testing
@testable import LinearAlgebra

/// The transposed index of CSR matrices (`A' X` as a gather), the pointer entry points for
/// single vectors, and the `CSRRepresentable` forms of scaled and transposed operators: every
/// product is checked against the dense reference with the forward-error bound of its sums.
@Suite struct SparseTransposeIndexTests {
    func fixture<S: BLASScalar>(_: S.Type, seed: UInt64) throws -> (SparseFixture<S>, CSRMatrix<S>) {
        let f = SparseFixture<S>(rows: 61, columns: 47, density: 0.25, seed: seed)
        return (f, try f.coo.toCSR())
    }

    @Test func indexIsBuiltByBlockProductsOrRepeatedVectorProducts() throws {
        let (_, a) = try fixture(Float.self, seed: 11)
        #expect(!a.hasTransposeIndex)
        _ = a.applyTranspose(Matrix<Float>.gaussian(rows: a.rows, columns: 1, seed: 1))
        #expect(!a.hasTransposeIndex, "a single A' x does not pay for the index")
        _ = a.applyTranspose(Matrix<Float>.gaussian(rows: a.rows, columns: 1, seed: 2))
        #expect(a.hasTransposeIndex, "the second A' x builds it")

        let (_, b) = try fixture(Float.self, seed: 12)
        _ = b.applyTranspose(Matrix<Float>.gaussian(rows: b.rows, columns: 8, seed: 3))
        #expect(b.hasTransposeIndex, "a block of 8 columns builds it at once")
        let copy = b
        #expect(copy.hasTransposeIndex, "copies share the index")

        var c = try fixture(Float.self, seed: 13).1
        c.automaticTransposeIndex = false
        for seed in 0..<3 as Range<UInt64> { _ = c.applyTranspose(Matrix<Float>.gaussian(rows: c.rows, columns: 16, seed: seed)) }
        #expect(!c.hasTransposeIndex, "automaticTransposeIndex = false keeps the scatter")
        c.buildTransposeIndex()
        #expect(c.hasTransposeIndex)
    }

    func checkGatherMatchesScatter<S: BLASScalar>(_: S.Type, seed: UInt64) throws {
        let (f, a) = try fixture(S.self, seed: seed)
        var scatter = try f.coo.toCSR()      // its own (empty) index: copies of `a` share a's
        scatter.automaticTransposeIndex = false
        let gather = a
        gather.buildTransposeIndex()
        let absA = f.dense.absolute()
        for k in [1, 3, 16, 17, 40, 74] {
            let x = Matrix<S>.gaussian(rows: a.rows, columns: k, seed: seed &+ UInt64(k))
            let reference = Matrix.product(f.dense, .transpose, x, .none)
            let bound = Matrix.product(absA, .transpose, x.absolute(), .none)
            #expect(withinSumBound(gather.applyTranspose(x), reference, bound: bound, terms: f.maxColumnLength), "gather A' X, k = \(k)")
            #expect(withinSumBound(scatter.applyTranspose(x), reference, bound: bound, terms: f.maxColumnLength), "scatter A' X, k = \(k)")
            #expect(!scatter.hasTransposeIndex)
        }
    }

    @Test func gatherOverTheIndexMatchesTheDenseProduct() throws {
        try checkGatherMatchesScatter(Float.self, seed: 21)
        try checkGatherMatchesScatter(Double.self, seed: 22)
    }

    @Test func scalingKeepsTheIndexConsistent() throws {
        let (f, a0) = try fixture(Double.self, seed: 31)
        a0.buildTransposeIndex()
        var a = a0
        let left = (0..<a.rows).map { Double($0 % 4) + 0.5 }
        let right = (0..<a.columns).map { 2.0 - Double($0 % 3) * 0.25 }
        a.scaleRows(by: left)
        a.scaleColumns(by: right)
        #expect(a.hasTransposeIndex, "scaling scales the index instead of dropping it")
        var d = f.dense
        for j in 0..<d.columns { for i in 0..<d.rows { d[i, j] *= left[i] * right[j] } }
        let x = Matrix<Double>.gaussian(rows: a.rows, columns: 9, seed: 5)
        let bound = Matrix.product(d.absolute(), .transpose, x.absolute(), .none)
        #expect(withinSumBound(a.applyTranspose(x), Matrix.product(d, .transpose, x, .none), bound: bound, terms: f.maxColumnLength))
        // The unscaled original still multiplies by the unscaled matrix.
        let bound0 = Matrix.product(f.dense.absolute(), .transpose, x.absolute(), .none)
        #expect(withinSumBound(a0.applyTranspose(x), Matrix.product(f.dense, .transpose, x, .none), bound: bound0, terms: f.maxColumnLength))
        #expect(a0 != a)
    }

    @Test func transposedReusesTheIndex() throws {
        let (f, a) = try fixture(Float.self, seed: 41)
        a.buildTransposeIndex()
        let t = a.transposed()
        #expect(t.hasTransposeIndex)
        #expect(t.toDense() == f.dense.transposed())
        #expect(t.transposed() == a)
        #expect(a.transposed() == (try f.coo.toCSR()).transposed(), "equality ignores the index")
    }

    @Test func pointerVectorProductsMatch() throws {
        let (f, a) = try fixture(Double.self, seed: 51)
        let x = Matrix<Double>.gaussian(rows: a.columns, columns: 1, seed: 6).elements
        let z = Matrix<Double>.gaussian(rows: a.rows, columns: 1, seed: 7).elements
        var y = [Double](repeating: .nan, count: a.rows), w = [Double](repeating: .nan, count: a.columns)
        for _ in 0..<2 {   // the second A' x runs over the index
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { a.multiply(xp.baseAddress!, into: $0.baseAddress!) } }
            z.withUnsafeBufferPointer { zp in w.withUnsafeMutableBufferPointer { a.multiplyTranspose(zp.baseAddress!, into: $0.baseAddress!) } }
            let absA = f.dense.absolute()
            let xm = Matrix(rows: a.columns, columns: 1, elements: x), zm = Matrix(rows: a.rows, columns: 1, elements: z)
            #expect(withinSumBound(Matrix(rows: a.rows, columns: 1, elements: y), f.dense * xm,
                                   bound: absA * xm.absolute(), terms: f.maxRowLength))
            #expect(withinSumBound(Matrix(rows: a.columns, columns: 1, elements: w), Matrix.product(f.dense, .transpose, zm, .none),
                                   bound: Matrix.product(absA, .transpose, zm.absolute(), .none), terms: f.maxColumnLength))
        }
    }

    @Test func representableOperatorsFoldIntoOneMatrix() throws {
        let (f, a) = try fixture(Double.self, seed: 61)
        let left = (0..<a.rows).map { 1 + Double($0 % 5) / 4 }
        let right = (0..<a.columns).map { 0.5 + Double($0 % 2) }
        let ops: [(String, any CSRRepresentable<Double>)] = [
            ("plain", a),
            ("scaled", a.diagonallyScaled(left: left, right: right)),
            ("left only", a.diagonallyScaled(left: left, right: nil)),
            ("times 3", a.scaled(by: 3)),
            ("transposed", a.transposedOperator),
            ("scaled transposed", a.diagonallyScaled(left: left, right: right).transposedOperator),
        ]
        for (name, op) in ops {
            let folded = op.csrMatrix().toDense()
            let reference = op.densified()
            #expect(folded.rows == reference.rows && folded.columns == reference.columns, "\(name)")
            let tolerance = 4 * Double.ulpOfOne * max(1, reference.elements.map(abs).max() ?? 0)
            #expect(zip(folded.elements, reference.elements).allSatisfy { abs($0 - $1) <= tolerance }, "\(name)")
        }
        _ = f
    }

    @Test func cscProductsUseTheRowIndex() throws {
        let f = SparseFixture<Float>(rows: 33, columns: 52, density: 0.3, seed: 71)
        let c = try f.coo.toCSC()
        let absA = f.dense.absolute()
        for k in [1, 1, 12] {
            let x = Matrix<Float>.gaussian(rows: c.columns, columns: k, seed: UInt64(k))
            #expect(withinSumBound(c.apply(x), f.dense * x, bound: absA * x.absolute(), terms: f.maxRowLength), "CSC A X, k = \(k)")
        }
        #expect(c.transposeAsCSR.hasTransposeIndex, "the CSR arrays were built once and kept")
        #expect(c == (try f.coo.toCSC()))
    }
}
