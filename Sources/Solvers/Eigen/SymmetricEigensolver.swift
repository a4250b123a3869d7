import Dispatch
import LinearAlgebra

/// A few eigenvalues and eigenvectors of a large symmetric operator by ARPACK's implicitly
/// restarted Lanczos method (`ssaupd`/`sseupd`, `dsaupd`/`dseupd`), as scipy's `eigsh`.
///
/// ```swift
/// let top = try SymmetricEigensolver.compute(laplacian, .init(count: 8, which: .smallestAlgebraic))
/// let interior = try SymmetricEigensolver.shiftInvert(laplacian, sigma: 1.5,
///     solve: { try shifted.solve($0) }, .init(count: 4))
/// ```
///
/// Every call holds the ARPACK lock (``ARPACK/withLock(_:)``) for the whole reverse-communication
/// loop, so concurrent calls run one after the other. Do not call an ARPACK solver from inside the operator or the `solve`
/// closure: it would deadlock.
public enum SymmetricEigensolver {
    /// The parameters of a run (see ``ARPACKEigenConfiguration``; its `which` is one of
    /// ``ARPACKWhich/largestAlgebraic``, ``ARPACKWhich/smallestAlgebraic``,
    /// ``ARPACKWhich/largestMagnitude``, ``ARPACKWhich/smallestMagnitude``, ``ARPACKWhich/bothEnds``).
    public typealias Configuration = ARPACKEigenConfiguration

    /// Eigenvalues in ascending order, their orthonormal eigenvectors (`n x converged`), and the
    /// diagnostics. Raises ``SolverError/invalidConfiguration(_:)`` for a non-square operator or
    /// counts outside ARPACK's limits, ``SolverError/arpack(routine:info:message:)`` for any other ARPACK failure. When ARPACK
    /// reaches `maxIterations` with only some pairs converged, those are returned and
    /// ``SolverDiagnostics/allConverged`` is `false`.
    ///
    /// `progress` receives an ``ARPACKProgress`` every ``ARPACKOptions/progressInterval`` seconds
    /// while ARPACK runs (it must not call an ARPACK solver).
    ///
    /// Cost: about `iterations * (ncv - count)` applications of `op` to one vector, plus
    /// O(n ncv^2) of Lanczos work; one more block application for the residuals.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration,
                                                   progress: (ARPACKProgress) -> Void = { _ in }) throws
        -> SymmetricEigenResult<Op.Scalar>
    {
        let limits = try configuration.resolved(rows: op.rows, columns: op.columns, gap: 1, solver: "SymmetricEigensolver")
        return try run(op, configuration, limits, mode: 1, sigma: 0, description: "regular", progress: progress,
                       applyOP: vectorApply(op))
    }

    /// Shift-invert mode (ARPACK mode 3): eigenvalues of `A` nearest `sigma` (with the default
    /// `which`), found as the largest eigenvalues of `(A - σ I)^-1`. Use it for interior
    /// eigenvalues and for the smallest ones (`σ = 0` or just below the spectrum).
    ///
    /// - Parameters:
    ///   - op: the symmetric `A`; used only for the residual diagnostics.
    ///   - sigma: the shift `σ`.
    ///   - solve: returns `X` with `(A - σ I) X = B` for an `n x r` block `B` (e.g. a sparse
    ///     Cholesky or LU solve you factored once beforehand). Errors it throws are passed on.
    ///   - configuration: as for ``compute(_:_:progress:)``; `which` applies to `1 / (λ - σ)`.
    ///   - progress: as for ``compute(_:_:progress:)`` (each operator application is one solve).
    /// - Returns: the eigenvalues of `A` (back-transformed by ARPACK), ascending, and their vectors.
    /// - Throws: as ``compute(_:_:progress:)``, and whatever `solve` throws.
    public static func shiftInvert<Op: LinearOperator>(
        _ op: Op, sigma: Op.Scalar, solve: (Matrix<Op.Scalar>) throws -> Matrix<Op.Scalar>,
        _ configuration: Configuration, progress: (ARPACKProgress) -> Void = { _ in }
    ) throws -> SymmetricEigenResult<Op.Scalar> {
        typealias S = Op.Scalar
        let limits = try configuration.resolved(rows: op.rows, columns: op.columns, gap: 1, solver: "SymmetricEigensolver")
        let n = op.rows
        let apply: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void = { x, y in
            let b = Matrix<S>(rows: n, columns: 1, elements: Array(UnsafeBufferPointer(start: x, count: n)))
            let solution = try solve(b)
            guard solution.rows == n, solution.columns == 1 else {
                throw SolverError.invalidInput("SymmetricEigensolver.shiftInvert: solve returned a \(solution.rows) x \(solution.columns) matrix for a \(n) x 1 right-hand side")
            }
            solution.elements.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: n) }
        }
        return try run(op, configuration, limits, mode: 3, sigma: sigma, description: "shift-invert (σ = \(sigma))", progress: progress,
                       applyOP: apply)
    }

    static func run<Op: LinearOperator>(
        _ op: Op, _ c: Configuration, _ limits: (ncv: Int, maxIterations: Int, which: String), mode: Int32, sigma: Op.Scalar,
        description: String, progress: (ARPACKProgress) -> Void,
        applyOP: (UnsafePointer<Op.Scalar>, UnsafeMutablePointer<Op.Scalar>) throws -> Void
    ) throws -> SymmetricEigenResult<Op.Scalar> {
        typealias S = Op.Scalar
        var clock = PhaseClock()
        let output = try clock.measure("ARPACK") {
            try ARPACKDriver<S>.symmetric(n: op.rows, nev: c.count, which: limits.which, ncv: limits.ncv,
                                          maxIterations: limits.maxIterations, options: c.arpack, mode: mode, sigma: sigma,
                                          progress: progress, applyOP: applyOP)
        }
        var result = SymmetricEigenResult(
            values: output.values, vectors: output.vectors,
            diagnostics: SolverDiagnostics(arpack: output, method: "ARPACK Lanczos (\(description))", requested: c.count,
                                           returned: output.values.count, which: limits.which,
                                           subspaceSize: limits.ncv, options: c.arpack))
        if c.computeResiduals && !output.values.isEmpty {
            result.diagnostics.relativeResiduals = clock.measure("residuals") {
                eigenRelativeResiduals(op, values: output.values, imaginary: nil, vectors: output.vectors, imaginaryVectors: nil)
            }
        }
        result.diagnostics.phases = clock.phases
        return result
    }
}
