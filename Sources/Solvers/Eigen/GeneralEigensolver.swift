import LinearAlgebra

/// A few eigenvalues and eigenvectors of a large general (nonsymmetric) real operator by ARPACK's
/// implicitly restarted Arnoldi method (`snaupd`/`sneupd`, `dnaupd`/`dneupd`), as scipy's `eigs`.
/// Eigenvalues and eigenvectors may be complex; they are returned as real and imaginary parts.
///
/// ```swift
/// let r = try GeneralEigensolver.compute(a, .init(count: 4, which: .largestMagnitude))
/// // eigenvalue j: r.real[j] + i r.imaginary[j], eigenvector: r.vectorsReal column j + i r.vectorsImaginary column j
/// ```
///
/// Every call holds the ARPACK lock (``ARPACK/withLock(_:)``) for its whole reverse-communication loop.
public enum GeneralEigensolver {
    /// The parameters of a run (see ``ARPACKEigenConfiguration``; its `which` is one of the
    /// magnitude, real-part and imaginary-part rules of ``ARPACKWhich``, and
    /// ``ARPACKWhich/largestAlgebraic`` means ``ARPACKWhich/largestReal`` here).
    public typealias Configuration = ARPACKEigenConfiguration

    /// Computes `count` eigenpairs of the square operator `op`.
    ///
    /// - Returns: eigenvalues sorted by the `which` criterion (best first; a conjugate pair stays
    ///   adjacent, positive imaginary part first) with their eigenvectors; at most `count` of them.
    ///   When ARPACK stops at `maxIterations` with only some converged, those are returned and
    ///   ``SolverDiagnostics/allConverged`` is `false`.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a non-square operator or counts
    ///   outside ARPACK's limits; ``SolverError/arpack(routine:info:message:)`` for other ARPACK failures.
    /// - Parameters:
    ///   - op: the square operator `A`.
    ///   - configuration: count, `which`, ARPACK options and residual diagnostics.
    ///   - progress: receives an ``ARPACKProgress`` every ``ARPACKOptions/progressInterval``
    ///     seconds while ARPACK runs (it must not call an ARPACK solver).
    /// - Complexity: about `iterations * (ncv - count)` applications of `op` to one vector, plus
    ///   O(n ncv^2) Arnoldi work and O(ncv^3) for the Schur form.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration,
                                                   progress: (ARPACKProgress) -> Void = { _ in }) throws
        -> GeneralEigenResult<Op.Scalar>
    {
        typealias S = Op.Scalar
        let c = configuration
        let n = op.rows
        let (ncv, maxIterations, which) = try c.resolved(rows: op.rows, columns: op.columns, gap: 2, solver: "GeneralEigensolver")
        var clock = PhaseClock()
        let out = try clock.measure("ARPACK") {
            try ARPACKDriver<S>.general(n: n, nev: c.count, which: which, ncv: ncv, maxIterations: maxIterations,
                                        options: c.arpack, progress: progress, applyOP: vectorApply(op))
        }
        // Sort by the criterion; the keys of conjugates are equal, so a stable sort keeps pairs together.
        func key(_ j: Int) -> Double {
            let re = Double(out.values[j]), im = Double(out.imaginary[j])
            switch ARPACKWhich(rawValue: which) {
            case .largestMagnitude: return -(re * re + im * im).squareRoot()
            case .smallestMagnitude: return (re * re + im * im).squareRoot()
            case .largestReal: return -re
            case .smallestReal: return re
            case .largestImaginary: return -abs(im)
            default: return abs(im)   // SI (resolved() admits no other code)
            }
        }
        let indices = Array(0..<out.values.count)
        let order = zip(indices, indices.map(key)).sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
            .map(\.0).prefix(c.count)
        let imaginaryVectors = out.imaginaryVectors ?? Matrix(rows: n, columns: out.values.count)
        var vr = Matrix<S>(rows: n, columns: order.count), vi = Matrix<S>(rows: n, columns: order.count)
        for (j, src) in order.enumerated() {
            vr.setColumn(j, out.vectors.column(src)); vi.setColumn(j, imaginaryVectors.column(src))
        }
        var result = GeneralEigenResult(
            real: order.map { out.values[$0] }, imaginary: order.map { out.imaginary[$0] },
            vectorsReal: vr, vectorsImaginary: vi,
            diagnostics: SolverDiagnostics(arpack: out, method: "ARPACK Arnoldi (regular)", requested: c.count,
                                           returned: order.count, which: which, subspaceSize: ncv, options: c.arpack))
        if c.computeResiduals && !order.isEmpty {
            result.diagnostics.relativeResiduals = clock.measure("residuals") {
                eigenRelativeResiduals(op, values: result.real, imaginary: result.imaginary, vectors: vr, imaginaryVectors: vi)
            }
        }
        result.diagnostics.phases = clock.phases
        return result
    }
}

