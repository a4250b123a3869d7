import CLinearAlgebra
import CSparseKernels
import Dispatch

// Sparse-times-dense kernels shared by CSR and CSC storage.
//
// A compressed matrix is described by its "major" dimension (rows for CSR, columns for CSC) and
// "minor" dimension. Two products exist:
//   gather:  Y[r, :] = sum_p values[p] * X[indices[p], :]   over major r   (CSR: A X,  CSC: A' X)
//   scatter: Y[indices[p], :] += values[p] * X[r, :]         over major r   (CSR: A' X, CSC: A X)
// Dense blocks are addressed through (row stride, column stride), so one kernel reads or writes
// both row-major (stride k, 1) and column-major (stride 1, rows) blocks. Gathers need contiguous
// dense rows, so a column-major X with more than one column is transposed to row-major once per
// call; outputs are written straight into the caller's layout.
//
// The gathers and scatters hit random dense rows, so the kernels are bound by memory latency,
// not bandwidth or arithmetic: each one prefetches the dense row of the nonzero
// `gatherPrefetchDistance` (8) entries ahead (every line the row's panel touches: a row that
// does not start on a line boundary spans one line more). On the 1M x 1M, 10M-nonzero, 64-column Float
// benchmark this took one thread from 0.83 s to 0.25 s. Scratch buffers come from
// `SparseWorkspace`, so repeated products do not page-fault on fresh allocations.
// The wide Float gather (8 columns or more) runs in C with 256-bit AVX vectors where the CPU has
// them (`csk_gather_f32`, CSparseKernels): one pass over a row's nonzeros for up to 96 columns,
// the same bits as the Swift kernel here (which compiles to 128-bit SSE2). On the 1M-node,
// 20M-edge follow graph (74 columns, 2 threads) it took `follow-graph-svd` from 31.1 s to 25.9 s
// end to end (the 22 range-finder products from 16.2 s to 13.4 s with their normalisations).

/// Raw pointers to compressed storage, valid for the duration of one kernel call.
struct CompressedView<S>: @unchecked Sendable {
    let offsets: UnsafePointer<Int64>
    let indices: UnsafePointer<Int32>
    let values: UnsafePointer<S>
    let majorCount: Int
    let minorCount: Int

    func rebound<T>(to _: T.Type) -> CompressedView<T> {
        CompressedView<T>(offsets: offsets, indices: indices,
                          values: UnsafeRawPointer(values).assumingMemoryBound(to: T.self),
                          majorCount: majorCount, minorCount: minorCount)
    }
}

/// A dense block of `rows x columns` elements at `base`, element (i, c) at `i * rowStride + c * columnStride`.
struct DenseView<S>: @unchecked Sendable {
    let base: UnsafeMutablePointer<S>
    let rows: Int
    let columns: Int
    let rowStride: Int
    let columnStride: Int

    var isRowMajor: Bool { columnStride == 1 || columns == 1 }

    func rebound<T>(to _: T.Type) -> DenseView<T> {
        DenseView<T>(base: UnsafeMutableRawPointer(base).assumingMemoryBound(to: T.self),
                     rows: rows, columns: columns, rowStride: rowStride, columnStride: columnStride)
    }
}

/// What a fused gather does with each finished row of `A X` before storing it: `Y[r, :] = alpha
/// (A X)[r, :] + beta X[r, :] - Z[r, :]` (`Z` optional; `X` and `Z` row-major with leading
/// dimension `k`, `A` square). The three-term step of a Chebyshev filter in the same pass over
/// the block as the product, so the block is not read again by a separate element-wise pass.
/// The arithmetic is the element-wise pass's, in its order (`alpha y + beta x`, then `- z`), so
/// the fused result equals the unfused one to the bit.
struct GatherEpilogue<S>: @unchecked Sendable {
    let alpha: S
    let beta: S
    let z: UnsafePointer<S>?

    func rebound<T>(to _: T.Type) -> GatherEpilogue<T> {
        GatherEpilogue<T>(alpha: unsafeBitCast(alpha, to: T.self), beta: unsafeBitCast(beta, to: T.self),
                          z: z.map { UnsafeRawPointer($0).assumingMemoryBound(to: T.self) })
    }
}

