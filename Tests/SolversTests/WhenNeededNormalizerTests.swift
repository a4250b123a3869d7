import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// `RandomizedSVD.Normalizer.choleskyQRWhenNeeded` (session 13) skips the range finder's
/// normalisations after `A` products while the block's measured condition growth allows: LAPACK's
/// singular values to rounding on a flat spectrum (where it skips q - 1), a steep one (none) and
/// on matrices scaled far from 1 (where the norm guard normalises), on both paths.
@Suite struct WhenNeededNormalizerTests {
    enum Shape: CaseIterable { case flat, steep, large, small }

    func matrix(_ shape: Shape) -> (Matrix<Double>, spectrum: [Double]) {
        let l = 22
        let spectrum: [Double] = (0..<120).map { i in
            switch shape {
            case .flat, .large, .small: return i < l ? 1 - 0.2 * Double(i) / Double(l - 1) : 0.01 * pow(0.9, Double(i - l))
            case .steep: return i < l ? pow(1e3, -Double(i) / Double(l - 1)) : 1e-4 * pow(0.9, Double(i - l))
            }
        }
        let scale: Double = shape == .large ? 1e9 : shape == .small ? 1e-9 : 1
        return (TestMatrices.knownSpectrum(rows: 400, columns: 300, singularValues: spectrum.map { $0 * scale }, seed: 31), spectrum)
    }

    @Test(arguments: ScalarKind.allCases, Shape.allCases)
    func keepsLAPACKsSingularValues(kind: ScalarKind, shape: Shape) throws {
        switch kind {
        case .float: try check(Float.self, kind, shape)
        case .double: try check(Double.self, kind, shape)
        }
    }

