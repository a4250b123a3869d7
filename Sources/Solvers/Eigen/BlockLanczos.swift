import Foundation
import LinearAlgebra

// Thick-restart block Lanczos (Krylov-Schur form) for the largest eigenpairs of a symmetric
// operator given as a block product on row-major `n x w` blocks: the core shared by
// ``BlockLanczosEigensolver`` (a sparse symmetric matrix) and ``BlockLanczosSVD`` (`A'A`).
// Where ARPACK orthogonalises one vector at a time (two or four level-2 passes over its whole
// basis per product), this adds a block of `b` vectors per step, so the basis is read by GEMMs
// once per `b` products, and the operator is applied to `b` vectors at once (the sparse
// kernels' block path).

/// What one run of the block Lanczos core returns.
struct BlockLanczosOutput<S: BLASScalar> {
    /// The wanted Ritz values found, descending (all `count` when converged).
    var values: [Double]
    /// Their Ritz vectors as the rows of a wide `count x n` block (column-major, so row-major `n x count`).
    var vectors: Matrix<S>
    /// The images `A x_i` of the Ritz vectors, the same layout (for explicit residuals; one
    /// product of the returned vectors at the end, when asked for; else empty).
    var images: Matrix<S>
    /// How many of the wanted pairs met the tolerance.
    var converged: Int
    /// One-vector products (a block product of width `w` counts `w`).
    var products: Int
    /// Restarts made.
    var restarts: Int
}

