import LinearAlgebra
import Synchronization

// The block Lanczos basis GEMMs (`C = V W'`, `W -= C' V`, `X = Y' V`) are skinny: a wide basis
// `V` (up to a few hundred rows, `n` coordinates) against a block of `b` rows (16 by default).
// Threaded OpenBLAS (0.3.21) splits such a product over its threads but synchronises them for
// every panel of the long `n` dimension (hundreds of spin-waits per call, `sched_yield` time on a
// loaded machine). Here each of our threads runs one single-threaded GEMM on its own range of
// coordinates instead: `V W'` as partial sums added in a fixed order, `W -= C' V` and `Y' V` on
// disjoint column ranges. (OpenBLAS's answer can move in the last bits with the column range a
// kernel sees, its edge tiles differ, so the split answer is within rounding of the unsplit one.)

/// A process-wide scope in which OpenBLAS runs single-threaded, for parallel loops of our own
/// that call BLAS from each thread. Nested and concurrent scopes share one switch: the first to
/// enter saves the thread count and sets 1, the last to leave restores it, so concurrent solvers
/// cannot leave the count at 1. A BLAS call that another thread of the process makes while a
/// scope is open runs on one thread: slower, and its answer can differ in the last bits from a
/// threaded run (OpenBLAS partitions the product differently); nothing else changes.
enum SingleThreadedBLAS {
    private static let blas = ScopedSetting(get: { BLAS.threads }, set: { BLAS.threads = $0 })

    static func run<R>(_ body: () throws -> R) rethrows -> R { try blas.run(1, body) }
}

/// A process-wide setting held at one value while any scope is open: the first scope to enter
/// saves the current value and sets it, the last to leave restores the saved one.
final class ScopedSetting: Sendable {
    private let state = Mutex<(depth: Int, saved: Int)>((0, 0))
    private let get: @Sendable () -> Int, set: @Sendable (Int) -> Void

    init(get: @escaping @Sendable () -> Int, set: @escaping @Sendable (Int) -> Void) { self.get = get; self.set = set }

    func run<R>(_ value: Int, _ body: () throws -> R) rethrows -> R {
        state.withLock { s in
            if s.depth == 0 { s.saved = get(); set(value) }
            s.depth += 1
        }
        defer {
            state.withLock { s in
                s.depth -= 1
                if s.depth == 0 { set(s.saved) }
            }
        }
        return try body()
    }
}

enum BasisGEMM {
    /// The fewest coordinates a thread's part gets (below that, one threaded GEMM).
    static let minimumPart = 4096

    /// Tests set it to run the split on small problems (and on any thread count): the number of parts.
    @TaskLocal static var partsOverride: Int?

    /// How many coordinate ranges a product over `n` coordinates is split into: one per thread of
    /// ``Parallel/threads``, at least ``minimumPart`` coordinates each (or ``partsOverride``).
    static func parts(_ n: Int, threads: Int = Parallel.threads) -> Int {
        if let p = partsOverride { return Swift.max(1, Swift.min(p, n)) }
        return Swift.max(1, Swift.min(threads, n / minimumPart))
    }

    /// The coordinate range of part `p` of `parts` over `n` (contiguous, near-equal).
    static func range(_ p: Int, of parts: Int, _ n: Int) -> Range<Int> { (n * p / parts)..<(n * (p + 1) / parts) }

    /// Tests set it to `false`: their small GEMMs run on one thread anyway (OpenBLAS's size
    /// threshold), and the switch would change other concurrent tests' threaded BLAS answers.
    @TaskLocal static var switchesBLASThreads = true

    /// Runs `body(p, range)` for every part, one per thread, with OpenBLAS single-threaded inside.
    static func forEachPart(_ parts: Int, _ n: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
        func run() {
            Parallel.forEachChunk(count: parts, threads: parts) { chunk in
                for p in chunk { body(p, range(p, of: parts, n)) }
            }
        }
        if switchesBLASThreads { SingleThreadedBLAS.run { run() } } else { run() }
    }

