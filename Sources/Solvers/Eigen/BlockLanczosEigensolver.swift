import Foundation
import LinearAlgebra

/// The largest algebraic eigenpairs of a sparse symmetric matrix by thick-restart block Lanczos
/// (Krylov-Schur restarts, full reorthogonalisation by classical Gram-Schmidt twice): ARPACK's
/// method with a block of `b` vectors per step, so each step is one sparse block product
/// and a few GEMMs over the basis, where ARPACK reads its whole basis twice or four times per
/// one-vector product.
///
/// Convergence is ARPACK's test on the Lanczos residual estimate, `||A x - θ x|| <= tolerance *
/// max |θ|` (default `tolerance` 4 `ulpOfOne`, near ARPACK's `tol = 0`); the explicit
/// residuals of the returned pairs are in ``SolverDiagnostics/relativeResiduals`` (float32
/// products leave a floor of a few tens of ulp there). Problems too small for the basis
/// (`n < basisSize + blockSize`) are solved densely by LAPACK `?syevd`.
///
/// ```swift
/// let n: CSRMatrix<Float> = ...                      // symmetric, e.g. a normalised adjacency
/// let top = try BlockLanczosEigensolver.largest(n, .init(count: 64))
/// top.values                                         // ascending, the 64 largest
/// ```
public enum BlockLanczosEigensolver {
    /// The default tolerance in units of the scalar's `ulpOfOne`: 4 (4.8e-7 in `Float`, 8.9e-16
    /// in `Double`; at 1 ulp the Lanczos estimate of a 24-fold eigenvalue stalled above the
    /// tolerance in `Double`).
    public static let defaultUlps = 4.0

    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// Eigenpairs wanted (the largest algebraic).
        public var count: Int
        /// Vectors added to the basis per step (default 16).
        public var blockSize: Int
        /// The largest basis, in vectors (default `2 count + 2 blockSize`, ARPACK's `2 nev + 1`
        /// rounded up by two blocks).
        public var basisSize: Int?
        /// Ritz vectors kept at a restart (default `count + (basisSize - count) / 3`, at least
        /// `count + blockSize`).
        public var keep: Int?
        /// Relative residual bound of the Lanczos estimate, against `max |θ|` (default
        /// ``defaultUlps`` times the scalar's `ulpOfOne`).
        public var tolerance: Double?
        /// Restarts at most; the pairs converged by then are returned and
        /// ``SolverDiagnostics/allConverged`` is `false`.
        public var maxRestarts: Int
        /// Seed of the Gaussian start block.
        public var seed: UInt64

        /// A configuration for the `count` largest eigenpairs.
        public init(count: Int, blockSize: Int = 16, basisSize: Int? = nil, keep: Int? = nil, tolerance: Double? = nil,
                    maxRestarts: Int = 1000, seed: UInt64 = 0) {
            self.count = count; self.blockSize = blockSize; self.basisSize = basisSize; self.keep = keep
            self.tolerance = tolerance; self.maxRestarts = maxRestarts; self.seed = seed
        }

