import Foundation
import LinearAlgebra
import Solvers

/// A principal-component projection `z = V' (x - mean)` onto the top `d` eigenvectors of the
/// feature covariance: the linear compression that the learned bottleneck is compared with.
public struct PCAProjection<Scalar: BLASScalar>: Sendable {
    /// The feature means, one per input dimension.
    public let mean: [Scalar]
    /// The principal directions as columns, `inputs x d`, orthonormal, by decreasing variance.
    public let components: Matrix<Scalar>
    /// The variance along each component (eigenvalues of the covariance), decreasing.
    public let variances: [Scalar]
    /// Whether the eigenvectors came from a randomized subspace iteration rather than a full
    /// symmetric eigendecomposition.
    public let randomized: Bool

    /// Input dimension.
    public var inputs: Int { components.rows }
    /// Output dimension `d`.
    public var dimension: Int { components.columns }

    /// Fits the projection on the samples `rows` of `features`.
    ///
    /// The covariance `C = X X'/n - mean mean'` is formed densely (`inputs x inputs`; one GEMM
    /// for dense features, one outer product per sample's entries for sparse ones). Up to
    /// `exactLimit` inputs, its top `d` eigenvectors come from LAPACK's symmetric
    /// eigensolver (`syevd`); above, from `RandomizedSVD` (Solvers) of `C` (rank `d`,
    /// `powerIterations` power iterations, seeded by `seed`): for a symmetric positive
    /// semidefinite `C` the singular triplets are the eigenpairs.
    /// - Precondition: `0 < d <= features.dimension`, rows non-empty and in range.
    /// - Throws: `LAPACKError` when the eigensolver fails, `SolverError` when the
    /// randomized SVD does (e.g. NaN features).
    /// - Complexity: covariance O(inputs^2 n) dense; eigen O(inputs^3) exact or
    ///   O(inputs^2 (d + 10) powerIterations) randomized.
    public static func fit(_ features: FeatureMatrix<Scalar>, rows: [Int], dimension d: Int,
                           exactLimit: Int = 1024, powerIterations: Int = 6, seed: UInt64 = 1) throws -> PCAProjection {
        let p = features.dimension
        precondition(d > 0 && d <= p, "PCA: dimension \(d) out of 1...\(p)")
        precondition(!rows.isEmpty, "PCA: no rows")
        let n = Scalar(rows.count)
        var mean = [Scalar](repeating: 0, count: p)
        var cov = Matrix<Scalar>(rows: p, columns: p)
        switch features.gather(rows) {
        case .dense(let x):
            for s in 0..<x.columns { for i in 0..<p { mean[i] += x.elements[i + s * p] } }
            Matrix.gemm(x, .none, x, .transpose, alpha: 1 / n, beta: 0, into: &cov)
        case .sparse(let sp):
            cov.elements.withUnsafeMutableBufferPointer { c in
                for s in 0..<sp.count {
                    let range = sp.offsets[s]..<sp.offsets[s + 1]
                    for a in range {
                        let ia = Int(sp.indices[a]), va = sp.values[a]
                        mean[ia] += va
                        for b in range { c[ia + Int(sp.indices[b]) * p] += va * sp.values[b] }
                    }
                }
            }
            cov.scale(by: 1 / n)
        }
        for i in 0..<p { mean[i] /= n }
        cov.withUnsafeMutableBufferPointer { c in
            for j in 0..<p { for i in 0..<p { c[i + j * p] -= mean[i] * mean[j] } }
        }
        let vectors: Matrix<Scalar>, values: [Scalar], randomized: Bool
        if p <= exactLimit {
            let eig = try cov.symmetricEigen()
            let top = Array((p - d)..<p).reversed()
            vectors = Matrix(columns: top.map { eig.vectors.column($0) })
            values = top.map { eig.values[$0] }
            randomized = false
        } else {
            // C is symmetric positive semidefinite: its top eigenpairs are its top singular
            // triplets, which the package's randomized SVD finds (Cholesky-QR normaliser, p = 10).
            let svd = try RandomizedSVD.compute(cov, .init(rank: d, powerIterations: max(1, powerIterations), seed: seed,
                                                           computeResiduals: false))
            vectors = svd.u
            values = svd.s
            randomized = true
        }
        return PCAProjection(mean: mean, components: vectors, variances: values, randomized: randomized)
    }

    /// Projects samples: `V' (x - mean)` for each column, a `d x count` matrix.
    /// Cost: O(inputs * d * count) dense (one GEMM), O(d * entries + d * inputs) sparse.
    public func project(_ features: FeatureMatrix<Scalar>) -> Matrix<Scalar> {
        precondition(features.dimension == inputs, "PCA.project: \(features.dimension) inputs, fitted on \(inputs)")
        let shift = components.multiply(mean, .transpose)
        return Linear(weight: components.transposed(), bias: shift.map { -$0 }).forward(features)
    }
}
