import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

@Suite("Truncated SVD behaviour") struct SVDBehaviourTests {
    let a = TestMatrices.knownSpectrum(rows: 200, columns: 90, singularValues: TestMatrices.fastDecay(90), seed: 31)

    @Test func powerIterationDefaultFollowsScikitLearn() {
        let c = RandomizedSVD.Configuration(rank: 5)
        #expect(c.resolvedPowerIterations(rows: 1000, columns: 100) == 7)   // 5 < 10
        #expect(c.resolvedPowerIterations(rows: 1000, columns: 50) == 4)    // 5 = 0.1 * 50, not below
        #expect(RandomizedSVD.Configuration(rank: 5, powerIterations: 2).resolvedPowerIterations(rows: 1000, columns: 100) == 2)
        #expect(c.oversamples == 10 && c.normalizer == .choleskyQRWhenNeeded && c.seed == 0)
    }

    @Test func randomizedCountsItsPasses() throws {
        let r = try RandomizedSVD.compute(a, .init(rank: 6, powerIterations: 3))
        #expect(r.diagnostics.operatorApplications == 2 * 3 + 2)
        #expect(!r.diagnostics.usedDenseSVD)
        #expect(r.diagnostics.phases.map(\.name) == ["random test matrix", "range finder", "Rayleigh-Ritz", "residuals"])
        let b = try BlockKrylovSVD.compute(a, .init(rank: 6, iterations: 3))
        #expect(b.diagnostics.operatorApplications == 2 * 3 + 2)
    }

    @Test func denseFallbackWhenTheSubspaceReachesMinMN() throws {
        let exact = try a.svd()
        let r = try RandomizedSVD.compute(a, .init(rank: 85))     // 85 + 10 >= 90
        #expect(r.diagnostics.usedDenseSVD && r.diagnostics.method == "dense gesdd")
        for i in 0..<85 { #expect(abs(r.s[i] - exact.s[i]) <= 1e-13) }
        #expect(r.diagnostics.maxRelativeResidual <= 1e-13)
    }

    @Test func differentSeedsGiveTheSameSubspaceOnAGappedSpectrum() throws {
        let r1 = try RandomizedSVD.compute(a, .init(rank: 5, seed: 1))
        let r2 = try RandomizedSVD.compute(a, .init(rank: 5, seed: 2))
        #expect(r1.diagnostics.seed == 1 && r2.diagnostics.seed == 2)
        // Thanks to the sign convention, the vectors agree too, not just the values.
        #expect(TestMatrices.maxDifference(r1.u, r2.u) <= 1e-10)
        #expect(TestMatrices.maxDifference(r1.vt, r2.vt) <= 1e-10)
    }

    @Test func residualsMatchADirectComputation() throws {
        let r = try RandomizedSVD.compute(a, .init(rank: 4, oversamples: 0, powerIterations: 0))
        let v = r.vt.transposed()
        for i in 0..<4 {
            var d = 0.0
            for row in 0..<a.rows {
                var av = 0.0
                for col in 0..<a.columns { av += a[row, col] * v[col, i] }
                d += pow(av - r.s[i] * r.u[row, i], 2)
            }
            #expect(abs(d.squareRoot() / r.s[0] - r.diagnostics.leftResiduals![i]) <= 1e-12)
        }
    }

    @Test func residualNormEstimateApproachesTheTrueNorm() throws {
        // ||A - A_k||_2 = s_{k+1} for the best rank-k approximation.
        let exact = try a.svd()
        let r = try RandomizedSVD.compute(a, .init(rank: 6, residualNormEstimateIterations: 30))
        let estimate = try #require(r.diagnostics.residualNormEstimate)
        #expect(estimate <= exact.s[6] * (1 + 1e-9))
        #expect(estimate >= exact.s[6] * 0.99, "estimate \(estimate), true \(exact.s[6])")
        #expect(r.diagnostics.phases.last?.name == "residual norm estimate")
    }

    @Test func invalidConfigurationsThrow() {
        #expect(throws: SolverError.self) { _ = try RandomizedSVD.compute(a, .init(rank: 0)) }
        #expect(throws: SolverError.self) { _ = try RandomizedSVD.compute(a, .init(rank: 91)) }
        #expect(throws: SolverError.self) { _ = try RandomizedSVD.compute(a, .init(rank: 3, oversamples: -1)) }
        #expect(throws: SolverError.self) { _ = try BlockKrylovSVD.compute(a, .init(rank: 3, blockSize: 2)) }
        #expect(throws: SolverError.self) { _ = try ARPACKSVD.compute(a, .init(rank: 3, subspaceSize: 3)) }
        #expect(throws: SolverError.self) { _ = try RandomizedSVD.compute(Matrix<Double>(rows: 0, columns: 4), .init(rank: 1)) }
    }

    @Test func nonFiniteOperatorIsReported() {
        var bad = a
        bad[3, 4] = .nan
        #expect(throws: SolverError.self) { _ = try RandomizedSVD.compute(bad, .init(rank: 3)) }
    }

    @Test func arpackSVDPartialConvergenceIsReported() throws {
        let slow = TestMatrices.knownSpectrum(rows: 300, columns: 200, singularValues: TestMatrices.slowDecay(200), seed: 33)
        let r = try ARPACKSVD.compute(slow, .init(rank: 20, subspaceSize: 42, maxIterations: 1))
        #expect(!r.diagnostics.allConverged)
        #expect(r.rank == r.diagnostics.converged && r.rank < 20)
        #expect(r.u.columns == r.rank && r.vt.rows == r.rank)
    }

    @Test func floatResultsAgreeWithDouble() throws {
        let rd = try RandomizedSVD.compute(a, .init(rank: 5))
        let rf = try RandomizedSVD.compute(a.converted(to: Float.self), .init(rank: 5))
        for i in 0..<5 { #expect(abs(Double(rf.s[i]) - rd.s[i]) <= 1e-5) }
        #expect(TestMatrices.maxDifference(rf.u.converted(to: Double.self), rd.u) <= 1e-3)
    }

    @Test(arguments: [1.0, 1e3, 1e6, 1e9])
    func choleskyQRIsOrthonormalAndKeepsTheSpanAtAnyCondition(condition: Double) throws {
        // Columns with singular values from 1 down to 1/condition: CholeskyQR2 below eps^-1/2,
        // the Householder fallback above it; either way the output is orthonormal to rounding.
        let y = TestMatrices.graded(rows: 500, columns: 12, condition: condition, seed: 40)
        for scalar in ScalarKind.allCases {
            func check<S: BLASScalar>(_: S.Type) throws {
                let ys = y.converted(to: S.self)
                let q = try choleskyOrthonormalized(ys)
                #expect(TestMatrices.orthonormalityError(q) <= 50 * scalar.epsilon, "\(scalar), cond \(condition)")
                // Same span: Y - Q Q'Y is tiny relative to Y's smallest direction resolvable in S.
                let projected = ys - q * Matrix.product(q, .transpose, ys)
                #expect(Double(projected.frobeniusNorm) <= 1e3 * scalar.epsilon * Double(ys.frobeniusNorm))
            }
            if scalar == .float { try check(Float.self) } else { try check(Double.self) }
        }
    }
}
