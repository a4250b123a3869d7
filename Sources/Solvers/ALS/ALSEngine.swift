import Dispatch
import Foundation
import LinearAlgebra
import Synchronization

// The numerical core of ALS: per-row systems, Gram products and the objective.
//
// Row r of a CSR matrix (a user's items, or an item's users) defines the system
//     (G + d_r I + sum_k a_k y_k y_k') x = sum_k b_k y_k
// over the fixed side's vectors y_k (k running over the row's stored entries), with
//   implicit feedback: G = Y'Y + lambda I (shared), d_r = 0,             a_k = alpha v_k,  b_k = (1 + alpha v_k) [v_k > 0]
//   explicit feedback: G = 0,                       d_r = lambda nnz_r,  a_k = 1,          b_k = v_k.
// Conjugate gradient runs on blocks of consecutive rows in lock step so that the shared G x
// products of a block are one GEMM; the per-entry terms are gathered row by row.

/// Raw view of one side's row systems, valid while the arrays it points into are alive.
struct ALSRowSystems: @unchecked Sendable {
    let factors: Int
    let offsets: UnsafePointer<Int64>
    let indices: UnsafePointer<Int32>
    let values: UnsafePointer<Float>
    /// The fixed side, `factors x count`, one vector per column.
    let fixed: UnsafePointer<Float>
    /// `G + lambda I` for implicit feedback; nil for explicit.
    let gram: UnsafePointer<Float>?
    let alpha: Float
    let regularization: Float

    var isImplicit: Bool { gram != nil }

    /// Runs `body` with the systems of the rows of `matrix` against `fixed` (`factors x
    /// matrix.columns`) and the shared `G + lambda I` (`shared`, nil for explicit feedback).
    static func with<R>(_ matrix: CSRMatrix<Float>, fixed: [Float], shared: [Float]?, configuration c: ALSConfiguration,
                        _ body: (ALSRowSystems) throws -> R) rethrows -> R {
        try matrix.rowOffsets.withUnsafeBufferPointer { off in
            try matrix.columnIndices.withUnsafeBufferPointer { idx in
                try matrix.values.withUnsafeBufferPointer { val in
                    try fixed.withUnsafeBufferPointer { fix in
                        try withOptionalPointer(shared) { g in
                            try body(ALSRowSystems(factors: c.factors, offsets: off.baseAddress!,
                                                   indices: idx.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                   values: val.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                   fixed: fix.baseAddress ?? UnsafePointer(bitPattern: 8)!, gram: g,
                                                   alpha: c.alpha, regularization: c.regularization))
                        }
                    }
                }
            }
        }
    }

    /// (a_k, b_k) of an entry with value `v`.
    @inline(__always) func weights(_ v: Float) -> (a: Float, b: Float) {
        if gram != nil { return (alpha * v, v > 0 ? 1 + alpha * v : 0) }
        return (1, v)
    }

    /// The diagonal shift d_r of a row with `count` entries.
    @inline(__always) func shift(_ count: Int) -> Float {
        gram != nil ? 0 : regularization * Float(count)
    }
}

/// Hands out consecutive blocks of `0..<count` to workers on demand (dynamic scheduling).
final class ALSBlockQueue: Sendable {
    let count: Int
    let blockSize: Int
    private let next = Atomic<Int>(0)

    init(count: Int, blockSize: Int) {
        self.count = count
        self.blockSize = blockSize
    }

    /// The next unclaimed block, or nil when all are taken.
    func take() -> Range<Int>? {
        let b = next.add(1, ordering: .relaxed).oldValue
        let lo = b * blockSize
        guard lo < count else { return nil }
        return lo..<min(count, lo + blockSize)
    }
}

/// Remembers the first error raised by concurrent workers.
final class ALSFirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: SolverError?
    func record(_ e: SolverError) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
    var error: SolverError? { lock.lock(); defer { lock.unlock() }; return stored }
}

// MARK: - Small vector kernels (SIMD16 main loop, scalar tail)

@inline(__always)
func alsDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var k = 0
    while k + 32 <= n {
        acc0 += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD16<Float>.self)
            * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD16<Float>.self)
        acc1 += UnsafeRawPointer(a + k + 16).loadUnaligned(as: SIMD16<Float>.self)
            * UnsafeRawPointer(b + k + 16).loadUnaligned(as: SIMD16<Float>.self)
        k += 32
    }
    if k + 16 <= n {
        acc0 += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD16<Float>.self)
            * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD16<Float>.self)
        k += 16
    }
    var s = (acc0 + acc1).sum()
    while k < n { s += a[k] * b[k]; k += 1 }
    return s
}