/// `acc` (columns `c ..< c + V.scalarCount` of row `r` of `A X`) through the epilogue, if any.
@inline(__always)
func finishVector<V: SIMD>(_ acc: V, row r: Int, column c: Int, x: UnsafePointer<V.Scalar>, k: Int,
                           _ e: GatherEpilogue<V.Scalar>?) -> V where V.Scalar: BinaryFloatingPoint {
    guard let e else { return acc }
    let at = r &* k &+ c
    var v = V(repeating: e.alpha) * acc + V(repeating: e.beta) * loadVector(x + at, V.self)
    if let z = e.z { v -= loadVector(z + at, V.self) }
    return v
}

/// One element (row `r`, column `c`) of `A X` through the epilogue, if any.
@inline(__always)
func finishScalar<T: BinaryFloatingPoint>(_ acc: T, row r: Int, column c: Int, x: UnsafePointer<T>, k: Int,
                                          _ e: GatherEpilogue<T>?) -> T {
    guard let e else { return acc }
    let at = r &* k &+ c
    var v = e.alpha * acc + e.beta * x[at]
    if let z = e.z { v -= z[at] }
    return v
}

// MARK: - Inner loops, generic over the SIMD vector type (specialised for the Float and Double vectors `gatherWidest` picks)

@inline(__always)
func loadVector<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _: V.Type) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func storeVector<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, stride: Int) {
    if stride == 1 {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    } else {
        for l in 0..<V.scalarCount { p[l &* stride] = v[l] }
    }
}

/// How many nonzeros ahead the kernels prefetch dense rows (0 disables prefetching).
nonisolated(unsafe) var gatherPrefetchDistance = 8
nonisolated(unsafe) var scatterPrefetchDistance = 8
/// Whether the wide Float gather may run in C with AVX (`csk_gather_f32`); tests turn it off to
/// compare the two kernels' bits.
nonisolated(unsafe) var nativeGatherEnabled = true
/// Whether this CPU runs the C gather (it has AVX, and the OS saves its registers).
var nativeGatherAvailable: Bool { csk_uses_avx() != 0 }

/// Gather rows `range` of the major dimension: `Y[r, :] = sum values[p] X[indices[p], :]`.
/// `x` is row-major with leading dimension `k`; `y` is addressed by strides.
@inline(__always)
func gatherKernel<V: SIMD>(_: V.Type, _ a: CompressedView<V.Scalar>, _ range: Range<Int>,
                           x: UnsafePointer<V.Scalar>, k: Int, y: DenseView<V.Scalar>,
                           epilogue: GatherEpilogue<V.Scalar>? = nil)
