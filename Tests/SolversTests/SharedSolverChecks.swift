import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// The checks every solver passes, as scipy's `SVDSCommonTests` does for its SVD back-ends:
/// bad configurations and non-finite input are clear errors for every SVD back-end, and every
/// iterative result (SVD, both eigensolvers, ALS) carries diagnostics with the same invariants.
@Suite("Shared solver checks") struct SharedSolverChecks {
    /// A 40 x 30 matrix with a known, gapped spectrum.
    static let matrix = TestMatrices.knownSpectrum(rows: 40, columns: 30, singularValues: TestMatrices.fastDecay(30), seed: 3)

    /// Every configuration that is wrong for `backend` on the 40 x 30 matrix, with what it breaks.
    func badConfigurations(_ backend: SVDBackend) -> [(String, TruncatedSVDAlgorithm)] {
        var cases: [(String, TruncatedSVDAlgorithm)] = []
        func each(_ make: (Int) -> TruncatedSVDAlgorithm) {
            cases.append(("rank 0", make(0)))
            cases.append(("rank above min(m, n)", make(31)))
            cases.append(("negative rank", make(-2)))
        }
        switch backend {
        case .randomizedCholeskyQR, .randomizedQR, .randomizedLU, .randomizedNone:
            each { .randomized(.init(rank: $0)) }
            cases.append(("negative oversamples", .randomized(.init(rank: 3, oversamples: -1))))
            cases.append(("negative power iterations", .randomized(.init(rank: 3, powerIterations: -1))))
            cases.append(("negative norm-estimate iterations", .randomized(.init(rank: 3, residualNormEstimateIterations: -1))))
        case .blockKrylov:
            each { .blockKrylov(.init(rank: $0)) }
            cases.append(("block size below rank", .blockKrylov(.init(rank: 4, blockSize: 3))))
            cases.append(("negative iterations", .blockKrylov(.init(rank: 3, iterations: -1))))
            cases.append(("negative norm-estimate iterations", .blockKrylov(.init(rank: 3, residualNormEstimateIterations: -1))))
        case .arpackNormalEquations, .arpackAugmented:
            let mode: ARPACKSVD.Mode = backend == .arpackAugmented ? .augmented : .normalEquations
            each { .arpack(.init(rank: $0, mode: mode)) }
            cases.append(("subspace not above rank", .arpack(.init(rank: 5, mode: mode, subspaceSize: 5))))
            cases.append(("subspace above the problem size", .arpack(.init(rank: 5, mode: mode, subspaceSize: 500))))
            cases.append(("negative tolerance", .arpack(.init(rank: 5, mode: mode, tolerance: -1))))
            cases.append(("NaN tolerance", .arpack(.init(rank: 5, mode: mode, tolerance: .nan))))
            cases.append(("zero restarts", .arpack(.init(rank: 5, mode: mode, maxIterations: 0))))
        }
        return cases
    }

