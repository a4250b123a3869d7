import Testing
import LinearAlgebra
@testable import Solvers

/// The sparse randomized SVD makes V' from `W' B` in place and takes the right residuals in the
/// same pass (session 13): the same bits as scaling into a copy and measuring the copy.
@Suite("In-place V' and right residuals") struct InPlaceScalingResidualTests {
    @Test func sameBitsAsTheCopyAndTheSeparatePass() {
        // Column counts below, at and above one residual chunk (2^14), so the chunked sums are covered.
        for (k, n) in [(1, 1), (7, 5000), (12, residualChunk), (5, 2 * residualChunk + 3)] {
            let image: Matrix<Float> = parallelGaussian(rows: k, columns: n, seed: UInt64(k * 31 + n))
            let s = (0..<k).map { Float(2.5) - Float($0) * 0.1 }
            let inverse = s.map { 1 / $0 }
            let copy = image.scaledRows(by: inverse)
            let reference = residualRowNorms(image, s, copy, vectorsAreRows: true)
            var inPlace = image
            let sums = scaleRowsMeasuringResiduals(&inPlace, inverse: inverse, s: s, measure: true)
            #expect(inPlace.elements.map(\.bitPattern) == copy.elements.map(\.bitPattern), "\(k) x \(n)")
            #expect(sums == reference, "\(k) x \(n)")
            if n > 1000 { #expect(reference.contains { $0 > 0 }, "\(k) x \(n): the rounding residual is not all zero") }
            var unmeasured = image
            #expect(scaleRowsMeasuringResiduals(&unmeasured, inverse: inverse, s: s, measure: false) == nil)
            #expect(unmeasured.elements.map(\.bitPattern) == copy.elements.map(\.bitPattern))
        }
    }
}
