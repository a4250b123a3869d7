import Foundation
import LinearAlgebra

/// Inverted-file index: a k-means coarse quantiser (seeded k-means++ then Lloyd, on our GEMM;
/// spherical for cosine) splits the vectors into `lists`; a query scans its `probes` nearest
/// lists. Each list keeps its vectors contiguous, so a batch of queries is searched list by list:
/// the queries probing a list are gathered and scored against it with one SGEMM per tile, the
/// top-k fused in as in the exact index. The quantiser is trained by the first `add` (on that
/// batch); later vectors go to their nearest list. Remove and update move vectors out of (and
/// into) lists, so no tombstone is scanned.
public final class IVFIndex: NeighborIndex {
    public let metric: Metric
    public let dimension: Int
    /// Requested number of lists (0: `round(sqrt(n))` of the first batch).
    public let requestedLists: Int
    /// Seed of the k-means sampling and seeding.
    public let seed: UInt64
    public var kind: NeighborIndexKind { .ivf }
    public private(set) var buildSeconds: Double = 0
    /// Number of lists (0 before the first add).
    public private(set) var lists = 0
    let table: IDTable
    var centroids = GrowableBuffer<Float>()
    var centroidNorms = GrowableBuffer<Float>()
    var listSlots = [GrowableBuffer<Int32>]()
    var listVectors = [GrowableBuffer<Float>]()
    var listNorms = [GrowableBuffer<Float>]()
    let slotList: GrowableBuffer<Int32>
    let slotPosition: GrowableBuffer<Int32>

    /// An empty, untrained index.
    /// - Throws: when `dimension < 1` or `lists < 0`.
    public init(dimension: Int, metric: Metric = .cosine, lists: Int = 0, seed: UInt64 = 0) throws {
        guard dimension >= 1 else { throw NeighborIndexError.invalidInput("dimension must be at least 1 (got \(dimension))") }
        guard lists >= 0 else { throw NeighborIndexError.invalidInput("lists must be at least 0 (got \(lists))") }
        self.dimension = dimension
        self.metric = metric
        requestedLists = lists
        self.seed = seed
        table = IDTable()
        slotList = GrowableBuffer()
        slotPosition = GrowableBuffer()
    }

    init(file: IndexFile) throws {
        let h = file.header, path = file.path, d = h.dimension
        guard let nlist = h.lists, nlist >= 0 else { throw NeighborIndexError.file(path, "corrupt header: IVF list count missing") }
        dimension = d
        metric = h.metric
        requestedLists = nlist
        seed = h.seed ?? 0
        buildSeconds = h.buildSeconds
        lists = nlist
        table = try file.idTable(slots: h.slots)
        centroids = try file.buffer("centroids", count: nlist * d)
        centroidNorms = try file.buffer("centroidNorms", count: nlist)
        let offsets: GrowableBuffer<Int64> = try file.buffer("listOffsets", count: nlist + 1)
        slotList = try file.buffer("slotList", count: h.slots)
        slotPosition = try file.buffer("slotPosition", count: h.slots)
        let total = Int(offsets[nlist])
        guard offsets[0] == 0, total == table.liveCount, (0..<nlist).allSatisfy({ offsets[$0] <= offsets[$0 + 1] }) else {
            throw NeighborIndexError.file(path, "corrupt inverted lists: offsets do not cover the \(table.liveCount) live vectors")
        }
        let allSlots: GrowableBuffer<Int32> = try file.buffer("listSlots", count: total)
        _ = try file.buffer("listVectors", count: total * d, as: Float.self)
        _ = try file.buffer("listNorms", count: total, as: Float.self)
        let vectorsAt = try file.offset(of: "listVectors"), normsAt = try file.offset(of: "listNorms"), slotsAt = try file.offset(of: "listSlots")
        for l in 0..<nlist {
            let lo = Int(offsets[l]), n = Int(offsets[l + 1]) - lo
            listSlots.append(GrowableBuffer(viewing: file.bytes, offset: slotsAt + lo * 4, count: n))
            listVectors.append(GrowableBuffer(viewing: file.bytes, offset: vectorsAt + lo * d * 4, count: n * d))
            listNorms.append(GrowableBuffer(viewing: file.bytes, offset: normsAt + lo * 4, count: n))
            for p in 0..<n {
                let s = Int(allSlots[lo + p])
                guard s >= 0, s < h.slots, Int(slotList[s]) == l, Int(slotPosition[s]) == p else {
                    throw NeighborIndexError.file(path, "corrupt inverted lists: entry \(p) of list \(l) is slot \(s)")
                }
            }
        }
    }

