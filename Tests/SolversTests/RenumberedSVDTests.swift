import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// The randomized SVD of a renumbered sparse matrix (`CSRMatrix.permuted`, the node order for
/// the gathers' locality) with its test matrix renumbered alike (`testMatrixRowOrder`): the
/// same answer as the input order up to rounding, and LAPACK's dense answer.
@Suite struct RenumberedSVDTests {
    func shuffled(_ n: Int, seed: UInt64) -> [Int32] { randomPermutation(n, seed: seed) }

    func renumberedEqualsInputOrder<S: BLASScalar>(_: S.Type) throws {
        let m = 300, n = 120, k = 6
        let dense = TestMatrices.knownSpectrum(rows: m, columns: n, singularValues: TestMatrices.fastDecay(n), seed: 11)
        let a = CSRMatrix(dense: dense).converted(to: S.self)
        let rows = shuffled(m, seed: 1), columns = shuffled(n, seed: 2)
        let p = a.permuted(rowOrder: rows, columnOrder: columns)
        let plain = try RandomizedSVD.compute(a, .init(rank: k, seed: 3))
        var settings = RandomizedSVD.Configuration(rank: k, seed: 3)
        settings.testMatrixRowOrder = columns
        let renumbered = try RandomizedSVD.compute(p, settings)
        let exact = try dense.svd().s
        // Rounding of a few hundred sums and the Cholesky QRs: 1000 ulp of s_1 (2.2e-13 in
        // Double, 1.2e-4 in Float); the spectrum is gapped (s_i = e^{-i/2}), so the vectors
        // follow the values to the gap's inverse (about 2.5).
        let eps = Double(S.ulpOfOne), s1 = exact[0]
        for i in 0..<k {
            #expect(abs(Double(renumbered.s[i]) - Double(plain.s[i])) <= 1000 * eps * s1)
            #expect(abs(Double(renumbered.s[i]) - exact[i]) <= 1000 * eps * s1)
            #expect(abs(Double(plain.s[i]) - exact[i]) <= 1000 * eps * s1)
        }
        // The factors back in the input order are the input order's factors.
        let u = renumbered.u.scatteringRows(rows), vt = renumbered.vt.scatteringColumns(columns)
        #expect(TestMatrices.maxDifference(u, plain.u) <= 3000 * eps)
        #expect(TestMatrices.maxDifference(vt, plain.vt) <= 3000 * eps)
        #expect(abs(renumbered.diagnostics.maxRelativeResidual - plain.diagnostics.maxRelativeResidual) <= 1000 * eps)
        #expect(renumbered.diagnostics.operatorApplications == plain.diagnostics.operatorApplications)
    }

    /// Without power iterations or oversampling on a slowly decaying spectrum the answer depends
    /// on `Ω` itself (the top of the spectrum is not resolved): the renumbered run matches only
    /// when its test matrix is the draw renumbered like the columns.
    @Test func theRenumberedTestMatrixIsTheDrawRenumbered() throws {
        let m = 150, n = 100, k = 5
        let dense = TestMatrices.knownSpectrum(rows: m, columns: n, singularValues: TestMatrices.slowDecay(n), seed: 3)
        let a = CSRMatrix(dense: dense)
        let rows = shuffled(m, seed: 4), columns = shuffled(n, seed: 5)
        let p = a.permuted(rowOrder: rows, columnOrder: columns)
        var settings = RandomizedSVD.Configuration(rank: k, oversamples: 0, powerIterations: 0, seed: 6)
        let plain = try RandomizedSVD.compute(a, settings)
        let unordered = try RandomizedSVD.compute(p, settings)
        settings.testMatrixRowOrder = columns
        let renumbered = try RandomizedSVD.compute(p, settings)
        let s1 = plain.s[0], eps = Double.ulpOfOne
        let gap = (0..<(k - 1)).map { plain.s[$0] - plain.s[$0 + 1] }.min()!
        for i in 0..<k { #expect(abs(renumbered.s[i] - plain.s[i]) <= 100 * eps * s1) }
        #expect(TestMatrices.maxDifference(renumbered.u.scatteringRows(rows), plain.u) <= 100 * eps * s1 / gap)
        #expect(TestMatrices.maxDifference(renumbered.vt.scatteringColumns(columns), plain.vt) <= 100 * eps * s1 / gap)
        // The draw in its own order is another test matrix: another answer (by far more than rounding).
        #expect((0..<k).map { abs(unordered.s[$0] - plain.s[$0]) }.max()! > 1e-6 * s1)
    }

    @Test func renumberedEqualsInputOrderDouble() throws { try renumberedEqualsInputOrder(Double.self) }
    @Test func renumberedEqualsInputOrderFloat() throws { try renumberedEqualsInputOrder(Float.self) }

    /// The generic (dense operator) path renumbers its test matrix the same way.
    @Test func genericPathRenumbersTheTestMatrix() throws {
        let dense = TestMatrices.knownSpectrum(rows: 200, columns: 90, singularValues: TestMatrices.fastDecay(90), seed: 31)
        let columns = shuffled(90, seed: 8)
        let permuted = dense.gatheringColumns(columns)
        let plain = try RandomizedSVD.compute(dense, .init(rank: 5, seed: 4))
        var settings = RandomizedSVD.Configuration(rank: 5, seed: 4)
        settings.testMatrixRowOrder = columns
        let renumbered = try RandomizedSVD.compute(permuted, settings)
        for i in 0..<5 { #expect(abs(renumbered.s[i] - plain.s[i]) <= 1000 * Double.ulpOfOne * plain.s[0]) }
        #expect(TestMatrices.maxDifference(renumbered.vt.scatteringColumns(columns), plain.vt) <= 3000 * Double.ulpOfOne)
    }

    @Test func anOrderThatIsNoPermutationIsRejected() throws {
        let a = CSRMatrix(dense: TestMatrices.knownSpectrum(rows: 60, columns: 40, singularValues: TestMatrices.fastDecay(40), seed: 1))
        for bad: [Int32] in [Array(0..<39), Array(repeating: 0, count: 40), (0..<40).map { $0 == 7 ? 40 : $0 }] {
            var settings = RandomizedSVD.Configuration(rank: 3)
            settings.testMatrixRowOrder = bad
            let e = #expect(throws: SolverError.self) { try RandomizedSVD.compute(a, settings) }
            #expect(String(describing: e).contains("testMatrixRowOrder"))
        }
    }
}