where V.Scalar: BinaryFloatingPoint {
    let w = V.scalarCount
    let offsets = a.offsets, indices = a.indices, values = a.values
    let ys = y.rowStride, yc = y.columnStride
    let end = range.isEmpty ? 0 : Int(offsets[range.upperBound])
    let distance = gatherPrefetchDistance
    let linesPerPanel = (4 * w * MemoryLayout<V.Scalar>.stride + 63) / 64
    let lineScalars = 64 / MemoryLayout<V.Scalar>.stride
    for r in range {
        let lo = Int(offsets[r]), hi = Int(offsets[r + 1])
        if V.Scalar.self == Float.self && hi - lo > longRowSegment {
            gatherLongRow(a.rebound(to: Float.self), row: r, end: end, x: UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                          k: k, y: y.rebound(to: Float.self), epilogue: epilogue?.rebound(to: Float.self))
            continue
        }
        let yr = y.base + r * ys
        var c0 = 0
        while c0 + 4 * w <= k {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            for p in lo..<hi {
                if distance > 0 && p + distance < end {
                    let xf = x + Int(indices[p + distance]) * k + c0
                    for line in 0..<linesPerPanel { cla_prefetch_read(xf + line * lineScalars) }
                    // A row of k = 74 Float starts anywhere in a line, so the panel's 256 bytes
                    // span five lines, not four: fetch the one holding its last element too.
                    cla_prefetch_read(xf + (4 * w - 1))
                }
                let s = V(repeating: values[p])
                let xr = x + Int(indices[p]) * k + c0
                a0 += s * loadVector(xr, V.self)
                a1 += s * loadVector(xr + w, V.self)
                a2 += s * loadVector(xr + 2 * w, V.self)
                a3 += s * loadVector(xr + 3 * w, V.self)
            }
            storeVector(finishVector(a0, row: r, column: c0, x: x, k: k, epilogue), yr + c0 * yc, stride: yc)
            storeVector(finishVector(a1, row: r, column: c0 + w, x: x, k: k, epilogue), yr + (c0 + w) * yc, stride: yc)
            storeVector(finishVector(a2, row: r, column: c0 + 2 * w, x: x, k: k, epilogue), yr + (c0 + 2 * w) * yc, stride: yc)
            storeVector(finishVector(a3, row: r, column: c0 + 3 * w, x: x, k: k, epilogue), yr + (c0 + 3 * w) * yc, stride: yc)
            c0 += 4 * w
        }
        while c0 + w <= k {
            var a0 = V()
            for p in lo..<hi {
                if distance > 0 && p + distance < end { cla_prefetch_read(x + Int(indices[p + distance]) * k + c0) }
                a0 += V(repeating: values[p]) * loadVector(x + Int(indices[p]) * k + c0, V.self)
            }
            storeVector(finishVector(a0, row: r, column: c0, x: x, k: k, epilogue), yr + c0 * yc, stride: yc)
            c0 += w
        }
        let tail = k - c0
        if tail == 1 {
            var t: V.Scalar = 0
            for p in lo..<hi {
                if distance > 0 && p + distance < end { cla_prefetch_read(x + Int(indices[p + distance]) * k + c0) }
                t += values[p] * x[Int(indices[p]) * k + c0]
            }
            yr[c0 * yc] = finishScalar(t, row: r, column: c0, x: x, k: k, epilogue)
        } else if tail > 1 && k >= w {
            // The last w columns as one vector window (overlapping columns already done), so the
            // tail runs in SIMD instead of lane by lane; only its last `tail` lanes are stored.
            let base = k - w
            var t = V()
            for p in lo..<hi {
                if distance > 0 && p + distance < end {
                    let xf = x + Int(indices[p + distance]) * k + base
                    cla_prefetch_read(xf); cla_prefetch_read(xf + (w - 1))   // the window may span two lines
                }
                t += V(repeating: values[p]) * loadVector(x + Int(indices[p]) * k + base, V.self)
            }
            let v = finishVector(t, row: r, column: base, x: x, k: k, epilogue)
            for l in (w - tail)..<w { yr[(base + l) * yc] = v[l] }
        } else if tail > 1 {
            var t = V()
            for p in lo..<hi {
                if distance > 0 && p + distance < end { cla_prefetch_read(x + Int(indices[p + distance]) * k + c0) }
                let s = values[p]
                let xr = x + Int(indices[p]) * k + c0
                for l in 0..<tail { t[l] += s * xr[l] }
            }
            for l in 0..<tail { yr[(c0 + l) * yc] = finishScalar(t[l], row: r, column: c0 + l, x: x, k: k, epilogue) }
        }
    }
}

/// Nonzeros a `Float` gather sums in float32 before the row's sum moves into double.
let longRowSegment = 128