    public var count: Int { table.liveCount }
    public var ids: [String] { table.liveSlots.map(table.id) }
    public var memoryBytes: Int {
        table.heapBytes + centroids.heapBytes + centroidNorms.heapBytes + slotList.heapBytes + slotPosition.heapBytes
            + listSlots.reduce(0) { $0 + $1.heapBytes } + listVectors.reduce(0) { $0 + $1.heapBytes } + listNorms.reduce(0) { $0 + $1.heapBytes }
    }

    var kmeansInnerProduct: Bool { metric != .l2 }

    /// The nearest list of each row-major vector.
    func assign(_ x: UnsafePointer<Float>, count n: Int, threads: Int) -> [Int32] {
        KMeans.assign(x, count: n, dimension: dimension, centroids: centroids.pointer, k: lists,
                      innerProduct: kmeansInnerProduct, threads: threads)
    }

    private func train(_ x: UnsafePointer<Float>, count n: Int, threads: Int) {
        let k = requestedLists > 0 ? min(requestedLists, n) : max(1, Int(Double(n).squareRoot().rounded()))
        var o = KMeans.Options()
        o.seed = seed
        o.innerProduct = kmeansInnerProduct
        o.spherical = metric == .cosine
        o.threads = threads
        let c = KMeans.train(points: x, count: n, dimension: dimension, k: k, options: o)
        c.withUnsafeBufferPointer { centroids.append(contentsOf: $0) }
        for j in 0..<k {
            centroidNorms.append(dot(centroids.pointer + j * dimension, centroids.pointer + j * dimension, dimension))
            listSlots.append(GrowableBuffer())
            listVectors.append(GrowableBuffer())
            listNorms.append(GrowableBuffer())
        }
        lists = k
    }

    private func place(_ slot: Int32, _ v: UnsafePointer<Float>, list l: Int) {
        slotList[Int(slot)] = Int32(l)
        slotPosition[Int(slot)] = Int32(listSlots[l].count)
        listSlots[l].append(slot)
        listVectors[l].append(contentsOf: UnsafeBufferPointer(start: v, count: dimension))
        listNorms[l].append(dot(v, v, dimension))
    }

    private func unplace(_ slot: Int32) {
        let l = Int(slotList[Int(slot)]), p = Int(slotPosition[Int(slot)])
        let last = listSlots[l].count - 1
        if p != last {
            let moved = listSlots[l][last]
            listSlots[l][p] = moved
            (listVectors[l].pointer + p * dimension).update(from: listVectors[l].pointer + last * dimension, count: dimension)
            listNorms[l][p] = listNorms[l][last]
            slotPosition[Int(moved)] = Int32(p)
        }
        listSlots[l].removeLast(1)
        listVectors[l].removeLast(dimension)
        listNorms[l].removeLast(1)
        slotList[Int(slot)] = -1
    }

    public func add(ids: [String], vectors: Matrix<Float>, threads: Int? = nil) throws {
        try checkVectors(ids: ids, vectors: vectors, dimension: dimension)
        try checkNewIDs(ids, table: table)
        guard !ids.isEmpty else { return }
        let start = Date()
        let t = threads ?? Parallel.threads
        let data = rowMajor(vectors, metric: metric)
        data.withUnsafeBufferPointer { p in
            let x = p.baseAddress!
            if lists == 0 { train(x, count: ids.count, threads: t) }
            let labels = assign(x, count: ids.count, threads: t)
            for (i, id) in ids.enumerated() {
                let slot = table.append(id)
                slotList.append(-1)
                slotPosition.append(-1)
                place(slot, x + i * dimension, list: Int(labels[i]))
            }
        }
        buildSeconds += Date().timeIntervalSince(start)
    }

    public func update(ids: [String], vectors: Matrix<Float>, threads: Int? = nil) throws {
        let (slots, data) = try checkedUpdate(ids: ids, vectors: vectors, dimension: dimension, metric: metric, table: table)
        data.withUnsafeBufferPointer { p in
            let labels = assign(p.baseAddress!, count: ids.count, threads: threads ?? Parallel.threads)
            for (i, s) in slots.enumerated() {
                unplace(s)
                place(s, p.baseAddress! + i * dimension, list: Int(labels[i]))
            }
        }
    }

    public func remove(ids: [String]) throws {
        for s in try existingSlots(ids, table: table) {
            unplace(s)
            table.remove(s)
        }
    }

    public func vector(for id: String) -> [Float]? {
        guard let s = table.slot(of: id) else { return nil }
        let l = Int(slotList[Int(s)]), p = Int(slotPosition[Int(s)])
        return Array(UnsafeBufferPointer(start: listVectors[l].pointer + p * dimension, count: dimension))
    }