    @Test(arguments: SVDBackend.allCases)
    func badConfigurationsAreClearErrors(backend: SVDBackend) throws {
        for (what, algorithm) in badConfigurations(backend) {
            #expect {
                _ = try algorithm.compute(Self.matrix)
            } throws: { error in
                guard case .invalidConfiguration(let message)? = error as? SolverError else { return false }
                // The message names the solver.
                return message.contains("SVD")
            }
            _ = what
        }
        // An operator without rows or columns is refused by every back-end.
        #expect(throws: SolverError.self) { _ = try backend.algorithm(rank: 1, seed: 0, scalar: .double).compute(Matrix<Double>(rows: 0, columns: 5)) }
    }

    @Test(arguments: SVDBackend.allCases, ScalarKind.allCases)
    func nonFiniteInputIsAClearError(backend: SVDBackend, scalar: ScalarKind) throws {
        for bad in [Double.nan, .infinity] {
            var a = Self.matrix
            a[7, 11] = bad
            func run<S: BLASScalar>(_: S.Type) throws { _ = try backend.algorithm(rank: 4, seed: 1, scalar: scalar).compute(a.converted(to: S.self)) }
            #expect(throws: SolverError.self, "\(backend) \(scalar) with \(bad)") {
                do { try scalar == .float ? run(Float.self) : run(Double.self) } catch let e as SolverError {
                    guard case .nonFinite = e else { Issue.record("\(backend): \(e) is not .nonFinite"); throw e }
                    throw e
                }
            }
        }
    }

    @Test func eigensolversRefuseNonFiniteOperators() {
        var a = TestMatrices.pathLaplacian(30)
        a[4, 4] = .nan
        #expect(throws: SolverError.self) { _ = try SymmetricEigensolver.compute(a, .init(count: 3)) }
        #expect(throws: SolverError.self) { _ = try GeneralEigensolver.compute(a, .init(count: 3)) }
    }

    /// The invariants every ``SolverDiagnostics`` satisfies after a successful, converged run.
    func checkDiagnostics(_ d: SolverDiagnostics, seed: UInt64?, residuals: Bool, _ solver: String) throws {
        #expect(d.requested >= 1 && d.converged == d.requested && d.allConverged, "\(solver): \(d.converged) of \(d.requested)")
        #expect(d.iterations >= 0 && d.operatorApplications > 0, "\(solver): \(d.iterations) iterations, \(d.operatorApplications) applications")
        #expect(d.seed == seed, "\(solver): seed \(String(describing: d.seed))")
        #expect(d.threads >= 1 && !d.method.isEmpty)
        #expect(!d.phases.isEmpty && d.phases.allSatisfy { $0.seconds >= 0 } && d.totalSeconds > 0, "\(solver): phases \(d.phases)")
        if residuals {
            #expect(d.relativeResiduals.count == d.converged, "\(solver): \(d.relativeResiduals.count) residuals")
            #expect(d.relativeResiduals.allSatisfy { $0.isFinite && $0 >= 0 } && d.maxRelativeResidual < 1e-3, "\(solver): \(d.maxRelativeResidual)")
        }
        // The record survives JSON (tools write it into their reports).
        let data = try JSONEncoder().encode(d)
        #expect(try JSONDecoder().decode(SolverDiagnostics.self, from: data) == d, "\(solver): JSON round trip")
    }

    @Test func everySolverCarriesTheSameDiagnostics() throws {
        let a = Self.matrix
        for backend in SVDBackend.allCases {
            let svd = try backend.algorithm(rank: 4, seed: 8, scalar: .double).compute(a)
            try checkDiagnostics(svd.diagnostics, seed: 8, residuals: true, "\(backend)")
            #expect(svd.diagnostics.leftResiduals?.count == 4 && svd.diagnostics.rightResiduals?.count == 4)
        }
        let laplacian = TestMatrices.pathLaplacian(50)
        let symmetric = try SymmetricEigensolver.compute(laplacian, .init(count: 4, which: .largestAlgebraic, seed: 5))
        try checkDiagnostics(symmetric.diagnostics, seed: 5, residuals: true, "SymmetricEigensolver")
        #expect(symmetric.diagnostics.operatorSeconds != nil && symmetric.diagnostics.subspaceSize == 20)
        let general = try GeneralEigensolver.compute(laplacian, .init(count: 4, seed: 6))
        try checkDiagnostics(general.diagnostics, seed: 6, residuals: true, "GeneralEigensolver")

        let interactions = try ALSTestData.randomImplicit(users: 60, items: 40, perUser: 6, seed: 2)
        let model = try ALS.fit(interactions, configuration: .init(factors: 4, iterations: 3, seed: 7, computeLoss: true, threads: 2))
        try checkDiagnostics(model.diagnostics, seed: 7, residuals: false, "ALS")
        #expect(model.diagnostics.iterations == 3 && model.diagnostics.objective?.count == 3 && model.diagnostics.threads == 2)
    }
}
