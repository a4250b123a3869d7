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
/// Every call holds ``ARPACKLock`` for its whole reverse-communication loop.
public enum GeneralEigensolver {
    /// Which eigenvalues to find (ARPACK's `WHICH`).
    public enum Which: String, Sendable, CaseIterable {
        /// Largest magnitude (`LM`).
        case largestMagnitude = "LM"
        /// Smallest magnitude (`SM`).
        case smallestMagnitude = "SM"
        /// Largest real part (`LR`).
        case largestReal = "LR"
        /// Smallest real part (`SR`).
        case smallestReal = "SR"
        /// Largest imaginary part in magnitude (`LI`).
        case largestImaginary = "LI"
        /// Smallest imaginary part in magnitude (`SI`).
        case smallestImaginary = "SI"
    }

    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// The number of eigenvalues wanted, `nev`: `1 <= count <= n - 2` (ARPACK needs `ncv - nev >= 2`).
        public var count: Int
        /// Which eigenvalues (default ``Which/largestMagnitude``).
        public var which: Which
        /// Arnoldi basis size `ncv`; `nil` (default) uses `max(2 count + 1, 20)`, capped at `n`.
        /// Must satisfy `count + 2 <= ncv <= n`.
        public var subspaceSize: Int?
        /// Relative accuracy of the Ritz values; 0 (default) means machine precision.
        public var tolerance: Double
        /// Maximum restarts; `nil` (default) uses `10 n`.
        public var maxIterations: Int?
        /// Seed of the starting vector (default 0).
        public var seed: UInt64
        /// Whether to compute `||A x_i - λ_i x_i||` (default `true`).
        public var computeResiduals: Bool

        /// A configuration; every parameter but the first has the documented default.
        public init(count: Int, which: Which = .largestMagnitude, subspaceSize: Int? = nil, tolerance: Double = 0,
                    maxIterations: Int? = nil, seed: UInt64 = 0, computeResiduals: Bool = true) {
            self.count = count; self.which = which; self.subspaceSize = subspaceSize; self.tolerance = tolerance
            self.maxIterations = maxIterations; self.seed = seed; self.computeResiduals = computeResiduals
        }
    }

    /// Computes `count` eigenpairs of the square operator `op`.
    ///
    /// - Returns: eigenvalues sorted by the `which` criterion (best first; a conjugate pair stays
    ///   adjacent, positive imaginary part first) with their eigenvectors; at most `count` of them.
    ///   When ARPACK stops at `maxIterations` with only some converged, those are returned and
    ///   ``EigenDiagnostics/allConverged`` is `false`.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a non-square operator or counts
    ///   outside ARPACK's limits; ``ARPACKError`` for other ARPACK failures.
    /// - Complexity: about `iterations * (ncv - count)` applications of `op` to one vector, plus
    ///   O(n ncv^2) Arnoldi work and O(ncv^3) for the Schur form.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration) throws
        -> GeneralEigenResult<Op.Scalar>
    {
        typealias S = Op.Scalar
        let c = configuration
        if op.rows != op.columns {
            throw SolverError.invalidConfiguration("GeneralEigensolver: the operator is \(op.rows) x \(op.columns); it must be square")
        }
        let n = op.rows
        if c.count < 1 || c.count > n - 2 {
            throw SolverError.invalidConfiguration("GeneralEigensolver: count \(c.count) must be in 1...n-2 = 1...\(n - 2) (ARPACK needs NCV - NEV >= 2 with NCV <= N)")
        }
        let ncv = c.subspaceSize ?? min(max(2 * c.count + 1, 20), n)
        if ncv < c.count + 2 || ncv > n {
            throw SolverError.invalidConfiguration("GeneralEigensolver: subspaceSize \(ncv) must satisfy count + 2 <= ncv <= n (count \(c.count), n \(n))")
        }
        if let it = c.maxIterations, it < 1 {
            throw SolverError.invalidConfiguration("GeneralEigensolver: maxIterations must be >= 1, got \(it)")
        }
        if !(c.tolerance >= 0) {
            throw SolverError.invalidConfiguration("GeneralEigensolver: tolerance must be >= 0, got \(c.tolerance)")
        }
        var clock = PhaseClock()
        let out = try clock.measure("ARPACK") {
            try ARPACKDriver<S>.general(n: n, nev: c.count, which: c.which.rawValue, ncv: ncv, tolerance: S(c.tolerance),
                                        maxIterations: c.maxIterations ?? max(10 * n, 100), seed: c.seed,
                                        applyOP: vectorApply(op))
        }
        // Sort by the criterion; the keys of conjugates are equal, so a stable sort keeps pairs together.
        func key(_ j: Int) -> Double {
            let re = Double(out.values[j]), im = Double(out.imaginary[j])
            switch c.which {
            case .largestMagnitude: return -(re * re + im * im).squareRoot()
            case .smallestMagnitude: return (re * re + im * im).squareRoot()
            case .largestReal: return -re
            case .smallestReal: return re
            case .largestImaginary: return -abs(im)
            case .smallestImaginary: return abs(im)
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
            diagnostics: EigenDiagnostics(mode: "regular", which: c.which.rawValue, requested: c.count,
                                          converged: order.count, iterations: out.iterations,
                                          operatorApplications: out.operatorApplications, subspaceSize: ncv,
                                          tolerance: c.tolerance, seed: c.seed))
        if c.computeResiduals && !order.isEmpty {
            result.diagnostics.residuals = clock.measure("residuals") {
                eigenResiduals(op, values: result.real, imaginary: result.imaginary, vectors: vr, imaginaryVectors: vi)
            }
        }
        result.diagnostics.operatorSeconds = out.operatorSeconds
        result.diagnostics.phases = clock.phases
        return result
    }
}

/// The answer of ``GeneralEigensolver``: eigenvalue `j` is `real[j] + i imaginary[j]` with
/// eigenvector `vectorsReal[:, j] + i vectorsImaginary[:, j]` (normalised to unit length by ARPACK
/// for real eigenvalues; complex ones have unit-norm real and imaginary parts combined as ARPACK
/// returns them).
public struct GeneralEigenResult<Scalar: BLASScalar>: Sendable {
    /// Real parts of the eigenvalues.
    public var real: [Scalar]
    /// Imaginary parts of the eigenvalues (0 for real ones).
    public var imaginary: [Scalar]
    /// Real parts of the eigenvectors, `n x count`.
    public var vectorsReal: Matrix<Scalar>
    /// Imaginary parts of the eigenvectors, `n x count` (zero columns for real eigenvalues).
    public var vectorsImaginary: Matrix<Scalar>
    /// How the run went.
    public var diagnostics: EigenDiagnostics
}
