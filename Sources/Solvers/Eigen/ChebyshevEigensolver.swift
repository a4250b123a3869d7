import Foundation
import LinearAlgebra

// Chebyshev-filtered subspace iteration for the largest eigenpairs of a sparse symmetric
// matrix: every step is a sparse product with a whole block (the kernels' fast path) or a
// BLAS-3 call, where ARPACK's Lanczos works one vector at a time.

/// The largest algebraic eigenpairs of a sparse symmetric matrix by Chebyshev-filtered
/// subspace iteration (Zhou and Saad 2007, "A Chebyshev–Davidson algorithm"; the ChASE library's
/// filter-orthonormalise-Rayleigh-Ritz loop).
///
/// A block of `b > count` vectors is repeatedly multiplied by `p_m(A)`, the degree-`m`
/// Chebyshev polynomial of the first kind mapped onto `[lower, cut]`: eigencomponents in that
/// interval stay bounded by 1 while those above `cut` grow like `cosh(m acosh(x))`, then
/// orthonormalised (CholeskyQR2, Householder when the block is ill-conditioned) and rotated by
/// the Rayleigh-Ritz step (in double precision). `lower` comes from a short Lanczos run
/// (its smallest Ritz value less the residual norm), `cut` is the block's smallest Ritz value
/// after each step, so the filter sharpens as the block converges. The iteration stops when the
/// `count` largest Ritz pairs have `||A x - θ x|| <= tolerance * max |θ|`.
///
/// The filter needs a gap: when the largest eigenvalue's multiplicity reaches the block size
/// (a normalised adjacency has eigenvalue 1 once per connected component: wiki-vote's 24
/// components against the default block of 16 for 8 pairs) no polynomial separates the block
/// from the rest and the residuals stall. The run notices (the largest wanted residual fell by
/// less than 2x over two iterations) and grows the block by half with seeded Gaussian vectors:
/// wiki-vote at `count: 8` grows 16 -> 24 -> 36 and converges in 10 iterations
/// (``SolverDiagnostics/method`` says how often the block grew).
///
/// Convergence of the `i`-th pair goes with `θ_i` against `θ_(b+1)`: a block half as large
/// again as the count (the default) with a degree-16 filter was the fastest of the settings
/// tried on slashdot's normalised adjacency (block 2k with degree 10 or 20 took longer). Each iteration costs `m + 1`
/// block products and two `n x b` orthonormalisations; with ARPACK the same work is `b` times
/// as many single-vector products and O(n ncv^2) of level-2 Lanczos work.
///
/// ```swift
/// let n: CSRMatrix<Float> = ...                      // symmetric, e.g. a normalised adjacency
/// let top = try ChebyshevEigensolver.largest(n, .init(count: 64))
/// top.values                                         // ascending, the 64 largest
/// ```
public enum ChebyshevEigensolver {
    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// Eigenpairs wanted (the largest algebraic).
        public var count: Int
        /// Vectors in the block (default `min(n, max(3 count / 2, count + 8))`).
        public var blockSize: Int?
        /// Degree of the Chebyshev filter applied per iteration.
        public var degree: Int
        /// Relative residual `||A x - θ x|| / max |θ|` every wanted pair must reach (default
        /// `48 ulpOfOne` of the scalar: 5.7e-6 in `Float`, 1.1e-14 in `Double`; the float32
        /// products of a normalised adjacency leave residuals of about `32 ulpOfOne`, so a
        /// tighter tolerance there costs iterations for nothing).
        public var tolerance: Double?
        /// Filter iterations at most; the pairs converged by then are returned and
        /// ``SolverDiagnostics/allConverged`` is `false`.
        public var maxIterations: Int
        /// Lanczos steps of the spectrum estimate.
        public var lanczosSteps: Int
        /// Seed of the Lanczos start and of the Gaussian start block.
        public var seed: UInt64

