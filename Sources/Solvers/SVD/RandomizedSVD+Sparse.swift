import LinearAlgebra

// The randomized SVD on a sparse operator (a CSR matrix, possibly scaled or transposed), with
// every block kept in the sparse kernels' layout for the whole run. A row-major `rows x l`
// block is held as the column-major `l x rows` Matrix that is its transpose: the CSR kernels
// gather and write contiguous rows of it, and BLAS reads it as it is (the Gram matrix of Y is
// `Y'Y = (Y')(Y')'`, and `Q = Y L^-T` is `Q' = L^-1 Y'`). No product converts a layout.
// The residual diagnostics reuse the Rayleigh-Ritz product `A'Q`: `A'U = (A'Q) W`.

extension RandomizedSVD {
    /// ``compute(_:_:)`` for an operator that is a CSR matrix (see `CSRRepresentable`).
    static func computeSparse<S: BLASScalar>(_ a: CSRMatrix<S>, _ c: Configuration, powerIterations q: Int,
                                             clock: inout PhaseClock) throws -> TruncatedSVD<S> {
        let m = a.rows, n = a.columns, l = c.rank + c.oversamples
        // The same Ω as the generic path (column j from stream j), held transposed. Its block
        // becomes Z after the first product: the range finder holds two l-column blocks (Y, Z),
        // normalised in place, and Z's block becomes B = Q'A in Rayleigh-Ritz (no block is
        // allocated, zero-filled and page-faulted per pass).
        var zt: Matrix<S> = clock.measure("random test matrix") {
            // Drawn straight into the transposed layout (the same bits as `parallelGaussian`
            // then `Matrix.transposed()`, without the n x l intermediate and its copy).
            // A renumbered operator's Ω is the draw with its rows (the columns here) in the same order.
            parallelGaussianTransposed(rows: n, columns: l, seed: c.seed, rowOrder: c.testMatrixRowOrder)
        }
        var passes = 0
        var schedule = NormalizationSchedule(S.self, testMatrixRows: n)
        var qt: Matrix<S> = try clock.measure("range finder") {
            var yt = Matrix<S>(rows: l, columns: m)
            sparseProduct(a, zt, into: &yt); passes += 1
            // Each product of A is checked for NaN and infinity by the normalisation after it
            // (through its Gram matrix's diagonal: no extra read of the block); when
            // `choleskyQRWhenNeeded` skips one, NaN and infinity carry through the products to
            // the next normalisation (the final basis is always checked).
            var check = "A Ω"
            for _ in 0..<q {
                try normalizeRows(&yt, c.normalizer, finiteCheck: check, schedule: &schedule)
                sparseTransposeProduct(a, yt, into: &zt); passes += 1
                try normalizeRows(&zt, c.normalizer, afterTranspose: true, schedule: &schedule)
                sparseProduct(a, zt, into: &yt); passes += 1
                check = "a power iteration"
            }
            if c.normalizer == .qr { try checkFinite(yt, check); return try yt.transposed().orthonormalized().transposed() }
            try choleskyOrthonormalizeRows(&yt, passes: 2, finiteCheck: check)
            return yt
        }
        // Rayleigh-Ritz: B = Q'A (l x n) is the transpose of the row-major A'Q.
        var b = zt
        zt = Matrix<S>(rows: 0, columns: 0)   // b is now the only owner of the block: no copy on write
        // With `W` the left singular vectors of B (l x k): U = Q W, and B's right vectors Z' =
        // S^-1 W' B, where W' B is also the residuals' A'U = B' W (transposed). Well-conditioned
        // B (s_1 / s_k <= 8, ``gramRowSVD``): W and S from B's Gram matrix in Double and
        // one GEMM for W' B, shared by V' and the right residuals; otherwise CholeskyQR2's SVD.
        // The right residuals `||A'u_i - s_i v_i||^2` are taken from the image `W' B = (A'U)'`
        // as V' is made from it (scaled in place: no second k x n block).
        let (u, s, vt, rightSquares) = try clock.measure("Rayleigh-Ritz") { () throws -> (Matrix<S>, [S], Matrix<S>, [Double]?) in
            sparseTransposeProduct(a, qt, into: &b)
            if let (w, s) = try gramRowSVD(b, rank: c.rank, finiteCheck: "A' Q") {
                var image = Matrix.product(w, .transpose, b, .none)         // W' B, k x n
                b = Matrix<S>(rows: 0, columns: 0)                         // B's block is free for the next ones
                let u = Matrix.product(qt, .transpose, w, .none)           // U = Q W, m x k
                qt = Matrix<S>(rows: 0, columns: 0)                        // Q's block is free for the residuals'
                let inverse = s.map { 1 / $0 }
                let right = scaleRowsMeasuringResiduals(&image, inverse: inverse, s: s, measure: c.computeResiduals)
                return (u, s, image, right)
            }
            try checkFinite(b, "A' Q")
            let small = try thinSVD(b, vectors: .rows, rank: c.rank)  // B = W S X' (first k of W, X')
            let k = min(c.rank, small.s.count)
            let w = small.u                              // l x k
            let u = Matrix.product(qt, .transpose, w, .none)   // U = Q W, m x k
            let s = Array(small.s[0..<k])
            let right = c.computeResiduals ? residualRowNorms(Matrix.product(w, .transpose, b, .none), s, small.vt, vectorsAreRows: true) : nil
            return (u, s, small.vt, right)
        }
        passes += 1
        var d = SolverDiagnostics(method: methodDescription(c, powerIterations: q, schedule: schedule),
                                  requested: c.rank, converged: s.count, iterations: q, operatorApplications: passes, seed: c.seed)
        if c.computeResiduals && !s.isEmpty, let rightSquares {
            let (left, right) = clock.measure("residuals") {
                sparseResiduals(a, u: u, s: s, vt: vt, rightSquares: rightSquares)
            }
            d.leftResiduals = left
            d.rightResiduals = right
            d.relativeResiduals = zip(left, right).map { max($0, $1) }
        }
        var result = try TruncatedSVD.finish(a, u: u, s: s, vt: vt, diagnostics: d, clock: &clock, c, residualsDone: true)
        annotateTraffic(&result.diagnostics.phases, a, l: l, k: s.count, rangeFinderPasses: passes - 1, normalizations: schedule.normalizations + 2,
                        residuals: c.computeResiduals)
        return result
    }

