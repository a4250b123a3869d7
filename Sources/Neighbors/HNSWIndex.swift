import CLinearAlgebra
import CNeighbors
import Dispatch
import Foundation
import LinearAlgebra

/// A binary min-heap of `(key, slot)` pairs in growable flat buffers.
final class PairHeap {
    private(set) var keys: UnsafeMutablePointer<Float>
    private(set) var slots: UnsafeMutablePointer<Int32>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        keys = .allocate(capacity: self.capacity)
        slots = .allocate(capacity: self.capacity)
    }

    deinit { keys.deallocate(); slots.deallocate() }

    @inline(__always) func clear() { count = 0 }
    @inline(__always) var topKey: Float { keys[0] }
    @inline(__always) var topSlot: Int32 { slots[0] }

    @inline(__always) func push(_ key: Float, _ slot: Int32) {
        if count == capacity { grow() }
        var c = count
        count += 1
        while c > 0 {
            let p = (c - 1) >> 1
            if keys[p] <= key { break }
            keys[c] = keys[p]; slots[c] = slots[p]
            c = p
        }
        keys[c] = key; slots[c] = slot
    }

    @inline(__always) func pop() {
        count -= 1
        guard count > 0 else { return }
        let key = keys[count], slot = slots[count]
        var p = 0
        while true {
            let l = 2 * p + 1
            if l >= count { break }
            let r = l + 1
            let m = (r < count && keys[r] < keys[l]) ? r : l
            if keys[m] >= key { break }
            keys[p] = keys[m]; slots[p] = slots[m]
            p = m
        }
        keys[p] = key; slots[p] = slot
    }

    private func grow() {
        let newCapacity = capacity * 2
        let k = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        let s = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        k.update(from: keys, count: count); s.update(from: slots, count: count)
        keys.deallocate(); slots.deallocate()
        keys = k; slots = s; capacity = newCapacity
    }
}

/// Per-thread search state: a generation-tagged visited array (no clearing between searches),
/// the candidate and result heaps, a buffer for a neighbour list copied under its lock, and the
/// `(distance, slot)` lists of the neighbour selection (no allocation per insertion).
final class SearchScratch: @unchecked Sendable {
    private(set) var visited: UnsafeMutablePointer<UInt16>
    private var capacity: Int
    private(set) var tag: UInt16 = 0
    let candidates = PairHeap(capacity: 256)
    let results = PairHeap(capacity: 256)
    let listCopy: UnsafeMutablePointer<Int32>
    let batch: UnsafeMutablePointer<Int32>
    let batchDistances: UnsafeMutablePointer<Float>
    /// The selection's candidates (the beam's results, then a full list being re-pruned).
    private(set) var poolKeys: UnsafeMutablePointer<Float>
    private(set) var poolSlots: UnsafeMutablePointer<Int32>
    private var poolCapacity: Int
    let pruneKeys: UnsafeMutablePointer<Float>
    let pruneSlots: UnsafeMutablePointer<Int32>

    init(slots: Int, maxList: Int) {
        capacity = max(slots, 16)
        visited = largeAllocation(byteCount: capacity * 2).bindMemory(to: UInt16.self, capacity: capacity)
        visited.initialize(repeating: 0, count: capacity)
        listCopy = .allocate(capacity: maxList + 1)
        batch = .allocate(capacity: maxList + 1)
        batchDistances = .allocate(capacity: maxList + 1)
        poolCapacity = 256
        poolKeys = .allocate(capacity: poolCapacity)
        poolSlots = .allocate(capacity: poolCapacity)
        pruneKeys = .allocate(capacity: maxList + 2)
        pruneSlots = .allocate(capacity: maxList + 2)
    }

    deinit {
        visited.deallocate(); listCopy.deallocate(); batch.deallocate(); batchDistances.deallocate()
        poolKeys.deallocate(); poolSlots.deallocate(); pruneKeys.deallocate(); pruneSlots.deallocate()
    }

