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
                let column = box.value + j * rows
                // Concrete calls, so that the inlinable fill is specialised: from this generic
                // code a `BinaryFloatingPoint` conversion per element would go through witness
                // tables. Same values either way.
                if Scalar.self == Float.self {
                    rng.fillGaussian(UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(column).assumingMemoryBound(to: Float.self), count: rows))
                } else if Scalar.self == Double.self {
                    rng.fillGaussian(UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(column).assumingMemoryBound(to: Double.self), count: rows))
                } else {
                    rng.fillGaussian(UnsafeMutableBufferPointer(start: column, count: rows))
                }
            }
        }
    }
    return g
}

/// `parallelGaussian(rows: rows, columns: columns, seed: seed).transposed()`, bit for bit, drawn
/// straight into the wide `columns x rows` layout (the sparse kernels' row-major block): no
/// `rows x columns` intermediate, no transposing pass. Each thread draws its columns' streams
/// (`Xoshiro256.stream(seed:index: j)`, each continued tile after tile, so the same values in
/// the same order) for a tile of rows into a small buffer and writes the tile's rows.
/// Cost: O(rows * columns), one write of the block.
///
/// With `rowOrder` (a permutation of `0..<rows`), the draw's rows are renumbered on the way:
/// column `j` of the result is column `rowOrder[j]` of the transposed draw (row `rowOrder[j]` of
/// the Gaussian block), each drawn row written straight to its place (no second block).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func parallelGaussianTransposed<Scalar: BLASScalar>(rows: Int, columns: Int, seed: UInt64, rowOrder: [Int32]? = nil) -> Matrix<Scalar> {
    var g = Matrix<Scalar>(rows: columns, columns: rows)
    if rows == 0 || columns == 0 { return g }
    // destination[i]: where the draw's row i goes (built and checked in one pass: every row
    // once, none outside 0..<rows).
    var destination: [Int32] = []
    if let order = rowOrder {
        precondition(order.count == rows, "parallelGaussianTransposed: rowOrder must be a permutation of 0..<\(rows)")
        destination = [Int32](repeating: -1, count: rows)
        for (j, i) in order.enumerated() {
            precondition(i >= 0 && Int(i) < rows && destination[Int(i)] < 0, "parallelGaussianTransposed: rowOrder must be a permutation of 0..<\(rows)")
            destination[Int(i)] = Int32(j)
        }
    }
    let tile = 2048
    destination.withUnsafeBufferPointer { dest in
    g.elements.withUnsafeMutableBufferPointer { p in
        // (An empty array's buffer may still have a base address: the order's presence decides.)
        let box = UnsafeSendableBox((p.baseAddress!, rowOrder == nil ? nil : dest.baseAddress))
        Parallel.forEachChunk(count: columns) { range in
            let (base, dest) = box.value
            var streams = range.map { Xoshiro256.stream(seed: seed, index: UInt64($0)) }
            let width = range.count
            let buffer = UnsafeMutablePointer<Scalar>.allocate(capacity: width * tile)
            defer { buffer.deallocate() }
            var r0 = 0
            while r0 < rows {
                let h = min(tile, rows - r0)
                for c in 0..<width {
                    streams[c].fillGaussian(UnsafeMutableBufferPointer(start: buffer + c * tile, count: h))
                }
                let out = base + range.lowerBound
                for r in 0..<h {
                    let row = out + (dest.map { Int($0[r0 + r]) } ?? (r0 + r)) * columns
                    for c in 0..<width { row[c] = buffer[c * tile + r] }
                }
                r0 += h
            }
        }
    }
    }
    return g
}

/// Where a block keeps its vectors: the columns of a tall `m x l` matrix (the dense blocks), or
/// the rows of a wide `l x m` one (the sparse randomized SVD keeps its row-major blocks as their
/// transposes). The Cholesky QR and the thin SVD below work on either without a transpose.
enum BlockVectors {
    case columns, rows
}