    /// A normaliser applied to the rows of the wide `yt` (= to the columns of `Y = yt'`); the
    /// Cholesky QR in place (``choleskyOrthonormalizeRows(_:passes:)``).
    /// With `finiteCheck`, first throws ``SolverError/nonFinite(_:)`` (with that description)
    /// when the block holds NaN or infinity.
    /// `afterTranspose`: the block is an `A'` product (``Normalizer/choleskyQRPerIteration``
    /// normalises those only).
    /// `schedule` counts the products and the normalisations (``Normalizer/choleskyQRWhenNeeded``
    /// decides by it; a skipped block is not checked here).
    static func normalizeRows<S: BLASScalar>(_ yt: inout Matrix<S>, _ normalizer: Normalizer, afterTranspose: Bool = false,
                                             finiteCheck: String? = nil, schedule: inout NormalizationSchedule) throws {
        schedule.recordProduct()
        if normalizer == .choleskyQRWhenNeeded {
            guard schedule.mustNormalize(afterTranspose: afterTranspose) else { return }
            schedule.recordNormalization(try choleskyOrthonormalizeRows(&yt, passes: 1, finiteCheck: finiteCheck, measure: true))
            return
        }
        let cholesky = normalizer == .choleskyQR || (normalizer == .choleskyQRPerIteration && afterTranspose)
        if !cholesky, let what = finiteCheck { try checkFinite(yt, what) }
        switch normalizer {
        case .choleskyQR, .choleskyQRPerIteration, .choleskyQRWhenNeeded:
            if cholesky { try choleskyOrthonormalizeRows(&yt, passes: 1, finiteCheck: finiteCheck) }
        case .qr: yt = try yt.transposed().orthonormalized().transposed()
        case .lu: yt = try yt.transposed().lu().permutedLower.transposed()
        case .none: break
        }
        if normalizer != .none && (normalizer != .choleskyQRPerIteration || afterTranspose) { schedule.countNormalization() }
    }
}

