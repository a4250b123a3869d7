import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

@Suite("ARPACK eigensolvers") struct EigensolverTests {
    /// A tolerance for eigenvalues of an operator of norm about `scale`.
    func tolerance(_ scalar: ScalarKind, scale: Double) -> Double {
        scalar == .float ? 2e-4 * scale : 1e-10 * scale
    }

    func solverTolerance(_ scalar: ScalarKind) -> Double { scalar == .float ? 1e-6 : 0 }

    @Test(arguments: ScalarKind.allCases, ARPACKWhich.allCases)
    func pathLaplacianEveryWhich(scalar: ScalarKind, which: ARPACKWhich) throws {
        switch scalar {
        case .float: try pathLaplacian(Float.self, scalar, which)
        case .double: try pathLaplacian(Double.self, scalar, which)
        }
    }

    func pathLaplacian<S: BLASScalar>(_: S.Type, _ scalar: ScalarKind, _ which: ARPACKWhich) throws {
        let n = 60, count = 5
        let a = TestMatrices.pathLaplacian(n).converted(to: S.self)
        let exact = TestMatrices.pathEigenvalues(n)   // ascending, all in [0, 4), distinct
        guard let code = which.code(symmetric: true) else {
            // The imaginary-part rules are the general solver's only.
            #expect(throws: SolverError.self) { try SymmetricEigensolver.compute(a, .init(count: count, which: which)) }
            return
        }
        let r = try SymmetricEigensolver.compute(a, .init(count: count, which: which, tolerance: solverTolerance(scalar), seed: 3))
        #expect(r.diagnostics.allConverged && r.values.count == count)
        let expected: [Double]
        switch which {
        case .largestAlgebraic, .largestReal, .largestMagnitude: expected = Array(exact.suffix(count))   // all >= 0, so LM = LA
        case .smallestAlgebraic, .smallestReal, .smallestMagnitude: expected = Array(exact.prefix(count))
        case .bothEnds: expected = (Array(exact.prefix(count / 2)) + Array(exact.suffix(count - count / 2))).sorted()
        case .largestImaginary, .smallestImaginary: return   // rejected above
        }
        let tol = tolerance(scalar, scale: 4)
        for (got, want) in zip(r.values.map(Double.init), expected) {
            #expect(abs(got - want) <= tol, "\(which) \(scalar): \(got) vs \(want)")
        }
        #expect(r.values == r.values.sorted(), "values must be ascending")
        #expect(TestMatrices.orthonormalityError(r.vectors) <= (scalar == .float ? 1e-4 : 1e-10))
        // Relative to the largest returned |λ|.
        let scale = expected.map { abs($0) }.max()!
        #expect(r.diagnostics.relativeResiduals.count == count && r.diagnostics.maxRelativeResidual <= tol / scale,
                "residual \(r.diagnostics.maxRelativeResidual)")
        #expect(r.diagnostics.operatorApplications > 0 && r.diagnostics.seed == 3)
        let arpackPhase = try #require(r.diagnostics.phases.first { $0.name == "ARPACK" })
        let operatorSeconds = try #require(r.diagnostics.operatorSeconds)
        #expect(operatorSeconds > 0 && operatorSeconds <= arpackPhase.seconds)
        #expect(r.diagnostics.which == code && r.diagnostics.subspaceSize == 20)
        #expect(code == (which == .largestReal ? "LA" : which == .smallestReal ? "SA" : which.rawValue))
    }

    @Test(arguments: ScalarKind.allCases)
    func cycleLaplacianWithRepeatedEigenvalues(scalar: ScalarKind) throws {
        // Cycle eigenvalues 2 - 2cos(2πk/n) come in equal pairs except 0 (and 4 for even n).
        let n = 41, count = 7
        let exact = TestMatrices.cycleEigenvalues(n)
        func run<S: BLASScalar>(_: S.Type) throws -> [Double] {
            let a = TestMatrices.cycleLaplacian(n).converted(to: S.self)
            let r = try SymmetricEigensolver.compute(a, .init(count: count, which: .smallestAlgebraic,
                                                              tolerance: solverTolerance(scalar), seed: 5))
            #expect(r.diagnostics.maxRelativeResidual <= tolerance(scalar, scale: 4) / 0.1)
            return r.values.map(Double.init)
        }
        let got = scalar == .float ? try run(Float.self) : try run(Double.self)
        let want = Array(exact.prefix(count))
        #expect(got.count == count)
        for (g, w) in zip(got, want) { #expect(abs(g - w) <= tolerance(scalar, scale: 4), "\(scalar): \(got) vs \(want)") }
    }

    @Test(arguments: ScalarKind.allCases)
    func shiftInvertFindsInteriorEigenvalues(scalar: ScalarKind) throws {
        let n = 150, sigma = 1.3, count = 4
        let exact = TestMatrices.pathEigenvalues(n)
        let want = exact.sorted { abs($0 - sigma) < abs($1 - sigma) }.prefix(count).sorted()
        func run<S: BLASScalar>(_: S.Type) throws -> SymmetricEigenResult<S> {
            let a = TestMatrices.pathLaplacian(n).converted(to: S.self)
            let shifted = a - S(sigma) * Matrix<S>.identity(n)
            var solves = 0
            let r = try SymmetricEigensolver.shiftInvert(a, sigma: S(sigma), solve: { b in
                solves += 1
                return try shifted.solve(b)
            }, SymmetricEigensolver.Configuration(count: count, tolerance: solverTolerance(scalar), seed: 9))
            #expect(solves == r.diagnostics.operatorApplications)
            return r
        }
        let values: [Double], residual: Double
        if scalar == .float { let r = try run(Float.self); values = r.values.map { Double($0) }; residual = r.diagnostics.maxRelativeResidual }
        else { let r = try run(Double.self); values = r.values.map { Double($0) }; residual = r.diagnostics.maxRelativeResidual }
        #expect(values.count == count)
        for (g, w) in zip(values, want) { #expect(abs(g - w) <= tolerance(scalar, scale: 4), "\(scalar): \(values) vs \(Array(want))") }
        #expect(residual <= tolerance(scalar, scale: 4) * 10)
    }

    @Test func shiftInvertPassesOnTheSolveError() throws {
        struct Singular: Error {}
        let a = TestMatrices.pathLaplacian(30)
        #expect(throws: Singular.self) {
            _ = try SymmetricEigensolver.shiftInvert(a, sigma: 0, solve: { _ in throw Singular() }, .init(count: 2))
        }
        // ARPACK's SAVE state must be usable again after the aborted loop.
        let r = try SymmetricEigensolver.compute(a, .init(count: 2, which: .largestAlgebraic))
        #expect(r.diagnostics.allConverged)
    }

    @Test(arguments: ScalarKind.allCases)
    func nonsymmetricKnownEigenvalues(scalar: ScalarKind) throws {
        // Largest magnitudes: 5 ± 4i (|.| = 6.4), -6, 4 ± 3i (5), 4.5; the rest below 1.
        let complex: [(Double, Double)] = [(5, 4), (4, 3)]
        let n = 80
        var real: [Double] = [-6, 4.5]
        var rng = Xoshiro256(seed: 21)
        while real.count < n - 4 { real.append(2 * rng.nextUniform() - 1) }
        let a = TestMatrices.nonsymmetric(n: n, real: real, complex: complex, seed: 22)
        let count = 6
        func run<S: BLASScalar>(_: S.Type) throws -> GeneralEigenResult<S> {
            try GeneralEigensolver.compute(a.converted(to: S.self), .init(count: count, tolerance: solverTolerance(scalar), seed: 2))
        }
        struct Summary { var re: [Double]; var im: [Double]; var residuals: [Double]; var converged: Bool }
        func summarize<S: BLASScalar>(_ r: GeneralEigenResult<S>) -> Summary {
            Summary(re: r.real.map { Double($0) }, im: r.imaginary.map { Double($0) },
                    residuals: r.diagnostics.relativeResiduals, converged: r.diagnostics.allConverged)
        }
        let summary = scalar == .float ? summarize(try run(Float.self)) : summarize(try run(Double.self))
        let re = summary.re, im = summary.im, residuals = summary.residuals, converged = summary.converged
        #expect(converged && re.count == count)
        // Sorted by decreasing magnitude, conjugate pairs together with the positive part first.
        let want: [(Double, Double)] = [(5, 4), (5, -4), (-6, 0), (4, 3), (4, -3), (4.5, 0)]
        let tol = scalar == .float ? 1e-3 : 1e-9
        for (j, w) in want.enumerated() where j < re.count {
            #expect(abs(re[j] - w.0) <= tol && abs(im[j] - w.1) <= tol, "\(scalar) eigenvalue \(j): \(re[j]) + \(im[j])i, want \(w.0) + \(w.1)i")
        }
        #expect(residuals.count == count)
        #expect(residuals.allSatisfy { $0 <= tol }, "residuals \(residuals)")
    }

    @Test func partialConvergenceReturnsTheConvergedPairsAndSaysSo() throws {
        // Slow decay of the wanted end and a tiny iteration budget: ARPACK stops with info = 1.
        let a = TestMatrices.pathLaplacian(400)
        let r = try SymmetricEigensolver.compute(a, .init(count: 12, which: .smallestAlgebraic, subspaceSize: 26,
                                                          maxIterations: 3, seed: 1))
        #expect(!r.diagnostics.allConverged)
        let warning = try #require(r.diagnostics.convergenceWarning)
        #expect(warning.contains("only \(r.diagnostics.converged) of the 12") && warning.contains("maxIterations")
                && warning.contains("--solver randomized"), "\(warning)")
        #expect(r.values.count == r.diagnostics.converged && r.values.count < 12)
        #expect(r.vectors.columns == r.values.count)
        // Whatever was returned did converge.
        for x in r.diagnostics.relativeResiduals { #expect(x <= 1e-6) }
    }

    @Test func arpackErrorsUseARPACKsWords() throws {
        // Bypass our validation to let ARPACK itself reject the input.
        #expect {
            _ = try ARPACKDriver<Double>.symmetric(n: 10, nev: 3, which: "XX", ncv: 8, maxIterations: 10, options: .init(),
                                                   mode: 1, sigma: 0, progress: { _ in }, applyOP: { x, y in y.update(from: x, count: 10) })
        } throws: { error in
            guard case .arpack(let routine, let info, let message)? = error as? SolverError else { return false }
            return routine == "dsaupd" && info == -5 && message == "WHICH must be one of 'LM', 'SM', 'LA', 'SA' or 'BE'."
        }
        #expect {
            _ = try ARPACKDriver<Float>.general(n: 10, nev: 3, which: "LM", ncv: 12, maxIterations: 10, options: .init(),
                                                progress: { _ in }, applyOP: { x, y in y.update(from: x, count: 10) })
        } throws: { error in
            guard case .arpack(let routine, let info, let message)? = error as? SolverError else { return false }
            return routine == "snaupd" && info == -3 && message == "NCV-NEV >= 2 and less than or equal to N."
        }
        #expect(ARPACK.message("saupd", -9999).hasPrefix("Could not build an Arnoldi factorization."))
        #expect(ARPACK.error("saupd", info: 3, scalar: Float.self).description
            == "ARPACK ssaupd failed (info = 3): No shifts could be applied during a cycle of the Implicitly restarted Arnoldi iteration. One possibility is to increase the size of NCV relative to NEV. What to change: " + ARPACK.advice("saupd", 3))
        #expect(ARPACK.message("seupd", -14) == "DSAUPD did not find any eigenvalues to sufficient accuracy.")
    }

    @Test func arpackErrorsSayWhatToChange() {
        // Each failure a user can meet names the knobs that help and the solver that always returns.
        for (routine, info, knob) in [("saupd", Int32(3), "subspaceSize"), ("naupd", Int32(-9999), "smaller rank"),
                                      ("seupd", Int32(-14), "maxIterations"), ("neupd", Int32(-8), "seed")] {
            let text = ARPACK.error(routine, info: info, scalar: Double.self).description
            #expect(text.contains("What to change: "), "\(routine) \(info): \(text)")
            #expect(text.contains(knob), "\(routine) \(info): \(text)")
            #expect(text.contains("--solver randomized"), "\(routine) \(info): \(text)")
        }
        #expect(ARPACK.advice("saupd", -9).contains("not zero"))
        // ARPACK's own words stay in the message, unchanged.
        #expect(ARPACK.error("saupd", info: 3, scalar: Double.self) == .arpack(routine: "dsaupd", info: 3, message: ARPACK.message("saupd", 3)))
    }

    @Test func invalidConfigurationsThrowClearErrors() {
        let a = TestMatrices.pathLaplacian(10)
        #expect(throws: SolverError.self) { _ = try SymmetricEigensolver.compute(a, .init(count: 10)) }
        #expect(throws: SolverError.self) { _ = try SymmetricEigensolver.compute(a, .init(count: 3, subspaceSize: 3)) }
        #expect(throws: SolverError.self) { _ = try SymmetricEigensolver.compute(Matrix<Double>(rows: 10, columns: 9), .init(count: 2)) }
        #expect(throws: SolverError.self) { _ = try GeneralEigensolver.compute(a, .init(count: 9)) }
        // `BE` is the symmetric solver's only; `LA` is `LR` in the general solver.
        #expect(throws: SolverError.self) { _ = try GeneralEigensolver.compute(a, .init(count: 2, which: .bothEnds)) }
        #expect(ARPACKWhich.largestAlgebraic.code(symmetric: false) == "LR" && ARPACKWhich.bothEnds.code(symmetric: false) == nil)
        #expect(throws: SolverError.self) { _ = try SymmetricEigensolver.compute(a, .init(count: 2, tolerance: -1)) }
    }

    @Test func concurrentCallsAreSerialisedAndCorrect() async throws {
        let a = TestMatrices.pathLaplacian(80)
        let want = Array(TestMatrices.pathEigenvalues(80).suffix(3))
        let results = try await withThrowingTaskGroup(of: [Double].self) { group in
            for seed in 0..<6 {
                group.addTask {
                    try SymmetricEigensolver.compute(a, .init(count: 3, which: .largestAlgebraic, seed: UInt64(seed))).values
                }
            }
            var all = [[Double]]()
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 6)
        for r in results { for (g, w) in zip(r, want) { #expect(abs(g - w) <= 1e-10) } }
    }
}