/// An orthonormal basis of the `l` vectors of `y` (columns of a tall block, or rows of a wide
/// one, `vectors`) by Cholesky QR: `G = L L'` for the Gram matrix of the vectors, the vectors
/// multiplied by `L^-1`, repeated `passes` times (two passes, "CholeskyQR2", give orthogonality
/// to rounding when `cond(Y) < eps^-1/2`). Falls back to Householder QR
/// (`Matrix.orthonormalized()`) when the Gram matrix is not numerically positive definite or
/// its Cholesky factor shows `cond(Y)^2 > 1 / (20 eps)`.
///
/// Cost: two GEMMs with `2 m l^2` flops each per pass, against Householder QR's `4 m l^2`
/// memory-bound level-2 flops: for `m = 10^6`, `l = 74` in `Float` on this machine about 0.2 s
/// against 2.6 s.
func choleskyOrthonormalized<S: BLASScalar>(_ y: Matrix<S>, vectors: BlockVectors = .columns, passes: Int = 2) throws -> Matrix<S> {
    try choleskyOrthonormalizedMeasuring(y, vectors: vectors, passes: passes, measure: false).basis
}

/// ``choleskyOrthonormalized(_:vectors:passes:)`` that also returns, with `measure`, the
/// given block's norm and condition number from the first pass's Cholesky factor (`nil` after a
/// Householder fallback), as ``choleskyOrthonormalizeRows(_:passes:equilibrate:finiteCheck:measure:)``.
func choleskyOrthonormalizedMeasuring<S: BLASScalar>(_ y: Matrix<S>, vectors: BlockVectors = .columns, passes: Int,
                                                     measure: Bool) throws -> (basis: Matrix<S>, measure: BlockMeasure?) {
    let byColumns = vectors == .columns
    let l = byColumns ? y.columns : y.rows, length = byColumns ? y.rows : y.columns
    func householder() throws -> (basis: Matrix<S>, measure: BlockMeasure?) {
        (byColumns ? try y.orthonormalized() : try y.transposed().orthonormalized().transposed(), nil)
    }
    if l == 0 || length < l { return try householder() }
    var q = y, measured: BlockMeasure?
    for pass in 0..<passes {
        let gram = byColumns ? Matrix.product(q, .transpose, q, .none) : Matrix.product(q, .none, q, .transpose)
        guard let factor = try? gram.cholesky() else { return try householder() }
        let diagonal = (0..<l).map { factor.lower[$0, $0] }
        let smallest = diagonal.min()!, largest = diagonal.max()!
        if !(largest > 0) || !((smallest / largest) * (smallest / largest) >= 20 * S.ulpOfOne) {
            return try householder()
        }
        if pass == 0 && measure { measured = BlockMeasure(choleskyFactor: factor.lower) }
        let inverse = try factor.lower.solve(Matrix<S>.identity(l))   // L^-1
        q = byColumns ? Matrix.product(q, .none, inverse, .transpose) : Matrix.product(inverse, .none, q, .none)
    }
    return (q, measured)
}

/// ``choleskyOrthonormalized(_:vectors:passes:)`` for the rows of the wide `yt` (`l x m`), in
/// place: each pass forms the Gram matrix `Y'Y = yt yt'` and its Cholesky factor `L`, then
/// overwrites `yt` with `L^-1 yt` one cache-sized slab of columns at a time (a GEMM into a
/// small scratch, copied back), so no second `l x m` block is allocated, zero-filled and
/// page-faulted per pass: the sparse randomized SVD normalises `2q + 3` blocks per run, each
/// 3 GB at 10M rows. Falls back to Householder QR (a new block) as the allocating version does.
/// With `equilibrate`, each pass factors the Gram matrix scaled to a unit diagonal
/// (`D G D`, `D = diag(G)^-1/2`) and applies `L^-1 D`: vectors of very different lengths (a
/// filtered block) then need only their directions to be well conditioned.
///
/// With `finiteCheck`, the block is checked for NaN and infinity as ``checkFinite(_:_:)`` does
/// (throwing ``SolverError/nonFinite(_:)`` with that description), but through the first
/// Gram matrix: its diagonal (sums of squares) is finite exactly when the block is, unless
/// finite elements overflow when squared; only then is the block itself scanned. This saves
/// a read of the block per normalisation.
///
/// With `measure`, returns the norm and condition number of the block as it was given (from the
/// singular values of the first pass's Cholesky factor: `Y = Q L'`), or `nil` when the factor
/// was not used (Householder fallback, equilibration).
@discardableResult
func choleskyOrthonormalizeRows<S: BLASScalar>(_ yt: inout Matrix<S>, passes: Int, equilibrate: Bool = false,
                                                finiteCheck: String? = nil, measure: Bool = false) throws -> BlockMeasure? {
    let l = yt.rows, m = yt.columns
    if l == 0 || m < l {
        if let what = finiteCheck { try checkFinite(yt, what) }
        yt = try yt.transposed().orthonormalized().transposed(); return nil
    }
    var measured: BlockMeasure?
    for pass in 0..<passes {
        var gram = yt.gramOfRows()
        if !(0..<l).allSatisfy({ gram[$0, $0].isFinite }) {
            // NaN or infinity in the block (an error when checking), or finite elements whose
            // squares overflow: Cholesky cannot factor that Gram matrix, Householder QR can.
            if pass == 0, let what = finiteCheck { try checkFinite(yt, what) }
            yt = try yt.transposed().orthonormalized().transposed(); return nil
        }
        var scales = [S](repeating: 1, count: l)
        if equilibrate {
            scales = (0..<l).map { gram[$0, $0] > 0 ? 1 / gram[$0, $0].squareRoot() : 1 }
            gram.scaleColumns(by: scales)
            gram = gram.scaledRows(by: scales)
        }
        guard let factor = try? gram.cholesky() else { yt = try yt.transposed().orthonormalized().transposed(); return nil }
        let diagonal = (0..<l).map { factor.lower[$0, $0] }
        let smallest = diagonal.min()!, largest = diagonal.max()!
        if !(largest > 0) || !((smallest / largest) * (smallest / largest) >= 20 * S.ulpOfOne) {
            yt = try yt.transposed().orthonormalized().transposed(); return nil
        }
        if pass == 0 && measure && !equilibrate { measured = BlockMeasure(choleskyFactor: factor.lower) }
        var inverse = try factor.lower.solve(Matrix<S>.identity(l))   // L^-1 (lower triangular)
        if equilibrate { inverse.scaleColumns(by: scales) }            // L^-1 D (still lower triangular)
        multiplyInPlace(inverse, &yt, lowerTriangular: true)
    }
    return measured
}