    /// Starts a new search over `slots` slots.
    func begin(slots: Int) {
        if slots > capacity {
            visited.deallocate()
            capacity = max(slots, capacity * 2)
            visited = largeAllocation(byteCount: capacity * 2).bindMemory(to: UInt16.self, capacity: capacity)
            visited.initialize(repeating: 0, count: capacity)
            tag = 0
        }
        if tag == UInt16.max {
            visited.update(repeating: 0, count: capacity)
            tag = 0
        }
        tag += 1
    }

    /// Makes room for `n` selection candidates.
    func reservePool(_ n: Int) {
        guard n > poolCapacity else { return }
        poolKeys.deallocate(); poolSlots.deallocate()
        poolCapacity = max(n, 2 * poolCapacity)
        poolKeys = .allocate(capacity: poolCapacity)
        poolSlots = .allocate(capacity: poolCapacity)
    }
}

/// Sorts `n` `(key, slot)` pairs by key, then slot (insertion sort: the lists are short or, when
/// they come out of a heap, already sorted but for ties).
@inline(__always) func sortPairs(_ keys: UnsafeMutablePointer<Float>, _ slots: UnsafeMutablePointer<Int32>, _ n: Int) {
    var i = 1
    while i < n {
        let key = keys[i], slot = slots[i]
        var j = i
        while j > 0 && (keys[j - 1] > key || (keys[j - 1] == key && slots[j - 1] > slot)) {
            keys[j] = keys[j - 1]; slots[j] = slots[j - 1]
            j -= 1
        }
        keys[j] = key; slots[j] = slot
        i += 1
    }
}

/// Hierarchical navigable small-world graph (Malkov and Yashunin 2018).
///
/// Each vector gets a level drawn from `floor(-ln(u) / ln(M))` (u from a generator seeded by the
/// index seed and the slot, so levels do not depend on batching or threads). Insertion descends
/// greedily from the entry point, then on each of its levels runs a beam search of width
/// `efConstruction` and links to at most `M` neighbours chosen by the paper's heuristic
/// (Algorithm 4: a candidate is kept only if it is closer to the new vector than to every
/// neighbour already kept), adding the reverse links and re-pruning a full list (at most `2M` at
/// level 0, `M` above) with the same heuristic. The build runs on several threads with striped
/// locks on the lists and a global lock while the top level grows; on one thread it is
/// deterministic. Remove marks a tombstone: removed vectors still route searches but are never
/// returned. Update is remove + insert. A search filter works the same way (routed through,
/// never returned), and the beam then keeps expanding until it holds `ef` allowed vectors.
public final class HNSWIndex: NeighborIndex {
    public let metric: Metric
    public let dimension: Int
    /// Links per vector above level 0 (`2M` at level 0).
    public let m: Int
    /// Beam width during insertion.
    public let efConstruction: Int
    /// Seed of the level draws.
    public let seed: UInt64
    public var kind: NeighborIndexKind { .hnsw }
    public private(set) var buildSeconds: Double = 0
    let maxM0: Int
    let levelScale: Double
    let rows: VectorRows
    let table: IDTable
    let levels: GrowableBuffer<Int32>
    let links0: GrowableBuffer<Int32>
    let upperOffsets: GrowableBuffer<Int64>
    let upperLinks: GrowableBuffer<Int32>
    private(set) var entryPoint: Int32 = -1
    private(set) var maxLevel: Int32 = -1
    private let globalLock = NSLock()
    private var locks = LockStripes(count: 1)
    private var pool = [SearchScratch]()
    private let poolLock = NSLock()

