import Dispatch
import LinearAlgebra

/// One bounded min-heap of `(score, slot)` per query, in flat buffers: the root is the worst kept
/// candidate, so a new score enters only when it beats the root (ties: the lower slot wins).
final class HeapSet: @unchecked Sendable {
    let queries: Int
    let k: Int
    let scores: UnsafeMutablePointer<Float>
    let slots: UnsafeMutablePointer<Int32>
    let counts: UnsafeMutablePointer<Int32>

    init(queries: Int, k: Int) {
        self.queries = queries
        self.k = k
        scores = .allocate(capacity: max(1, queries * k))
        slots = .allocate(capacity: max(1, queries * k))
        counts = .allocate(capacity: max(1, queries))
        counts.initialize(repeating: 0, count: max(1, queries))
    }

    deinit { scores.deallocate(); slots.deallocate(); counts.deallocate() }

    /// The score a candidate must beat to enter query `q`'s list.
    @inline(__always) func threshold(_ q: Int) -> Float {
        Int(counts[q]) < k ? -Float.infinity : scores[q * k]
    }

    @inline(__always) static func worse(_ s1: Float, _ i1: Int32, _ s2: Float, _ i2: Int32) -> Bool {
        s1 < s2 || (s1 == s2 && i1 > i2)
    }

    /// Offers a candidate to query `q`'s heap.
    @inline(__always) func push(_ q: Int, _ score: Float, _ slot: Int32) {
        let h = scores + q * k, hs = slots + q * k
        var n = Int(counts[q])
        if n < k {
            var c = n
            h[c] = score; hs[c] = slot
            n += 1
            counts[q] = Int32(n)
            while c > 0 {
                let p = (c - 1) >> 1
                if Self.worse(h[c], hs[c], h[p], hs[p]) {
                    h.swapAt(c, p, hs); c = p
                } else { break }
            }
        } else if Self.worse(h[0], hs[0], score, slot) {
            h[0] = score; hs[0] = slot
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < n && Self.worse(h[l], hs[l], h[m], hs[m]) { m = l }
                if r < n && Self.worse(h[r], hs[r], h[m], hs[m]) { m = r }
                if m == p { break }
                h.swapAt(p, m, hs); p = m
            }
        }
    }

    /// Query `q`'s kept candidates, best first.
    func sorted(_ q: Int) -> [(Float, Int32)] {
        let n = Int(counts[q])
        var items = (0..<n).map { (scores[q * k + $0], slots[q * k + $0]) }
        items.sort { Self.worse($1.0, $1.1, $0.0, $0.1) }
        return items
    }

    /// Offers every candidate of `other`'s query `from` to this set's query `to`.
    func merge(_ other: HeapSet, from: Int, to: Int) {
        for i in 0..<Int(other.counts[from]) {
            push(to, other.scores[from * other.k + i], other.slots[from * other.k + i])
        }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func swapAt(_ a: Int, _ b: Int, _ slots: UnsafeMutablePointer<Int32>) {
        let t = self[a]; self[a] = self[b]; self[b] = t
        let u = slots[a]; slots[a] = slots[b]; slots[b] = u
    }
}

/// Rows of vectors to scan: row-major `rows x dimension` floats, their squared norms (for L2),
/// and the slot of each row (nil: row `i` is slot `firstSlot + i`).
struct ScanBase: @unchecked Sendable {
    let vectors: UnsafePointer<Float>
    let normSquares: UnsafePointer<Float>?
    let rowSlots: UnsafePointer<Int32>?
    let firstSlot: Int32
    let rows: Int
}

/// The fused GEMM + top-k kernel.
///
/// For each tile of `tileRows` base rows (kept in cache), one single-threaded SGEMM scores the
/// tile against a block of up to `queryBlock` queries (`tile' * Q`, each query's scores
/// contiguous); each query's column is then swept 16 lanes at a time against the query's current
/// threshold, and only the few scores that beat it reach the heap (and the filter). The
/// selection is therefore one vectorised compare per score, instead of a second pass over a
/// `queries x rows` score matrix.
enum FusedTopK {
    static let tileRows = 1024
    static let queryBlock = 64

    /// Scans `base` for the queries `queries` (row-major, `queryCount x d`) whose heaps are
    /// `heapIndex[i]` (or `i`) in `heaps`. `tile` has room for `tileRows * queryBlock` floats.
    /// Scores: inner product, or `2 q.x - |x|^2` for L2 (same order as `-|q - x|^2`).
    static func scan(base: ScanBase, dimension d: Int, queries: UnsafePointer<Float>, queryCount: Int,
                     heapIndex: UnsafePointer<Int32>?, heaps: HeapSet, filter: SlotFilter, l2: Bool,
                     tile: UnsafeMutablePointer<Float>) {
        guard base.rows > 0, queryCount > 0 else { return }
        var r0 = 0
        while r0 < base.rows {
            let nb = min(tileRows, base.rows - r0)
            let a = base.vectors + r0 * d
            var q0 = 0
            while q0 < queryCount {
                let nq = min(queryBlock, queryCount - q0)
                let qp = queries + q0 * d
                if nq == 1 {
                    Float.blasGemv(.transpose, Int32(d), Int32(nb), 1, a, Int32(d), qp, 1, 0, tile, 1)
                } else {
                    Float.blasGemm(.transpose, .none, Int32(nb), Int32(nq), Int32(d), 1, a, Int32(d), qp, Int32(d), 0, tile, Int32(nb))
                }
                for j in 0..<nq {
                    let h = heapIndex.map { Int($0[q0 + j]) } ?? (q0 + j)
                    sweep(tile + j * nb, count: nb, base: base, rowOffset: r0, heap: h, heaps: heaps, filter: filter, l2: l2)
                }
                q0 += nq
            }
            r0 += nb
        }
    }

