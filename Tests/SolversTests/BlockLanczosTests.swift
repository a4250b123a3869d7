import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// ``BlockLanczosEigensolver`` and ``BlockLanczosSVD`` against LAPACK's dense answers.
@Suite("Thick-restart block Lanczos") struct BlockLanczosTests {
    @Test(arguments: ScalarKind.allCases)
    func largestEigenpairsMatchLAPACK(scalar: ScalarKind) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            // Small blocks and basis, so that the run restarts several times.
            let n = 500, count = 12
            let dense = ChebyshevEigensolverTests.normalisedAdjacency(n: n, seed: 4)
            let exact = Array(try dense.symmetricEigen(vectors: false).values.suffix(count))
            let r = try BlockLanczosEigensolver.largest(CSRMatrix(dense: dense.converted(to: S.self)),
                                                        .init(count: count, blockSize: 4, seed: 2))
            ChebyshevEigensolverTests.expectMatchesLAPACK(r, dense: dense, exact: exact, scalar)
            #expect(r.diagnostics.iterations >= 1, "restarts \(r.diagnostics.iterations)")
            #expect(r.diagnostics.seed == 2 && r.diagnostics.subspaceSize == 2 * count + 8)
        }
        switch scalar { case .float: try run(Float.self); case .double: try run(Double.self) }
    }

    /// Eigenvalue 1 repeated 24 times (24 components), 8 wanted, a block of 24 (a block below the
    /// multiplicity finds at most `blockSize` copies, enough here). `Float` only: in `Double` the
    /// Lanczos estimates of this cluster can stall near 1e-14, above the default 4-ulp tolerance
    /// (8.9e-16), so the run spends its 1000 restarts (a limitation the README states; in CI the
    /// `Double` case took 122 s and ended at a true residual of 1.27e-14, 57 ulp).
    @Test(arguments: [ScalarKind.float])
    func repeatedTopEigenvalue(scalar: ScalarKind) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let count = 8
            let dense = ChebyshevEigensolverTests.componentsAdjacency(components: 24, seed: 3)
            let all = try dense.symmetricEigen(vectors: false).values
            #expect(all.filter { abs($0 - 1) <= 1e-10 }.count == 24)
            let r = try BlockLanczosEigensolver.largest(CSRMatrix(dense: dense.converted(to: S.self)), .init(count: count, blockSize: 24, seed: 7))
            ChebyshevEigensolverTests.expectMatchesLAPACK(r, dense: dense, exact: Array(all.suffix(count)), scalar)
        }
        switch scalar { case .float: try run(Float.self); case .double: try run(Double.self) }
    }

    @Test func smallProblemsAreSolvedDensely() throws {
        let dense = ChebyshevEigensolverTests.normalisedAdjacency(n: 30, seed: 1)
        let exact = Array(try dense.symmetricEigen(vectors: false).values.suffix(5))
        let r = try BlockLanczosEigensolver.largest(CSRMatrix(dense: dense), .init(count: 5))
        ChebyshevEigensolverTests.expectMatchesLAPACK(r, dense: dense, exact: exact, .double)
        #expect(r.diagnostics.method.contains("dense"))
    }

    @Test func sameSeedSameBits() throws {
        let a = CSRMatrix(dense: ChebyshevEigensolverTests.normalisedAdjacency(n: 300, seed: 9).converted(to: Float.self))
        let one = try BlockLanczosEigensolver.largest(a, .init(count: 6, blockSize: 4, seed: 5))
        let two = try BlockLanczosEigensolver.largest(a, .init(count: 6, blockSize: 4, seed: 5))
        #expect(one.values == two.values && one.vectors.elements == two.vectors.elements)
    }

    @Test func badConfigurationsAndInputAreClearErrors() throws {
        let a = CSRMatrix(dense: ChebyshevEigensolverTests.normalisedAdjacency(n: 100, seed: 1))
        func expectInvalid(_ c: BlockLanczosEigensolver.Configuration, _ fragment: String) {
            do {
                _ = try BlockLanczosEigensolver.largest(a, c)
                Issue.record("no error for \(fragment)")
            } catch let error as SolverError {
                #expect("\(error)".contains(fragment), "\(error)")
            } catch { Issue.record("unexpected \(error)") }
        }
        expectInvalid(.init(count: 0), "count must be in 1...100")
        expectInvalid(.init(count: 101), "count must be in 1...100")
        expectInvalid(.init(count: 4, blockSize: 0), "blockSize must be at least 1")
        expectInvalid(.init(count: 4, blockSize: 4, basisSize: 10), "keep + blockSize <= basisSize")
        expectInvalid(.init(count: 4, tolerance: -1), "tolerance must be positive")
        var bad = ChebyshevEigensolverTests.normalisedAdjacency(n: 100, seed: 1)
        bad[3, 3] = .nan
        #expect(throws: SolverError.self) { _ = try BlockLanczosEigensolver.largest(CSRMatrix(dense: bad), .init(count: 4)) }
    }

    /// The SVD against LAPACK's: a sparse power-law matrix (the kernels' block path) and a dense
    /// operator (the generic path), tall and wide (`A'A` and `AA'`).
    @Test(arguments: ScalarKind.allCases, [false, true])
    func singularTripletsMatchLAPACK(scalar: ScalarKind, wide: Bool) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let rank = 10
            let (m, n) = wide ? (260, 400) : (400, 260)
            let edges = TestMatrices.chungLuEdges(rows: m, columns: n, averageDegree: 8, seed: 21)
            let reference = TestMatrices.dense(rows: m, columns: n, edges: edges)
            let exact = try reference.svd().s
            let eps = Double(S.ulpOfOne)
            let sparse = CSRMatrix(dense: reference.converted(to: S.self))
            let generic = AnyLinearOperator(TestMatrices.knownSpectrum(rows: m, columns: n, singularValues: TestMatrices.slowDecay(min(m, n)), seed: 5)
                .converted(to: S.self))
            let exactGeneric = TestMatrices.slowDecay(min(m, n))
            // The defaults: a block of 8 and a basis of 2 k + 4 b = 52 (keep 24).
            let defaults = try BlockLanczosSVD.compute(sparse, .init(rank: rank, seed: 3))
            #expect(defaults.diagnostics.method.contains("block 8, basis 52, keep 24"), "\(defaults.diagnostics.method)")
            for (name, svd, want) in [("sparse", try BlockLanczosSVD.compute(sparse, .init(rank: rank, blockSize: 4, seed: 3)), exact),
                                      ("sparse, default sizes", defaults, exact),
                                      ("dense", try BlockLanczosSVD.compute(generic, .init(rank: rank, blockSize: 4, seed: 3)), exactGeneric)] {
                #expect(svd.diagnostics.allConverged && svd.s.count == rank, "\(name): \(svd.diagnostics)")
                for i in 0..<rank {
                    #expect(abs(Double(svd.s[i]) - want[i]) <= 64 * eps * want[0], "\(name) s[\(i)] \(svd.s[i]) vs \(want[i])")
                }
                // ARPACK's test on A'A in the scalar's precision: residuals at most ~ eps ||A|| relative to s_1.
                #expect(svd.diagnostics.maxRelativeResidual <= 64 * eps, "\(name): residual \(svd.diagnostics.maxRelativeResidual)")
                #expect(TestMatrices.orthonormalityError(svd.u) <= 1e3 * eps && TestMatrices.orthonormalityError(svd.vt.transposed()) <= 1e3 * eps)
                #expect(svd.diagnostics.operatorApplications > 0 && svd.diagnostics.seed == 3)
            }
        }
        switch scalar { case .float: try run(Float.self); case .double: try run(Double.self) }
    }

    @Test func svdCarriesTheSharedDiagnostics() throws {
        let a = CSRMatrix(dense: TestMatrices.knownSpectrum(rows: 200, columns: 150, singularValues: TestMatrices.fastDecay(150), seed: 2))
        let svd = try BlockLanczosSVD.compute(a, .init(rank: 5, blockSize: 4, seed: 9))
        try SharedSolverChecks().checkDiagnostics(svd.diagnostics, seed: 9, residuals: true, "BlockLanczosSVD")
        #expect(throws: SolverError.self) { _ = try BlockLanczosSVD.compute(a, .init(rank: 0)) }
        #expect(throws: SolverError.self) { _ = try BlockLanczosSVD.compute(a, .init(rank: 5, blockSize: 0)) }
    }
}