/// The spectral norm and condition number of a block `Y` of full column rank, from the Cholesky
/// factor of its Gram matrix (`Y'Y = L L'`, so `Y` and `L` have the same singular values).
struct BlockMeasure: Equatable {
    /// `s_max(Y)`.
    var norm: Double
    /// `s_max(Y) / s_min(Y)` (infinity when `L` is numerically singular).
    var condition: Double

    init(norm: Double, condition: Double) { self.norm = norm; self.condition = condition }

    /// From the singular values of `L` (an `l x l` SVD: O(l^3), nothing beside the block's passes).
    init?<S: BLASScalar>(choleskyFactor lower: Matrix<S>) {
        guard let s = try? lower.singularValues(), let largest = s.first, let smallest = s.last else { return nil }
        let top = Double(largest), bottom = Double(smallest)
        guard top.isFinite, top > 0 else { return nil }
        self.init(norm: top, condition: bottom > 0 ? top / bottom : .infinity)
    }
}


/// `x = a x` for a small square `a` (`l x l`) and a wide `x` (`l x m`), in slabs of columns
/// that fit in the cache (BLAS on each slab, with all its threads).
///
/// `lowerTriangular`: `a` is lower triangular (its strict upper triangle is not read): each slab
/// is multiplied in place by `?trmm`, half the flops of the GEMM and no scratch copy. On the 1M x
/// 74 Float block of the range finder's Cholesky QR that is 0.08 s against 0.16-0.31 s for the
/// GEMM and copy (OpenBLAS, 2 threads).
func multiplyInPlace<S: BLASScalar>(_ a: Matrix<S>, _ x: inout Matrix<S>, lowerTriangular: Bool = false) {
    let l = x.rows, m = x.columns
    precondition(a.rows == l && a.columns == l, "multiplyInPlace: \(a.rows) x \(a.columns) times \(l) x \(m)")
    if l == 0 || m == 0 { return }
    let slab = max(1, min(m, (2 << 20) / (l * MemoryLayout<S>.stride)))   // about 2 MiB of output
    if lowerTriangular {
        a.withUnsafeBufferPointer { pa in
            x.withUnsafeMutableBufferPointer { px in
                var c0 = 0
                while c0 < m {
                    let c = min(slab, m - c0)
                    S.blasTrmmLowerLeft(Int32(l), Int32(c), 1, pa.baseAddress!, Int32(l), px.baseAddress! + c0 * l, Int32(l))
                    c0 += c
                }
            }
        }
        return
    }
    let scratch = UnsafeMutablePointer<S>.allocate(capacity: l * slab)
    defer { scratch.deallocate() }
    a.withUnsafeBufferPointer { pa in
        x.withUnsafeMutableBufferPointer { px in
            var c0 = 0
            while c0 < m {
                let c = min(slab, m - c0)
                let block = px.baseAddress! + c0 * l
                S.blasGemm(.none, .none, Int32(l), Int32(c), Int32(l), 1, pa.baseAddress!, Int32(l),
                           UnsafePointer(block), Int32(l), 0, scratch, Int32(l))
                block.update(from: scratch, count: l * c)
                c0 += c
            }
        }
    }
}

