import LinearAlgebra

// The dense steps the subspace methods share: random test blocks, Cholesky QR, the
// Rayleigh-Ritz projection, densification and the finiteness check.

/// Throws ``SolverError/nonFinite(_:)`` when `m` holds NaN or infinity. Cost: O(elements).
func checkFinite<Scalar: BLASScalar>(_ m: Matrix<Scalar>, _ what: @autoclosure () -> String) throws {
    // `allFinite` runs a specialized loop even from this generic (unspecialized) code.
    if !m.allFinite { throw SolverError.nonFinite("\(what()) contains NaN or infinity; check the operator's input") }
}

/// A Gaussian `rows x columns` test matrix whose column `j` comes from the stream
/// `Xoshiro256.stream(seed:index: j)`, drawn in parallel: the same seed gives the same matrix
/// whatever the thread count. Cost: O(rows * columns).
func parallelGaussian<Scalar: BLASScalar>(rows: Int, columns: Int, seed: UInt64) -> Matrix<Scalar> {
    var g = Matrix<Scalar>(rows: rows, columns: columns)
    if rows == 0 || columns == 0 { return g }
    g.elements.withUnsafeMutableBufferPointer { p in
        let box = UnsafeSendableBox(p.baseAddress!)
        Parallel.forEachChunk(count: columns) { range in
            for j in range {
                var rng = Xoshiro256.stream(seed: seed, index: UInt64(j))
                rng.fillGaussian(UnsafeMutableBufferPointer(start: box.value + j * rows, count: rows))
            }
        }
    }
    return g
}

/// An orthonormal basis of the columns of the tall `y` (`m x l`, `m >= l`) by Cholesky QR:
/// `Y'Y = L L'`, `Q = Y L^-T`, repeated `passes` times (two passes, "CholeskyQR2", give
/// orthogonality to rounding when `cond(Y) < eps^-1/2`). Falls back to Householder QR
/// (`Matrix.orthonormalized()`) when the Gram matrix is not numerically positive definite or
/// its Cholesky factor shows `cond(Y)^2 > 1 / (20 eps)`.
///
/// Cost: two GEMMs with `2 m l^2` flops each per pass, against Householder QR's `4 m l^2`
/// memory-bound level-2 flops: for `m = 10^6`, `l = 74` in `Float` on this machine about 0.2 s
/// against 2.6 s.
func choleskyOrthonormalized<S: BLASScalar>(_ y: Matrix<S>, passes: Int = 2) throws -> Matrix<S> {
    let l = y.columns
    if l == 0 || y.rows < l { return try y.orthonormalized() }
    var q = y
    for _ in 0..<passes {
        let gram = Matrix.product(q, .transpose, q)
        guard let factor = try? gram.cholesky() else { return try y.orthonormalized() }
        let diagonal = (0..<l).map { factor.lower[$0, $0] }
        let smallest = diagonal.min()!, largest = diagonal.max()!
        if !(largest > 0) || !((smallest / largest) * (smallest / largest) >= 20 * S.ulpOfOne) {
            return try y.orthonormalized()
        }
        let inverse = try factor.lower.solve(Matrix<S>.identity(l))   // L^-1
        q = Matrix.product(q, .none, inverse, .transpose)
    }
    return q
}

/// The Rayleigh-Ritz step of the subspace methods: given an orthonormal basis `q` (`m x l`) of
/// an approximate range of `A`, computes `B = Q'A` through `A'Q` (one pass), its SVD, and the
/// leading `rank` triplets `U = Q W`, `s`, `V'`. Cost: one pass with `l` vectors, a thin SVD of
/// an `n x l` matrix (``tallThinSVD(_:)``) and an `m x l x k` GEMM.
func rayleighRitz<Op: LinearOperator>(_ op: Op, basis q: Matrix<Op.Scalar>, rank: Int)
    throws -> (u: Matrix<Op.Scalar>, s: [Op.Scalar], vt: Matrix<Op.Scalar>)
{
    let bt = op.applyTranspose(q)                  // n x l = (Q'A)'
    try checkFinite(bt, "A' Q")
    let small = try tallThinSVD(bt)                  // A'Q = X S Y'  =>  Q'A = Y S X'
    let k = min(rank, small.s.count)
    // U = Q Y(:, 0..<k), where Y = small.vt'
    let yt = small.vt                                // l x l (thin: min(n, l) x l)
    var y = Matrix<Op.Scalar>(rows: yt.columns, columns: k)
    for j in 0..<k { for i in 0..<yt.columns { y[i, j] = yt[j, i] } }
    let u = q * y
    let vt = small.u.columns(0..<k).copy().transposed()
    return (u, Array(small.s[0..<k]), vt)
}

