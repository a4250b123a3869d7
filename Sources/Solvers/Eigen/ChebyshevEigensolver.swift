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
/// after each step, so the filter sharpens as the block converges. Each Ritz vector gets the
/// degree its residual needs (ChASE's per-vector degrees: `log(residual / target) / acosh(t)`,
/// at most `degree`), and the block drops a vector from its products once its degree is
/// reached. Pairs with `||A x - θ x|| <= tolerance * max |θ|` are locked (kept aside, never
/// filtered or rotated again; the active block is orthogonalised against them) until the
/// `count` largest have converged.
///
/// The filter needs a gap: when the largest eigenvalue's multiplicity reaches the block size
/// (a normalised adjacency has eigenvalue 1 once per connected component: wiki-vote's 24
/// components against the default block of 16 for 8 pairs) no polynomial separates the block
/// from the rest and the residuals stall. The run notices (the largest wanted residual fell by
/// less than 2x over two iterations) and grows the block by half with seeded Gaussian vectors:
/// wiki-vote at `count: 8` grows 16 -> 24 -> 36 and converges in 10 iterations
/// (``SolverDiagnostics/method`` says how often the block grew).
///
/// Convergence of the `i`-th pair goes with `θ_i` against `θ_(b+1)`, but every guard vector
/// (the block's vectors past the count) is filtered at the largest wanted degree: on slashdot's
/// normalised adjacency (top 64) blocks of 72 / 76 / 80 / 84 / 88 took 9,636 / 9,404 / 9,368 /
/// 10,049 / 10,000 one-vector products in 14 / 12 / 10 / 10 / 9 iterations, so the default is a
/// quarter more than the count (80 there). Each iteration costs at most `m` block products (the
/// Rayleigh-Ritz step's product `A X` of the Ritz vectors doubles as the filter's first step,
/// `T_1 = (A X - c X) / e`) and two orthonormalisations of the active block; with ARPACK the
/// same work is single-vector products and O(n ncv^2) of level-2 Lanczos work. On slashdot (top
/// 64, block 96) the per-vector degrees and locking took 10,941 one-vector products where one
/// degree for all took 13,192, in the same 8 iterations.
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
        /// Vectors in the block (default `min(n, max(5 count / 4, count + 8))`).
        public var blockSize: Int?
        /// The largest degree of the Chebyshev filter a vector gets per iteration (the first
        /// iteration uses it for all; then each vector gets what its residual needs, at most this).
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
        var b = c.blockSize ?? min(n, max(5 * c.count / 4, c.count + 8))
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
        let k = c.count
        // 1. The bottom of the spectrum (the filter's damped interval starts there).
        let bounds = clock.measure("spectrum estimate") { lanczosBounds(a, steps: min(c.lanczosSteps, n), seed: c.seed) }
        applications += bounds.steps
        // 2. A Gaussian start block: the active vectors, as rows. Converged pairs move to `locked`
        // (descending, never filtered or rotated again); the active block works on the rest.
        var xt: Matrix<S> = clock.measure("start block") { gaussianRows(b, n, seed: c.seed &+ 1) }
        var wt = Matrix<S>(rows: b, columns: n)
        var locked = Matrix<S>(rows: 0, columns: n), lockedValues = [Double](), lockedResiduals = [Double]()
        var values = [Double](), residuals = [Double]()   // the active Ritz values (descending), residuals of its wanted pairs
        var lower = bounds.lower, top = 0.0
        func scale() -> Double { Swift.max(top, Double.leastNormalMagnitude) }
        func wanted() -> Int { k - lockedValues.count }
        /// Orthonormalise the active block (against the locked vectors too), Rayleigh-Ritz with
        /// one block product, residuals; then lock the converged leading pairs.
        func project() throws {
            try clock.measure("orthonormalise") {
                if locked.rows > 0 { projectOut(locked, from: &xt) }
                try choleskyOrthonormalizeRows(&xt, passes: 2, equilibrate: true)
            }
            sparseProduct(a, xt, into: &wt); applications += xt.rows
            values = try clock.measure("Rayleigh-Ritz") { try rayleighRitz(qt: &xt, wt: &wt) }
            top = Swift.max(top, abs(values.first!), abs(values.last!))
            lower = Swift.min(lower, values.last!)
            residuals = clock.measure("residuals") { residualNorms(xt: xt, wt: wt, values: values, count: wanted()) }
            let p = residuals.prefix { $0 <= tolerance * scale() }.count
            if p > 0 {
                locked = appendingRows(locked, rows(xt, 0..<p))
                lockedValues += values[0..<p]; lockedResiduals += residuals[0..<p]
                xt = rows(xt, p..<xt.rows); wt = rows(wt, p..<wt.rows)
                values.removeFirst(p); residuals.removeFirst(p)
            }
        }
        try project()
        var iterations = 0, growths = 0
        var history = [Double]()            // the largest unconverged wanted residual after each iteration
        var t0 = Matrix<S>(rows: b, columns: n), t1 = Matrix<S>(rows: b, columns: n)
        while wanted() > 0 && iterations < c.maxIterations {
            iterations += 1
            // 3. A stall (the wanted residuals fell by less than 2x over two iterations) while the
            // filter can barely separate the last wanted pair from the block's bottom (a gain
            // below 2 per iteration) means that the top eigenvalue's multiplicity reaches the
            // block. Grow the block by half with fresh Gaussian vectors and start from its Ritz
            // pairs. (A stall at a good gain is the precision floor: growing would not help.)
            if b < n, history.count >= 3, history[history.count - 1] > 0.5 * history[history.count - 3],
               filterGain(values[wanted() - 1], lower: lower, cut: values.last!, degree: c.degree) < 2 {
                let extra = Swift.min(n - b, Swift.max(8, b / 2))
                growths += 1
                xt = appendingRows(xt, gaussianRows(extra, n, seed: c.seed &+ 1 &+ UInt64(growths)))
                b += extra
                wt = Matrix<S>(rows: xt.rows, columns: n); t0 = Matrix<S>(rows: b, columns: n); t1 = t0
                try project()
                history.removeAll()
                if wanted() == 0 { break }
            }
            // 4. Filter: T_(m_i) of A mapped from [lower, cut] onto [-1, 1], each Ritz vector to the
            // degree its residual needs.
            let cut = values.last!
            if !(cut > lower) { lower = cut - Swift.max(1e-3 * scale(), abs(cut) * 1e-3) }
            let degrees = filterDegrees(values: values, residuals: residuals, goal: tolerance * scale(),
                                        lower: lower, cut: cut, maximum: c.degree)
            let order = degrees.indices.sorted { (degrees[$0], $0) < (degrees[$1], $1) }
            try clock.measure("filter") {
                applications += chebyshevFilter(a, &xt, degrees: degrees, order: order, lower: lower, cut: cut, t0: &t0, t1: &t1, out: &wt,
                                                outHoldsImages: true)
                try checkFinite(xt, "ChebyshevEigensolver: the filtered block")
            }
            // 5. Orthonormalise in place (no new block per iteration), Rayleigh-Ritz, residuals, lock.
            try project()
            history.append((residuals.max() ?? 0) / scale())
        }
        // The count largest, ascending, as columns: the locked pairs and the active leading ones.
        let remaining = wanted()
        let allValues = lockedValues + values.prefix(remaining), allResiduals = lockedResiduals + residuals.prefix(remaining)
        let found = appendingRows(locked, rows(xt, 0..<remaining))
        let ascending = allValues.indices.sorted { (allValues[$0], $0) < (allValues[$1], $1) }
        var vectors = Matrix<S>(rows: n, columns: k)
        found.withUnsafeBufferPointer { x in
            vectors.elements.withUnsafeMutableBufferPointer { v in
                for (column, row) in ascending.enumerated() {
                    for i in 0..<n { v[column * n + i] = x[i * k + row] }
                }
            }
        }
        let grown = growths == 0 ? "" : ", grown \(growths) times on a stall"
        var d = SolverDiagnostics(method: "Chebyshev-filtered subspace iteration (block \(b)\(grown), degree at most \(c.degree), locking)",
                                  requested: k, converged: lockedValues.count, iterations: iterations,
                                  operatorApplications: applications, seed: c.seed)
        d.relativeResiduals = ascending.map { allResiduals[$0] / scale() }
        d.phases = clock.phases
        d.subspaceSize = b
        d.tolerance = tolerance
        d.which = "largest algebraic"
        return SymmetricEigenResult(values: ascending.map { S(allValues[$0]) }, vectors: vectors, diagnostics: d)
    }

    /// Rows `range` of the wide `m`, as a new wide block.
    static func rows<S: BLASScalar>(_ m: Matrix<S>, _ range: Range<Int>) -> Matrix<S> {
        let p = m.rows, q = range.count, n = m.columns
        if q == p { return m }
        var out = Matrix<S>(rows: q, columns: n)
        if q == 0 { return out }
        out.elements.withUnsafeMutableBufferPointer { o in
            m.elements.withUnsafeBufferPointer { x in
                for j in 0..<n { (o.baseAddress! + j * q).update(from: x.baseAddress! + j * p + range.lowerBound, count: q) }
            }
        }
        return out
    }

    /// `X <- X - (X Q') Q` twice (classical Gram-Schmidt, twice is enough) for the orthonormal
    /// rows `q` and the rows of the wide `xt`: two GEMMs of `2 rows(X) rows(Q) n` flops a pass.
    static func projectOut<S: BLASScalar>(_ q: Matrix<S>, from xt: inout Matrix<S>) {
        let a = xt.rows, l = q.rows, n = xt.columns
        for _ in 0..<2 {
            let overlap = Matrix.product(xt, .none, q, .transpose)          // a x l
            overlap.withUnsafeBufferPointer { c in
                q.withUnsafeBufferPointer { qp in
                    xt.withUnsafeMutableBufferPointer { x in
                        S.blasGemm(.none, .none, Int32(a), Int32(n), Int32(l), -1, c.baseAddress!, Int32(a),
                                   qp.baseAddress!, Int32(l), 1, x.baseAddress!, Int32(a))
                    }
                }
            }
        }
    }

    /// `T_m(t)` at `t = (θ - centre) / halfWidth` of `[lower, cut]`: what a degree-`m` filter
    /// multiplies an eigencomponent at `θ` by, against at most 1 inside the interval.
    static func filterGain(_ theta: Double, lower: Double, cut: Double, degree m: Int) -> Double {
        let t = (theta - (cut + lower) / 2) / ((cut - lower) / 2)
        return t > 1 ? cosh(Double(m) * acosh(t)) : 1
    }

    /// The filter degree of each Ritz pair (`values` descending, `residuals` of the wanted
    /// first ones): `T_m(t)` grows like `exp(m acosh t) / 2` at `t = (θ - centre) / halfWidth`,
    /// so `m = log(residual / target) / acosh(t)` brings the pair to `target = goal / 8` (Zhou
    /// and Saad; ChASE's per-vector degrees; aiming below the goal lands the pairs under it in
    /// one step instead of several near float32's floor), rounded up to a multiple of 4 (fewer
    /// distinct degrees to compact the block for) and at most `maximum`; 0 (kept as it is) for a
    /// pair already under the target; the block's other vectors get the largest wanted degree.
    static func filterDegrees(values: [Double], residuals: [Double], goal: Double, lower: Double, cut: Double,
                              maximum: Int) -> [Int] {
        let halfWidth = (cut - lower) / 2, centre = (cut + lower) / 2, target = goal / 8
        var degrees = [Int](repeating: maximum, count: values.count)
        var largest = 0
        for i in residuals.indices {
            if residuals[i] <= target { degrees[i] = 0; continue }
            let t = (values[i] - centre) / halfWidth
            if t > 1 {
                let need = Swift.max(1, Int((log(residuals[i] / target) / acosh(t)).rounded(.up)))
                degrees[i] = Swift.min(maximum, (need + 3) / 4 * 4)
            }
            largest = Swift.max(largest, degrees[i])
        }
        for i in residuals.count..<values.count { degrees[i] = largest }
        return degrees
    }

    /// `rows` seeded Gaussian vectors of length `n`, as the rows of a wide block: the transpose of
    /// `parallelGaussian(rows: n, columns: rows, seed:)` to the bit (vector `v` from
    /// `Xoshiro256.stream(seed:index: v)`), drawn straight into the wide block's storage: each
    /// thread takes whole groups of 16 vectors, draws 2,048 values of each into a small buffer
    /// and writes them row by row, so there is no `n x rows` block and no transposed copy.
    static func gaussianRows<S: BLASScalar>(_ rows: Int, _ n: Int, seed: UInt64) -> Matrix<S> {
        var out = Matrix<S>(rows: rows, columns: n)
        if rows == 0 || n == 0 { return out }
        let group = 16, chunk = 2048
        out.elements.withUnsafeMutableBufferPointer { o in
            let box = UnsafeSendableBox(o.baseAddress!)
            Parallel.forEachChunk(count: (rows + group - 1) / group) { groups in
                let vectors = (groups.lowerBound * group)..<Swift.min(rows, groups.upperBound * group)
                var streams = vectors.map { Xoshiro256.stream(seed: seed, index: UInt64($0)) }
                let buffer = UnsafeMutableBufferPointer<S>.allocate(capacity: vectors.count * chunk)
                defer { buffer.deallocate() }
                var j0 = 0
                while j0 < n {
                    let c = Swift.min(chunk, n - j0)
                    for k in streams.indices {
                        let part = UnsafeMutableBufferPointer(rebasing: buffer[(k * chunk)..<(k * chunk + c)])
                        // Concrete calls, as parallelGaussian makes them (the same values).
                        if S.self == Float.self {
                            streams[k].fillGaussian(UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(part.baseAddress!)
                                .assumingMemoryBound(to: Float.self), count: c))
                        } else if S.self == Double.self {
                            streams[k].fillGaussian(UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(part.baseAddress!)
                                .assumingMemoryBound(to: Double.self), count: c))
                        } else {
                            streams[k].fillGaussian(part)
                        }
                    }
                    for j in 0..<c {
                        let row = box.value + (j0 + j) * rows + vectors.lowerBound
                        for k in streams.indices { row[k] = buffer[k * chunk + j] }
                    }
                    j0 += c
                }
            }
        }
        return out
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

    /// `x_i <- T_(m_i)(B) x_i` for every vector `x_i` (a row of the wide `xt`), each with its own
    /// degree, where `B = (A - c I) / e` maps `[lower, cut]` onto `[-1, 1]`: the three-term
    /// recurrence `T_(j+1) = 2 B T_j - T_(j-1)` run on all vectors at once while their degrees
    /// last. `order` lists the vectors by ascending degree (`degrees[order[i]]` ascending); the
    /// result holds them in that order. A vector leaves the block when its degree is reached
    /// (its column is copied out, the others compacted), so a vector that needs a low degree
    /// costs no products after it. `t0`, `t1` and `out` are work blocks of `xt`'s shape; `xt`'s
    /// storage is overwritten. With `outHoldsImages`, `out` holds `A X` on entry (the Rayleigh-Ritz
    /// step's images of the Ritz vectors): the first step `T_1 = B T_0` is then taken from them
    /// element-wise, without a product. Returns the one-vector products made.
    static func chebyshevFilter<S: BLASScalar>(_ a: CSRMatrix<S>, _ xt: inout Matrix<S>, degrees: [Int], order: [Int],
                                               lower: Double, cut: Double,
                                               t0: inout Matrix<S>, t1: inout Matrix<S>, out: inout Matrix<S>,
                                               outHoldsImages: Bool = false) -> Int {
        let b = xt.rows, n = xt.columns
        let e = (cut - lower) / 2, centre = (cut + lower) / 2
        var products = 0
        xt.elements.withUnsafeMutableBufferPointer { px in
            t0.elements.withUnsafeMutableBufferPointer { pt0 in
                t1.elements.withUnsafeMutableBufferPointer { pt1 in
                    out.elements.withUnsafeMutableBufferPointer { po in
                        let x = px.baseAddress!, o = po.baseAddress!
                        // p0 = T_(j-1), p1 = T_j, p2 = scratch; the active vectors are order[s..<b], width w.
                        var p0 = pt0.baseAddress!, p1 = pt1.baseAddress!, p2 = x
                        var s = 0
                        while s < b && degrees[order[s]] == 0 { s += 1 }
                        var w = b - s
                        if w > 0 {
                            copyColumns(from: x, width: b, columns: Array(order[s..<b]), to: p0, outWidth: w, at: 0, rows: n)
                            // T1 = B T0 = (A X - c X) / e from the images `out` holds (read before the
                            // degree-0 vectors are written over them).
                            if outHoldsImages {
                                firstStep(images: o, width: b, columns: Array(order[s..<b]), x: p0, into: p1, alpha: S(1 / e),
                                          beta: S(-centre / e), rows: n)
                            }
                        }
                        copyColumns(from: x, width: b, columns: order[0..<s].map { $0 }, to: o, outWidth: b, at: 0, rows: n)
                        if w == 0 { return }
                        // `to = alpha A from + beta from - previous` in one pass over the block (the
                        // sparse gather with the recurrence step fused into its stores).
                        func step(_ from: UnsafeMutablePointer<S>, _ to: UnsafeMutablePointer<S>, _ alpha: Double, _ beta: Double,
                                  _ previous: UnsafeMutablePointer<S>?) {
                            a.multiplyAdd(rowMajor: UnsafeBufferPointer(start: from, count: n * w), columns: w, alpha: S(alpha), beta: S(beta),
                                          subtracting: previous.map { UnsafeBufferPointer(start: $0, count: n * w) },
                                          into: UnsafeMutableBufferPointer(start: to, count: n * w))
                            products += w
                        }
                        // T1 = B T0
                        if !outHoldsImages { step(p0, p1, 1 / e, -centre / e, nil) }
                        var j = 1
                        while true {
                            // Vectors whose degree is j are done: copy them out, compact the rest.
                            var f = s
                            while f < b && degrees[order[f]] == j { f += 1 }
                            if f > s {
                                copyColumns(from: p1, width: w, columns: Array(0..<(f - s)), to: o, outWidth: b, at: s, rows: n)
                                let keep = Array((f - s)..<w)
                                if keep.isEmpty { break }
                                copyColumns(from: p1, width: w, columns: keep, to: p2, outWidth: keep.count, at: 0, rows: n)
                                swap(&p1, &p2)
                                copyColumns(from: p0, width: w, columns: keep, to: p2, outWidth: keep.count, at: 0, rows: n)
                                swap(&p0, &p2)
                                w = keep.count; s = f
                            }
                            // T_(j+1) = 2 B T_j - T_(j-1), into the scratch block.
                            step(p1, p2, 2 / e, -2 * centre / e, p0)
                            (p0, p1, p2) = (p1, p2, p0)
                            j += 1
                        }
                    }
                }
            }
        }
        swap(&xt, &out)
        return products
    }

    /// `to = alpha images(:, columns) + beta x` for the row-major `rows x width` block `images`
    /// and the row-major `rows x columns.count` blocks `x` and `to` (in parallel over rows).
    static func firstStep<S: BLASScalar>(images: UnsafeMutablePointer<S>, width: Int, columns: [Int], x: UnsafeMutablePointer<S>,
                                         into to: UnsafeMutablePointer<S>, alpha: S, beta: S, rows: Int) {
        let w = columns.count
        if w == 0 { return }
        let im = UnsafeSendableBox(images), xb = UnsafeSendableBox(x), tb = UnsafeSendableBox(to)
        columns.withUnsafeBufferPointer { cp in
            let c = UnsafeSendableBox(UnsafeMutablePointer(mutating: cp.baseAddress!))
            Parallel.forEachChunk(count: rows, minimumChunk: 4096) { range in
                for r in range {
                    let src = im.value + r * width, xr = xb.value + r * w, dst = tb.value + r * w
                    for i in 0..<w { dst[i] = alpha * src[c.value[i]] + beta * xr[i] }
                }
            }
        }
    }

    /// Columns `columns` of the row-major `rows x width` block at `from`, written to columns
    /// `at..<at + columns.count` of the row-major `rows x outWidth` block at `to` (in parallel
    /// over rows; the two blocks must not overlap).
    static func copyColumns<S: BLASScalar>(from: UnsafeMutablePointer<S>, width: Int, columns: [Int],
                                           to: UnsafeMutablePointer<S>, outWidth: Int, at: Int, rows: Int) {
        if columns.isEmpty { return }
        let f = UnsafeSendableBox(from), t = UnsafeSendableBox(to)
        let contiguous = columns.count == columns.last! - columns.first! + 1
        columns.withUnsafeBufferPointer { cp in
            let c = UnsafeSendableBox(UnsafeMutablePointer(mutating: cp.baseAddress!))
            let count = cp.count, first = cp[0]
            Parallel.forEachChunk(count: rows, minimumChunk: 4096) { range in
                for r in range {
                    let src = f.value + r * width, dst = t.value + r * outWidth + at
                    if contiguous { dst.update(from: src + first, count: count) } else { for i in 0..<count { dst[i] = src[c.value[i]] } }
                }
            }
        }
    }

    /// The Rayleigh-Ritz step on an orthonormal `qt` (rows) and `wt = (A Q)'`, in place: the
    /// projected `H = Q'AQ` formed and diagonalised in double precision (its entries are sums
    /// over `n` terms, which float32 would round to about `sqrt(n) eps`), then `qt` and `wt`
    /// overwritten with the Ritz vectors `X = Q S` and their images `A X = (A Q) S` (slabbed
    /// GEMMs in the block's precision, no new block); returns the Ritz values, descending.
    static func rayleighRitz<S: BLASScalar>(qt: inout Matrix<S>, wt: inout Matrix<S>) throws -> [Double] {
        let b = qt.rows
        var h = projected(qt, wt)
        for i in 0..<b { for j in 0..<i { let s = (h[i, j] + h[j, i]) / 2; h[i, j] = s; h[j, i] = s } }
        let eig = try h.symmetricEigen()
        // S' with the columns of S in descending order of their values.
        var st = Matrix<S>(rows: b, columns: b)
        for j in 0..<b { for i in 0..<b { st[j, i] = S(eig.vectors[i, b - 1 - j]) } }
        multiplyInPlace(st, &qt)
        multiplyInPlace(st, &wt)
        return eig.values.reversed()
    }

    /// `Q'W = qt wt'` in double precision, accumulated over slabs of 2 MiB: each slab of both
    /// blocks widened into a scratch buffer and added by a DGEMM, so the `n x b` blocks are
    /// never copied whole into double.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func projected<S: BLASScalar>(_ qt: Matrix<S>, _ wt: Matrix<S>) -> Matrix<Double> {
        let b = qt.rows, n = qt.columns
        var h = Matrix<Double>(rows: b, columns: b)
        if b == 0 || n == 0 { return h }
        let slab = Swift.max(1, Swift.min(n, (1 << 18) / b))
        var qs = [Double](repeating: 0, count: b * slab), ws = [Double](repeating: 0, count: b * slab)
        qt.elements.withUnsafeBufferPointer { q in
            wt.elements.withUnsafeBufferPointer { w in
                qs.withUnsafeMutableBufferPointer { qs in
                    ws.withUnsafeMutableBufferPointer { ws in
                        h.elements.withUnsafeMutableBufferPointer { hp in
                            var c0 = 0
                            while c0 < n {
                                let c = Swift.min(slab, n - c0), start = c0 * b
                                for i in 0..<(c * b) { qs[i] = Double(q[start + i]); ws[i] = Double(w[start + i]) }
                                Double.blasGemm(.none, .transpose, Int32(b), Int32(b), Int32(c), 1, qs.baseAddress!, Int32(b),
                                                ws.baseAddress!, Int32(b), c0 == 0 ? 0 : 1, hp.baseAddress!, Int32(b))
                                c0 += c
                            }
                        }
                    }
                }
            }
        }
        return h
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
    /// steps of plain Lanczos in double precision from a seeded start: the three-term recurrence
    /// with one local correction against the newest vector, no basis kept (Zhou and Li's bound
    /// estimator, as ChASE runs it). Without reorthogonalisation a converged Ritz value
    /// reappears as a copy, but the tridiagonal's Ritz values stay within the spectrum up to
    /// rounding (Paige), so the bound serves the filter's interval as well; the full
    /// reorthogonalisation this replaced (classical Gram-Schmidt twice against the `n x steps`
    /// basis) read about `2 n steps^2` doubles for the same filter (slashdot, top 64: the same
    /// 9,830 products in 10 iterations).
    static func lanczosBounds<S: BLASScalar>(_ a: CSRMatrix<S>, steps: Int, seed: UInt64) -> (lower: Double, upper: Double, steps: Int) {
        let n = a.rows
        var rng = Xoshiro256(seed: seed)
        var w = (0..<n).map { _ in rng.nextUniform() - 0.5 }
        var q = [Double](repeating: 0, count: n), previous = [Double](repeating: 0, count: n)
        var alphas = [Double](), betas = [Double]()
        var x = [S](repeating: 0, count: n), y = [S](repeating: 0, count: n)
        var beta = w.withUnsafeBufferPointer { Double.blasNrm2(Int32(n), $0.baseAddress!, 1) }
        w.withUnsafeMutableBufferPointer { w in
            q.withUnsafeMutableBufferPointer { q in
                previous.withUnsafeMutableBufferPointer { previous in
                    let w = w.baseAddress!, q = q.baseAddress!, previous = previous.baseAddress!
                    var lastBeta = 0.0
                    for step in 0..<steps {
                        for i in 0..<n { previous[i] = q[i]; q[i] = w[i] / beta }     // q_(j-1), q_j = w / beta
                        for i in 0..<n { x[i] = S(q[i]) }
                        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in a.multiply(rowMajor: xp, columns: 1, into: yp) } }
                        for i in 0..<n { w[i] = Double(y[i]) - lastBeta * previous[i] }
                        let alpha = Double.blasDot(Int32(n), w, 1, q, 1)
                        alphas.append(alpha)
                        for i in 0..<n { w[i] -= alpha * q[i] }
                        let c = Double.blasDot(Int32(n), w, 1, q, 1)           // the local correction
                        for i in 0..<n { w[i] -= c * q[i] }
                        beta = Double.blasNrm2(Int32(n), w, 1)
                        if step == steps - 1 || beta < 1e-12 { break }
                        betas.append(beta)
                        lastBeta = beta
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
