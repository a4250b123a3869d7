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
}