/// The Rayleigh-Ritz step of the subspace methods: given an orthonormal basis `q` (`m x l`) of
/// an approximate range of `A`, computes `B = Q'A` through `A'Q` (one pass), its SVD, and the
/// leading `rank` triplets `U = Q W`, `s`, `V'`. Cost: one pass with `l` vectors, a thin SVD of
/// an `n x l` matrix (``thinSVD(_:vectors:rank:)``) and an `m x l x k` GEMM.
func rayleighRitz<Op: LinearOperator>(_ op: Op, basis q: Matrix<Op.Scalar>, rank: Int)
    throws -> (u: Matrix<Op.Scalar>, s: [Op.Scalar], vt: Matrix<Op.Scalar>)
{
    let bt = op.applyTranspose(q)                  // n x l = (Q'A)'
    try checkFinite(bt, "A' Q")
    let small = try thinSVD(bt, vectors: .columns, rank: rank)   // A'Q = X S Y'  =>  Q'A = Y S X'
    let k = small.vt.rows
    // U = Q Y(:, 0..<k), V' = X(:, 0..<k)'.
    return (q * small.vt.transposed(), Array(small.s[0..<k]), small.u.transposed())
}

/// The dense matrix of `op`, built by applying it (or its transpose) to the identity of the
/// smaller side. Cost: one application to `min(m, n)` vectors.
func densify<Op: LinearOperator>(_ op: Op) -> Matrix<Op.Scalar> {
    if op.columns <= op.rows { return op.apply(Matrix<Op.Scalar>.identity(op.columns)) }
    return op.applyTranspose(Matrix<Op.Scalar>.identity(op.rows)).transposed()
}

/// The leading `rank` singular triplets of a block of `l` vectors of length `m >= l` (the columns
/// of a tall `X`, or the rows of a wide `X'`, `vectors`) through CholeskyQR2: the vectors are
/// orthonormalised to rounding (``choleskyOrthonormalized(_:vectors:passes:)``, which falls back
/// to Householder QR when they are too ill-conditioned for it), `R` (`l x l`) is formed by a GEMM
/// of the block with that basis, its small SVD taken, and the basis rotated by it. Every large
/// step is a GEMM; LAPACK's `?gesdd` on the whole block bidiagonalises it with level-2
/// Householder work instead, about 20x slower at `l = 74`, `m = 82k` (1.3 s against 0.06 s on
/// this project's 2-core machine). Because `R` is formed from the block (not taken from the
/// Cholesky factor), the factorisation stays at rounding level even for a rank-deficient block.
/// Small or square blocks (`m < 4 l`) go to `?gesdd` directly.
///
/// Returns, with `k = min(rank, l, m)` and all singular values in `s`:
/// - `.columns` (`X` is `m x l`, `X = U S V'`): `u` the first `k` columns of `U` (`m x k`), `vt`
///   the first `k` rows of `V'` (`k x l`);
/// - `.rows` (the block is `X'`, `l x m`, `X' = W S Z'`): `u` the first `k` columns of `W`
///   (`l x k`), `vt` the first `k` rows of `Z'` (`k x m`).
func thinSVD<S: BLASScalar>(_ x: Matrix<S>, vectors: BlockVectors, rank: Int) throws -> (u: Matrix<S>, s: [S], vt: Matrix<S>) {
    let byColumns = vectors == .columns
    let l = byColumns ? x.columns : x.rows, m = byColumns ? x.rows : x.columns
    let k = min(rank, l, m)
    /// The first `k` rows of `a`, as a GEMM with `[I_k 0]`.
    func leadingRows(_ a: Matrix<S>) -> Matrix<S> { Matrix.product(Matrix<S>.identity(a.rows).columns(0..<k), .transpose, a, .none) }
    if l == 0 || m < 4 * l {
        let d = try x.svd()
        return (d.u.columns(0..<k).copy(), d.s, leadingRows(d.vt))
    }
    var q = x                                                  // m x l, or l x m
    if byColumns { q = try choleskyOrthonormalized(x, vectors: vectors, passes: 2) } else { try choleskyOrthonormalizeRows(&q, passes: 2) }
    // X = Q R with R = Q'X; or X' = R' Q' with R' = X' Q.
    let r = byColumns ? Matrix.product(q, .transpose, x, .none) : Matrix.product(x, .none, q, .transpose)
    let small = try r.svd()                                   // l x l
    if byColumns {
        return (q * small.u.columns(0..<k).copy(), small.s, leadingRows(small.vt))
    }
    return (small.u.columns(0..<k).copy(), small.s, Matrix.product(leadingRows(small.vt), .none, q, .none))
}