/// Sets the least bytes each phase moves (see `MemoryTraffic`): the sparse products at their
/// block widths, plus one read and one write of every dense block a phase makes (three block
/// passes per Cholesky QR pass: the Gram matrix, the read and the write of `Q`).
func annotateTraffic<S: BLASScalar>(_ phases: inout [SolverPhase], _ a: CSRMatrix<S>, l: Int, k: Int, rangeFinderPasses: Int,
                                    normalizations: Int, residuals: Bool) {
    let m = Double(a.rows), n = Double(a.columns), size = Double(MemoryLayout<S>.stride)
    func product(_ width: Int) -> Double {
        MemoryTraffic.sparseProductBytes(rows: a.rows, columns: a.columns, nonzeros: a.nonzeroCount, width: width, scalarSize: MemoryLayout<S>.stride)
    }
    let block = size * Double(l) * (m + n) / 2       // one l-column block of the average side
    for i in phases.indices {
        switch phases[i].name {
        case "random test matrix": phases[i].bytes = 3 * size * Double(l) * n                                   // draw, transpose
        case "range finder": phases[i].bytes = Double(rangeFinderPasses) * product(l) + Double(normalizations) * 3 * block
        case "Rayleigh-Ritz": phases[i].bytes = product(l) + size * Double(l) * (2 * n + m) + size * Double(k) * (m + n)
        case "residuals" where residuals: phases[i].bytes = product(k) + 2 * size * Double(k) * (m + n)
        default: break
        }
    }
}

/// `Y' = (A X)'` for `X' = xt` (`l x columns`), both held transposed (row-major blocks).
func sparseProduct<S: BLASScalar>(_ a: CSRMatrix<S>, _ xt: Matrix<S>, into yt: inout Matrix<S>) {
    let k = xt.rows
    xt.withUnsafeBufferPointer { x in
        yt.withUnsafeMutableBufferPointer { y in a.multiply(rowMajor: x, columns: k, into: y) }
    }
}

/// `Y' = (A' X)'` for `X' = xt` (`l x rows`), both held transposed (row-major blocks).
func sparseTransposeProduct<S: BLASScalar>(_ a: CSRMatrix<S>, _ xt: Matrix<S>, into yt: inout Matrix<S>) {
    let k = xt.rows
    xt.withUnsafeBufferPointer { x in
        yt.withUnsafeMutableBufferPointer { y in a.multiplyTranspose(rowMajor: x, columns: k, into: y) }
    }
}

/// `||A v_i - s_i u_i|| / s_1` (one product of `A` with `V`, which `vt` holds row-major) and
/// `||A' u_i - s_i v_i|| / s_1` from `rightSquares`, the squared norms the caller already has
/// (``scaleRowsMeasuringResiduals(_:inverse:s:measure:)``). The differences are formed and
/// their norms accumulated (in `Double`) in one specialised pass over the image: no `S U'`
/// temporary and no Gram matrices.
func sparseResiduals<S: BLASScalar>(_ a: CSRMatrix<S>, u: Matrix<S>, s: [S], vt: Matrix<S>, rightSquares: [Double])
    -> (left: [Double], right: [Double]) {
    let k = s.count, m = u.rows
    var leftImage = Matrix<S>(rows: k, columns: m)        // (A V)'
    sparseProduct(a, vt, into: &leftImage)
    let s1 = Double(s[0]) > 0 ? Double(s[0]) : 1
    let left = residualRowNorms(leftImage, s, u, vectorsAreRows: false)
    return (left.map { $0.squareRoot() / s1 }, rightSquares.map { $0.squareRoot() / s1 })
}