/// out = u + c v (`n` floats; `out` may be `u` or `v`).
@inline(__always)
func alsCombine(_ u: UnsafePointer<Float>, _ c: Float, _ v: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ n: Int) {
    let cv = SIMD16<Float>(repeating: c)
    var k = 0
    while k + 16 <= n {
        let z = UnsafeRawPointer(u + k).loadUnaligned(as: SIMD16<Float>.self)
            + cv * UnsafeRawPointer(v + k).loadUnaligned(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(out + k).storeBytes(of: z, as: SIMD16<Float>.self)
        k += 16
    }
    while k < n { out[k] = u[k] + c * v[k]; k += 1 }
}

/// y += s x
@inline(__always)
func alsAxpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    alsCombine(UnsafePointer(y), s, x, into: y, n)
}

/// p = r + beta p
@inline(__always)
func alsXpby(_ r: UnsafePointer<Float>, _ beta: Float, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    alsCombine(r, beta, UnsafePointer(p), into: p, n)
}

/// y = x (`n` floats), inlined (a library memmove call costs more than a 64-float copy).
@inline(__always)
func alsCopy(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var k = 0
    while k + 16 <= n {
        UnsafeMutableRawPointer(y + k).storeBytes(of: UnsafeRawPointer(x + k).loadUnaligned(as: SIMD16<Float>.self),
                                                  as: SIMD16<Float>.self)
        k += 16
    }
    while k < n { y[k] = x[k]; k += 1 }
}

enum ALSEngine {
    /// Rows per lock-step conjugate-gradient block (one GEMM of `f x f` by `f x block`).
    static let cgBlock = 128
    /// Entries gathered per GEMM rank update in the Cholesky solver.
    static let gatherChunk = 256

    /// `Y Y'` for `Y` = `factors x count` (one vector per column): the `factors x factors` Gram
    /// matrix of the vectors. Uses BLAS at its current thread setting.
    static func gram(_ y: [Float], count: Int, factors f: Int) -> [Float] {
        var g = [Float](repeating: 0, count: f * f)
        guard count > 0 else { return g }
        y.withUnsafeBufferPointer { yb in
            g.withUnsafeMutableBufferPointer { gb in
                Float.blasGemm(.none, .transpose, Int32(f), Int32(f), Int32(count), 1,
                               yb.baseAddress!, Int32(f), yb.baseAddress!, Int32(f), 0, gb.baseAddress!, Int32(f))
            }
        }
        return g
    }

