import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// `RandomizedSVD.Normalizer.choleskyQRPerIteration` normalises after the `A'` products only:
/// on a spectrum that falls by a factor of 4 over the block (the regime it is documented for)
/// it gives LAPACK's singular values to rounding, on the sparse and the generic path alike, with
/// the same number of passes as `choleskyQR`.
@Suite struct PerIterationNormalizerTests {
    @Test(arguments: ScalarKind.allCases)
    func perIterationNormalisationKeepsLAPACKsSingularValues(kind: ScalarKind) throws {
        switch kind {
        case .float: try check(Float.self, kind)
        case .double: try check(Double.self, kind)
        }
    }

    func check<S: BLASScalar>(_: S.Type, _ kind: ScalarKind) throws {
        let rank = 12, oversamples = 10, l = rank + oversamples
        // s falls from 1 to 1/4 over the block's 22 columns, then a gap to 0.01 and below.
        let spectrum = (0..<120).map { i in i < l ? pow(4, -Double(i) / Double(l - 1)) : 0.01 * pow(0.9, Double(i - l)) }
        let dense = TestMatrices.knownSpectrum(rows: 400, columns: 300, singularValues: spectrum, seed: 21)
        let exact = try dense.singularValues()
        let a = dense.converted(to: S.self)
        // Direction j is resolved to about eps (s_1 / s_j)^2 (<= 4^2 here): a few dozen eps.
        let tolerance = 64 * kind.epsilon * 16
        let sparse = CSRMatrix(dense: a)
        func run(_ path: String, _ c: RandomizedSVD.Configuration) throws -> TruncatedSVD<S> {
            // A CSRMatrix takes the sparse path (row-major blocks); wrapped, the generic one.
            path == "sparse" ? try RandomizedSVD.compute(sparse, c) : try RandomizedSVD.compute(AnyLinearOperator(a), c)
        }
        for path in ["sparse", "generic"] {
            var passes: [Int] = []
            for normalizer in [RandomizedSVD.Normalizer.choleskyQR, .choleskyQRPerIteration] {
                let svd = try run(path, .init(rank: rank, oversamples: oversamples, normalizer: normalizer, seed: 5))
                #expect(svd.diagnostics.method.contains("(\(normalizer.rawValue),"))
                let worst = (0..<rank).map { abs(Double(svd.s[$0]) - exact[$0]) }.max()!
                #expect(worst <= tolerance, "\(kind) \(path) \(normalizer): largest singular value error \(worst) > \(tolerance)")
                #expect(svd.diagnostics.maxRelativeResidual <= 1e3 * kind.epsilon.squareRoot(), "\(kind) \(path) \(normalizer): residual \(svd.diagnostics.maxRelativeResidual)")
                passes.append(svd.diagnostics.operatorApplications)
            }
            #expect(passes[0] == passes[1])
        }
    }
}