/// `image.scaleRows(by: inverse)` (V' from `W' B = S V'`), and with `measure` the squared norms
/// `||image_i - s_i v_i||^2` that ``residualRowNorms(_:_:_:vectorsAreRows:)`` would give for the
/// unscaled image and the scaled copy (each `v` the same rounded product, the sums in the same
/// chunks and order: the same bits), taken in the same pass over the block, which is scaled in
/// place. Cost: O(k n), one read and one write of the block.
@_specialize(where S == Float)
@_specialize(where S == Double)
func scaleRowsMeasuringResiduals<S: BLASScalar>(_ image: inout Matrix<S>, inverse: [S], s: [S], measure: Bool) -> [Double]? {
    guard measure else { image.scaleRows(by: inverse); return nil }
    let k = image.rows, n = image.columns
    precondition(inverse.count == k && s.count == k, "scaleRowsMeasuringResiduals: \(k) rows, \(inverse.count) factors")
    let chunks = (n + residualChunk - 1) / residualChunk
    var partial = [Double](repeating: 0, count: k * chunks)      // chunk c's sums at c * k
    image.withUnsafeMutableBufferPointer { img in
        partial.withUnsafeMutableBufferPointer { part in
            let box = UnsafeSendableBox((img.baseAddress!, part.baseAddress!))
            Parallel.forEachDynamicChunk(count: chunks) { _, ranges in
                let (img, part) = box.value
                for range in ranges {
                    for chunk in range {
                        let acc = part + chunk * k
                        let lo = chunk * residualChunk, hi = min(n, lo + residualChunk)
                        for j in lo..<hi {
                            for i in 0..<k {
                                let x = img[i + j * k], v = x * inverse[i]
                                let d = Double(x - s[i] * v)
                                acc[i] += d * d
                                img[i + j * k] = v
                            }
                        }
                    }
                }
            }
        }
    }
    var sums = [Double](repeating: 0, count: k)
    for c in 0..<chunks { for i in 0..<k { sums[i] += partial[c * k + i] } }
    return sums
}

/// The squared norms, accumulated in `Double`, of the rows of `image - diag(s) X'` for the wide
/// `image` (`k x n`, column-major) and `X'` given as `vectors`: the wide `k x n` `X'` itself
/// (`vectorsAreRows`), or the tall `n x k` `X` (read in 16-column tiles, so that each of its
/// `k` columns is read as a stream). Each difference is rounded to `S` first, as the elementwise
/// subtraction it replaces. The columns are summed in fixed chunks of `residualChunk` (each
/// chunk's sums in column order, then the chunks' in chunk order), the chunks spread over
/// ``Parallel/threads``: the same sums for every thread count. Cost: O(k n), one read of each operand.
@_specialize(where S == Float)
@_specialize(where S == Double)
func residualRowNorms<S: BLASScalar>(_ image: Matrix<S>, _ s: [S], _ vectors: Matrix<S>, vectorsAreRows: Bool) -> [Double] {
    let k = image.rows, n = image.columns
    precondition(s.count == k && (vectorsAreRows ? (vectors.rows == k && vectors.columns == n) : (vectors.rows == n && vectors.columns == k)),
                 "residualRowNorms: shapes do not match")
    let chunks = (n + residualChunk - 1) / residualChunk
    var partial = [Double](repeating: 0, count: k * chunks)      // chunk c's sums at c * k
    image.withUnsafeBufferPointer { img in
        vectors.withUnsafeBufferPointer { vec in
            partial.withUnsafeMutableBufferPointer { part in
                let box = UnsafeSendableBox((img.baseAddress!, vec.baseAddress!, part.baseAddress!))
                Parallel.forEachDynamicChunk(count: chunks) { _, ranges in
                    let (img, vec, part) = box.value
                    for range in ranges {
                        for chunk in range {
                            let acc = part + chunk * k
                            let lo = chunk * residualChunk, hi = min(n, lo + residualChunk)
                            if vectorsAreRows {
                                for j in lo..<hi {
                                    for i in 0..<k {
                                        let d = Double(img[i + j * k] - s[i] * vec[i + j * k])
                                        acc[i] += d * d
                                    }
                                }
                            } else {
                                let tile = 16
                                var j0 = lo
                                while j0 < hi {
                                    let j1 = min(hi, j0 + tile)
                                    for i in 0..<k {
                                        let si = s[i]
                                        var sum = 0.0
                                        for j in j0..<j1 {
                                            let d = Double(img[i + j * k] - si * vec[j + i * n])
                                            sum += d * d
                                        }
                                        acc[i] += sum
                                    }
                                    j0 = j1
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    var sums = [Double](repeating: 0, count: k)
    for c in 0..<chunks { for i in 0..<k { sums[i] += partial[c * k + i] } }
    return sums
}

/// Columns per chunk of ``residualRowNorms(_:_:_:vectorsAreRows:)`` (a multiple of its 16-column tile).
let residualChunk = 1 << 14