    public func search(_ queries: Matrix<Float>, parameters p: SearchParameters) throws -> [[Neighbor]] {
        let q = try checkedQueries(queries, p, dimension: dimension, count: count, metric: metric)
        let nq = queries.rows, d = dimension
        let probes = min(p.probes ?? 16, lists)
        let threads = p.threads ?? Parallel.threads
        let l2 = metric == .l2
        let heaps = HeapSet(queries: nq, k: p.k)
        q.withUnsafeBufferPointer { qp in
            let qbase = qp.baseAddress!
            // 1. The probes nearest lists of every query (exact search over the centroids).
            let none = [UInt8](repeating: 0, count: lists)
            let coarse = none.withUnsafeBufferPointer { zp in
                FusedTopK.search(base: ScanBase(vectors: centroids.pointer, normSquares: centroidNorms.pointer, rowSlots: nil, firstSlot: 0, rows: lists),
                                 dimension: d, queries: qbase, queryCount: nq, k: probes,
                                 filter: SlotFilter(deleted: zp.baseAddress!, allowed: nil, predicate: nil, table: nil),
                                 l2: l2, threads: threads)
            }
            // 2. Each thread takes a range of queries and walks its lists once.
            let bases = (0..<lists).map { l in
                ScanBase(vectors: listVectors[l].pointer, normSquares: listNorms[l].pointer, rowSlots: listSlots[l].pointer,
                         firstSlot: 0, rows: listSlots[l].count)
            }
            withSlotFilter(p.filter, table: table) { filter in
                let box = UnsafeSendableBox((bases, qbase, heaps, coarse, filter))
                let nlist = lists
                BLAS.withThreads(1) {
                    Parallel.forEachChunk(count: nq, threads: threads) { range in
                        let (bases, qbase, heaps, coarse, filter) = box.value
                        // Bucket the range's (query, list) pairs by list.
                        var start = [Int](repeating: 0, count: nlist + 1)
                        for qi in range { for j in 0..<Int(coarse.counts[qi]) { start[Int(coarse.slots[qi * probes + j]) + 1] += 1 } }
                        for l in 0..<nlist { start[l + 1] += start[l] }
                        var fill = start
                        var members = [Int32](repeating: 0, count: start[nlist])
                        for qi in range {
                            for j in 0..<Int(coarse.counts[qi]) {
                                let l = Int(coarse.slots[qi * probes + j])
                                members[fill[l]] = Int32(qi); fill[l] += 1
                            }
                        }
                        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: max(1, range.count) * d)
                        defer { gathered.deallocate() }
                        let tile = UnsafeMutablePointer<Float>.allocate(capacity: FusedTopK.tileRows * FusedTopK.queryBlock)
                        defer { tile.deallocate() }
                        members.withUnsafeBufferPointer { mp in
                            for l in 0..<nlist where start[l + 1] > start[l] && bases[l].rows > 0 {
                                let group = mp.baseAddress! + start[l]
                                let g = start[l + 1] - start[l]
                                for i in 0..<g { (gathered + i * d).update(from: qbase + Int(group[i]) * d, count: d) }
                                FusedTopK.scan(base: bases[l], dimension: d, queries: gathered, queryCount: g, heapIndex: group,
                                               heaps: heaps, filter: filter, l2: l2, tile: tile)
                            }
                        }
                    }
                }
            }
        }
        return neighbors(from: heaps, metric: metric, table: table, queries: q, dimension: d, threads: threads)
    }

    public func save(to url: URL) throws {
        var header = IndexHeader(kind: .ivf, metric: metric, dimension: dimension, slots: table.slotCount, buildSeconds: buildSeconds)
        header.seed = seed
        header.lists = lists
        let offsets = GrowableBuffer<Int64>()
        offsets.append(0)
        let allSlots = GrowableBuffer<Int32>(), allVectors = GrowableBuffer<Float>(), allNorms = GrowableBuffer<Float>()
        for l in 0..<lists {
            allSlots.append(contentsOf: listSlots[l].buffer)
            allVectors.append(contentsOf: listVectors[l].buffer)
            allNorms.append(contentsOf: listNorms[l].buffer)
            offsets.append(Int64(allSlots.count))
        }
        let sections = IndexFile.idSections(table) + [
            IndexFile.Section("centroids", centroids), IndexFile.Section("centroidNorms", centroidNorms),
            IndexFile.Section("listOffsets", offsets), IndexFile.Section("listSlots", allSlots),
            IndexFile.Section("listVectors", allVectors), IndexFile.Section("listNorms", allNorms),
            IndexFile.Section("slotList", slotList), IndexFile.Section("slotPosition", slotPosition),
        ]
        try IndexFile.write(to: url, header: header, sections: sections)
    }
}