        /// Checks the settings for an `n x n` problem and returns basis size, kept vectors and tolerance.
        func resolved(n: Int, solver: String) throws -> (basis: Int, keep: Int, tolerance: Double?) {
            guard count >= 1, count <= n else {
                throw SolverError.invalidConfiguration("\(solver): count must be in 1...\(n) (got \(count))")
            }
            guard blockSize >= 1 else { throw SolverError.invalidConfiguration("\(solver): blockSize must be at least 1 (got \(blockSize))") }
            let m = basisSize ?? 2 * count + 2 * blockSize
            let p = keep ?? Swift.max(count + blockSize, count + (m - count) / 3)
            guard count + blockSize <= p, p + blockSize <= m else {
                throw SolverError.invalidConfiguration("\(solver): need count + blockSize <= keep and keep + blockSize <= basisSize (count \(count), blockSize \(blockSize), keep \(p), basisSize \(m))")
            }
            guard maxRestarts >= 0 else { throw SolverError.invalidConfiguration("\(solver): maxRestarts must be >= 0 (got \(maxRestarts))") }
            if let tol = tolerance, !(tol > 0 && tol.isFinite) {
                throw SolverError.invalidConfiguration("\(solver): tolerance must be positive and finite (got \(tol))")
            }
            return (m, p, tolerance)
        }
    }

    /// The `count` largest eigenvalues of the symmetric `op` (ascending) and their orthonormal
    /// eigenvectors (`n x count`), with diagnostics (`operatorApplications` counts one-vector
    /// products, comparable with ARPACK's count; `relativeResiduals` are explicit,
    /// `||A x - θ x|| / max |θ|`). Each value `θ` is its vector's Rayleigh quotient `x'Ax / x'x`.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a non-square operator or settings
    ///   out of range, ``SolverError/nonFinite(_:)`` when the operator holds NaN or infinity.
    public static func largest<Op: CSRRepresentable>(_ op: Op, _ configuration: Configuration) throws
        -> SymmetricEigenResult<Op.Scalar>
    {
        try run(op.csrMatrix(), configuration)
    }

    static func run<S: BLASScalar>(_ a: CSRMatrix<S>, _ c: Configuration) throws -> SymmetricEigenResult<S> {
        let n = a.rows
        guard a.columns == n else {
            throw SolverError.invalidConfiguration("BlockLanczosEigensolver: the operator is \(a.rows) x \(a.columns), not square")
        }
        let (m, keep, chosen) = try c.resolved(n: n, solver: "BlockLanczosEigensolver")
        guard a.values.allSatisfy({ $0.isFinite }) else { throw SolverError.nonFinite("BlockLanczosEigensolver: the matrix holds NaN or infinity") }
        let tolerance = chosen ?? defaultUlps * Double(S.ulpOfOne)
        let k = c.count
        var clock = PhaseClock()
        if m + c.blockSize > n {
            // Too small for the basis: LAPACK's dense answer.
            let eig = try clock.measure("dense eigensolver") { try a.toDense().symmetricEigen() }
            let values = Array(eig.values.suffix(k))
            let vectors = eig.vectors.columns((n - k)..<n).copy()
            var d = SolverDiagnostics(method: "dense syevd (n < basis + block)", requested: k, converged: k, operatorApplications: 0, seed: c.seed)
            let images = a.apply(vectors)
            let top = Double(values.map { abs($0) }.max() ?? 1)
            d.relativeResiduals = (0..<k).map { j in
                var s = 0.0
                for i in 0..<n { let r = Double(images[i, j]) - Double(values[j]) * Double(vectors[i, j]); s += r * r }
                return s.squareRoot() / Swift.max(top, Double.leastNormalMagnitude)
            }
            d.phases = clock.phases
            return SymmetricEigenResult(values: values, vectors: vectors, diagnostics: d)
        }
        let out = try BlockLanczos.largest(n: n, count: k, block: c.blockSize, basis: m, keep: keep, maxRestarts: c.maxRestarts,
                                           seed: c.seed, images: true, threshold: { _, top in tolerance * top }, clock: &clock) { x, w, y in
            a.multiply(rowMajor: x, columns: w, into: y)
        }
        let found = out.values.count
        // Each returned vector's value is its Rayleigh quotient `x'Ax / x'x`, in double from the
        // images the run made: the Lanczos values carry the restarts' rounding (each restart
        // takes `H = diag(θ)` for the rotated basis; 0.6-1.2e-14 off in Double on the tests'
        // 500-node graph, 27-52 ulp), the quotient is the best value for the vector as computed,
        // and the residuals are taken with it (4.4-6.6e-15 there, every seed and thread count tried).
        let quotients = Self.rayleighQuotients(xt: out.vectors, images: out.images, count: found)
        let ascending = (0..<found).sorted { (quotients[$0], $1) < (quotients[$1], $0) }
        let top = Swift.max(quotients.map { abs($0) }.max() ?? 0, Double.leastNormalMagnitude)
        let residuals = ChebyshevEigensolver.residualNorms(xt: out.vectors, wt: out.images, values: quotients, count: found)
        // Ascending, as columns.
        var vectors = Matrix<S>(rows: n, columns: found)
        out.vectors.withUnsafeBufferPointer { x in
            vectors.elements.withUnsafeMutableBufferPointer { v in
                for (column, row) in ascending.enumerated() {
                    for i in 0..<n { v[column * n + i] = x[i * found + row] }
                }
            }
        }
        var d = SolverDiagnostics(method: "thick-restart block Lanczos (block \(c.blockSize), basis \(m), keep \(keep))",
                                  requested: k, converged: out.converged, iterations: out.restarts,
                                  operatorApplications: out.products, seed: c.seed)
        d.relativeResiduals = ascending.map { residuals[$0] / top }
        d.phases = clock.phases
        d.subspaceSize = m
        d.tolerance = tolerance
        d.which = "largest algebraic"
        return SymmetricEigenResult(values: ascending.map { S(quotients[$0]) }, vectors: vectors, diagnostics: d)
    }

    /// `x_i' A x_i / x_i' x_i` for the first `count` rows of the wide `xt` and their images
    /// (rows of `images`, the same layout), summed in double.
    static func rayleighQuotients<S: BLASScalar>(xt: Matrix<S>, images: Matrix<S>, count: Int) -> [Double] {
        let b = xt.rows, n = xt.columns
        var xa = [Double](repeating: 0, count: count), xx = [Double](repeating: 0, count: count)
        xt.elements.withUnsafeBufferPointer { x in
            images.elements.withUnsafeBufferPointer { w in
                for j in 0..<n {
                    let base = j * b
                    for i in 0..<count {
                        let xi = Double(x[base + i])
                        xa[i] += xi * Double(w[base + i]); xx[i] += xi * xi
                    }
                }
            }
        }
        return (0..<count).map { xx[$0] > 0 ? xa[$0] / xx[$0] : 0 }
    }
}