/// Row `r` of a `Float` gather for a row of more than ``longRowSegment`` nonzeros: each column
/// summed in float32 over segments of `longRowSegment` nonzeros (in their order, each product
/// rounded before it is added), the segments' sums added in double, the total rounded to float
/// once, then the epilogue. Summed straight in float32, a hub's row drifts: every add of a term
/// to the growing sum rounds, and when the terms are alike (the top eigenvector of a normalised
/// adjacency gives every term of a row the same value) the roundings do not cancel: a row of
/// 100,000 alike terms came out 6e-4 to 1.2e-3 off (`aHubRowOfAlikeTermsStaysAccurate`), and the
/// 200k test graph's largest row (73,861 terms) alone held its top eigenpair's float32 residual
/// at 8.7e-5, 15x `ChebyshevEigensolver`'s tolerance. Segments bound the float32 part of the
/// error to what 128 terms can gather (`128 u` of the sum of the terms' magnitudes). The C
/// kernel (`csk_gather_f32`) does the same arithmetic in the same order, so the two give the
/// same bits.
@inline(never)
func gatherLongRow(_ a: CompressedView<Float>, row r: Int, end: Int, x: UnsafePointer<Float>, k: Int,
                   y: DenseView<Float>, epilogue: GatherEpilogue<Float>?) {
    let lo = Int(a.offsets[r]), hi = Int(a.offsets[r + 1])
    let yr = y.base + r * y.rowStride, yc = y.columnStride
    let distance = gatherPrefetchDistance
    if k >= 8 {
        // Eight columns at a time; the last group a window over the last eight columns (its lanes
        // already done are not stored).
        var c0 = 0
        while c0 < k {
            let base = Swift.min(c0, k - 8), first = c0 - base
            var total = SIMD8<Double>()
            var s0 = lo
            while s0 < hi {
                let s1 = Swift.min(s0 + longRowSegment, hi)
                var acc = SIMD8<Float>()
                for p in s0..<s1 {
                    if distance > 0 && p + distance < end {
                        let xf = x + Int(a.indices[p + distance]) * k + base
                        cla_prefetch_read(xf); cla_prefetch_read(xf + 7)
                    }
                    acc += SIMD8<Float>(repeating: a.values[p]) * loadVector(x + Int(a.indices[p]) * k + base, SIMD8<Float>.self)
                }
                for l in 0..<8 { total[l] += Double(acc[l]) }
                s0 = s1
            }
            for l in first..<8 {
                yr[(base + l) * yc] = finishScalar(Float(total[l]), row: r, column: base + l, x: x, k: k, epilogue)
            }
            c0 = base + 8
        }
    } else {
        for c in 0..<k {
            var total = 0.0
            var s0 = lo
            while s0 < hi {
                let s1 = Swift.min(s0 + longRowSegment, hi)
                var acc: Float = 0
                for p in s0..<s1 { acc += a.values[p] * x[Int(a.indices[p]) * k + c] }
                total += Double(acc)
                s0 = s1
            }
            yr[c * yc] = finishScalar(Float(total), row: r, column: c, x: x, k: k, epilogue)
        }
    }
}

/// Scatter over all major rows, restricted to minor indices in `minorLo ..< minorHi`:
/// `Y[j, :] += values[p] X[r, :]` for `j = indices[p]`. `y` is row-major with leading dimension `k`
/// (rows `minorLo ..< minorHi` must be initialised by the caller). `x` is addressed by strides;
/// a non-contiguous row is first copied to `scratch` (k elements).
@inline(__always)
func scatterKernel<V: SIMD>(_: V.Type, _ a: CompressedView<V.Scalar>, minorLo: Int, minorHi: Int,
                            x: DenseView<V.Scalar>, k: Int, y: UnsafeMutablePointer<V.Scalar>,
                            scratch: UnsafeMutablePointer<V.Scalar>)
where V.Scalar: BinaryFloatingPoint {
    let w = V.scalarCount
    let offsets = a.offsets, indices = a.indices, values = a.values
    let lo32 = UInt32(truncatingIfNeeded: minorLo)
    let width = UInt32(truncatingIfNeeded: minorHi - minorLo)
    let full = minorLo == 0 && minorHi == a.minorCount
    let contiguous = x.isRowMajor
    let end = Int(offsets[a.majorCount])
    let distance = scatterPrefetchDistance
    let lineScalars = 64 / MemoryLayout<V.Scalar>.stride
    let lines = min(8, (k + lineScalars - 1) / lineScalars)
    for r in 0..<a.majorCount {
        let lo = Int(offsets[r]), hi = Int(offsets[r + 1])
        if lo == hi { continue }
        let xr: UnsafePointer<V.Scalar>
        if contiguous {
            xr = UnsafePointer(x.base + r * x.rowStride)
        } else {
            let src = x.base + r * x.rowStride
            for c in 0..<k { scratch[c] = src[c * x.columnStride] }
            xr = UnsafePointer(scratch)
        }
        for p in lo..<hi {
            if distance > 0 && p + distance < end {
                let jf = indices[p + distance]
                if full || UInt32(bitPattern: jf) &- lo32 < width {
                    let yf = y + Int(jf) * k
                    for line in 0..<lines { cla_prefetch_write(yf + line * lineScalars) }
                }
            }
            let j = indices[p]
            if !full && UInt32(bitPattern: j) &- lo32 >= width { continue }
            let sv = values[p]
            let s = V(repeating: sv)
            let yr = y + Int(j) * k
            var c0 = 0
            while c0 + 2 * w <= k {
                let y0 = loadVector(UnsafePointer(yr + c0), V.self) + s * loadVector(xr + c0, V.self)
                let y1 = loadVector(UnsafePointer(yr + c0 + w), V.self) + s * loadVector(xr + c0 + w, V.self)
                storeVector(y0, yr + c0, stride: 1)
                storeVector(y1, yr + c0 + w, stride: 1)
                c0 += 2 * w
            }
            while c0 + w <= k {
                storeVector(loadVector(UnsafePointer(yr + c0), V.self) + s * loadVector(xr + c0, V.self), yr + c0, stride: 1)
                c0 += w
            }
            while c0 < k { yr[c0] += sv * xr[c0]; c0 += 1 }
        }
    }
}

