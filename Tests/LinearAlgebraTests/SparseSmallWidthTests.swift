import Testing
@testable import LinearAlgebra

// Issue 11: the row-major gathers pick the widest SIMD vector that fits the block (16 / 8 / 4 / 2
// Float, 8 / 4 / 2 Double), where blocks narrower than one 512-bit vector used to run lane by
// lane. Every width from 1 to 20 (each vector width, its overlapping tail window and the
// one-column tail) must give `A X`, `A' X` and the fused Chebyshev step equal to the dense
// product within the summation's rounding bound, and equal to the same sum taken in the
// kernels' order (nonzeros in storage order, multiply then add) to the bit.
@Suite("Sparse gathers on narrow blocks") struct SparseSmallWidthTests {
    /// `sum_p values[p] x[indices[p], c]` over each row of `a`, in storage order, in `S`.
    static func orderedProduct<S: BLASScalar>(_ a: CSRMatrix<S>, _ x: [S], k: Int) -> [S] {
        var y = [S](repeating: 0, count: a.rows * k)
        for i in 0..<a.rows {
            for c in 0..<k {
                var t: S = 0
                for p in Int(a.rowOffsets[i])..<Int(a.rowOffsets[i + 1]) {
                    let term = a.values[p] * x[Int(a.columnIndices[p]) * k + c]
                    t += term
                }
                y[i * k + c] = t
            }
        }
        return y
    }

    func check<S: BLASScalar>(_: S.Type, k: Int, threads: Int) throws {
        let f = SparseFixture<S>(rows: 61, columns: 61, density: 0.3, seed: 40 &+ UInt64(k))
        let a = try f.coo.toCSR()
        a.buildTransposeIndex()
        let at = a.transposed()
        let x = Matrix<S>.gaussian(rows: 61, columns: k, seed: 7 &+ UInt64(k))
        let z = Matrix<S>.gaussian(rows: 61, columns: k, seed: 99 &+ UInt64(k))
        let xr = x.transposed().elements, zr = z.transposed().elements
        let ref = Matrix.product(f.dense, .none, x, .none), refT = Matrix.product(f.dense, .transpose, x, .none)
        let bound = Matrix.product(f.dense.absolute(), .none, x.absolute(), .none)
        let boundT = Matrix.product(f.dense.absolute(), .transpose, x.absolute(), .none)
        var y = [S](repeating: .nan, count: 61 * k), yt = [S](repeating: .nan, count: 61 * k)
        var fused = [S](repeating: .nan, count: 61 * k)
        let alpha = S(0.75), beta = S(-0.25)
        xr.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0, threads: threads) }
            yt.withUnsafeMutableBufferPointer { a.multiplyTranspose(rowMajor: xp, columns: k, into: $0, threads: threads) }
            zr.withUnsafeBufferPointer { zp in
                fused.withUnsafeMutableBufferPointer {
                    a.multiplyAdd(rowMajor: xp, columns: k, alpha: alpha, beta: beta, subtracting: zp, into: $0, threads: threads)
                }
            }
        }
        let what = "\(S.self), k = \(k), \(threads) thread(s)"
        #expect(withinSumBound(Matrix(rows: k, columns: 61, elements: y).transposed(), ref, bound: bound, terms: f.maxRowLength), "A X against the dense product, \(what)")
        #expect(withinSumBound(Matrix(rows: k, columns: 61, elements: yt).transposed(), refT, bound: boundT, terms: f.maxColumnLength), "A' X against the dense product, \(what)")
        let ordered = Self.orderedProduct(a, xr, k: k)
        #expect(y == ordered, "A X differs from the ordered sum, \(what)")
        #expect(yt == Self.orderedProduct(at, xr, k: k), "A' X (gather over the transposed index) differs from the ordered sum, \(what)")
        var step = [S](repeating: 0, count: 61 * k)
        for e in 0..<step.count {
            var v = alpha * ordered[e] + beta * xr[e]
            v -= zr[e]
            step[e] = v
        }
        #expect(fused == step, "the fused step differs from the element-wise one, \(what)")
    }

    @Test(arguments: Array(1...20))
    func narrowBlocksFloat(k: Int) throws {
        for threads in [1, 2] { try check(Float.self, k: k, threads: threads) }
    }

    @Test(arguments: Array(1...20))
    func narrowBlocksDouble(k: Int) throws {
        for threads in [1, 2] { try check(Double.self, k: k, threads: threads) }
    }
}