    func check<S: BLASScalar>(_: S.Type, _ kind: ScalarKind, _ shape: Shape) throws {
        let rank = 12, q = 7
        let (dense, _) = matrix(shape)
        let exact = try dense.singularValues()
        let a = dense.converted(to: S.self), sparse = CSRMatrix(dense: a)
        // The block's condition number is allowed to reach 100 (Float) between normalisations,
        // so its weakest direction is resolved to about 100 eps: the singular values, second
        // order in the basis error, stay at a few dozen eps of s_1, as with every normalisation.
        let tolerance = 64 * kind.epsilon * 16 * exact[0]
        for path in ["sparse", "generic"] {
            var answers: [[Double]] = []
            for normalizer in [RandomizedSVD.Normalizer.choleskyQR, .choleskyQRWhenNeeded] {
                let c = RandomizedSVD.Configuration(rank: rank, oversamples: 10, powerIterations: q, normalizer: normalizer, seed: 5)
                let svd = path == "sparse" ? try RandomizedSVD.compute(sparse, c) : try RandomizedSVD.compute(AnyLinearOperator(a), c)
                let worst = (0..<rank).map { abs(Double(svd.s[$0]) - exact[$0]) }.max()!
                #expect(worst <= tolerance, "\(kind) \(shape) \(path) \(normalizer): largest singular value error \(worst) > \(tolerance)")
                #expect(svd.diagnostics.maxRelativeResidual <= 1e3 * kind.epsilon.squareRoot(), "\(kind) \(shape) \(path) \(normalizer): residual \(svd.diagnostics.maxRelativeResidual)")
                #expect(svd.diagnostics.operatorApplications == 2 * q + 2)
                answers.append(svd.s.map { Double($0) })
                guard normalizer == .choleskyQRWhenNeeded else { continue }
                // How many of the 14 blocks were normalised, from the diagnostics.
                let method = svd.diagnostics.method
                #expect(method.hasPrefix("randomized (choleskyQRWhenNeeded, "), "\(method)")
                let count = Int(method.split(separator: ",")[1].split(separator: " ")[0])!
                // Every A' block is normalised (q of them), and the first A block; the other A
                // blocks only when the block's growth asks for it.
                switch shape {
                case .flat: #expect(count == q + 1, "\(kind) \(path) flat: \(method)")
                case .steep:
                    // s_1 / s_22 = 1000: past Float's limit (100) in one product; Double's limit
                    // (10^6) is the condition number of about two products.
                    if kind == .float { #expect(count == 2 * q, "\(path) steep Float: \(method)") }
                    else { #expect(count >= q + 1, "\(path) steep Double: \(method)") }
                case .large, .small:
                    // The norm moves by 1e9 (1e-9) per product: Float's guard (1e12) normalises
                    // every block; Double's (1e100) lets two products go between normalisations.
                    if kind == .float { #expect(count == 2 * q, "\(path) \(shape) Float: \(method)") }
                    else { #expect(count == q + 1, "\(path) \(shape) Double: \(method)") }
                }
            }
            // Both normalisers find the same subspace: the same singular values to rounding.
            let apart = zip(answers[0], answers[1]).map { abs($0 - $1) }.max()!
            #expect(apart <= tolerance, "\(kind) \(shape) \(path): the two normalisers' singular values differ by \(apart)")
        }
    }

    /// The schedule's rule by itself: the first block is always normalised; the measured growth
    /// sets how many products go before the next; a fallback (nothing measured) normalises every one.
    @Test func scheduleFollowsTheMeasuredGrowth() {
        var s = NormalizationSchedule(Float.self, testMatrixRows: 10_000)
        s.recordProduct()
        #expect(s.mustNormalize(afterTranspose: false))                        // nothing measured yet
        // A Ω measured with condition 2 and norm 100 (the test matrix's norm is 100 = sqrt(10^4)).
        s.recordNormalization(BlockMeasure(norm: 100, condition: 2))
        var skipped = 0
        while true { s.recordProduct(); if s.mustNormalize(afterTranspose: false) { break }; skipped += 1 }
        #expect(skipped == 5)                           // normalised after 6 products: 2^6 = 64 <= 100 < 2^7
        s.recordNormalization(BlockMeasure(norm: 1, condition: 64))
        #expect(abs(s.conditionGrowth! - 2) <= 1e-12)
        s.recordNormalization(nil)                      // a Householder fallback
        s.recordProduct()
        #expect(s.mustNormalize(afterTranspose: false))
        #expect(s.normalizations == 3)
        // After an A' product the block is normalised whatever the growth allows.
        var t = NormalizationSchedule(Float.self, testMatrixRows: 10_000)
        t.recordProduct()
        t.recordNormalization(BlockMeasure(norm: 100, condition: 2))
        t.recordProduct()
        #expect(!t.mustNormalize(afterTranspose: false) && t.mustNormalize(afterTranspose: true))
        t.countNormalization()
        #expect(t.normalizations == 2)
        // The norm guard: a norm growing by 1e5 per product (Float's limit 1e12) goes two
        // products between normalisations (1e10), not three (1e15); shrinking by 1e-4, two (its weakest
        // direction, 100 times smaller, at 1e-10), not three (1e-14 < 1e-12).
        for growth in [1e5, 1e-4] {
            var g = NormalizationSchedule(Float.self, testMatrixRows: 1)
            g.recordProduct()
            g.recordNormalization(BlockMeasure(norm: growth, condition: 1))
            g.recordProduct()
            #expect(!g.mustNormalize(afterTranspose: false), "\(growth)")
            g.recordProduct()
            #expect(g.mustNormalize(afterTranspose: false), "\(growth)")
        }
    }

    /// The test matrix drawn in a renumbered order is the draw with its rows gathered, bit for bit.
    @Test func renumberedDrawIsTheGatheredDraw() {
        for (rows, columns) in [(1, 1), (2049, 7), (5000, 74)] {
            var order = (0..<Int32(rows)).map { $0 }
            var rng = Xoshiro256(seed: 3)
            order.shuffle(using: &rng)
            let direct: Matrix<Float> = parallelGaussianTransposed(rows: rows, columns: columns, seed: 9, rowOrder: order)
            let reference: Matrix<Float> = parallelGaussianTransposed(rows: rows, columns: columns, seed: 9)
            #expect(direct.elements.map(\.bitPattern) == reference.gatheringColumns(order).elements.map(\.bitPattern), "\(rows) x \(columns)")
        }
    }
}
