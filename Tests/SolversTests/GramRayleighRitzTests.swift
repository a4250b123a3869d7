import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

// The Rayleigh-Ritz SVD of the sparse randomized SVD's wide block from its Gram matrix in
// Double (`gramRowSVD`, session 12) against LAPACK's dense `gesdd` of the same block.
@Suite("Gram-matrix Rayleigh-Ritz") struct GramRayleighRitzTests {
    /// On blocks with `s_1 / s_k <= 8` the singular values match `gesdd`'s to a few `eps s_1`,
    /// the left vectors match up to sign, and `Z' = S^-1 W' B` has orthonormal rows and
    /// reconstructs the block's rank-`k` part; in both precisions.
    @Test(arguments: ScalarKind.allCases)
    func matchesLAPACKOnWellConditionedBlocks(scalar: ScalarKind) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let eps = scalar.epsilon, l = 12
            for (condition, seed) in [(1.5, UInt64(1)), (7.9, UInt64(2))] {
                let b = TestMatrices.graded(rows: 30_000, columns: l, condition: condition, seed: seed).converted(to: S.self).transposed()
                guard let (w, s) = try gramRowSVD(b, rank: l, finiteCheck: "test block") else {
                    Issue.record("declined a block of condition \(condition)"); return
                }
                let reference = try b.svd()                               // l x l U, s, l x n V'
                let s1 = Double(reference.s[0])
                for i in 0..<l {
                    #expect(abs(Double(s[i]) - Double(reference.s[i])) <= 8 * Double(l) * eps * s1, "\(scalar) cond \(condition) s\(i)")
                    // Distinct values (gaps of 3.6 % or more): the vectors agree up to sign.
                    var dot = 0.0
                    for r in 0..<l { dot += Double(w[r, i]) * Double(reference.u[r, i]) }
                    #expect(abs(abs(dot) - 1) <= 1e3 * eps, "\(scalar) cond \(condition) w\(i)")
                }
                var zt = Matrix.product(w, .transpose, b, .none)
                zt.scaleRows(by: s.map { 1 / $0 })
                #expect(TestMatrices.orthonormalityError(zt.transposed()) <= 8 * condition * Double(l) * eps, "\(scalar) cond \(condition)")
                var ws = w
                ws.scaleColumns(by: s)
                let rebuilt = Matrix.product(ws, .none, zt, .none)
                #expect(TestMatrices.maxDifference(rebuilt, b) <= 8 * condition * Double(l) * eps * Double(b.maxAbs), "\(scalar) cond \(condition)")
            }
        }
        if scalar == .float { try check(Float.self) } else { try check(Double.self) }
    }

    /// It declines ill-conditioned ranks (the caller then takes CholeskyQR2's `thinSVD`), small
    /// blocks and zero blocks, and accepts the well-conditioned leading part of the same block.
    @Test func declinesIllConditionedRanks() throws {
        let b = TestMatrices.graded(rows: 20_000, columns: 12, condition: 100, seed: 5).converted(to: Float.self).transposed()
        #expect(try gramRowSVD(b, rank: 12, finiteCheck: "test block") == nil)            // s1 / s12 = 100
        let leading = try #require(try gramRowSVD(b, rank: 5, finiteCheck: "test block")) // s1 / s5 = 100^(4/11) = 5.3
        #expect(leading.w.columns == 5 && leading.s.count == 5)
        #expect(try gramRowSVD(Matrix<Float>(rows: 12, columns: 40), rank: 3, finiteCheck: "test block") == nil)   // n < 4 l
        #expect(try gramRowSVD(Matrix<Float>(rows: 4, columns: 400), rank: 3, finiteCheck: "test block") == nil)   // zero
    }

    /// NaN or infinity in the block throws `SolverError.nonFinite`; a finite block whose squares
    /// overflow `Float` does not (its Gram matrix is in Double).
    @Test func nonFiniteBlocksThrow() throws {
        for bad in [Float.nan, Float.infinity, -Float.infinity] {
            var b = Matrix<Double>.gaussian(rows: 6, columns: 500, seed: 9).converted(to: Float.self)
            b[2, 321] = bad
            #expect(throws: SolverError.self) { _ = try gramRowSVD(b, rank: 3, finiteCheck: "test block") }
        }
        var huge = Matrix<Double>.gaussian(rows: 6, columns: 500, seed: 10).converted(to: Float.self)
        huge[1, 17] = 1e30
        _ = try gramRowSVD(huge, rank: 3, finiteCheck: "test block")
    }

    /// The sparse randomized SVD of a rank-16 matrix (its 18-vector basis holds the whole range)
    /// through the Gram path (`s_1 / s_8 = 1.4`) and through the CholeskyQR2 fallback
    /// (`s_1 / s_8 = 630`) gives LAPACK's leading singular values and rounding-level residuals.
    @Test(arguments: [0.5, 1e-6])
    func sparseRandomizedSVDOnBothPaths(bottom: Double) throws {
        let m = 900, n = 700, k = 8
        let values = (0..<16).map { pow(bottom, Double($0) / 15) }
        let dense = TestMatrices.knownSpectrum(rows: m, columns: n, singularValues: values, seed: 21)
        var coo = COOMatrix<Double>(rows: m, columns: n)
        for i in 0..<m { for j in 0..<n where dense[i, j] != 0 { coo.append(row: i, column: j, value: dense[i, j]) } }
        let csr = try coo.toCSR()
        let svd = try RandomizedSVD.compute(csr, .init(rank: k, oversamples: 10, powerIterations: 4, seed: 3))
        let reference = try dense.svd().s
        for i in 0..<k { #expect(abs(svd.s[i] - reference[i]) <= 1e-9 * reference[0], "s\(i) with bottom \(bottom)") }
        #expect(svd.diagnostics.maxRelativeResidual <= 1e-8)
    }
}

// The sparse randomized SVD's test matrix drawn straight into its transposed layout (session 12).
@Suite("Transposed Gaussian draw") struct TransposedGaussianTests {
    /// Bit for bit the draw then `Matrix.transposed()`, in both precisions, for row counts on
    /// and off the 2048-row tile and column counts below, at and above the thread count.
    @Test func matchesTheDrawThenTranspose() {
        for (rows, columns) in [(1, 1), (2047, 3), (2048, 74), (5001, 7), (10_000, 1)] {
            let floats: Matrix<Float> = parallelGaussianTransposed(rows: rows, columns: columns, seed: 11)
            let floatReference: Matrix<Float> = parallelGaussian(rows: rows, columns: columns, seed: 11).transposed()
            #expect(floats.rows == columns && floats.columns == rows)
            #expect(floats.elements.map(\.bitPattern) == floatReference.elements.map(\.bitPattern), "Float \(rows) x \(columns)")
            let doubles: Matrix<Double> = parallelGaussianTransposed(rows: rows, columns: columns, seed: 12)
            let doubleReference: Matrix<Double> = parallelGaussian(rows: rows, columns: columns, seed: 12).transposed()
            #expect(doubles.elements.map(\.bitPattern) == doubleReference.elements.map(\.bitPattern), "Double \(rows) x \(columns)")
        }
        let empty: Matrix<Float> = parallelGaussianTransposed(rows: 0, columns: 4, seed: 1)
        #expect(empty.rows == 4 && empty.columns == 0)
    }
}