    /// An empty graph.
    /// - Throws: when `dimension < 1`, `m < 2` or `efConstruction < 1`.
    public init(dimension: Int, metric: Metric = .cosine, m: Int = 16, efConstruction: Int = 200, seed: UInt64 = 0) throws {
        guard dimension >= 1 else { throw NeighborIndexError.invalidInput("dimension must be at least 1 (got \(dimension))") }
        guard m >= 2, m <= 1024 else { throw NeighborIndexError.invalidInput("M must be in 2...1024 (got \(m))") }
        guard efConstruction >= 1 else { throw NeighborIndexError.invalidInput("efConstruction must be at least 1 (got \(efConstruction))") }
        self.dimension = dimension
        self.metric = metric
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
        maxM0 = 2 * m
        levelScale = 1 / Foundation.log(Double(m))
        rows = VectorRows(dimension: dimension)
        table = IDTable()
        levels = GrowableBuffer()
        links0 = GrowableBuffer()
        upperOffsets = GrowableBuffer()
        upperLinks = GrowableBuffer()
    }

    init(file: IndexFile) throws {
        let h = file.header
        let path = file.path
        guard let m = h.m, m >= 2, m <= 1024, let efc = h.efConstruction, let ep = h.entryPoint, let ml = h.maxLevel else {
            throw NeighborIndexError.file(path, "corrupt header: HNSW parameters missing or out of range")
        }
        dimension = h.dimension
        metric = h.metric
        self.m = m
        efConstruction = efc
        seed = h.seed ?? 0
        buildSeconds = h.buildSeconds
        maxM0 = 2 * m
        levelScale = 1 / Foundation.log(Double(m))
        table = try file.idTable(slots: h.slots)
        rows = try VectorRows(file: file, slots: h.slots)
        levels = try file.buffer("levels", count: h.slots)
        links0 = try file.buffer("links0", count: h.slots * (1 + 2 * m))
        upperOffsets = try file.buffer("upperOffsets", count: h.slots)
        upperLinks = try file.buffer("upperLinks")
        guard ep >= -1, ep < h.slots, (ep == -1) == (h.slots == 0), ml >= -1, ml < 64 else {
            throw NeighborIndexError.file(path, "corrupt header: entry point \(ep), top level \(ml) for \(h.slots) slots")
        }
        for s in 0..<h.slots {
            let level = Int(levels[s]), offset = upperOffsets[s]
            guard level >= 0, level <= ml,
                  level == 0 ? offset == -1 : (offset >= 0 && Int(offset) + level * (1 + m) <= upperLinks.count) else {
                throw NeighborIndexError.file(path, "corrupt graph: slot \(s) has level \(level) and link offset \(offset)")
            }
        }
        entryPoint = Int32(ep)
        maxLevel = Int32(ml)
    }

    public var count: Int { table.liveCount }
    public var ids: [String] { table.liveSlots.map(table.id) }
    public var memoryBytes: Int {
        rows.heapBytes + table.heapBytes + levels.heapBytes + links0.heapBytes + upperOffsets.heapBytes + upperLinks.heapBytes
    }

    // MARK: Graph access