    @inline(__always)
    static func sweep(_ s: UnsafeMutablePointer<Float>, count nb: Int, base: ScanBase, rowOffset r0: Int,
                      heap h: Int, heaps: HeapSet, filter: SlotFilter, l2: Bool) {
        if l2, let norms = base.normSquares {
            let nrm = norms + r0
            for i in 0..<nb { s[i] = 2 * s[i] - nrm[i] }
        }
        var thr = heaps.threshold(h)
        var i = 0
        let raw = UnsafeRawPointer(s)
        while i + 16 <= nb {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            if any(v .> SIMD16<Float>(repeating: thr)) {
                for l in i..<(i + 16) where s[l] > thr {
                    offer(s[l], row: r0 + l, base: base, heap: h, heaps: heaps, filter: filter)
                    thr = heaps.threshold(h)
                }
            }
            i += 16
        }
        while i < nb {
            if s[i] > thr {
                offer(s[i], row: r0 + i, base: base, heap: h, heaps: heaps, filter: filter)
                thr = heaps.threshold(h)
            }
            i += 1
        }
    }

    @inline(__always)
    static func offer(_ score: Float, row: Int, base: ScanBase, heap h: Int, heaps: HeapSet, filter: SlotFilter) {
        let slot = base.rowSlots.map { $0[row] } ?? (base.firstSlot + Int32(row))
        if filter.allows(slot) { heaps.push(h, score, slot) }
    }

    /// Exact top-k of `queries` (row-major) over `base`, on `threads` threads (BLAS single-threaded
    /// inside). Splits the queries across threads when there are enough, else the base rows (each
    /// thread keeps its own heaps, merged at the end: the single-query path).
    static func search(base: ScanBase, dimension d: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       k: Int, filter: SlotFilter, l2: Bool, threads: Int) -> HeapSet {
        let heaps = HeapSet(queries: queryCount, k: k)
        let t = max(1, threads)
        let box = UnsafeSendableBox((base, queries, heaps, filter))
        BLAS.withThreads(1) {
            if t == 1 || queryCount >= 4 * t {
                Parallel.forEachChunk(count: queryCount, threads: t) { range in
                    let (base, queries, heaps, filter) = box.value
                    let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * queryBlock)
                    defer { tile.deallocate() }
                    let local = UnsafeMutablePointer<Int32>.allocate(capacity: range.count)
                    defer { local.deallocate() }
                    for (i, q) in range.enumerated() { local[i] = Int32(q) }
                    scan(base: base, dimension: d, queries: queries + range.lowerBound * d, queryCount: range.count,
                         heapIndex: local, heaps: heaps, filter: filter, l2: l2, tile: tile)
                }
            } else {
                let parts = (0..<t).map { _ in HeapSet(queries: queryCount, k: k) }
                let partsBox = UnsafeSendableBox(parts)
                DispatchQueue.concurrentPerform(iterations: t) { c in
                    let (base, queries, _, filter) = box.value
                    let lo = base.rows * c / t, hi = base.rows * (c + 1) / t
                    let sub = ScanBase(vectors: base.vectors + lo * d, normSquares: base.normSquares.map { $0 + lo },
                                       rowSlots: base.rowSlots.map { $0 + lo }, firstSlot: base.firstSlot + Int32(lo), rows: hi - lo)
                    let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * queryBlock)
                    defer { tile.deallocate() }
                    scan(base: sub, dimension: d, queries: queries, queryCount: queryCount, heapIndex: nil,
                         heaps: partsBox.value[c], filter: filter, l2: l2, tile: tile)
                }
                for part in parts { for q in 0..<queryCount { heaps.merge(part, from: q, to: q) } }
            }
        }
        return heaps
    }
}

/// `Σ term(a[j], b[j])` over `d` floats: 32 lanes a step in two independent accumulators (so the
/// adds do not wait on each other), then 16, then the tail one at a time. The lanes are summed
/// pairwise (16 -> 8 -> 4 -> 2 -> 1), four dependent adds instead of fifteen.
@inline(__always) func laneSum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int,
                               _ term: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>,
                               _ scalarTerm: (Float, Float) -> Float) -> Float {
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
    @inline(__always) func lanes(_ j: Int) -> SIMD16<Float> {
        term(UnsafeRawPointer(a + j).loadUnaligned(as: SIMD16<Float>.self), UnsafeRawPointer(b + j).loadUnaligned(as: SIMD16<Float>.self))
    }
    var j = 0
    while j &+ 32 <= d {
        s0 += lanes(j)
        s1 += lanes(j &+ 16)
        j &+= 32
    }
    if j &+ 16 <= d {
        s0 += lanes(j)
        j &+= 16
    }
    let s16 = s0 + s1
    let s8 = s16.lowHalf + s16.highHalf
    let s4 = s8.lowHalf + s8.highHalf
    let s2 = s4.lowHalf + s4.highHalf
    var s = s2[0] + s2[1]
    while j < d { s += scalarTerm(a[j], b[j]); j &+= 1 }
    return s
}

/// Dot product.
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
    laneSum(a, b, d, { $0 * $1 }, { $0 * $1 })
}

/// Squared Euclidean distance.
@inline(__always) func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
    laneSum(a, b, d, { ($0 - $1) * ($0 - $1) }, { ($0 - $1) * ($0 - $1) })
}