    /// ``gram(_:count:factors:)`` computed by our own `threads` workers, each running a
    /// single-threaded GEMM on a slice of the columns, then summed in a fixed order (so the
    /// result does not depend on scheduling). Keeping BLAS single-threaded throughout a sweep
    /// avoids OpenBLAS's worker threads spinning while our row loops run.
    static func parallelGram(_ y: [Float], count: Int, factors f: Int, threads: Int) -> [Float] {
        let slices = max(1, min(threads, count / 4096))
        if slices == 1 { return BLAS.withThreads(1) { gram(y, count: count, factors: f) } }
        var partial = [Float](repeating: 0, count: slices * f * f)
        BLAS.withThreads(1) {
            y.withUnsafeBufferPointer { yb in
                partial.withUnsafeMutableBufferPointer { pb in
                    let box = UnsafeSendableBox((yb.baseAddress!, pb.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: slices) { k in
                        let (y, out) = box.value
                        let lo = count * k / slices, hi = count * (k + 1) / slices
                        Float.blasGemm(.none, .transpose, Int32(f), Int32(f), Int32(hi - lo), 1, y + lo * f, Int32(f),
                                       y + lo * f, Int32(f), 0, out + k * f * f, Int32(f))
                    }
                }
            }
        }
        var g = Array(partial[0..<(f * f)])
        for k in 1..<slices { for e in 0..<(f * f) { g[e] += partial[k * f * f + e] } }
        return g
    }

    /// The shared matrix `G + lambda I` of implicit feedback (nil for explicit).
    static func sharedMatrix(fixed: [Float], count: Int, configuration c: ALSConfiguration, threads: Int) -> [Float]? {
        guard c.feedback == .implicit else { return nil }
        let f = c.factors
        var g = parallelGram(fixed, count: count, factors: f, threads: threads)
        for k in 0..<f { g[k * f + k] += c.regularization }
        return g
    }

    /// Solves every row of `rows` for its vector in `target` (`factors x rows.rows`, updated in
    /// place; conjugate gradient starts from its current contents) with `fixed`
    /// (`factors x rows.columns`) held fixed.
    static func solveAll(rows: CSRMatrix<Float>, target: inout [Float], fixed: [Float],
                         configuration c: ALSConfiguration, threads: Int) throws {
        let f = c.factors
        let shared = sharedMatrix(fixed: fixed, count: rows.columns, configuration: c, threads: threads)
        let failure = ALSFirstError()
        BLAS.withThreads(1) {
            target.withUnsafeMutableBufferPointer { tgt in
                ALSRowSystems.with(rows, fixed: fixed, shared: shared, configuration: c) { system in
                    let out = UnsafeSendableBox(tgt.baseAddress!)
                    switch c.solver {
                    case .conjugateGradient:
                        let queue = ALSBlockQueue(count: rows.rows, blockSize: cgBlock)
                        runWorkers(threads) {
                            var scratch = CGScratch(factors: f, block: cgBlock)
                            while let range = queue.take() {
                                conjugateGradientBlock(system, range, out.value, steps: c.cgSteps, &scratch)
                            }
                        }
                    case .cholesky:
                        choleskyRows(system, count: rows.rows, list: nil, into: out.value, threads: threads, blockSize: 32, failure)
                    }
                }
            }
        }
        if let e = failure.error { throw e }
    }

    /// Exact (Cholesky) solves of `count` rows on `threads` workers: rows `list[0..<count]`, or
    /// `0..<count` when `list` is nil; row `r`'s vector goes to `out + r * factors`. A row whose
    /// system is not positive definite is recorded in `failure`.
    static func choleskyRows(_ system: ALSRowSystems, count: Int, list: UnsafePointer<Int>?, into out: UnsafeMutablePointer<Float>,
                             threads: Int, blockSize: Int, _ failure: ALSFirstError) {
        let f = system.factors
        let box = UnsafeSendableBox((out, list))
        let queue = ALSBlockQueue(count: count, blockSize: blockSize)
        runWorkers(min(threads, max(1, count))) {
            var scratch = CholeskyScratch(factors: f)
            let (out, list) = box.value
            while let range = queue.take() {
                for k in range {
                    let r = list?[k] ?? k
                    let lo = Int(system.offsets[r]), hi = Int(system.offsets[r + 1])
                    if !choleskyRow(system, indices: system.indices + lo, values: system.values + lo, count: hi - lo,
                                    into: out + r * f, &scratch) {
                        failure.record(.notPositiveDefinite("ALS: the least-squares system of row \(r) (\(hi - lo) entries) is not positive definite; use a positive regularization"))
                    }
                }
            }
        }
    }

    /// Runs `body` on `threads` workers (on the calling thread when 1).
    static func runWorkers(_ threads: Int, _ body: @Sendable () -> Void) {
        if threads <= 1 { body(); return }
        DispatchQueue.concurrentPerform(iterations: threads) { _ in body() }
    }

    // MARK: Conjugate gradient

    /// Rows with more entries than this are not gathered (their vectors are read in place;
    /// such a row's repeated passes stay in cache anyway).
    static let gatherLimit = 1024
    /// Gathered rows with at least this many entries use BLAS GEMV for their per-entry terms.
    static let gemvThreshold = 24

    struct CGScratch {
        var r: [Float], p: [Float], ap: [Float], rs: [Float]
        /// Gathered fixed-side vectors of the block's rows, `factors` floats each, and their weights.
        var z: [Float], za: [Float]
        /// Per-entry products of one row (GEMV path).
        var t = [Float](repeating: 0, count: ALSEngine.gatherLimit)
        init(factors f: Int, block: Int) {
            r = [Float](repeating: 0, count: f * block)
            p = r
            ap = r
            rs = [Float](repeating: 0, count: block)
            z = []
            za = []
        }
    }

    /// `cgSteps` conjugate-gradient steps on rows `range`, in lock step, from the vectors
    /// currently in `target`.
    ///
    /// The fixed-side vectors of the block's entries are first copied into one contiguous
    /// buffer (rows with at most ``gatherLimit`` entries), so the random reads of the fixed
    /// factors happen once per sweep, in a loop without dependencies (many cache misses in
    /// flight), instead of once per CG step.
    static func conjugateGradientBlock(_ s: ALSRowSystems, _ range: Range<Int>, _ target: UnsafeMutablePointer<Float>,
                                       steps: Int, _ scratch: inout CGScratch) {
        let f = s.factors, n = range.count
        let x = target + range.lowerBound * f
        var gatheredCount = 0
        for row in range {
            let c = Int(s.offsets[row + 1] - s.offsets[row])
            if c <= gatherLimit { gatheredCount += c }
        }
        if scratch.z.count < gatheredCount * f {
            scratch.z = [Float](repeating: 0, count: gatheredCount * f * 5 / 4)
            scratch.za = [Float](repeating: 0, count: gatheredCount * 5 / 4)
        }
        scratch.r.withUnsafeMutableBufferPointer { rb in
        scratch.p.withUnsafeMutableBufferPointer { pb in
        scratch.ap.withUnsafeMutableBufferPointer { apb in
        scratch.rs.withUnsafeMutableBufferPointer { rsb in
        scratch.z.withUnsafeMutableBufferPointer { zb in
        scratch.za.withUnsafeMutableBufferPointer { zab in
        scratch.t.withUnsafeMutableBufferPointer { tb in
            let t = tb.baseAddress!
            let r = rb.baseAddress!, p = pb.baseAddress!, ap = apb.baseAddress!, rs = rsb.baseAddress!
            let z = zb.baseAddress, za = zab.baseAddress
            // Gather: entry e of a gathered row goes to slot (e - blockStart - skipped before it).
            var slot = 0
            for row in range {
                let lo = Int(s.offsets[row]), hi = Int(s.offsets[row + 1])
                guard hi - lo <= gatherLimit else { continue }
                for e in lo..<hi {
                    alsCopy(s.fixed + Int(s.indices[e]) * f, z! + slot * f, f)
                    za![slot] = s.weights(s.values[e]).a
                    slot += 1
                }
            }
            // r = b - A x: the shared part as one GEMM, then each row's own terms.
            if let g = s.gram {
                Float.blasGemm(.none, .none, Int32(f), Int32(n), Int32(f), -1, g, Int32(f), x, Int32(f), 0, r, Int32(f))
            } else {
                r.update(repeating: 0, count: f * n)
            }
            slot = 0
            for j in 0..<n {
                let row = range.lowerBound + j
                let lo = Int(s.offsets[row]), hi = Int(s.offsets[row + 1])
                let xj = x + j * f, rj = r + j * f
                let d = s.shift(hi - lo)
                if d != 0 { alsAxpy(-d, xj, rj, f) }
                if hi - lo <= gatherLimit && hi - lo >= gemvThreshold {
                    let m = hi - lo, zs = UnsafePointer(z! + slot * f)
                    Float.blasGemv(.transpose, Int32(f), Int32(m), 1, zs, Int32(f), xj, 1, 0, t, 1)
                    for q in 0..<m {
                        let (a, b) = s.weights(s.values[lo + q])
                        t[q] = b - a * t[q]
                    }
                    Float.blasGemv(.none, Int32(f), Int32(m), 1, zs, Int32(f), t, 1, 1, rj, 1)
                    slot += m
                } else if hi - lo <= gatherLimit {
                    for e in lo..<hi {
                        let y = UnsafePointer(z! + slot * f)
                        let (a, b) = s.weights(s.values[e])
                        alsAxpy(b - a * alsDot(y, xj, f), y, rj, f)
                        slot += 1
                    }
                } else {
                    for e in lo..<hi {
                        let y = s.fixed + Int(s.indices[e]) * f
                        let (a, b) = s.weights(s.values[e])
                        alsAxpy(b - a * alsDot(y, xj, f), y, rj, f)
                    }
                }
                (p + j * f).update(from: rj, count: f)
                // A row without entries under explicit feedback has A = 0: nothing to solve.
                rs[j] = (!s.isImplicit && hi == lo) ? 0 : alsDot(rj, rj, f)
            }
            for _ in 0..<steps {
                if let g = s.gram {
                    Float.blasGemm(.none, .none, Int32(f), Int32(n), Int32(f), 1, g, Int32(f), p, Int32(f), 0, ap, Int32(f))
                }
                slot = 0
                for j in 0..<n {
                    let row = range.lowerBound + j
                    let lo = Int(s.offsets[row]), hi = Int(s.offsets[row + 1])
                    let gathered = hi - lo <= gatherLimit
                    defer { if gathered { slot += hi - lo } }
                    guard rs[j] > 1e-20 else { continue }
                    let pj = p + j * f, apj = ap + j * f, xj = x + j * f, rj = r + j * f
                    if s.gram == nil { apj.update(repeating: 0, count: f) }
                    let d = s.shift(hi - lo)
                    if d != 0 { alsAxpy(d, pj, apj, f) }
                    if gathered && hi - lo >= gemvThreshold {
                        // Long rows: two BLAS GEMVs on the gathered block, t = a .* (Z' p), ap += Z t.
                        let m = hi - lo, zs = UnsafePointer(z! + slot * f)
                        Float.blasGemv(.transpose, Int32(f), Int32(m), 1, zs, Int32(f), pj, 1, 0, t, 1)
                        for q in 0..<m { t[q] *= za![slot + q] }
                        Float.blasGemv(.none, Int32(f), Int32(m), 1, zs, Int32(f), t, 1, 1, apj, 1)
                    } else if gathered {
                        for q in 0..<(hi - lo) {
                            let a = za![slot + q]
                            let y = UnsafePointer(z! + (slot + q) * f)
                            if a != 0 { alsAxpy(a * alsDot(y, pj, f), y, apj, f) }
                        }
                    } else {
                        for e in lo..<hi {
                            let y = s.fixed + Int(s.indices[e]) * f
                            let a = s.weights(s.values[e]).a
                            if a != 0 { alsAxpy(a * alsDot(y, pj, f), y, apj, f) }
                        }
                    }
                    let pap = alsDot(pj, apj, f)
                    guard pap > 0, pap.isFinite else { rs[j] = 0; continue }
                    let step = rs[j] / pap
                    alsAxpy(step, pj, xj, f)
                    alsAxpy(-step, apj, rj, f)
                    let rsNew = alsDot(rj, rj, f)
                    alsXpby(rj, rsNew / rs[j], pj, f)
                    rs[j] = rsNew
                }
            }
        }}}}}}}
    }

    // MARK: Cholesky

    struct CholeskyScratch {
        var a: [Float], z: [Float], zw: [Float]
        init(factors f: Int) {
            a = [Float](repeating: 0, count: f * f)
            z = [Float](repeating: 0, count: f * ALSEngine.gatherChunk)
            zw = z
        }
    }

    /// Solves one row's system exactly into `x` (`factors` values). The row's entries are
    /// `count` (index, value) pairs. Returns false when the matrix is not positive definite
    /// (then `x` is left unspecified). Uses LAPACK `spotrf`/`spotrs` and a GEMM rank update.
    static func choleskyRow(_ s: ALSRowSystems, indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int,
                            into x: UnsafeMutablePointer<Float>, _ scratch: inout CholeskyScratch) -> Bool {
        let f = s.factors
        x.update(repeating: 0, count: f)
        if !s.isImplicit && count == 0 { return true }
        return scratch.a.withUnsafeMutableBufferPointer { ab in
            scratch.z.withUnsafeMutableBufferPointer { zb in
                scratch.zw.withUnsafeMutableBufferPointer { zwb in
                    let a = ab.baseAddress!, z = zb.baseAddress!, zw = zwb.baseAddress!
                    if let g = s.gram { a.update(from: g, count: f * f) } else { a.update(repeating: 0, count: f * f) }
                    let d = s.shift(count)
                    if d != 0 { for k in 0..<f { a[k * f + k] += d } }
                    var start = 0
                    while start < count {
                        let m = min(gatherChunk, count - start)
                        for q in 0..<m {
                            let y = s.fixed + Int(indices[start + q]) * f
                            let (wa, wb) = s.weights(values[start + q])
                            let zq = z + q * f, zwq = zw + q * f
                            for k in 0..<f { zq[k] = y[k]; zwq[k] = wa * y[k] }
                            if wb != 0 { alsAxpy(wb, y, x, f) }
                        }
                        Float.blasGemm(.none, .transpose, Int32(f), Int32(f), Int32(m), 1, zw, Int32(f), z, Int32(f), 1, a, Int32(f))
                        start += m
                    }
                    let lower = CChar(UInt8(ascii: "L"))
                    guard Float.lapackPotrf(lower, Int32(f), a, Int32(f)) == 0 else { return false }
                    return Float.lapackPotrs(lower, Int32(f), 1, a, Int32(f), x, Int32(f)) == 0
                }
            }
        }
    }

    // MARK: Objective

    /// The objective of ``ALSConfiguration/Feedback`` for the given factors. Sets BLAS threads
    /// itself (multithreaded Gram, single-threaded inside the parallel loop).
    static func loss(interactions m: CSRMatrix<Float>, itemUsers: CSRMatrix<Float>, users: [Float], items: [Float],
                     configuration c: ALSConfiguration, threads: Int) -> Double {
        let f = c.factors
        let implicit = c.feedback == .implicit
        let g: [Float] = implicit ? parallelGram(items, count: m.columns, factors: f, threads: threads) : []
        let block = cgBlock
        let blocks = (m.rows + block - 1) / block
        var partial = [Double](repeating: 0, count: blocks)
        let alpha = c.alpha
        BLAS.withThreads(1) {
            m.rowOffsets.withUnsafeBufferPointer { off in
            m.columnIndices.withUnsafeBufferPointer { idx in
            m.values.withUnsafeBufferPointer { val in
            users.withUnsafeBufferPointer { xb in
            items.withUnsafeBufferPointer { yb in
            g.withUnsafeBufferPointer { gb in
            partial.withUnsafeMutableBufferPointer { pb in
                let box = UnsafeSendableBox((off.baseAddress!, idx.baseAddress, val.baseAddress, xb.baseAddress!, yb.baseAddress!,
                                             gb.baseAddress, pb.baseAddress!))
                let queue = ALSBlockQueue(count: blocks, blockSize: 1)
                runWorkers(threads) {
                    let (off, idx, val, x, y, gp, out) = box.value
                    var t = [Float](repeating: 0, count: f * block)
                    t.withUnsafeMutableBufferPointer { tb in
                        let t = tb.baseAddress!
                        while let bRange = queue.take() {
                            let b = bRange.lowerBound
                            let lo = b * block, n = min(m.rows, lo + block) - lo
                            var sum = 0.0
                            if implicit, let gp {
                                // sum over all pairs of s^2 = sum_u x_u' (Y Y') x_u
                                Float.blasGemm(.none, .none, Int32(f), Int32(n), Int32(f), 1, gp, Int32(f),
                                               x + lo * f, Int32(f), 0, t, Int32(f))
                                for j in 0..<n { sum += Double(alsDot(t + j * f, x + (lo + j) * f, f)) }
                            }
                            for u in lo..<(lo + n) {
                                let xu = x + u * f
                                for e in Int(off[u])..<Int(off[u + 1]) {
                                    let v = val![e]
                                    let s = Double(alsDot(y + Int(idx![e]) * f, xu, f))
                                    if implicit {
                                        let conf = 1 + Double(alpha) * Double(v)
                                        let pref: Double = v > 0 ? 1 : 0
                                        sum += conf * (pref - s) * (pref - s) - s * s
                                    } else {
                                        sum += (Double(v) - s) * (Double(v) - s)
                                    }
                                }
                            }
                            out[b] = sum
                        }
                    }
                }
            }}}}}}}
        }
        var total = partial.reduce(0, +)
        // Regularisation: plain for implicit, weighted by the number of entries for explicit.
        let userCounts = implicit ? nil : m.rowNonzeroCounts()
        let itemCounts = implicit ? nil : itemUsers.rowNonzeroCounts()
        var reg = 0.0
        users.withUnsafeBufferPointer { xb in
            for u in 0..<m.rows {
                let n2 = Double(alsDot(xb.baseAddress! + u * f, xb.baseAddress! + u * f, f))
                reg += n2 * (userCounts.map { Double($0[u]) } ?? 1)
            }
        }
        items.withUnsafeBufferPointer { yb in
            for i in 0..<m.columns {
                let n2 = Double(alsDot(yb.baseAddress! + i * f, yb.baseAddress! + i * f, f))
                reg += n2 * (itemCounts.map { Double($0[i]) } ?? 1)
            }
        }
        total += Double(c.regularization) * reg
        return total
    }
}

/// Calls `body` with a pointer to `array`'s storage, or nil when `array` is nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
}
