import Testing
import LinearAlgebra
@testable import Solvers

/// ``ChebyshevEigensolver/gaussianRows(_:_:seed:)`` (the start blocks of the Chebyshev and block
/// Lanczos solvers) draws straight into the wide block: it must equal the transpose of
/// `parallelGaussian` to the bit, for every size (groups of 16 vectors, chunks of 2,048
/// coordinates, their remainders), with the vector groups split over `Parallel.threads` (the
/// process-wide setting is left alone: other tests run concurrently).
@Suite("Gaussian start blocks") struct GaussianRowsTests {
    func check<S: BLASScalar>(_: S.Type, rows: Int, n: Int, seed: UInt64) {
        let want: Matrix<S> = parallelGaussian(rows: n, columns: rows, seed: seed).transposed()
        let got: Matrix<S> = ChebyshevEigensolver.gaussianRows(rows, n, seed: seed)
        #expect(got.rows == rows && got.columns == n)
        #expect(got.elements == want.elements, "\(S.self) \(rows) x \(n), seed \(seed)")
    }

    @Test func sameBitsAsTheTransposedGaussianBlock() {
        for (rows, n) in [(1, 1), (3, 5000), (16, 2048), (17, 4097), (40, 3000), (80, 6001)] {
            check(Float.self, rows: rows, n: n, seed: 11)
            check(Double.self, rows: rows, n: n, seed: 12)
        }
    }
}