    /// `C = V(rows) W'` (`rows.count x b`, column-major) for rows of the wide basis `v` (leading
    /// dimension `v.rows`) and the wide `w` (`b x n`). With `parts > 1`, the sum over the
    /// coordinates is taken as `parts` partial GEMMs (one per thread) added in part order.
    static func coefficients<S: BLASScalar>(_ v: Matrix<S>, rows: Range<Int>, _ w: Matrix<S>, parts: Int) -> [S] {
        let b = w.rows, n = w.columns, count = rows.count, ldv = v.rows, size = count * b
        var c = [S](repeating: 0, count: size)
        if count == 0 || b == 0 { return c }
        var partial = [S](repeating: 0, count: parts > 1 ? size * parts : 0)
        v.withUnsafeBufferPointer { vp in w.withUnsafeBufferPointer { wp in c.withUnsafeMutableBufferPointer { cp in
            let vb = vp.baseAddress! + rows.lowerBound
            if parts <= 1 {
                S.blasGemm(.none, .transpose, Int32(count), Int32(b), Int32(n), 1, vb, Int32(ldv),
                           wp.baseAddress!, Int32(b), 0, cp.baseAddress!, Int32(count))
                return
            }
            partial.withUnsafeMutableBufferPointer { pp in
                let vs = UnsafeSendableBox(vb), ws = UnsafeSendableBox(wp.baseAddress!), ps = UnsafeSendableBox(pp.baseAddress!)
                forEachPart(parts, n) { p, cols in
                    S.blasGemm(.none, .transpose, Int32(count), Int32(b), Int32(cols.count), 1, vs.value + cols.lowerBound * ldv,
                               Int32(ldv), ws.value + cols.lowerBound * b, Int32(b), 0, ps.value + p * size, Int32(count))
                }
                for i in 0..<size {
                    var s = pp[i]
                    for p in 1..<parts { s += pp[i + p * size] }
                    cp[i] = s
                }
            }
        } } }
        return c
    }

    /// `W -= C' V(rows)` for `C` as returned by ``coefficients(_:rows:_:parts:)``; with
    /// `parts > 1`, each thread updates its own range of `W`'s columns.
    static func subtract<S: BLASScalar>(_ v: Matrix<S>, rows: Range<Int>, _ c: [S], from w: inout Matrix<S>, parts: Int) {
        let b = w.rows, n = w.columns, count = rows.count, ldv = v.rows
        if count == 0 || b == 0 { return }
        v.withUnsafeBufferPointer { vp in w.withUnsafeMutableBufferPointer { wp in c.withUnsafeBufferPointer { cp in
            let vs = UnsafeSendableBox(vp.baseAddress! + rows.lowerBound), ws = UnsafeSendableBox(wp.baseAddress!)
            let cs = UnsafeSendableBox(cp.baseAddress!)
            let update: @Sendable (Range<Int>) -> Void = { cols in
                S.blasGemm(.transpose, .none, Int32(b), Int32(cols.count), Int32(count), -1, cs.value, Int32(count),
                           vs.value + cols.lowerBound * ldv, Int32(ldv), 1, ws.value + cols.lowerBound * b, Int32(b))
            }
            if parts <= 1 { update(0..<n) } else { forEachPart(parts, n) { _, cols in update(cols) } }
        } } }
    }

    /// `X = Y(:, 0..<columns)' V(0..<rows)` (the rows of the wide `x`, leading dimension `x.rows`)
    /// from `y` (`rows x columns` at least, column-major, leading dimension `rows`), converted to
    /// `S`; with `parts > 1`, each thread computes its own range of `X`'s columns.
    static func rotate<S: BLASScalar>(_ v: Matrix<S>, rows: Int, _ y: [Double], columns: Int, into x: inout Matrix<S>, parts: Int) {
        if rows == 0 || columns == 0 { return }
        var ys = [S](repeating: 0, count: rows * columns)
        for i in 0..<(rows * columns) { ys[i] = S(y[i]) }
        rotate(v, rows: rows, coefficients: ys, columns: columns, into: &x, parts: parts)
    }

