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
            // Transposed by a GEMM with the identity (exact, and specialised BLAS work even when
            // this generic code runs unspecialised, where an element loop would not be).
            Matrix.product(Matrix<S>.identity(l), .none, parallelGaussian(rows: n, columns: l, seed: c.seed), .transpose)
        }
        var passes = 0
        let qt: Matrix<S> = try clock.measure("range finder") {
            var yt = Matrix<S>(rows: l, columns: m)
            sparseProduct(a, zt, into: &yt); passes += 1
            try checkFinite(yt, "A Ω")
            for _ in 0..<q {
                try normalizeRows(&yt, c.normalizer)
                sparseTransposeProduct(a, yt, into: &zt); passes += 1
                try normalizeRows(&zt, c.normalizer)
                sparseProduct(a, zt, into: &yt); passes += 1
                try checkFinite(yt, "a power iteration")
            }
            if c.normalizer == .qr { return try yt.transposed().orthonormalized().transposed() }
            try choleskyOrthonormalizeRows(&yt, passes: 2)
            return yt
        }
        // Rayleigh-Ritz: B = Q'A (l x n) is the transpose of the row-major A'Q.
        var b = zt
        zt = Matrix<S>(rows: 0, columns: 0)   // b is now the only owner of the block: no copy on write
        let (u, s, vt, w) = try clock.measure("Rayleigh-Ritz") { () throws -> (Matrix<S>, [S], Matrix<S>, Matrix<S>) in
            sparseTransposeProduct(a, qt, into: &b)
            try checkFinite(b, "A' Q")
            let small = try thinSVD(b, vectors: .rows, rank: c.rank)  // B = W S X' (first k of W, X')
            let k = min(c.rank, small.s.count)
            let w = small.u                              // l x k
            let u = Matrix.product(qt, .transpose, w, .none)   // U = Q W, m x k
            return (u, Array(small.s[0..<k]), small.vt, w)
        }
        passes += 1
        var d = SolverDiagnostics(method: "randomized (\(c.normalizer.rawValue), q = \(q), p = \(c.oversamples))",
                                  requested: c.rank, converged: s.count, iterations: q, operatorApplications: passes, seed: c.seed)
        if c.computeResiduals && !s.isEmpty {
            let (left, right) = clock.measure("residuals") {
                sparseResiduals(a, u: u, s: s, vt: vt, rightImage: Matrix.product(w, .transpose, b, .none))
            }
            d.leftResiduals = left
            d.rightResiduals = right
            d.relativeResiduals = zip(left, right).map { max($0, $1) }
        }
        var result = try TruncatedSVD.finish(a, u: u, s: s, vt: vt, diagnostics: d, clock: &clock, c, residualsDone: true)
        annotateTraffic(&result.diagnostics.phases, a, l: l, k: s.count, rangeFinderPasses: passes - 1, normalizations: 2 * q + 2,
                        residuals: c.computeResiduals)
        return result
    }

    /// A normaliser applied to the rows of the wide `yt` (= to the columns of `Y = yt'`); the
    /// Cholesky QR in place (``choleskyOrthonormalizeRows(_:passes:)``).
    static func normalizeRows<S: BLASScalar>(_ yt: inout Matrix<S>, _ normalizer: Normalizer) throws {
        switch normalizer {
        case .choleskyQR: try choleskyOrthonormalizeRows(&yt, passes: 1)
        case .qr: yt = try yt.transposed().orthonormalized().transposed()
        case .lu: yt = try yt.transposed().lu().permutedLower.transposed()
        case .none: break
        }
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
/// `||A' u_i - s_i v_i|| / s_1` from `rightImage = (A'U)'` (`k x n`) the caller already has.
/// Every step is a BLAS call or a specialised element kernel (the norms are the diagonal of a
/// `k x k` Gram matrix), so it runs at full speed from unspecialised generic code.
func sparseResiduals<S: BLASScalar>(_ a: CSRMatrix<S>, u: Matrix<S>, s: [S], vt: Matrix<S>, rightImage: Matrix<S>)
    -> (left: [Double], right: [Double]) {
    let k = s.count, m = u.rows
    var left = Matrix<S>(rows: k, columns: m)             // (A V)' - S U'
    sparseProduct(a, vt, into: &left)
    left.axpy(-1, Matrix.product(Matrix<S>.diagonal(s), .none, u, .transpose))
    var right = rightImage                                // (A' U)' - S V'
    right.axpy(-1, vt.scaledRows(by: s))
    let s1 = Double(s[0]) > 0 ? Double(s[0]) : 1
    func rowNorms(_ r: Matrix<S>) -> [Double] {
        let gram = Matrix.product(r, .none, r, .transpose)
        return (0..<k).map { Double(gram[$0, $0]).squareRoot() / s1 }
    }
    return (rowNorms(left), rowNorms(right))
}
