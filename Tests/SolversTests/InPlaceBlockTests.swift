import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

// The in-place block steps of the sparse randomized SVD (issue 11/18: no fresh l-column block per
// pass) against the allocating versions they replace.
@Suite("In-place block steps") struct InPlaceBlockTests {
    /// `x = a x` in cache-sized slabs agrees with one GEMM into a new matrix, for widths that
    /// span several slabs and a ragged last one, in both precisions.
    @Test(arguments: ScalarKind.allCases)
    func multiplyInPlaceMatchesGEMM(scalar: ScalarKind) {
        func check<S: BLASScalar>(_: S.Type, epsilon: Double) {
            let l = 9
            // 2 MiB slabs hold 2^21 / (9 * size) columns: 29127 (Double) or 58254 (Float).
            for m in [1, 5, 70_001, 123_457] {
                let a = Matrix<Double>.gaussian(rows: l, columns: l, seed: 3).converted(to: S.self)
                let x = Matrix<Double>.gaussian(rows: l, columns: m, seed: UInt64(m)).converted(to: S.self)
                let expected = Matrix.product(a, .none, x, .none)
                var y = x
                multiplyInPlace(a, &y)
                // Each entry is a dot product of length l: error at most l eps sum |a||x| (with slack 4).
                let bound = 4 * Double(l) * epsilon * Double(a.maxAbs) * Double(x.maxAbs) * Double(l)
                #expect(TestMatrices.maxDifference(y, expected) <= bound, "\(scalar), m = \(m)")
                #expect(x.columns == m && y.columns == m)
            }
        }
        if scalar == .float { check(Float.self, epsilon: scalar.epsilon) } else { check(Double.self, epsilon: scalar.epsilon) }
    }

    /// The in-place Cholesky QR of a wide block's rows gives orthonormal rows spanning the same
    /// space, and (on the Cholesky path) the same rows as the allocating version to rounding.
    @Test(arguments: [1.0, 1e3, 1e6, 1e9])
    func inPlaceCholeskyQRMatchesTheAllocatingOne(condition: Double) throws {
        let y = TestMatrices.graded(rows: 40_000, columns: 12, condition: condition, seed: 41)
        for scalar in ScalarKind.allCases {
            func check<S: BLASScalar>(_: S.Type) throws {
                let yt = y.converted(to: S.self).transposed()          // 12 x 40000, rows are the vectors
                var q = yt
                try choleskyOrthonormalizeRows(&q, passes: 2)
                let qt = q.transposed()
                #expect(TestMatrices.orthonormalityError(qt) <= 50 * scalar.epsilon, "\(scalar), cond \(condition)")
                let ys = yt.transposed()
                let projected = ys - qt * Matrix.product(qt, .transpose, ys)
                #expect(Double(projected.frobeniusNorm) <= 1e3 * scalar.epsilon * Double(ys.frobeniusNorm))
                let reference = try choleskyOrthonormalized(yt, vectors: .rows, passes: 2)
                // Both paths take the same branches (the same Gram matrices and factors) when the
                // block is well conditioned: rows equal to rounding amplified by the condition.
                if condition <= 1e3 {
                    #expect(TestMatrices.maxDifference(q, reference) <= 100 * condition * scalar.epsilon, "\(scalar), cond \(condition)")
                }
            }
            if scalar == .float { try check(Float.self) } else { try check(Double.self) }
        }
    }

    /// The SYRK Gram matrix of a wide block's rows is symmetric and equals the GEMM `X X'`
    /// within the dot-product rounding bound, in both precisions.
    @Test(arguments: ScalarKind.allCases)
    func rowGramMatchesGEMM(scalar: ScalarKind) {
        func check<S: BLASScalar>(_: S.Type) {
            for (l, m) in [(1, 1), (3, 2), (12, 40_000), (74, 5_001)] {
                let x = Matrix<Double>.gaussian(rows: l, columns: m, seed: UInt64(7 * l + m)).converted(to: S.self)
                let gram = x.gramOfRows()
                let expected = Matrix.product(x, .none, x, .transpose)
                // Entries are sums of m products: error at most m eps max|x|^2 each (slack 4).
                let bound = 4 * Double(m) * scalar.epsilon * Double(x.maxAbs) * Double(x.maxAbs)
                #expect(TestMatrices.maxDifference(gram, expected) <= bound, "\(scalar), \(l) x \(m)")
                #expect(gram == gram.transposed(), "\(scalar), \(l) x \(m): not symmetric")
            }
        }
        if scalar == .float { check(Float.self) } else { check(Double.self) }
    }

    /// The fused residual norms equal the norms of the explicit differences `image - diag(s) X'`
    /// computed in Double, for `X'` given wide or tall, with lengths that leave a ragged tile.
    @Test(arguments: ScalarKind.allCases)
    func residualRowNormsMatchTheExplicitDifference(scalar: ScalarKind) {
        func check<S: BLASScalar>(_: S.Type) {
            // The last spans three of the parallel sum's column chunks (residualChunk), the last ragged.
            for (k, n) in [(1, 1), (5, 17), (64, 10_003), (7, 2 * residualChunk + 1_001)] {
                let image = Matrix<Double>.gaussian(rows: k, columns: n, seed: UInt64(k + n)).converted(to: S.self)
                let wide = Matrix<Double>.gaussian(rows: k, columns: n, seed: UInt64(3 * k + n)).converted(to: S.self)
                let s = (0..<k).map { S(1) / S($0 + 1) }
                let expected: [Double] = (0..<k).map { i in
                    (0..<n).reduce(0.0) { sum, j in
                        let d = Double(image[i, j]) - Double(s[i]) * Double(wide[i, j]); return sum + d * d
                    }
                }
                let fromRows = residualRowNorms(image, s, wide, vectorsAreRows: true)
                let fromColumns = residualRowNorms(image, s, wide.transposed(), vectorsAreRows: false)
                for i in 0..<k {
                    // One rounding of the product and of the difference in S per element.
                    let scale = Double(n) * (Double(image.maxAbs) + Double(wide.maxAbs)) * (Double(image.maxAbs) + Double(wide.maxAbs))
                    let bound = 8 * scalar.epsilon * scale
                    #expect(abs(fromRows[i] - expected[i]) <= bound, "\(scalar), \(k) x \(n), row \(i)")
                    #expect(abs(fromColumns[i] - expected[i]) <= bound, "\(scalar), \(k) x \(n), row \(i)")
                }
            }
        }
        if scalar == .float { check(Float.self) } else { check(Double.self) }
    }

    /// The finiteness check made through the Gram diagonal throws for NaN and infinity as
    /// `checkFinite` does, and not for a finite block whose squares overflow (that block goes
    /// to the Householder fallback and comes back orthonormal).
    @Test func choleskyQRFiniteCheckThrowsExactlyForNonFiniteBlocks() throws {
        for bad in [Float.nan, Float.infinity, -Float.infinity] {
            var yt = Matrix<Double>.gaussian(rows: 6, columns: 500, seed: 9).converted(to: Float.self)
            yt[2, 321] = bad
            #expect(throws: SolverError.self) { try choleskyOrthonormalizeRows(&yt, passes: 1, finiteCheck: "test block") }
        }
        var huge = Matrix<Double>.gaussian(rows: 6, columns: 500, seed: 10).converted(to: Float.self)
        huge[1, 17] = 1e30                                   // finite, but its square overflows Float
        try choleskyOrthonormalizeRows(&huge, passes: 2, finiteCheck: "test block")
        #expect(TestMatrices.orthonormalityError(huge.transposed()) <= 50 * Double(Float.ulpOfOne))
    }
}
