import Dispatch
import Foundation
import Synchronization
import Testing
import LinearAlgebra
@testable import Solvers

/// The block Lanczos basis GEMMs split over coordinate ranges (one single-threaded GEMM per
/// thread) against the products in double, and the solvers with the split on small problems
/// against LAPACK's dense answers.
@Suite("Block Lanczos basis GEMMs split by coordinates") struct BasisGEMMTests {
    /// A seeded wide block (`rows x n`, entries in [-1, 1)).
    static func block<S: BLASScalar>(_: S.Type, rows: Int, _ n: Int, seed: UInt64) -> Matrix<S> {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var m = Matrix<S>(rows: rows, columns: n)
        for c in 0..<n {
            for r in 0..<rows {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                m[r, c] = S(Double(state >> 11) / Double(1 << 53) * 2 - 1)
            }
        }
        return m
    }

    @Test(arguments: ScalarKind.allCases, [1, 2, 3])
    func productsMatchDouble(scalar: ScalarKind, parts: Int) throws {
        func run<S: BLASScalar>(_: S.Type) {
            let n = 1_001, m = 24, b = 5, rows = 3..<20
            let v = Self.block(S.self, rows: m, n, seed: 1), w0 = Self.block(S.self, rows: b, n, seed: 2)
            let vd = v.converted(to: Double.self), wd = w0.converted(to: Double.self)
            let eps = Double(S.ulpOfOne)
            // C = V(rows) W': |C - exact| <= n eps sum |v||w| (each partial sum, then `parts` additions).
            let c = BasisGEMM.coefficients(v, rows: rows, w0, parts: parts)
            var exact = [Double](repeating: 0, count: rows.count * b), bound = exact
            for k in 0..<b {
                for (i, r) in rows.enumerated() {
                    for x in 0..<n {
                        exact[i + k * rows.count] += vd[r, x] * wd[k, x]
                        bound[i + k * rows.count] += abs(vd[r, x] * wd[k, x])
                    }
                }
            }
            for i in exact.indices {
                #expect(abs(Double(c[i]) - exact[i]) <= Double(n + parts) * eps * bound[i], "\(scalar) parts \(parts): C[\(i)]")
            }
            // W W' (the next block's Gram matrix): symmetric, each entry within the same bound.
            let g = BasisGEMM.gram(w0, parts: parts)
            for r in 0..<b {
                for k in 0..<b {
                    var want = 0.0, size = 0.0
                    for x in 0..<n { want += wd[r, x] * wd[k, x]; size += abs(wd[r, x] * wd[k, x]) }
                    #expect(g[r, k] == g[k, r] && abs(Double(g[r, k]) - want) <= Double(n + parts) * eps * size, "\(scalar) parts \(parts): G[\(r), \(k)]")
                }
            }
            // W -= C' V(rows): per element a sum over rows.count terms.
            var w = w0
            BasisGEMM.subtract(v, rows: rows, c, from: &w, parts: parts)
            for x in 0..<n {
                for k in 0..<b {
                    var want = wd[k, x], size = abs(wd[k, x])
                    for (i, r) in rows.enumerated() {
                        want -= Double(c[i + k * rows.count]) * vd[r, x]
                        size += abs(Double(c[i + k * rows.count]) * vd[r, x])
                    }
                    #expect(abs(Double(w[k, x]) - want) <= Double(rows.count + 1) * eps * size, "\(scalar) parts \(parts): W[\(k), \(x)]")
                }
            }
            // X = Y' V(0..<rows): into a wider target (leading dimension 9) from double coefficients.
            let kept = 4, used = 11
            let y = (0..<(used * kept)).map { Double(($0 * 37) % 17) / 8 - 1 }
            var x = Matrix<S>(rows: 9, columns: n)
            BasisGEMM.rotate(v, rows: used, y, columns: kept, into: &x, parts: parts)
            for col in 0..<n {
                for k in 0..<kept {
                    var want = 0.0, size = 0.0
                    for r in 0..<used { want += Double(S(y[r + k * used])) * vd[r, col]; size += abs(y[r + k * used] * vd[r, col]) }
                    #expect(abs(Double(x[k, col]) - want) <= Double(used + 1) * eps * size, "\(scalar) parts \(parts): X[\(k), \(col)]")
                }
            }
            // In place (the restart's rotation, small chunks): the same answer within the same bound.
            var inPlace = v
            BasisGEMM.rotateInPlace(&inPlace, rows: used, y, columns: kept, parts: parts, chunk: 100)
            for col in 0..<n {
                for k in 0..<kept {
                    let want = Double(x[k, col]), size = (0..<used).reduce(0.0) { $0 + abs(y[$1 + k * used] * vd[$1, col]) }
                    #expect(abs(Double(inPlace[k, col]) - want) <= 2 * Double(used + 1) * eps * size, "\(scalar) parts \(parts): in place [\(k), \(col)]")
                }
                for r in kept..<m { #expect(inPlace[r, col] == v[r, col], "rows past the kept ones stay") }
            }
        }
        BasisGEMM.$switchesBLASThreads.withValue(false) {
            switch scalar { case .float: run(Float.self); case .double: run(Double.self) }
        }
    }

    /// The split CholeskyQR2 of a block: orthonormal rows spanning the same space (W = R' Q).
    @Test(arguments: ScalarKind.allCases, [1, 3])
    func nextBlockIsOrthonormal(scalar: ScalarKind, parts: Int) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let n = 900, b = 6
            let w0 = Self.block(S.self, rows: b, n, seed: 8)
            var w = w0
            #expect(try BlockLanczos.orthonormalizeChecked(&w, parts: parts))
            let eps = Double(S.ulpOfOne)
            #expect(TestMatrices.orthonormalityError(w.transposed()) <= 1e2 * eps * Double(b), "\(scalar) parts \(parts)")
            // w0 lies in the span of the new rows: w0 - (w0 Q') Q is at rounding level.
            let back = Matrix.product(Matrix.product(w0, .none, w, .transpose), .none, w, .none)
            let scale = w0.elements.map { abs(Double($0)) }.max()!
            for i in 0..<(b * n) { #expect(abs(Double(back.elements[i]) - Double(w0.elements[i])) <= 1e2 * eps * Double(b) * scale * Double(n).squareRoot()) }
            // A vanished row (an invariant subspace reached) is refused.
            var dependent = w0
            for x in 0..<n { dependent[b - 1, x] = 0 }
            #expect(try !BlockLanczos.orthonormalizeChecked(&dependent, parts: parts))
        }
        try BasisGEMM.$switchesBLASThreads.withValue(false) {
            switch scalar { case .float: try run(Float.self); case .double: try run(Double.self) }
        }
    }