/// Scalar fallback for a `BLASScalar` other than Float and Double.
func gatherKernelScalar<S: BLASScalar>(_ a: CompressedView<S>, _ range: Range<Int>,
                                       x: UnsafePointer<S>, k: Int, y: DenseView<S>, epilogue: GatherEpilogue<S>? = nil) {
    for r in range {
        let lo = Int(a.offsets[r]), hi = Int(a.offsets[r + 1])
        for c in 0..<k {
            var t: S = 0
            for p in lo..<hi { t += a.values[p] * x[Int(a.indices[p]) * k + c] }
            y.base[r * y.rowStride + c * y.columnStride] = finishScalar(t, row: r, column: c, x: x, k: k, epilogue)
        }
    }
}

func scatterKernelScalar<S: BLASScalar>(_ a: CompressedView<S>, minorLo: Int, minorHi: Int,
                                        x: DenseView<S>, k: Int, y: UnsafeMutablePointer<S>) {
    for r in 0..<a.majorCount {
        for p in Int(a.offsets[r])..<Int(a.offsets[r + 1]) {
            let j = Int(a.indices[p])
            if j < minorLo || j >= minorHi { continue }
            for c in 0..<k { y[j * k + c] += a.values[p] * x.base[r * x.rowStride + c * x.columnStride] }
        }
    }
}

// MARK: - Type dispatch

/// The gather for `Float` or `Double` on the widest SIMD vector of at most `k` lanes (16 / 8 / 4 /
/// 2 `Float`, 8 / 4 / 2 `Double`). A vector wider than the block would leave every column to the
/// kernel's lane-by-lane tail (`t[l] += ...` on a variable lane: a load and store through memory
/// per element), which made 8-wide `Float` blocks about 17x slower per vector than 16-wide ones.
/// Every width adds the same products in the same order, so the result does not depend on it.
@inline(__always)
func gatherWidest<T: BinaryFloatingPoint & SIMDScalar>(_: T.Type, _ a: CompressedView<T>, _ range: Range<Int>,
                                                      x: UnsafePointer<T>, k: Int, y: DenseView<T>,
                                                      epilogue: GatherEpilogue<T>?) {
    let lanes = 64 / MemoryLayout<T>.stride        // 16 Float, 8 Double: one 512-bit vector
    if T.self == Float.self && k >= 8 && nativeGatherEnabled && !range.isEmpty {
        let f = a.rebound(to: Float.self), yf = y.rebound(to: Float.self)
        let xf = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
        let ran: Int32
        if let e = epilogue?.rebound(to: Float.self) {
            var native = csk_epilogue_f32(alpha: e.alpha, beta: e.beta, z: e.z)
            ran = csk_gather_f32(f.offsets, f.indices, f.values, range.lowerBound, range.upperBound, xf, k,
                                 yf.base, yf.rowStride, yf.columnStride, &native, gatherPrefetchDistance)
        } else {
            ran = csk_gather_f32(f.offsets, f.indices, f.values, range.lowerBound, range.upperBound, xf, k,
                                 yf.base, yf.rowStride, yf.columnStride, nil, gatherPrefetchDistance)
        }
        if ran != 0 { return }
    }
    if k >= lanes {
        if T.self == Float.self {
            gatherKernel(SIMD16<Float>.self, a.rebound(to: Float.self), range,
                         x: UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), k: k, y: y.rebound(to: Float.self),
                         epilogue: epilogue?.rebound(to: Float.self))
        } else {
            gatherKernel(SIMD8<Double>.self, a.rebound(to: Double.self), range,
                         x: UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), k: k, y: y.rebound(to: Double.self),
                         epilogue: epilogue?.rebound(to: Double.self))
        }
    } else if k >= 8 {
        gatherKernel(SIMD8<T>.self, a, range, x: x, k: k, y: y, epilogue: epilogue)
    } else if k >= 4 {
        gatherKernel(SIMD4<T>.self, a, range, x: x, k: k, y: y, epilogue: epilogue)
    } else {
        gatherKernel(SIMD2<T>.self, a, range, x: x, k: k, y: y, epilogue: epilogue)
    }
}

