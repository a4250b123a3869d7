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
        var before = Matrix<S>(rows: b, columns: n)          // the next block before its normalisation
        var h = [Double](repeating: 0, count: m * m)                                  // H = V'AV, column-major m x m
        var q: Matrix<S> = steps.measure("start block") { ChebyshevEigensolver.gaussianRows(b, n, seed: seed) }
        try choleskyOrthonormalizeRows(&q, passes: 2, finiteCheck: "BlockLanczos: the start block")
        var w = Matrix<S>(rows: b, columns: n)
        var coupling = [Double](repeating: 0, count: b * b)   // R = Q_next (A Q_last)', b x b
        var j = 0, products = 0, restarts = 0, draws: UInt64 = 0
        let parts = BasisGEMM.parts(n)                       // the basis GEMMs' coordinate ranges, one per thread
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
                let local = BasisGEMM.coefficients(v, rows: lo..<j, w, parts: parts)
                BasisGEMM.subtract(v, rows: lo..<j, local, from: &w, parts: parts)
                let full = BasisGEMM.coefficients(v, rows: 0..<j, w, parts: parts)
                BasisGEMM.subtract(v, rows: 0..<j, full, from: &w, parts: parts)
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
                if !(try orthonormalizeChecked(&w, parts: parts)) {
                    draws += 1
                    w = ChebyshevEigensolver.gaussianRows(b, n, seed: seed &+ 1000 &+ draws)
                    for _ in 0..<2 {
                        BasisGEMM.subtract(v, rows: 0..<j, BasisGEMM.coefficients(v, rows: 0..<j, w, parts: parts), from: &w, parts: parts)
                    }
                    guard try orthonormalizeChecked(&w, parts: parts) else {
                        throw SolverError.invalidConfiguration("BlockLanczos: no direction left outside the basis (n = \(n) too small for basis \(m))")
                    }
                }
                // R = W_next (W before)' (b x b): the coupling of the next block with the last
                // (`(W before) W_next'` transposed).
                let r = BasisGEMM.coefficients(before, rows: 0..<b, w, parts: parts)
                for c in 0..<b { for rr in 0..<b { coupling[rr + c * b] = Double(r[c + rr * b]) } }
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
                var x = Matrix<S>(rows: found, columns: n), ax = Matrix<S>(rows: images ? found : 0, columns: images ? n : 0)
                steps.measure("Ritz vectors") { BasisGEMM.rotate(v, rows: j, y, columns: found, into: &x, parts: parts) }
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
                BasisGEMM.rotateInPlace(&v, rows: j, y, columns: keep, parts: parts)   // rows 0..<keep
                for i in 0..<(m * m) { h[i] = 0 }
                for i in 0..<keep { h[i + i * m] = theta[i] }
                // The next block (orthogonal to the old basis, so to the new one) stays; its
                // product couples with every kept vector, and H(kept, new) comes from its
                // Gram-Schmidt coefficients as always.
                j = keep
            }
        }
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
    /// The Gram matrices (in `parts` partial sums) and the updates `W <- L^-1 D W` (on `parts`
    /// column ranges) run one single-threaded GEMM per thread (``BasisGEMM``); the first pass
    /// factors the Gram matrix the check already formed. A Cholesky factor too ill-conditioned
    /// for the scalar falls back to ``choleskyOrthonormalizeRows(_:passes:equilibrate:finiteCheck:)``.
    static func orthonormalizeChecked<S: BLASScalar>(_ w: inout Matrix<S>, parts: Int) throws -> Bool {
        let b = w.rows
        var gram = BasisGEMM.gram(w, parts: parts)
        var d = (0..<b).map { Double(gram[$0, $0]) }
        guard d.allSatisfy({ $0.isFinite }) else { throw SolverError.nonFinite("BlockLanczos: the operator's product contains NaN or infinity") }
        if d.contains(where: { !($0 > 0) }) { return false }
        let eps = Double(S.ulpOfOne)
        for pass in 0..<2 {
            if pass > 0 {
                gram = BasisGEMM.gram(w, parts: parts)
                d = (0..<b).map { Double(gram[$0, $0]) }
                if !d.allSatisfy({ $0 > 0 && $0.isFinite }) { try choleskyOrthonormalizeRows(&w, passes: 2, equilibrate: true); return true }
            }
            var g = Matrix<Double>(rows: b, columns: b)
            for c in 0..<b { for r in 0..<b { g[r, c] = Double(gram[r, c]) / (d[r] * d[c]).squareRoot() } }
            if pass == 0 {
                let values = try g.symmetricEigen(vectors: false).values
                if !(values.first! > (64 * eps) * (64 * eps) * values.last!) { return false }
            }
            guard let factor = try? g.cholesky() else { try choleskyOrthonormalizeRows(&w, passes: 2, equilibrate: true); return true }
            let diagonal = (0..<b).map { factor.lower[$0, $0] }
            let smallest = diagonal.min()!, largest = diagonal.max()!
            if !(largest > 0) || !((smallest / largest) * (smallest / largest) >= 20 * eps) {
                try choleskyOrthonormalizeRows(&w, passes: 2, equilibrate: true); return true
            }
            // W <- M W with M = L^-1 D^-1/2: rotateInPlace takes Y = M' (X = Y' W).
            let inverse = try factor.lower.solve(Matrix<Double>.identity(b))
            var y = [Double](repeating: 0, count: b * b)
            for c in 0..<b { for r in 0..<b { y[r + c * b] = inverse[c, r] / d[r].squareRoot() } }
            BasisGEMM.rotateInPlace(&w, rows: b, y, columns: b, parts: parts)
        }
        return true
    }
}