/// The leading `rank` singular values and left vectors of the wide `b` (`l x n`, its `l` rows
/// the vectors, `b = W S Z'`) from its Gram matrix `B B'`, accumulated in `Double` (the block's
/// columns are widened one cache-sized slab at a time, then one `dsyrk` per slab) and
/// decomposed by `dsyevd`: one read of the block, against CholeskyQR2's copy and four block
/// passes, a GEMM for `R` and one for the rotated basis (``thinSVD(_:vectors:rank:)``).
/// The caller forms `Z' = S^-1 W' B` with one GEMM.
///
/// Accuracy: the Gram matrix of the block's own values is exact to `Double` rounding, so the
/// eigenvalues are `s_i^2` to `eps_Double s_1^2` and the kept `s_i` to `eps_Double (s_1/s_i)^2`
/// relative; the product `S^-1 W' B` in the block's precision gives `Z'` rows orthonormal to
/// about `eps_S (s_1/s_k)`. So the function declines (returns `nil`) when `s_1 / s_k` exceeds
/// `maxCondition` (default 8, i.e. `Z'` orthonormal to a few `eps_S`): the caller then takes
/// ``thinSVD(_:vectors:rank:)``, which is exact to rounding for any conditioning. It also
/// declines small blocks (`n < 4 l`) and `s_1 = 0`.
///
/// - Returns: `w` (`l x k`, the leading `k = min(rank, l)` eigenvectors in the block's precision)
///   and `s` (`k` values, descending); `nil` as said above.
/// - Throws: ``SolverError/nonFinite(_:)`` (with `what`) when the block holds NaN or infinity
///   (seen on the Gram matrix's diagonal: no separate scan).
@_specialize(where S == Float)
@_specialize(where S == Double)
func gramRowSVD<S: BLASScalar>(_ b: Matrix<S>, rank: Int, maxCondition: Double = 8, finiteCheck what: String)
    throws -> (w: Matrix<S>, s: [S])? {
    let l = b.rows, n = b.columns
    let k = min(rank, l)
    guard l > 0, k > 0, n >= 4 * l else { return nil }
    var gram = Matrix<Double>(rows: l, columns: l)
    let slab = max(1, min(n, (1 << 19) / l))                      // about 4 MiB of Double
    let scratch = UnsafeMutablePointer<Double>.allocate(capacity: l * slab)
    defer { scratch.deallocate() }
    b.withUnsafeBufferPointer { pb in
        gram.withUnsafeMutableBufferPointer { pg in
            var c0 = 0
            while c0 < n {
                let c = min(slab, n - c0)
                let source = pb.baseAddress! + c0 * l
                for i in 0..<(l * c) { scratch[i] = Double(source[i]) }
                Double.blasSyrkLower(.none, Int32(l), Int32(c), 1, scratch, Int32(l), c0 == 0 ? 0 : 1, pg.baseAddress!, Int32(l))
                c0 += c
            }
        }
    }
    if !(0..<l).allSatisfy({ gram[$0, $0].isFinite }) {
        // A Double sum of squares of finite S values cannot overflow: the block holds NaN or infinity.
        throw SolverError.nonFinite("\(what) contains NaN or infinity; check the operator's input")
    }
    let eigen = try gram.symmetricEigen()                        // ascending
    let s1 = Swift.max(eigen.values[l - 1], 0).squareRoot()
    let sk = Swift.max(eigen.values[l - k], 0).squareRoot()
    guard s1 > 0, sk * maxCondition >= s1 else { return nil }
    var w = Matrix<S>(rows: l, columns: k)
    var s = [S](repeating: 0, count: k)
    for j in 0..<k {
        let source = l - 1 - j
        s[j] = S(eigen.values[source].squareRoot())
        for i in 0..<l { w[i, j] = S(eigen.vectors[i, source]) }
    }
    return (w, s)
}