@inline(__always)
func runGather<S: BLASScalar>(_ a: CompressedView<S>, _ range: Range<Int>,
                              x: UnsafePointer<S>, k: Int, y: DenseView<S>, epilogue: GatherEpilogue<S>? = nil) {
    if S.self == Float.self {
        gatherWidest(Float.self, a.rebound(to: Float.self), range,
                     x: UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), k: k, y: y.rebound(to: Float.self),
                     epilogue: epilogue?.rebound(to: Float.self))
    } else if S.self == Double.self {
        gatherWidest(Double.self, a.rebound(to: Double.self), range,
                     x: UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), k: k, y: y.rebound(to: Double.self),
                     epilogue: epilogue?.rebound(to: Double.self))
    } else {
        gatherKernelScalar(a, range, x: x, k: k, y: y, epilogue: epilogue)
    }
}

@inline(__always)
func runScatter<S: BLASScalar>(_ a: CompressedView<S>, minorLo: Int, minorHi: Int,
                               x: DenseView<S>, k: Int, y: UnsafeMutablePointer<S>,
                               scratch: UnsafeMutablePointer<S>) {
    if S.self == Float.self {
        scatterKernel(SIMD16<Float>.self, a.rebound(to: Float.self), minorLo: minorLo, minorHi: minorHi,
                      x: x.rebound(to: Float.self), k: k,
                      y: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
                      scratch: UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: Float.self))
    } else if S.self == Double.self {
        scatterKernel(SIMD8<Double>.self, a.rebound(to: Double.self), minorLo: minorLo, minorHi: minorHi,
                      x: x.rebound(to: Double.self), k: k,
                      y: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self),
                      scratch: UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: Double.self))
    } else {
        scatterKernelScalar(a, minorLo: minorLo, minorHi: minorHi, x: x, k: k, y: y)
    }
}

// MARK: - Drivers

/// Threads worth using for `work` multiply-adds: one per ~64K, at most `Parallel.threads`.
@inline(__always)
func sparseThreadCount(work: Int, limit: Int = Parallel.threads) -> Int {
    max(1, min(limit, work / 65_536))
}

/// Rows per block of a layout conversion: the row-major side of a block spans about 64 KiB.
@inline(__always)
func transposeBlockRows(k: Int, stride: Int) -> Int {
    max(16, min(1024, transposeBlockBytes / max(1, k * stride)))
}

nonisolated(unsafe) var transposeBlockBytes = 65_536

/// Copies rows `range` of `src` into `dst` (the same shape; each addressed by its own strides),
/// a column of a cache-sized row block at a time: the layout conversion between a strided view
/// and a row-major buffer, in either direction.
@_specialize(where S == Float)
@_specialize(where S == Double)
func copyRows<S>(_ src: DenseView<S>, _ dst: DenseView<S>, rows range: Range<Int>) {
    let k = src.columns
    let block = transposeBlockRows(k: k, stride: MemoryLayout<S>.stride)
    let srs = src.rowStride, scs = src.columnStride, drs = dst.rowStride, dcs = dst.columnStride
    var i0 = range.lowerBound
    while i0 < range.upperBound {
        let i1 = min(i0 + block, range.upperBound)
        for c in 0..<k {
            var s = UnsafePointer(src.base) + (c &* scs &+ i0 &* srs)
            var d = dst.base + (c &* dcs &+ i0 &* drs)
            for _ in i0..<i1 { d.pointee = s.pointee; s += srs; d += drs }
        }
        i0 = i1
    }
}

