import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// The Chebyshev filter's vectors against the dense answer: `T_m(B) x` with `B = (A - c I) / e`
/// computed from LAPACK's eigendecomposition of `A` (in `Double`), each vector to its own degree,
/// with the first step taken by a product and, as the solver does, from the Rayleigh-Ritz
/// images `A X` handed in (no product).
@Suite("Chebyshev filter steps") struct ChebyshevFilterStepTests {
    static let degrees = [5, 0, 8, 1, 2, 8, 3]

    /// `T_m(B) x` for every column `x` of `x0` (`n x b`, Double) and its degree, from the
    /// eigendecomposition `A = V diag(λ) V'`.
    static func dense(_ a: Matrix<Double>, _ x0: Matrix<Double>, lower: Double, cut: Double) throws -> (Matrix<Double>, [Double]) {
        let n = a.rows, b = x0.columns
        let eig = try a.symmetricEigen()
        let e = (cut - lower) / 2, c = (cut + lower) / 2
        let coordinates = Matrix.product(eig.vectors, .transpose, x0, .none)         // V' X, n x b
        var out = Matrix<Double>(rows: n, columns: b)
        var largest = [Double](repeating: 0, count: b)                              // max_j |T_m(μ_j)|
        for column in 0..<b {
            let m = degrees[column]
            var scaled = Matrix<Double>(rows: n, columns: 1)
            for j in 0..<n {
                let mu = (eig.values[j] - c) / e
                var (t0, t1) = (1.0, mu)
                if m == 0 { t1 = 1 } else { for _ in 1..<m { (t0, t1) = (t1, 2 * mu * t1 - t0) } }
                scaled[j, 0] = t1 * coordinates[j, column]
                largest[column] = max(largest[column], abs(t1))
            }
            let y = Matrix.product(eig.vectors, .none, scaled, .none)
            for i in 0..<n { out[i, column] = y[i, 0] }
        }
        return (out, largest)
    }

    func check<S: BLASScalar>(_: S.Type, images: Bool) throws {
        let n = 60
        let ad = ChebyshevEigensolverTests.normalisedAdjacency(n: n, seed: 21)
        var a = Matrix<S>(rows: n, columns: n)
        for j in 0..<n { for i in 0..<n { a[i, j] = S(ad[i, j]) } }
        let csr = CSRMatrix(dense: a)
        let b = Self.degrees.count
        let lower = -1.05, cut = 0.4
        var xt: Matrix<S> = ChebyshevEigensolver.gaussianRows(b, n, seed: 5)            // b x n: the vectors as rows
        var x0 = Matrix<Double>(rows: n, columns: b)
        for i in 0..<n { for v in 0..<b { x0[i, v] = Double(xt[v, i]) } }
        let (want, largest) = try Self.dense(ad, x0, lower: lower, cut: cut)
        var t0 = Matrix<S>(rows: b, columns: n), t1 = t0, out = Matrix<S>(rows: b, columns: n)
        if images { sparseProduct(csr, xt, into: &out) }
        let order = Self.degrees.indices.sorted { (Self.degrees[$0], $0) < (Self.degrees[$1], $1) }
        let products = ChebyshevEigensolver.chebyshevFilter(csr, &xt, degrees: Self.degrees, order: order, lower: lower, cut: cut,
                                                            t0: &t0, t1: &t1, out: &out, outHoldsImages: images)
        // One product per degree and vector, less the first step of each vector of degree >= 1 with images.
        let expected = Self.degrees.reduce(0, +) - (images ? Self.degrees.filter { $0 > 0 }.count : 0)
        #expect(products == expected, "\(S.self) images \(images): \(products) products, expected \(expected)")
        let norm = (0..<b).map { v in (0..<n).reduce(0.0) { $0 + x0[$1, v] * x0[$1, v] }.squareRoot() }
        for (position, v) in order.enumerated() {
            let m = Double(Self.degrees[v])
            // Each step rounds a sum of at most n terms: about (m + 1)^2 n eps of the largest
            // amplification times the vector's norm (the input rounded to S as well).
            let tolerance = 4 * (m + 1) * (m + 1) * Double(n) * Double(S.ulpOfOne) * largest[v] * norm[v]
            var error = 0.0
            for i in 0..<n { error = max(error, abs(Double(xt[position, i]) - want[i, v])) }
            #expect(error <= tolerance, "\(S.self) images \(images): vector \(v) (degree \(Int(m))) off by \(error) > \(tolerance)")
        }
    }

    @Test(arguments: [false, true]) func filteredVectorsMatchTheDenseAnswer(images: Bool) throws {
        try check(Double.self, images: images)
        try check(Float.self, images: images)
    }
}