    /// ``rotate(_:rows:_:columns:into:parts:)`` with the coefficients `ys` already in `S`
    /// (`rows x columns` at least, column-major, leading dimension `rows`).
    static func rotate<S: BLASScalar>(_ v: Matrix<S>, rows: Int, coefficients ys: [S], columns: Int, into x: inout Matrix<S>, parts: Int) {
        let n = v.columns, ldv = v.rows, ldx = x.rows
        precondition(ys.count >= rows * columns && x.rows >= columns && x.columns == n, "rotate: sizes")
        if rows == 0 || columns == 0 { return }
        v.withUnsafeBufferPointer { vp in x.withUnsafeMutableBufferPointer { xp in ys.withUnsafeBufferPointer { yp in
            let vs = UnsafeSendableBox(vp.baseAddress!), xs = UnsafeSendableBox(xp.baseAddress!), y = UnsafeSendableBox(yp.baseAddress!)
            let product: @Sendable (Range<Int>) -> Void = { cols in
                S.blasGemm(.transpose, .none, Int32(columns), Int32(cols.count), Int32(rows), 1, y.value, Int32(rows),
                           vs.value + cols.lowerBound * ldv, Int32(ldv), 0, xs.value + cols.lowerBound * ldx, Int32(ldx))
            }
            if parts <= 1 { product(0..<n) } else { forEachPart(parts, n) { _, cols in product(cols) } }
        } } }
    }

    /// Rows `0..<columns` of the wide basis `v` set to `Y(:, 0..<columns)' V(0..<rows)`, in place:
    /// each part runs over its coordinates in chunks of `chunk`, one GEMM into a small buffer
    /// and a copy back per chunk (no second basis; the same GEMM per coordinate as ``rotate``).
    /// - Precondition: `columns <= rows <= v.rows`.
    static func rotateInPlace<S: BLASScalar>(_ v: inout Matrix<S>, rows: Int, _ y: [Double], columns: Int, parts: Int,
                                              chunk: Int = 1024) {
        precondition(columns <= rows && rows <= v.rows, "rotateInPlace: \(columns) of \(rows) rows, basis of \(v.rows)")
        let n = v.columns, ldv = v.rows
        if rows == 0 || columns == 0 { return }
        var ys = [S](repeating: 0, count: rows * columns)
        for i in 0..<(rows * columns) { ys[i] = S(y[i]) }
        v.withUnsafeMutableBufferPointer { vp in ys.withUnsafeBufferPointer { yp in
            let vs = UnsafeSendableBox(vp.baseAddress!), y = UnsafeSendableBox(yp.baseAddress!)
            let product: @Sendable (Range<Int>) -> Void = { cols in
                let width = Swift.min(chunk, cols.count)
                let buffer = UnsafeMutablePointer<S>.allocate(capacity: columns * width)
                defer { buffer.deallocate() }
                var lo = cols.lowerBound
                while lo < cols.upperBound {
                    let count = Swift.min(width, cols.upperBound - lo)
                    S.blasGemm(.transpose, .none, Int32(columns), Int32(count), Int32(rows), 1, y.value, Int32(rows),
                               vs.value + lo * ldv, Int32(ldv), 0, buffer, Int32(columns))
                    for c in 0..<count { (vs.value + (lo + c) * ldv).update(from: buffer + c * columns, count: columns) }
                    lo += count
                }
            }
            if parts <= 1 { product(0..<n) } else { forEachPart(parts, n) { _, cols in product(cols) } }
        } }
    }

    /// `W W'` (`b x b`, both triangles) of the wide `w` (`b x n`): with `parts > 1`, one
    /// single-threaded `syrk` per coordinate range, the partial sums added in part order.
    static func gram<S: BLASScalar>(_ w: Matrix<S>, parts: Int) -> Matrix<S> {
        let b = w.rows, n = w.columns, size = b * b
        if parts <= 1 || b == 0 { return w.gramOfRows() }
        var g = Matrix<S>(rows: b, columns: b)
        var partial = [S](repeating: 0, count: size * parts)
        w.withUnsafeBufferPointer { wp in partial.withUnsafeMutableBufferPointer { pp in
            let ws = UnsafeSendableBox(wp.baseAddress!), ps = UnsafeSendableBox(pp.baseAddress!)
            forEachPart(parts, n) { p, cols in
                S.blasSyrkLower(.none, Int32(b), Int32(cols.count), 1, ws.value + cols.lowerBound * b, Int32(b), 0,
                                ps.value + p * size, Int32(b))
            }
            for c in 0..<b {
                for r in c..<b {
                    var s = pp[r + c * b]
                    for p in 1..<parts { s += pp[r + c * b + p * size] }
                    g[r, c] = s; g[c, r] = s
                }
            }
        } }
        return g
    }
}