enum BlockLanczos {
    /// The `count` largest eigenpairs of the symmetric operator `apply` (`apply(x, w, y)`: `y = A x`
    /// for row-major `n x w` blocks) by thick-restart block Lanczos with full reorthogonalisation.
    ///
    /// The basis `V` (`basis` vectors at most, the rows of a wide block) is kept; the projected
    /// matrix `H = V'AV` is formed column block by column block from the Gram-Schmidt
    /// coefficients of each new product (a local pass against the last two blocks, then one
    /// full pass against the whole basis, by GEMM), so the Rayleigh-Ritz step (in double) never
    /// rereads the basis.
    /// When the basis is full, it is rotated onto its `keep` leading Ritz vectors (Krylov-Schur
    /// restart: the next block, orthogonal to the old basis, stays the continuation). A Ritz pair
    /// converges when its Lanczos residual `||R y_(last block)||` (the coupling of the next block,
    /// exact in exact arithmetic) is at most `threshold(θ_i, θ_max)`; the run checks after every
    /// block product and stops as soon as the `count` leading pairs have converged.
    /// - Precondition: `1 <= count`, `1 <= block`, `count + block <= keep`, `keep + block <= basis`,
    ///   `basis + block <= n`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func largest<S: BLASScalar>(n: Int, count k: Int, block b: Int, basis m: Int, keep: Int, maxRestarts: Int,
                                       seed: UInt64, images: Bool, threshold: (Double, Double) -> Double,
                                       clock: inout PhaseClock,
                                       apply: (UnsafeBufferPointer<S>, Int, UnsafeMutableBufferPointer<S>) -> Void) throws
        -> BlockLanczosOutput<S>
    {
        precondition(k >= 1 && b >= 1 && k + b <= keep && keep + b <= m && m + b <= n, "BlockLanczos: bad sizes")
        // Per-step phases, summed by name into the caller's clock when the run ends.
        var steps = PhaseClock()
        defer {
            var order = [String](), total = [String: Double]()
            for phase in steps.phases {
                if total[phase.name] == nil { order.append(phase.name) }
                total[phase.name, default: 0] += phase.seconds
            }
            clock.phases += order.map { SolverPhase(name: $0, seconds: total[$0]!) }
        }
        var v = Matrix<S>(rows: m, columns: n)               // the basis, wide, leading dimension m
        var spare = Matrix<S>(rows: 0, columns: 0)           // the restart's rotated basis (then swapped in)
        var before = Matrix<S>(rows: b, columns: n)          // the next block before its normalisation
        var h = [Double](repeating: 0, count: m * m)                                  // H = V'AV, column-major m x m
        var q: Matrix<S> = steps.measure("start block") { ChebyshevEigensolver.gaussianRows(b, n, seed: seed) }
        try choleskyOrthonormalizeRows(&q, passes: 2, finiteCheck: "BlockLanczos: the start block")
        var w = Matrix<S>(rows: b, columns: n)
        var coupling = [Double](repeating: 0, count: b * b)   // R = Q_next (A Q_last)', b x b
        var j = 0, products = 0, restarts = 0, draws: UInt64 = 0
        var fresh = true                                     // the block follows a (re)start: couples with the whole basis
        var theta = [Double](), y = [Double]()               // the current Ritz values (descending) and vectors (j x j)

        /// Rayleigh-Ritz of the current `H` (j x j), descending; the residual bounds of the wanted pairs.
        func ritz() throws -> [Double] {
            var hm = Matrix<Double>(rows: j, columns: j)
            for c in 0..<j { for r in 0..<j { hm[r, c] = h[r + c * m] } }
            let eig = try hm.symmetricEigen()
            theta = Array(eig.values.reversed())
            y = [Double](repeating: 0, count: j * j)
            for c in 0..<j { for r in 0..<j { y[r + c * j] = eig.vectors[r, j - 1 - c] } }
            // ||R y_i(last b rows)||: the Ritz residual (A V y = V H y + Q_next R E' y).
            return (0..<Swift.min(k, j)).map { i in
                var s = 0.0
                for r in 0..<b {
                    var t = 0.0
                    for c in 0..<b { t += coupling[r + c * b] * y[(j - b + c) + i * j] }
                    s += t * t
                }
                return s.squareRoot()
            }
        }

        while true {
            // 1. The product of the new block, appended to the basis with its image.
            steps.measure("products") {
                q.withUnsafeBufferPointer { qp in w.withUnsafeMutableBufferPointer { wp in apply(qp, b, wp) } }
            }
            products += b
            // (NaN or infinity in the product reaches W's Gram matrix below: a clear error there.)
            steps.measure("orthogonalise") {
                copyRows(q, into: &v, at: j)
                j += b
                // 2. H(:, new) = V' (A Q). In exact arithmetic A Q couples only with the last two
                // blocks (and, right after a restart, with every kept vector): a local pass against
                // those, then one full classical Gram-Schmidt pass against the whole basis (the
                // reorthogonalisation), whose coefficients are added to H too. After a (re)start
                // the local pass is the whole basis (classical Gram-Schmidt twice).
                let first = j - b, lo = fresh ? 0 : Swift.max(0, j - 2 * b)
                let local = coefficients(v, rows: lo..<j, w)
                subtract(v, rows: lo..<j, local, from: &w)
                let full = coefficients(v, rows: 0..<j, w)
                subtract(v, rows: 0..<j, full, from: &w)
                for c in 0..<b {
                    let column = first + c
                    for r in 0..<j {
                        let value = Double(full[r + c * j]) + (r >= lo ? Double(local[(r - lo) + c * (j - lo)]) : 0)
                        h[r + column * m] = value
                        if r < first { h[column + r * m] = value }
                    }
                }
                for c in 0..<b {
                    for r in 0..<c {
                        let upper = (first + r) + (first + c) * m, lower = (first + c) + (first + r) * m
                        let s = (h[upper] + h[lower]) / 2
                        h[upper] = s; h[lower] = s
                    }
                }
                fresh = false
            }
            // 3. The next block: W orthonormalised. A (nearly) rank-deficient W means an invariant
            // subspace was found: continue with seeded Gaussian vectors orthogonal to the basis.
            before.withUnsafeMutableBufferPointer { d in w.withUnsafeBufferPointer { d.baseAddress!.update(from: $0.baseAddress!, count: b * n) } }
            try steps.measure("orthogonalise") {
                if !(try orthonormalizeChecked(&w)) {
                    draws += 1
                    w = ChebyshevEigensolver.gaussianRows(b, n, seed: seed &+ 1000 &+ draws)
                    subtract(v, rows: 0..<j, coefficients(v, rows: 0..<j, w), from: &w)
                    subtract(v, rows: 0..<j, coefficients(v, rows: 0..<j, w), from: &w)
                    guard try orthonormalizeChecked(&w) else {
                        throw SolverError.invalidConfiguration("BlockLanczos: no direction left outside the basis (n = \(n) too small for basis \(m))")
                    }
                }
                // R = W_next (W before)' (b x b): the coupling of the next block with the last.
                let r = Matrix.product(w, .none, before, .transpose)
                for c in 0..<b { for rr in 0..<b { coupling[rr + c * b] = Double(r[rr, c]) } }
            }
            swap(&q, &w)
            // 4. Rayleigh-Ritz, convergence, restart.
            if j < k + b && j + b <= m { continue }
            let bounds = try steps.measure("Rayleigh-Ritz") { try ritz() }
            let top = theta.map { abs($0) }.max() ?? 0
            let converged = bounds.indices.prefix { bounds[$0] <= threshold(theta[$0], top) }.count
            let full = j + b > m
            if converged >= k || (full && restarts >= maxRestarts) {
                let found = Swift.min(k, j)
                var x = Matrix<S>(rows: found, columns: n), ax = Matrix<S>(rows: found, columns: n)
                steps.measure("Ritz vectors") { rotate(v, rows: j, y, columns: found, into: &x) }
                if images {
                    steps.measure("products") {
                        x.withUnsafeBufferPointer { xp in ax.withUnsafeMutableBufferPointer { ap in apply(xp, found, ap) } }
                    }
                    products += found
                }
                return BlockLanczosOutput(values: Array(theta.prefix(found)), vectors: x, images: ax,
                                          converged: Swift.min(converged, found), products: products, restarts: restarts)
            }
            if !full { continue }
            // Restart on the `keep` leading Ritz vectors: V <- V Y_p, H <- diag(θ_p).
            restarts += 1
            fresh = true
            steps.measure("restart") {
                if spare.rows != m { spare = Matrix<S>(rows: m, columns: n) }
                rotate(v, rows: j, y, columns: keep, into: &spare)   // rows 0..<keep, leading dimension m
                swap(&v, &spare)
                for i in 0..<(m * m) { h[i] = 0 }
                for i in 0..<keep { h[i + i * m] = theta[i] }
                // The next block (orthogonal to the old basis, so to the new one) stays; its
                // product couples with every kept vector, and H(kept, new) comes from its
                // Gram-Schmidt coefficients as always.
                j = keep
            }
        }
    }

    /// `C = V(rows) W'` (`rows.count x b`) for rows of the wide basis `v` (leading dimension
    /// `v.rows`) and the wide `w`.
    static func coefficients<S: BLASScalar>(_ v: Matrix<S>, rows: Range<Int>, _ w: Matrix<S>) -> [S] {
        let b = w.rows, n = w.columns, count = rows.count, ldv = v.rows
        var c = [S](repeating: 0, count: count * b)
        if count == 0 { return c }
        v.withUnsafeBufferPointer { vp in w.withUnsafeBufferPointer { wp in c.withUnsafeMutableBufferPointer { cp in
            S.blasGemm(.none, .transpose, Int32(count), Int32(b), Int32(n), 1, vp.baseAddress! + rows.lowerBound, Int32(ldv),
                       wp.baseAddress!, Int32(b), 0, cp.baseAddress!, Int32(count))
        } } }
        return c
    }

    /// `W -= C' V(rows)` for `C` as returned by ``coefficients(_:rows:_:)``.
    static func subtract<S: BLASScalar>(_ v: Matrix<S>, rows: Range<Int>, _ c: [S], from w: inout Matrix<S>) {
        let b = w.rows, n = w.columns, count = rows.count, ldv = v.rows
        if count == 0 { return }
        v.withUnsafeBufferPointer { vp in w.withUnsafeMutableBufferPointer { wp in c.withUnsafeBufferPointer { cp in
            S.blasGemm(.transpose, .none, Int32(b), Int32(n), Int32(count), -1, cp.baseAddress!, Int32(count),
                       vp.baseAddress! + rows.lowerBound, Int32(ldv), 1, wp.baseAddress!, Int32(b))
        } } }
    }

    /// `X = Y(:, 0..<columns)' V(0..<rows)`: the Ritz vectors (rows of the wide `x`) from the
    /// double-precision `y` (`rows x rows`, column-major).
    static func rotate<S: BLASScalar>(_ v: Matrix<S>, rows: Int, _ y: [Double], columns: Int, into x: inout Matrix<S>) {
        let n = v.columns
        var ys = [S](repeating: 0, count: rows * columns)
        for i in 0..<(rows * columns) { ys[i] = S(y[i]) }
        let ldx = x.rows
        v.withUnsafeBufferPointer { vp in x.withUnsafeMutableBufferPointer { xp in ys.withUnsafeBufferPointer { yp in
            S.blasGemm(.transpose, .none, Int32(columns), Int32(n), Int32(rows), 1, yp.baseAddress!, Int32(rows),
                       vp.baseAddress!, Int32(v.rows), 0, xp.baseAddress!, Int32(ldx))
        } } }
    }

    /// Rows `at..<at + block.rows` of the wide `target` set to the rows of the wide `block`.
    static func copyRows<S: BLASScalar>(_ block: Matrix<S>, into target: inout Matrix<S>, at: Int) {
        let b = block.rows, n = block.columns, ld = target.rows
        block.withUnsafeBufferPointer { s in target.withUnsafeMutableBufferPointer { t in
            let sb = UnsafeSendableBox(UnsafeMutablePointer(mutating: s.baseAddress!)), tb = UnsafeSendableBox(t.baseAddress!)
            Parallel.forEachChunk(count: n, minimumChunk: 8192) { range in
                for c in range { (tb.value + c * ld + at).update(from: sb.value + c * b, count: b) }
            }
        } }
    }

    /// Orthonormalises the rows of the wide `w` (CholeskyQR2 on the equilibrated Gram matrix);
    /// `false` when they are numerically dependent (the Gram matrix's smallest eigenvalue below
    /// `(64 eps)^2` of its largest, after the rows were scaled to unit length), `w` then unusable.
    static func orthonormalizeChecked<S: BLASScalar>(_ w: inout Matrix<S>) throws -> Bool {
        let b = w.rows
        let gram = w.gramOfRows()
        var g = Matrix<Double>(rows: b, columns: b)
        let d = (0..<b).map { Double(gram[$0, $0]) }
        guard d.allSatisfy({ $0.isFinite }) else { throw SolverError.nonFinite("BlockLanczos: the operator's product contains NaN or infinity") }
        if d.contains(where: { !($0 > 0) }) { return false }
        for c in 0..<b { for r in 0..<b { g[r, c] = Double(gram[r, c]) / (d[r] * d[c]).squareRoot() } }
        let values = try g.symmetricEigen(vectors: false).values
        let eps = Double(S.ulpOfOne)
        if !(values.first! > (64 * eps) * (64 * eps) * values.last!) { return false }
        try choleskyOrthonormalizeRows(&w, passes: 2, equilibrate: true)
        return true
    }
}