    @inline(__always) func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        metric == .l2 ? cnn_l2(a, b, dimension) : -cnn_dot(a, b, dimension)
    }

    /// The list of `slot` at `level`: `[count, neighbours...]`.
    @inline(__always) func list(_ slot: Int32, _ level: Int) -> UnsafeMutablePointer<Int32> {
        level == 0 ? links0.pointer + Int(slot) * (1 + maxM0)
                   : upperLinks.pointer + Int(upperOffsets[Int(slot)]) + (level - 1) * (1 + m)
    }

    /// The neighbours of `slot` at `level` (copied under the slot's lock while building in
    /// parallel), with out-of-range entries of a corrupt file dropped.
    @inline(__always) func neighbours(_ slot: Int32, _ level: Int, _ s: SearchScratch, locking: Bool, slots: Int) -> (UnsafePointer<Int32>, Int) {
        let cap = level == 0 ? maxM0 : m
        var p = UnsafePointer(list(slot, level))
        if locking {
            locks.lock(slot)
            s.listCopy.update(from: p, count: 1 + min(Int(p[0]), cap))
            locks.unlock(slot)
            p = UnsafePointer(s.listCopy)
        }
        let n = min(max(Int(p[0]), 0), cap)
        return (p + 1, n)
    }

    @inline(__always) func validNeighbour(_ e: Int32, _ level: Int, slots: Int) -> Bool {
        e >= 0 && Int(e) < slots && (level == 0 || Int(levels[Int(e)]) >= level)
    }

    /// Greedy descent from `start` through the levels above `target`.
    func descend(_ q: UnsafePointer<Float>, from start: Int32, top: Int, target: Int, _ s: SearchScratch, locking: Bool, slots: Int) -> Int32 {
        var cur = start
        var curDist = distance(q, rows.row(cur))
        var level = top
        while level > target {
            var changed = true
            while changed {
                changed = false
                let (list, n) = neighbours(cur, level, s, locking: locking, slots: slots)
                for i in 0..<n {
                    let e = list[i]
                    guard validNeighbour(e, level, slots: slots) else { continue }
                    let d = distance(q, rows.row(e))
                    if d < curDist { curDist = d; cur = e; changed = true }
                }
            }
            level -= 1
        }
        return cur
    }

    /// Beam search of width `ef` on one level; leaves the best `ef` allowed vectors in
    /// `s.results` (keys are negated distances, so the root is the worst).
    func searchLayer(_ q: UnsafePointer<Float>, entry: Int32, ef: Int, level: Int, _ s: SearchScratch,
                     filter: SlotFilter, restricts: Bool, locking: Bool, slots: Int) {
        s.begin(slots: slots)
        let candidates = s.candidates, results = s.results
        candidates.clear(); results.clear()
        let visited = s.visited, tag = s.tag
        // Hot-loop state in locals (no class property access, hence no exclusivity checks).
        let vectors = UnsafePointer(rows.values.pointer), d = dimension, l2 = metric == .l2
        let batch = s.batch, batchDistances = s.batchDistances
        let levelOf = UnsafePointer(levels.pointer)
        let lineBytes = d * MemoryLayout<Float>.stride
        let nextLists: UnsafePointer<Int32>? = level == 0 ? UnsafePointer(links0.pointer) : nil
        let listStride = 1 + maxM0
        @inline(__always) func dist(_ e: Int32) -> Float {
            let v = vectors + Int(e) &* d
            return l2 ? cnn_l2(q, v, d) : -cnn_dot(q, v, d)
        }
        let entryDistance = dist(entry)
        var bound = Float.infinity
        if filter.allows(entry) { results.push(-entryDistance, entry); bound = entryDistance }
        candidates.push(entryDistance, entry)
        visited[Int(entry)] = tag
        while candidates.count > 0 {
            let cd = candidates.topKey
            if cd > bound && (results.count >= ef || !restricts) { break }
            let c = candidates.topSlot
            candidates.pop()
            let (list, n) = neighbours(c, level, s, locking: locking, slots: slots)
            // Gather the unvisited neighbours, then compute their distances in one tight loop
            // (independent loads, so the cache misses overlap), then update the heaps.
            var fresh = 0
            for i in 0..<n {
                let e = list[i]
                guard e >= 0, Int(e) < slots, level == 0 || Int(levelOf[Int(e)]) >= level, visited[Int(e)] != tag else { continue }
                visited[Int(e)] = tag
                batch[fresh] = e
                fresh += 1
                // Start loading the vector now: its distance is computed after the gather.
                let v = UnsafeRawPointer(vectors + Int(e) &* d)
                var line = 0
                while line < lineBytes { cla_prefetch_read(v + line); line &+= 64 }
            }
            // The distances in one call of the C kernel (AVX2/FMA where the CPU has it).
            if l2 {
                cnn_batch_l2(q, vectors, d, batch, fresh, batchDistances)
            } else {
                cnn_batch_dot(q, vectors, d, batch, fresh, batchDistances)
                for i in 0..<fresh { batchDistances[i] = -batchDistances[i] }
            }
            for i in 0..<fresh {
                let e = batch[i], de = batchDistances[i]
                if results.count < ef || de < bound {
                    candidates.push(de, e)
                    if filter.allows(e) {
                        results.push(-de, e)
                        if results.count > ef { results.pop() }
                    }
                    if results.count > 0 { bound = -results.topKey }
                }
            }
            // And the list of the next candidate to expand.
            if let l0 = nextLists, candidates.count > 0 { cla_prefetch_read(l0 + Int(candidates.topSlot) &* listStride) }
        }
    }

    /// Algorithm 4's heuristic, in place: walks the `n` candidates (sorted by distance to the base
    /// vector) and keeps a candidate only when it is closer to the base vector than to every one
    /// kept before it, until `limit` are kept; the kept ones end up first. Returns their number.
    func selectNeighbours(_ keys: UnsafeMutablePointer<Float>, _ slots: UnsafeMutablePointer<Int32>, count n: Int, limit: Int) -> Int {
        let vectors = UnsafePointer(rows.values.pointer), d = dimension, l2 = metric == .l2
        var kept = 0, i = 0
        while i < n && kept < limit {
            let e = slots[i], de = keys[i]
            let pe = vectors + Int(e) * d
            var good = true
            var j = 0
            while j < kept {
                let pr = vectors + Int(slots[j]) * d
                if (l2 ? cnn_l2(pe, pr, d) : -cnn_dot(pe, pr, d)) < de { good = false; break }
                j += 1
            }
            if good { keys[kept] = de; slots[kept] = e; kept += 1 }
            i += 1
        }
        return kept
    }

    /// Links `slot` at `level` to the best of `s.results` (which it empties); returns the closest
    /// kept neighbour. A neighbour whose list is full re-prunes it with the same heuristic.
    func connect(_ slot: Int32, level: Int, _ s: SearchScratch, locking: Bool, fallback: Int32, slots: Int) -> Int32 {
        let results = s.results
        s.reservePool(results.count)
        let keys = s.poolKeys, pool = s.poolSlots
        // The heap's root is the farthest: filling from the back leaves them by distance.
        var n = results.count, w = n
        while results.count > 0 {
            w -= 1
            keys[w] = -results.topKey; pool[w] = results.topSlot
            results.pop()
        }
        w = 0
        for i in 0..<n where pool[i] != slot { keys[w] = keys[i]; pool[w] = pool[i]; w += 1 }
        n = w
        sortPairs(keys, pool, n)
        let selected = selectNeighbours(keys, pool, count: n, limit: m)
        if locking { locks.lock(slot) }
        let own = list(slot, level)
        own[0] = Int32(selected)
        (own + 1).update(from: pool, count: selected)
        if locking { locks.unlock(slot) }
        let cap = level == 0 ? maxM0 : m
        let vectors = UnsafePointer(rows.values.pointer), d = dimension, l2 = metric == .l2
        let pk = s.pruneKeys, ps = s.pruneSlots
        for j in 0..<selected {
            let nb = pool[j]
            if locking { locks.lock(nb) }
            let ln = list(nb, level)
            let c = min(max(Int(ln[0]), 0), cap)
            if c < cap {
                ln[1 + c] = slot
                ln[0] = Int32(c + 1)
            } else {
                // Re-prune: the new vector and the current neighbours, by distance to `nb`.
                let pn = vectors + Int(nb) * d
                pk[0] = keys[j]; ps[0] = slot
                var t = 1
                for i in 0..<c {
                    let e = ln[1 + i]
                    guard e >= 0, Int(e) < slots else { continue }
                    let pe = vectors + Int(e) * d
                    pk[t] = l2 ? cnn_l2(pn, pe, d) : -cnn_dot(pn, pe, d); ps[t] = e
                    t += 1
                }
                sortPairs(pk, ps, t)
                let kept = selectNeighbours(pk, ps, count: t, limit: cap)
                ln[0] = Int32(kept)
                (ln + 1).update(from: ps, count: kept)
            }
            if locking { locks.unlock(nb) }
        }
        return selected > 0 ? pool[0] : fallback
    }

    /// Inserts `slot` (its vector, level and empty lists already stored).
    func insert(_ slot: Int32, _ s: SearchScratch, locking: Bool, slots: Int, tombstones: SlotFilter, restricts: Bool) {
        let level = Int(levels[Int(slot)])
        let q = UnsafePointer(rows.row(slot))
        globalLock.lock()
        let top = Int(maxLevel)
        let ep = entryPoint
        let holdGlobal = level > top
        if !holdGlobal { globalLock.unlock() }
        if ep < 0 {
            entryPoint = slot
            maxLevel = Int32(level)
            globalLock.unlock()
            return
        }
        var cur = descend(q, from: ep, top: top, target: level, s, locking: locking, slots: slots)
        var l = min(level, top)
        while l >= 0 {
            searchLayer(q, entry: cur, ef: efConstruction, level: l, s, filter: tombstones, restricts: restricts, locking: locking, slots: slots)
            cur = connect(slot, level: l, s, locking: locking, fallback: cur, slots: slots)
            l -= 1
        }
        if holdGlobal {
            entryPoint = slot
            maxLevel = Int32(level)
            globalLock.unlock()
        }
    }

    func drawLevel(_ slot: Int) -> Int32 {
        var rng = Xoshiro256.stream(seed: seed, index: UInt64(slot))
        let u = 1 - rng.nextUniform()   // (0, 1]
        return Int32(min(Int(-Foundation.log(u) * levelScale), 32))
    }

    func scratch() -> SearchScratch {
        poolLock.lock()
        defer { poolLock.unlock() }
        return pool.popLast() ?? SearchScratch(slots: table.slotCount, maxList: maxM0)
    }

    func recycle(_ s: SearchScratch) {
        poolLock.lock()
        pool.append(s)
        poolLock.unlock()
    }

    // MARK: NeighborIndex

    public func add(ids: [String], vectors: Matrix<Float>, threads: Int? = nil) throws {
        try checkVectors(ids: ids, vectors: vectors, dimension: dimension)
        try checkNewIDs(ids, table: table)
        if let t = threads, t < 1 { throw NeighborIndexError.invalidInput("threads must be at least 1 (got \(t))") }
        try insertRows(ids: ids, data: rowMajor(vectors, metric: metric), threads: threads ?? Parallel.threads)
    }

    private func insertRows(ids: [String], data: [Float], threads: Int) throws {
        guard !ids.isEmpty else { return }
        let start = Date()
        let first = table.slotCount, n = ids.count, end = first + n
        rows.values.reserve(end * dimension)
        rows.normSquares.reserve(end)
        levels.reserve(end)
        links0.reserve(end * (1 + maxM0))
        upperOffsets.reserve(end)
        data.withUnsafeBufferPointer { p in
            for (i, id) in ids.enumerated() {
                let slot = table.append(id)
                rows.append(p.baseAddress! + i * dimension)
                let level = drawLevel(Int(slot))
                levels.append(level)
                links0.append(repeating: 0, count: 1 + maxM0)
                if level > 0 {
                    upperOffsets.append(Int64(upperLinks.count))
                    upperLinks.append(repeating: 0, count: Int(level) * (1 + m))
                } else {
                    upperOffsets.append(-1)
                }
            }
        }
        let t = max(1, min(threads, n / 64))
        let restricts = table.liveCount < table.slotCount
        withSlotFilter(nil, table: table) { tombstones in
            if t == 1 {
                let s = scratch()
                for slot in first..<end { insert(Int32(slot), s, locking: false, slots: end, tombstones: tombstones, restricts: restricts) }
                recycle(s)
            } else {
                locks = LockStripes(count: 1 << 16)
                var next = first
                if entryPoint < 0 {
                    let s = scratch()
                    insert(Int32(first), s, locking: false, slots: end, tombstones: tombstones, restricts: restricts)
                    recycle(s)
                    next += 1
                }
                let from = next
                let box = UnsafeSendableBox((self, tombstones))
                DispatchQueue.concurrentPerform(iterations: t) { c in
                    let (index, tombstones) = box.value
                    let s = index.scratch()
                    var slot = from + c
                    while slot < end {
                        index.insert(Int32(slot), s, locking: true, slots: end, tombstones: tombstones, restricts: restricts)
                        slot += t
                    }
                    index.recycle(s)
                }
                locks = LockStripes(count: 1)
            }
        }
        buildSeconds += Date().timeIntervalSince(start)
    }

    public func update(ids: [String], vectors: Matrix<Float>, threads: Int? = nil) throws {
        let (slots, data) = try checkedUpdate(ids: ids, vectors: vectors, dimension: dimension, metric: metric, table: table)
        for s in slots { table.remove(s) }
        try insertRows(ids: ids, data: data, threads: threads ?? Parallel.threads)
    }

    public func remove(ids: [String]) throws {
        try table.remove(ids: ids)
    }

    public func vector(for id: String) -> [Float]? { table.slot(of: id).map(rows.copy) }

    public func search(_ queries: Matrix<Float>, parameters p: SearchParameters) throws -> [[Neighbor]] {
        let q = try checkedQueries(queries, p, dimension: dimension, count: count, metric: metric)
        let nq = queries.rows, d = dimension
        let ef = max(p.ef ?? 64, p.k)
        let workers = max(1, min(p.threads ?? Parallel.threads, nq))
        let heaps = HeapSet(queries: nq, k: p.k)
        let slots = table.slotCount
        let l2 = metric == .l2
        withSlotFilter(p.filter, table: table) { filter in
            let restricts = filter.restricts || table.liveCount < slots
            q.withUnsafeBufferPointer { qp in
                let box = UnsafeSendableBox((self, qp.baseAddress!, heaps, filter))
                // Workers take 16 queries at a time from a shared counter, so a thread that is slowed
                // (hard queries, another process on its core) does not hold the batch back as a
                // fixed split would.
                Parallel.forEachDynamicChunk(count: nq, chunk: 16, threads: workers) { _, chunks in
                    let (index, qbase, heaps, filter) = box.value
                    let s = index.scratch()
                    for range in chunks {
                      for qi in range {
                        let query = qbase + qi * d
                        let start = index.descend(query, from: index.entryPoint, top: Int(index.maxLevel), target: 0, s, locking: false, slots: slots)
                        index.searchLayer(query, entry: start, ef: ef, level: 0, s, filter: filter, restricts: restricts, locking: false, slots: slots)
                        let qn = l2 ? dot(query, query, d) : 0
                        let results = s.results
                        for i in 0..<results.count {
                            let dist = -results.keys[i]
                            heaps.push(qi, l2 ? qn - dist : -dist, results.slots[i])
                        }
                      }
                    }
                    index.recycle(s)
                }
            }
        }
        return neighbors(from: heaps, metric: metric, table: table, queries: q, dimension: d, threads: workers)
    }

    public func save(to url: URL) throws {
        var header = IndexHeader(kind: .hnsw, metric: metric, dimension: dimension, slots: table.slotCount, buildSeconds: buildSeconds)
        header.m = m
        header.efConstruction = efConstruction
        header.entryPoint = Int(entryPoint)
        header.maxLevel = Int(maxLevel)
        header.seed = seed
        let sections = IndexFile.idSections(table) + rows.sections + [
            IndexFile.Section("levels", levels), IndexFile.Section("links0", links0),
            IndexFile.Section("upperOffsets", upperOffsets), IndexFile.Section("upperLinks", upperLinks),
        ]
        try IndexFile.write(to: url, header: header, sections: sections)
    }
}