/// The row-major buffer `base` (`rows x columns`, leading dimension `columns`) as a view.
@inline(__always)
func rowMajorView<S>(_ base: UnsafeMutablePointer<S>, rows: Int, columns: Int) -> DenseView<S> {
    DenseView(base: base, rows: rows, columns: columns, rowStride: columns, columnStride: 1)
}

/// A read-only row-major buffer as a view (a dangling non-null base when it is empty; nothing is
/// read through it then).
@inline(__always)
func rowMajorView<S>(readOnly base: UnsafePointer<S>?, rows: Int, columns: Int) -> DenseView<S> {
    rowMajorView(UnsafeMutablePointer(mutating: base ?? UnsafePointer(bitPattern: MemoryLayout<S>.alignment)!),
                 rows: rows, columns: columns)
}

/// Checks the shapes of `Y = A X` (`Y = A' X` when `transposed`) for a `rows x columns` `A`
/// (a precondition failure naming `what` and the shapes otherwise); whether `Y` is not empty.
func productHasWork<S: BLASScalar>(_ what: String, rows: Int, columns: Int, _ x: Matrix<S>, _ y: Matrix<S>,
                                   transposed: Bool) -> Bool {
    let (inner, outer) = transposed ? (rows, columns) : (columns, rows)
    precondition(x.rows == inner && y.rows == outer && y.columns == x.columns,
                 "\(what): \(transposed ? "(\(rows) x \(columns))'" : "\(rows) x \(columns)") times \(x.rows) x \(x.columns) into \(y.rows) x \(y.columns)")
    return outer > 0 && x.columns > 0
}

/// Runs `body` with views of the column-major `x` (read only) and `y` (written).
/// - Precondition: `y` is not empty.
@inline(__always)
func withColumnMajorViews<S: BLASScalar>(_ x: Matrix<S>, _ y: inout Matrix<S>, _ body: (DenseView<S>, DenseView<S>) -> Void) {
    x.elements.withUnsafeBufferPointer { xb in
        y.elements.withUnsafeMutableBufferPointer { yb in
            let xv = DenseView(base: UnsafeMutablePointer(mutating: xb.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<S>.alignment)!),
                               rows: x.rows, columns: x.columns, rowStride: 1, columnStride: x.rows)
            body(xv, DenseView(base: yb.baseAddress!, rows: y.rows, columns: y.columns, rowStride: 1, columnStride: y.rows))
        }
    }
}

/// `Y = gather(A, X)`: `Y` has `a.majorCount` rows, `X` has `a.minorCount` rows, both `k` columns.
/// `x` may be in any layout (it is copied to row-major when its rows are not contiguous);
/// `y` is written in its own layout. With an `epilogue` (square `A` only) each row is finished as
/// it says before it is stored.
@_specialize(where S == Float)
@_specialize(where S == Double)
func compressedGather<S: BLASScalar>(_ a: CompressedView<S>, nonzeros: Int, x: DenseView<S>, y: DenseView<S>,
                                     threads limit: Int = Parallel.threads, epilogue: GatherEpilogue<S>? = nil) {
    let k = x.columns
    precondition(x.rows == a.minorCount && y.rows == a.majorCount && y.columns == k)
    precondition(epilogue == nil || a.majorCount == a.minorCount, "a fused gather needs a square matrix")
    if a.majorCount == 0 || k == 0 { return }
    let threads = sparseThreadCount(work: (nonzeros + a.majorCount) * k, limit: limit)
    let prefix = UnsafeBufferPointer(start: a.offsets, count: a.majorCount + 1)
    if x.isRowMajor && (x.rowStride == k || k == 1) {
        Parallel.forEachWeightedChunk(prefix: prefix, chunks: threads) { _, range in
            runGather(a, range, x: UnsafePointer(x.base), k: k, y: y, epilogue: epilogue)
        }
        return
    }
    let n = a.minorCount
    let buffer = SparseWorkspace.acquire(S.self, count: n * k)
    defer { SparseWorkspace.release(buffer) }
    let xrBox = UnsafeSendableBox(buffer.pointer)
    Parallel.forEachChunk(count: n, threads: sparseThreadCount(work: n * k, limit: limit), minimumChunk: 256) { range in
        copyRows(x, rowMajorView(xrBox.value, rows: x.rows, columns: x.columns), rows: range)
    }
    Parallel.forEachWeightedChunk(prefix: prefix, chunks: threads) { _, range in
        runGather(a, range, x: UnsafePointer(xrBox.value), k: k, y: y, epilogue: epilogue)
    }
}