        /// A configuration for the `count` largest eigenpairs.
        public init(count: Int, blockSize: Int? = nil, degree: Int = 16, tolerance: Double? = nil,
                    maxIterations: Int = 300, lanczosSteps: Int = 40, seed: UInt64 = 0) {
            self.count = count; self.blockSize = blockSize; self.degree = degree; self.tolerance = tolerance
            self.maxIterations = maxIterations; self.lanczosSteps = lanczosSteps; self.seed = seed
        }
    }

    /// The `count` largest eigenvalues of the symmetric `op` (ascending) and their orthonormal
    /// eigenvectors (`n x count`), with diagnostics (`operatorApplications` counts one-vector
    /// products: `b` per block product, comparable with ARPACK's count).
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a non-square operator or settings out
    ///   of range, ``SolverError/nonFinite(_:)`` when the operator holds NaN or infinity.
    public static func largest<Op: CSRRepresentable>(_ op: Op, _ configuration: Configuration) throws
        -> SymmetricEigenResult<Op.Scalar>
    {
        try run(op.csrMatrix(), configuration)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: BLASScalar>(_ a: CSRMatrix<S>, _ c: Configuration) throws -> SymmetricEigenResult<S> {
        let n = a.rows
        guard a.columns == n else {
            throw SolverError.invalidConfiguration("ChebyshevEigensolver: the operator is \(a.rows) x \(a.columns), not square")
        }
        guard c.count >= 1, c.count <= n else {
            throw SolverError.invalidConfiguration("ChebyshevEigensolver: count must be in 1...\(n) (got \(c.count))")
        }
        var b = c.blockSize ?? min(n, max(3 * c.count / 2, c.count + 8))
        guard b >= c.count, b <= n else {
            throw SolverError.invalidConfiguration("ChebyshevEigensolver: blockSize must be in \(c.count)...\(n) (got \(b))")
        }
        guard c.degree >= 1, c.maxIterations >= 1, c.lanczosSteps >= 2 else {
            throw SolverError.invalidConfiguration("ChebyshevEigensolver: degree, maxIterations must be at least 1 and lanczosSteps at least 2")
        }
        let tolerance = c.tolerance ?? 48 * Double(S.ulpOfOne)
        guard tolerance > 0 else { throw SolverError.invalidConfiguration("ChebyshevEigensolver: tolerance must be positive") }
        guard a.values.allSatisfy({ $0.isFinite }) else { throw SolverError.nonFinite("ChebyshevEigensolver: the matrix holds NaN or infinity") }

        var clock = PhaseClock()
        var applications = 0
        // 1. The bottom of the spectrum (the filter's damped interval starts there).
        let bounds = clock.measure("spectrum estimate") { lanczosBounds(a, steps: min(c.lanczosSteps, n), seed: c.seed) }
        applications += bounds.steps
        // 2. A Gaussian start block, orthonormalised, and its Ritz values.
        var xt: Matrix<S> = clock.measure("start block") { gaussianRows(b, n, seed: c.seed &+ 1) }
        var wt = Matrix<S>(rows: b, columns: n)
        var ritz: (values: [Double], xt: Matrix<S>, wt: Matrix<S>) = ([], xt, wt)
        var residuals = [Double]()
        var lower = bounds.lower
        func scale() -> Double { Swift.max(abs(ritz.values.first!), abs(ritz.values.last!), Double.leastNormalMagnitude) }
        func convergedCount() -> Int { residuals.prefix { $0 <= tolerance * scale() }.count }
        /// Orthonormalise `xt`, then Rayleigh-Ritz with one block product and the residuals.
        func project() throws {
            try clock.measure("orthonormalise") { try choleskyOrthonormalizeRows(&xt, passes: 2) }
            sparseProduct(a, xt, into: &wt); applications += b
            ritz = try clock.measure("Rayleigh-Ritz") { try rayleighRitz(qt: xt, wt: wt) }
            xt = ritz.xt; wt = ritz.wt
            lower = Swift.min(lower, ritz.values.last!)
            residuals = clock.measure("residuals") { residualNorms(xt: xt, wt: wt, values: ritz.values, count: c.count) }
        }
        try project()
        var iterations = 0, growths = 0
        var history = [Double]()            // the largest wanted residual after each iteration
        var t0 = Matrix<S>(rows: b, columns: n), t1 = Matrix<S>(rows: b, columns: n)
        while convergedCount() < c.count && iterations < c.maxIterations {
            iterations += 1
            // 3. A stall (the wanted residuals fell by less than 2x over two iterations) means
            // that no filter separates the block from the rest of the spectrum: the top
            // eigenvalue's multiplicity reaches the block. Grow the block by half with fresh
            // Gaussian vectors and start from its Ritz pairs.
            if b < n, history.count >= 3, history[history.count - 1] > 0.5 * history[history.count - 3] {
                let extra = Swift.min(n - b, Swift.max(8, b / 2))
                growths += 1
                xt = appendingRows(xt, gaussianRows(extra, n, seed: c.seed &+ 1 &+ UInt64(growths)))
                b += extra
                wt = Matrix<S>(rows: b, columns: n); t0 = wt; t1 = wt
                try project()
                history.removeAll()
            }
            // 4. Filter: p_m(A) X with p_m the Chebyshev polynomial on [lower, cut].
            let cut = ritz.values.last!
            if !(cut > lower) { lower = cut - Swift.max(1e-3 * scale(), abs(cut) * 1e-3) }
            clock.measure("filter") {
                chebyshevFilter(a, &xt, degree: c.degree, lower: lower, cut: cut, t0: &t0, t1: &t1, spare: &wt)
            }
            applications += c.degree * b
            try checkFinite(xt, "ChebyshevEigensolver: the filtered block")
            // 5. Orthonormalise in place (no new block per iteration), Rayleigh-Ritz, residuals.
            try project()
            history.append(residuals.prefix(c.count).max()! / scale())
        }
        // The count largest, ascending, as columns.
        let k = c.count
        let values = (0..<k).reversed().map { S(ritz.values[$0]) }
        var vectors = Matrix<S>(rows: n, columns: k)
        xt.withUnsafeBufferPointer { x in
            vectors.elements.withUnsafeMutableBufferPointer { v in
                for (column, row) in (0..<k).reversed().enumerated() {
                    for i in 0..<n { v[column * n + i] = x[i * b + row] }
                }
            }
        }
        let relative = residuals.map { $0 / scale() }
        let grown = growths == 0 ? "" : ", grown \(growths) times on a stall"
        var d = SolverDiagnostics(method: "Chebyshev-filtered subspace iteration (block \(b)\(grown), degree \(c.degree))",
                                  requested: k, converged: convergedCount(), iterations: iterations,
                                  operatorApplications: applications, seed: c.seed)
        d.relativeResiduals = relative.reversed()
        d.phases = clock.phases
        d.subspaceSize = b
        d.tolerance = tolerance
        d.which = "largest algebraic"
        return SymmetricEigenResult(values: values, vectors: vectors, diagnostics: d)
    }

    /// `rows` seeded Gaussian vectors of length `n`, as the rows of a wide block.
    static func gaussianRows<S: BLASScalar>(_ rows: Int, _ n: Int, seed: UInt64) -> Matrix<S> {
        Matrix.product(Matrix<S>.identity(rows), .none, parallelGaussian(rows: n, columns: rows, seed: seed), .transpose)
    }

    /// The rows of `top` followed by those of `bottom` (wide blocks of the same width).
    static func appendingRows<S: BLASScalar>(_ top: Matrix<S>, _ bottom: Matrix<S>) -> Matrix<S> {
        let p = top.rows, q = bottom.rows, n = top.columns
        var out = Matrix<S>(rows: p + q, columns: n)
        out.elements.withUnsafeMutableBufferPointer { o in
            top.elements.withUnsafeBufferPointer { t in
                bottom.elements.withUnsafeBufferPointer { u in
                    for j in 0..<n {
                        (o.baseAddress! + j * (p + q)).update(from: t.baseAddress! + j * p, count: p)
                        (o.baseAddress! + j * (p + q) + p).update(from: u.baseAddress! + j * q, count: q)
                    }
                }
            }
        }
        return out
    }

    /// `X <- p_m(A) X` (rows of the wide `xt` are the vectors) with the three-term recurrence
    /// `T_(j+1) = (2 / e) (A T_j - c T_j) - T_(j-1)`, `c` and `e` the centre and half-width of
    /// `[lower, cut]`; `t0`, `t1` and `spare` are work blocks of the same shape.
    static func chebyshevFilter<S: BLASScalar>(_ a: CSRMatrix<S>, _ xt: inout Matrix<S>, degree m: Int, lower: Double, cut: Double,
                                               t0: inout Matrix<S>, t1: inout Matrix<S>, spare: inout Matrix<S>) {
        let e = (cut - lower) / 2, centre = (cut + lower) / 2
        // T1 = (A X - c X) / e
        sparseProduct(a, xt, into: &t1)
        combine(&t1, 1 / e, -centre / e, xt, nil)
        swap(&t0, &xt)                  // t0 = T0 (xt's storage is now spare)
        for _ in 1..<m {
            sparseProduct(a, t1, into: &spare)
            // T2 = (2/e) (A T1) - (2c/e) T1 - T0, written into spare
            combine(&spare, 2 / e, -2 * centre / e, t1, t0)
            swap(&t0, &t1)              // t0 = T1
            swap(&t1, &spare)           // t1 = T2, spare = old T0
        }
        swap(&xt, &t1)                  // xt = T_m
    }

    /// `y <- alpha y + beta x - z` (z optional), element by element.
    static func combine<S: BLASScalar>(_ y: inout Matrix<S>, _ alpha: Double, _ beta: Double, _ x: Matrix<S>, _ z: Matrix<S>?) {
        let al = S(alpha), be = S(beta)
        let count = y.elements.count
        y.elements.withUnsafeMutableBufferPointer { yp in
            x.elements.withUnsafeBufferPointer { xp in
                let yb = UnsafeSendableBox(yp.baseAddress!), xb = UnsafeSendableBox(xp.baseAddress!)
                if let z {
                    z.elements.withUnsafeBufferPointer { zp in
                        let zb = UnsafeSendableBox(zp.baseAddress!)
                        Parallel.forEachChunk(count: count, minimumChunk: 1 << 16) { r in
                            for i in r { yb.value[i] = al * yb.value[i] + be * xb.value[i] - zb.value[i] }
                        }
                    }
                } else {
                    Parallel.forEachChunk(count: count, minimumChunk: 1 << 16) { r in
                        for i in r { yb.value[i] = al * yb.value[i] + be * xb.value[i] }
                    }
                }
            }
        }
    }

    /// The Rayleigh-Ritz step on an orthonormal `qt` (rows) and `wt = (A Q)'`: the projected
    /// `H = Q'AQ` formed and diagonalised in double precision (its entries are sums over `n`
    /// terms, which float32 would round to about `sqrt(n) eps`), the Ritz vectors `X = Q S` and
    /// their images `A X = (A Q) S` by GEMMs in the block's precision, Ritz values descending.
    static func rayleighRitz<S: BLASScalar>(qt: Matrix<S>, wt: Matrix<S>) throws -> (values: [Double], xt: Matrix<S>, wt: Matrix<S>) {
        let b = qt.rows
        var h = Matrix.product(widened(qt), .none, widened(wt), .transpose)
        for i in 0..<b { for j in 0..<i { let s = (h[i, j] + h[j, i]) / 2; h[i, j] = s; h[j, i] = s } }
        let eig = try h.symmetricEigen()
        // Descending order: reverse the columns.
        var s = Matrix<S>(rows: b, columns: b)
        for j in 0..<b { for i in 0..<b { s[i, j] = S(eig.vectors[i, b - 1 - j]) } }
        return (eig.values.reversed(), Matrix.product(s, .transpose, qt, .none), Matrix.product(s, .transpose, wt, .none))
    }

    /// `m` in double precision (an element loop the specialisations of `run` compile
    /// to a conversion, where `Matrix.converted(to:)` from this generic code would not).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func widened<S: BLASScalar>(_ m: Matrix<S>) -> Matrix<Double> {
        var out = [Double](repeating: 0, count: m.elements.count)
        m.elements.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in for i in 0..<p.count { o[i] = Double(p[i]) } }
        }
        return Matrix(rows: m.rows, columns: m.columns, elements: out)
    }

    /// `||A x_i - θ_i x_i||` for the first `count` rows of `xt` (Ritz vectors) and `wt` (their images).
    static func residualNorms<S: BLASScalar>(xt: Matrix<S>, wt: Matrix<S>, values: [Double], count: Int) -> [Double] {
        let b = xt.rows, n = xt.columns
        var sums = [Double](repeating: 0, count: count)
        xt.elements.withUnsafeBufferPointer { x in
            wt.elements.withUnsafeBufferPointer { w in
                for j in 0..<n {
                    let base = j * b
                    for i in 0..<count {
                        let r = Double(w[base + i]) - values[i] * Double(x[base + i])
                        sums[i] += r * r
                    }
                }
            }
        }
        return sums.map { $0.squareRoot() }
    }

    /// A lower bound of the spectrum (smallest Ritz value less the residual norm) from `steps`
    /// Lanczos steps in double precision with full reorthogonalisation (classical Gram-Schmidt
    /// twice against the `n x steps` basis, by BLAS `gemv`s), from a seeded start.
    static func lanczosBounds<S: BLASScalar>(_ a: CSRMatrix<S>, steps: Int, seed: UInt64) -> (lower: Double, upper: Double, steps: Int) {
        let n = a.rows
        var rng = Xoshiro256(seed: seed)
        var basis = [Double](repeating: 0, count: n * steps)    // column-major, n x steps
        var w = (0..<n).map { _ in rng.nextUniform() - 0.5 }
        var h = [Double](repeating: 0, count: steps)
        var alphas = [Double](), betas = [Double]()
        var x = [S](repeating: 0, count: n), y = [S](repeating: 0, count: n)
        var beta = w.withUnsafeBufferPointer { Double.blasNrm2(Int32(n), $0.baseAddress!, 1) }
        basis.withUnsafeMutableBufferPointer { v in
            w.withUnsafeMutableBufferPointer { w in
                h.withUnsafeMutableBufferPointer { h in
                    let v = v.baseAddress!, w = w.baseAddress!, h = h.baseAddress!
                    for step in 0..<steps {
                        let q = v + step * n                       // q = w / beta
                        for i in 0..<n { q[i] = w[i] / beta }
                        for i in 0..<n { x[i] = S(q[i]) }
                        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in a.multiply(rowMajor: xp, columns: 1, into: yp) } }
                        for i in 0..<n { w[i] = Double(y[i]) }
                        alphas.append(Double.blasDot(Int32(n), w, 1, q, 1))
                        for _ in 0..<2 {                          // w -= V (V' w), twice is enough
                            Double.blasGemv(.transpose, Int32(n), Int32(step + 1), 1, v, Int32(n), w, 1, 0, h, 1)
                            Double.blasGemv(.none, Int32(n), Int32(step + 1), -1, v, Int32(n), h, 1, 1, w, 1)
                        }
                        beta = Double.blasNrm2(Int32(n), w, 1)
                        if step == steps - 1 || beta < 1e-12 { break }
                        betas.append(beta)
                    }
                }
            }
        }
        let m = alphas.count
        var t = Matrix<Double>(rows: m, columns: m)
        for i in 0..<m { t[i, i] = alphas[i] }
        for i in 0..<(m - 1) where i < betas.count { t[i + 1, i] = betas[i]; t[i, i + 1] = betas[i] }
        let theta = (try? t.symmetricEigen(vectors: false).values) ?? [alphas.min()!, alphas.max()!]
        return (theta.first! - beta, theta.last! + beta, m)
    }
}
