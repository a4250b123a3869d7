import LinearAlgebra

/// The answer of ``SymmetricEigensolver``.
public struct SymmetricEigenResult<Scalar: BLASScalar>: Sendable {
    /// The converged eigenvalues, ascending (as LAPACK and scipy return them).
    public var values: [Scalar]
    /// Orthonormal eigenvectors as columns, `n x values.count`, in the order of `values`.
    public var vectors: Matrix<Scalar>
    /// How the run went.
    public var diagnostics: SolverDiagnostics
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
    public var diagnostics: SolverDiagnostics
}

extension SolverDiagnostics {
    /// The diagnostics of an ARPACK eigensolver run, before residuals and phases are added.
    init<S>(arpack output: ARPACKOutput<S>, method: String, requested: Int, returned: Int, which: String,
            subspaceSize: Int, options: ARPACKOptions) {
        self.init(method: method, requested: requested, converged: returned, iterations: output.iterations,
                  operatorApplications: output.operatorApplications, seed: options.seed)
        self.which = which
        self.subspaceSize = subspaceSize
        self.tolerance = options.tolerance
        self.operatorSeconds = output.operatorSeconds
    }
}

/// `||A x_i - λ_i x_i|| / max_j |λ_j|` for real or complex pairs, accumulated in `Double` (the
/// largest returned eigenvalue stands for `||A||`, as `s_1` does for the SVD residuals).
/// Cost: one block application of `A` (two for complex vectors).
func eigenRelativeResiduals<Op: LinearOperator>(_ op: Op, values: [Op.Scalar], imaginary: [Op.Scalar]?,
                                                vectors: Matrix<Op.Scalar>, imaginaryVectors: Matrix<Op.Scalar>?) -> [Double] {
    let n = vectors.rows
    let ax = op.apply(vectors)
    let ay = imaginaryVectors.map { op.apply($0) }
    var scale = 0.0
    for j in values.indices {
        let lr = Double(values[j]), li = Double(imaginary?[j] ?? 0)
        scale = max(scale, (lr * lr + li * li).squareRoot())
    }
    if !(scale > 0) { scale = 1 }
    return (0..<values.count).map { j in
        let lr = Double(values[j]), li = Double(imaginary?[j] ?? 0)
        var sum = 0.0
        for i in 0..<n {
            let xr = Double(vectors.elements[i + j * n])
            let xi = imaginaryVectors.map { Double($0.elements[i + j * n]) } ?? 0
            let axr = Double(ax.elements[i + j * n])
            let axi = ay.map { Double($0.elements[i + j * n]) } ?? 0
            // A (xr + i xi) - (lr + i li)(xr + i xi)
            let re = axr - (lr * xr - li * xi)
            let im = axi - (lr * xi + li * xr)
            sum += re * re + im * im
        }
        return sum.squareRoot() / scale
    }
}