    @Test func partsFollowThreadsAndSize() {
        #expect(BasisGEMM.parts(100_000, threads: 2) == 2)
        #expect(BasisGEMM.parts(100_000, threads: 1) == 1)
        #expect(BasisGEMM.parts(6_000, threads: 4) == 1)
        #expect(BasisGEMM.parts(9_000, threads: 4) == 2)
        BasisGEMM.$partsOverride.withValue(3) { #expect(BasisGEMM.parts(10, threads: 1) == 3 && BasisGEMM.parts(2) == 2) }
    }

    /// Nested and concurrent scopes hold the value, and the value in force before the first
    /// scope is back after the last (on a stand-in for OpenBLAS's thread count: switching the
    /// real one would change concurrently running tests' threaded BLAS answers in the last bits).
    @Test func scopedSettingRestoresTheValue() {
        final class Value: Sendable { let m = Mutex(4) }
        let box = Value()
        let setting = ScopedSetting(get: { box.m.withLock { $0 } }, set: { v in box.m.withLock { $0 = v } })
        setting.run(1) {
            #expect(box.m.withLock { $0 } == 1)
            setting.run(1) { #expect(box.m.withLock { $0 } == 1) }
            #expect(box.m.withLock { $0 } == 1)
        }
        #expect(box.m.withLock { $0 } == 4)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            setting.run(1) {
                #expect(box.m.withLock { $0 } == 1)
                if i % 2 == 0 { setting.run(1) { #expect(box.m.withLock { $0 } == 1) } }
            }
        }
        #expect(box.m.withLock { $0 } == 4)
    }

    /// The whole solvers with the split (3 parts) on problems small enough for LAPACK's dense
    /// answer: BlockLanczosTests' own checks of the eigensolver and the SVD (tall and wide), run
    /// with every basis product split.
    @Test(arguments: ScalarKind.allCases)
    func solversWithTheSplitMatchLAPACK(scalar: ScalarKind) throws {
        try BasisGEMM.$partsOverride.withValue(3) { try BasisGEMM.$switchesBLASThreads.withValue(false) {
            let checks = BlockLanczosTests()
            try checks.largestEigenpairsMatchLAPACK(scalar: scalar)
            for wide in [false, true] { try checks.singularTripletsMatchLAPACK(scalar: scalar, wide: wide) }
        } }
    }

    /// BlockLanczosSVD's closing Rayleigh-Ritz on a sparse matrix: from the Gram matrix of `A V`
    /// when `s_1 / s_k <= 8` (slow decay: `sqrt(10)`), by CholeskyQR2 otherwise (fast decay:
    /// `e^4.5`); tall and wide, against the known singular values.
    @Test(arguments: ScalarKind.allCases, [false, true])
    func svdRayleighRitzBothPaths(scalar: ScalarKind, wide: Bool) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let rank = 10, (m, n) = wide ? (150, 230) : (230, 150)
            let eps = Double(S.ulpOfOne)
            for (name, want) in [("slow", TestMatrices.slowDecay(min(m, n))), ("fast", TestMatrices.fastDecay(min(m, n)))] {
                let a = CSRMatrix(dense: TestMatrices.knownSpectrum(rows: m, columns: n, singularValues: want, seed: 6).converted(to: S.self))
                let svd = try BlockLanczosSVD.compute(a, .init(rank: rank, blockSize: 4, seed: 1))
                #expect(svd.diagnostics.allConverged && svd.s.count == rank, "\(name): \(svd.diagnostics)")
                for i in 0..<rank { #expect(abs(Double(svd.s[i]) - want[i]) <= 64 * eps * want[0], "\(name) s[\(i)] \(svd.s[i]) vs \(want[i])") }
                #expect(svd.diagnostics.maxRelativeResidual <= 64 * eps, "\(name): residual \(svd.diagnostics.maxRelativeResidual)")
                #expect(TestMatrices.orthonormalityError(svd.u) <= 1e3 * eps && TestMatrices.orthonormalityError(svd.vt.transposed()) <= 1e3 * eps, "\(name)")
            }
        }
        switch scalar { case .float: try run(Float.self); case .double: try run(Double.self) }
    }
}