/// The dense matrix of `op`, built by applying it (or its transpose) to the identity of the
/// smaller side. Cost: one application to `min(m, n)` vectors.
func densify<Op: LinearOperator>(_ op: Op) -> Matrix<Op.Scalar> {
    if op.columns <= op.rows { return op.apply(Matrix<Op.Scalar>.identity(op.columns)) }
    return op.applyTranspose(Matrix<Op.Scalar>.identity(op.rows)).transposed()
}

/// The thin SVD `X = U S V'` of a tall `m x l` matrix through CholeskyQR2: `X = Q R` with `Q`
/// orthonormal to rounding (``choleskyOrthonormalized(_:passes:)``, which falls back to
/// Householder QR when `X` is too ill-conditioned for it), `R = Q'X` by a GEMM, the `l x l` SVD
/// `R = W S V'`, and `U = Q W`. Every large step is a GEMM; LAPACK's `?gesdd` on the whole block
/// bidiagonalises it with level-2 Householder work instead, about 20x slower at `l = 74`,
/// `m = 82k` (1.3 s against 0.06 s on this project's 2-core machine). Because `R` is formed as
/// `Q'X` (not taken from the Cholesky factor), `X - Q R` stays at rounding level even when `X` is
/// rank deficient. Small or square inputs (`m < 4 l`) go to `?gesdd` directly.
func tallThinSVD<S: BLASScalar>(_ x: Matrix<S>) throws -> (u: Matrix<S>, s: [S], vt: Matrix<S>) {
    let m = x.rows, l = x.columns
    if l == 0 || m < 4 * l { let d = try x.svd(); return (d.u, d.s, d.vt) }
    let q = try choleskyOrthonormalized(x, passes: 2)        // m x l
    let r = Matrix.product(q, .transpose, x, .none)          // l x l
    let small = try r.svd()                                   // R = W S V'
    return (q * small.u, small.s, small.vt)
}

/// ``tallThinSVD(_:)`` for `X = bt'` given as the wide `l x n` `bt` (the row-major blocks of the
/// sparse randomized SVD): `bt = W S V'` with `W` `l x l` and `V'` `l x n`, returned as
/// `(w, s, vt)`; only the first `rank` rows of `V'` are formed.
func wideThinSVD<S: BLASScalar>(_ bt: Matrix<S>, rank: Int) throws -> (w: Matrix<S>, s: [S], vt: Matrix<S>) {
    let l = bt.rows, n = bt.columns
    let k = min(rank, l, n)
    if l == 0 || n < 4 * l {
        let small = try bt.svd()
        let vt = Matrix.product(Matrix<S>.identity(small.vt.rows).columns(0..<k), .transpose, small.vt, .none)
        return (small.u, small.s, vt)
    }
    let qt = try choleskyOrthonormalizedRows(bt, passes: 2)  // l x n, orthonormal rows: bt = R' Q'
    let rt = Matrix.product(bt, .none, qt, .transpose)       // R' = bt Q (l x l)
    let small = try rt.svd()                                  // R' = W S Z'
    // V' = Z' Q', its first k rows: the first k rows of Z' selected by a GEMM with [I_k 0].
    let zt = Matrix.product(Matrix<S>.identity(l).columns(0..<k), .transpose, small.vt, .none)
    return (small.u, small.s, Matrix.product(zt, .none, qt, .none))
}