/// Boundaries `0 = b[0] <= ... <= b[chunks] = minorCount` splitting the minor indices into ranges
/// holding near-equal numbers of nonzeros, estimated from an evenly strided sample of `indices`.
func minorPartition(indices: UnsafePointer<Int32>, nonzeros: Int, minorCount: Int, chunks: Int) -> [Int] {
    if chunks <= 1 || nonzeros == 0 { return [0, minorCount] }
    let sampleCount = min(nonzeros, 1 << 16)
    var sample = [Int32](unsafeUninitializedCapacity: sampleCount) { buf, initialized in
        for s in 0..<sampleCount { buf[s] = indices[Int((Int64(s) * Int64(nonzeros)) / Int64(sampleCount))] }
        initialized = sampleCount
    }
    sample.sort()
    var bounds = [0]
    for c in 1..<chunks {
        let b = Int(sample[c * sampleCount / chunks])
        bounds.append(max(bounds.last!, min(b, minorCount)))
    }
    bounds.append(minorCount)
    return bounds
}

/// `Y = scatter(A, X)`: `Y` has `a.minorCount` rows, `X` has `a.majorCount` rows, both `k` columns.
/// Threads own disjoint ranges of output rows (balanced by a sample of the indices), so they
/// need no private accumulators and no reduction; each reads all of `A`'s index arrays.
@_specialize(where S == Float)
@_specialize(where S == Double)
func compressedScatter<S: BLASScalar>(_ a: CompressedView<S>, nonzeros: Int, x: DenseView<S>, y: DenseView<S>,
                                      threads limit: Int = Parallel.threads) {
    let k = x.columns
    precondition(x.rows == a.majorCount && y.rows == a.minorCount && y.columns == k)
    let m = a.minorCount
    if m == 0 || k == 0 { return }
    // Every thread streams all of A's index arrays, so for narrow blocks (ARPACK's single
    // vectors) the index traffic dominates and a second thread only adds to it, plus the
    // partition's sample sort and the dispatch on every call: scatter those on one thread.
    let threads = k < 16 ? 1 : sparseThreadCount(work: (nonzeros + m) * k, limit: limit)
    let bounds = minorPartition(indices: a.indices, nonzeros: nonzeros, minorCount: m, chunks: threads)
    let chunks = bounds.count - 1
    // Accumulate straight into y when it is row-major, else into a row-major buffer.
    let direct = y.isRowMajor && (y.rowStride == k || k == 1)
    let buffer = direct ? nil : SparseWorkspace.acquire(S.self, count: m * k)
    defer { if let buffer { SparseWorkspace.release(buffer) } }
    let acc = buffer?.pointer ?? y.base
    let scratch = UnsafeMutablePointer<S>.allocate(capacity: max(1, chunks * k))
    defer { scratch.deallocate() }
    let box = UnsafeSendableBox((acc, scratch))
    let body: @Sendable (Int) -> Void = { c in
        let (acc, scratch) = box.value
        let lo = bounds[c], hi = bounds[c + 1]
        if lo == hi { return }
        (acc + lo * k).initialize(repeating: 0, count: (hi - lo) * k)
        runScatter(a, minorLo: lo, minorHi: hi, x: x, k: k, y: acc, scratch: scratch + c * k)
        if !direct { copyRows(rowMajorView(acc, rows: y.rows, columns: y.columns), y, rows: lo..<hi) }
    }
    if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
}
