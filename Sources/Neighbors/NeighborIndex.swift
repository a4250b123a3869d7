// Neighbors: nearest-neighbour search over embedding tables (layer 4, on LinearAlgebra and
// EmbeddingStore). One `NeighborIndex` protocol; exact (GEMM tiles with a fused top-k), IVF
// (seeded k-means++ coarse quantiser) and HNSW (Malkov and Yashunin) indexes; mapped files.
import EmbeddingStore
import Foundation
import LinearAlgebra

/// How two vectors are compared. Scores are "higher is better" for cosine and inner product;
/// for L2 the reported score is the squared Euclidean distance (lower is better).
public enum Metric: String, Sendable, Codable, CaseIterable {
    /// Cosine similarity: vectors are scaled to unit length when added (zero vectors stay zero).
    case cosine
    /// Inner product (maximum inner-product search).
    case innerProduct = "ip"
    /// Squared Euclidean distance.
    case l2
}

/// The index families.
public enum NeighborIndexKind: String, Sendable, Codable, CaseIterable {
    /// Exact search: blocked GEMM with the top-k fused into the tile loop.
    case exact
    /// Inverted file: k-means coarse quantiser, `probes` lists scanned per query.
    case ivf
    /// Hierarchical navigable small-world graph.
    case hnsw
}

/// One neighbour: its id and its score (similarity, or squared distance for ``Metric/l2``).
public struct Neighbor: Sendable, Equatable, Hashable {
    public let id: String
    public let score: Float
    public init(id: String, score: Float) { self.id = id; self.score = score }
}

/// Which ids a search may return. Applied during the search (a rejected vector never takes a
/// result place, and HNSW still routes through it), not to a finished list.
public enum NeighborFilter: Sendable {
    /// Only these ids (unknown ids are ignored).
    case allowedIDs(Set<String>)
    /// Only ids for which the predicate holds; called once per candidate that would enter the
    /// result list, from several threads when the search is parallel.
    case predicate(@Sendable (String) -> Bool)
}

/// Per-call search settings (as FAISS's `SearchParameters`).
public struct SearchParameters: Sendable {
    /// Neighbours per query (fewer when the index has fewer live vectors that pass the filter).
    public var k: Int
    /// Optional filter.
    public var filter: NeighborFilter?
    /// Threads for this call (default: `Parallel.threads` of LinearAlgebra). BLAS runs single-threaded inside.
    public var threads: Int?
    /// HNSW: size of the dynamic candidate list (default 64; raised to `k` when smaller).
    public var ef: Int?
    /// IVF: lists scanned per query (default 16, at most the number of lists).
    public var probes: Int?

    public init(k: Int = 10, filter: NeighborFilter? = nil, threads: Int? = nil, ef: Int? = nil, probes: Int? = nil) {
        self.k = k; self.filter = filter; self.threads = threads; self.ef = ef; self.probes = probes
    }
}

/// Errors of the neighbour indexes: bad input, unknown ids, unreadable index files.
public enum NeighborIndexError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A malformed argument (k, dimension, id...).
    case invalidInput(String)
    /// An id the index does not hold.
    case unknownID(String)
    /// An id the index already holds (use `update`).
    case duplicateID(String)
    /// A missing, truncated or corrupt index file: the path and the problem.
    case file(String, String)

    public var description: String {
        switch self {
        case .invalidInput(let m): return m
        case .unknownID(let id): return "unknown id \(id.debugDescription)"
        case .duplicateID(let id): return "id \(id.debugDescription) is already in the index (use update to replace its vector)"
        case .file(let path, let problem): return "index file \(path): \(problem)"
        }
    }
}

/// A nearest-neighbour index over vectors with string ids.
///
/// Indexes are reference types (like FAISS's): searches may run concurrently with each other,
/// but a mutation (add, update, remove) must not overlap any other call.
public protocol NeighborIndex: AnyObject {
    /// The family.
    var kind: NeighborIndexKind { get }
    /// The metric.
    var metric: Metric { get }
    /// Vector length.
    var dimension: Int { get }
    /// Live vectors (removed ones excluded).
    var count: Int { get }
    /// Adds vectors (row `i` of `vectors` is `ids[i]`'s), growing as needed.
    /// - Throws: on a dimension mismatch, a duplicate or malformed id, a non-finite element.
    func add(ids: [String], vectors: Matrix<Float>, threads: Int?) throws
    /// Replaces the vectors of existing ids.
    /// - Throws: ``NeighborIndexError/unknownID(_:)`` for an id not in the index.
    func update(ids: [String], vectors: Matrix<Float>, threads: Int?) throws
    /// Removes ids. - Throws: ``NeighborIndexError/unknownID(_:)`` (nothing is removed then).
    func remove(ids: [String]) throws
    /// The `k` best neighbours of each query row, best first.
    /// - Throws: when `k < 1`, `k > count`, or the queries' width differs from ``dimension``.
    func search(_ queries: Matrix<Float>, parameters: SearchParameters) throws -> [[Neighbor]]
    /// The stored vector of `id` (unit length for cosine), or nil.
    func vector(for id: String) -> [Float]?
    /// Live ids, in slot order.
    var ids: [String] { get }
    /// Writes the index to `url` (a temporary file, then a rename).
    func save(to url: URL) throws
    /// Heap bytes the index holds (a freshly mapped index holds almost none).
    var memoryBytes: Int { get }
    /// Seconds the vectors' insertion took, summed over `add` calls (saved with the index).
    var buildSeconds: Double { get }
}

extension NeighborIndex {
    /// Adds vectors on the default number of threads.
    public func add(ids: [String], vectors: Matrix<Float>) throws { try add(ids: ids, vectors: vectors, threads: nil) }

    /// Replaces vectors on the default number of threads.
    public func update(ids: [String], vectors: Matrix<Float>) throws { try update(ids: ids, vectors: vectors, threads: nil) }

    /// Adds every row of an embedding table.
    public func add(_ table: EmbeddingTable, threads: Int? = nil) throws {
        try add(ids: table.ids, vectors: table.vectors, threads: threads)
    }

    /// Searches with the stored vectors of `ids` as queries (each id is normally its own first hit).
    public func search(ids queryIDs: [String], parameters: SearchParameters) throws -> [[Neighbor]] {
        var q = Matrix<Float>(rows: queryIDs.count, columns: dimension)
        for (r, id) in queryIDs.enumerated() {
            guard let v = vector(for: id) else { throw NeighborIndexError.unknownID(id) }
            for j in 0..<dimension { q.elements[r + j * queryIDs.count] = v[j] }
        }
        return try search(q, parameters: parameters)
    }
}

/// Opening saved indexes.
public enum NeighborIndexes {
    /// Opens an index saved by ``NeighborIndex/save(to:)``.
    ///
    /// With `mapped` (the default) the file is memory-mapped copy-on-write: opening costs a few
    /// system calls whatever the size and pages load as searches touch them; later mutations
    /// never reach the file. Without it the file is read into memory.
    /// - Throws: ``NeighborIndexError/file(_:_:)`` naming the file for a missing, truncated or
    ///   corrupt index.
    public static func load(from url: URL, mapped: Bool = true) throws -> any NeighborIndex {
        let file = try IndexFile(url: url, mapped: mapped)
        switch file.header.kind {
        case .exact: return try ExactIndex(file: file)
        case .ivf: return try IVFIndex(file: file)
        case .hnsw: return try HNSWIndex(file: file)
        }
    }

    /// A new empty index of `kind`.
    public static func make(kind: NeighborIndexKind, dimension: Int, metric: Metric,
                            m: Int = 16, efConstruction: Int = 200, lists: Int = 0, seed: UInt64 = 0) throws -> any NeighborIndex {
        switch kind {
        case .exact: return try ExactIndex(dimension: dimension, metric: metric)
        case .ivf: return try IVFIndex(dimension: dimension, metric: metric, lists: lists, seed: seed)
        case .hnsw: return try HNSWIndex(dimension: dimension, metric: metric, m: m, efConstruction: efConstruction, seed: seed)
        }
    }
}

extension NeighborIndexes {
    /// The memory building an index of `count` vectors of `dimension` floats holds beyond the
    /// table it reads, estimated before anything is allocated: the row-major (normalised) copy
    /// of the vectors, the ids (about 48 bytes each), and the structure: HNSW's links (2 `m` at
    /// level 0, about `m / (m - 1)` more above) and each thread's visited marks; IVF's centroids,
    /// assignments and k-means scratch; exact's norms. Check it with `MemoryBudget.check(_:)` (LinearAlgebra).
    public static func memoryBudget(kind: NeighborIndexKind, count n: Int, dimension d: Int, m: Int = 16,
                                    lists: Int = 0, threads: Int = Parallel.threads) -> MemoryBudget {
        let vectors = 4 * n * d, ids = 48 * n
        var structure: Int, detail: String
        switch kind {
        case .exact:
            structure = 4 * n
            detail = "\(n) x \(d) float32 vectors"
        case .ivf:
            let l = lists > 0 ? lists : max(1, Int(Double(n).squareRoot().rounded()))
            structure = 4 * l * d * 2 + 8 * n + 4 * n * 2
            detail = "\(n) x \(d) float32 vectors, \(l) lists"
        case .hnsw:
            structure = 4 * n * (2 * m + 1) + 4 * (n / max(m - 1, 1)) * (m + 1) + 16 * n + threads * n
            detail = "\(n) x \(d) float32 vectors, \(2 * m) links a vector at level 0"
        }
        return MemoryBudget(phases: [.init(name: "build", bytes: vectors + ids + structure, detail: detail)],
                            advice: kind == .hnsw ? "a smaller --m (now \(m)), fewer vectors, or --kind ivf" : "fewer or shorter vectors")
    }
}

// MARK: - Shared checks and conversions

/// Row-major copy of a column-major matrix, scaled to unit rows for cosine.
func rowMajor(_ m: Matrix<Float>, metric: Metric) -> [Float] {
    let n = m.rows, d = m.columns
    var out = [Float](repeating: 0, count: n * d)
    m.elements.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            var ib = 0
            while ib < n {
                let ie = min(ib + 64, n)
                for j in 0..<d {
                    let column = src.baseAddress! + j * n
                    for i in ib..<ie { dst[i * d + j] = column[i] }
                }
                ib = ie
            }
            if metric == .cosine {
                for i in 0..<n { normalize(dst.baseAddress! + i * d, d) }
            }
        }
    }
    return out
}

/// Scales a vector to unit length (a zero vector stays zero).
@inline(__always) func normalize(_ v: UnsafeMutablePointer<Float>, _ d: Int) {
    var s: Double = 0
    for j in 0..<d { s += Double(v[j]) * Double(v[j]) }
    if s > 0 {
        let inv = Float(1 / s.squareRoot())
        for j in 0..<d { v[j] *= inv }
    }
}

func checkVectors(ids: [String], vectors: Matrix<Float>, dimension: Int) throws {
    guard ids.count == vectors.rows else {
        throw NeighborIndexError.invalidInput("\(ids.count) ids for \(vectors.rows) vectors")
    }
    guard vectors.columns == dimension else {
        throw NeighborIndexError.invalidInput("vectors have dimension \(vectors.columns), the index \(dimension)")
    }
    if let bad = vectors.elements.firstIndex(where: { !$0.isFinite }) {
        let r = bad % max(vectors.rows, 1)
        throw NeighborIndexError.invalidInput("vector of \(ids[r].debugDescription) has a non-finite element (\(vectors.elements[bad]))")
    }
}

func checkSearch(_ queries: Matrix<Float>, _ p: SearchParameters, dimension: Int, count: Int) throws {
    guard queries.columns == dimension else {
        throw NeighborIndexError.invalidInput("queries have dimension \(queries.columns), the index \(dimension)")
    }
    guard p.k >= 1 else { throw NeighborIndexError.invalidInput("k must be at least 1 (got \(p.k))") }
    guard p.k <= count else {
        throw NeighborIndexError.invalidInput("k = \(p.k) exceeds the \(count) vectors in the index")
    }
    if let t = p.threads, t < 1 { throw NeighborIndexError.invalidInput("threads must be at least 1 (got \(t))") }
    if let e = p.ef, e < 1 { throw NeighborIndexError.invalidInput("ef must be at least 1 (got \(e))") }
    if let pr = p.probes, pr < 1 { throw NeighborIndexError.invalidInput("probes must be at least 1 (got \(pr))") }
    if queries.elements.contains(where: { !$0.isFinite }) {
        throw NeighborIndexError.invalidInput("a query has a non-finite element")
    }
}

/// Validates new ids: well-formed, not repeated in the batch, and (for add) not already live.
func checkNewIDs(_ ids: [String], table: IDTable) throws {
    var seen = Set<String>(minimumCapacity: ids.count)
    for id in ids {
        try validateID(id)
        guard seen.insert(id).inserted else { throw NeighborIndexError.invalidInput("id \(id.debugDescription) appears twice in one call") }
        if table.slot(of: id) != nil { throw NeighborIndexError.duplicateID(id) }
    }
}

/// The live slots of existing ids, or an error naming the first unknown one.
func existingSlots(_ ids: [String], table: IDTable) throws -> [Int32] {
    var seen = Set<String>(minimumCapacity: ids.count)
    return try ids.map { id in
        guard seen.insert(id).inserted else { throw NeighborIndexError.invalidInput("id \(id.debugDescription) appears twice in one call") }
        guard let s = table.slot(of: id) else { throw NeighborIndexError.unknownID(id) }
        return s
    }
}

/// An update's checked input: the live slots of `ids` (an error names the first unknown or
/// repeated one) and their new vectors, row-major and unit rows for cosine.
func checkedUpdate(ids: [String], vectors: Matrix<Float>, dimension: Int, metric: Metric,
                   table: IDTable) throws -> (slots: [Int32], rows: [Float]) {
    try checkVectors(ids: ids, vectors: vectors, dimension: dimension)
    return (try existingSlots(ids, table: table), rowMajor(vectors, metric: metric))
}

/// A search's checked queries, row-major and unit rows for cosine.
func checkedQueries(_ queries: Matrix<Float>, _ p: SearchParameters, dimension: Int, count: Int,
                    metric: Metric) throws -> [Float] {
    try checkSearch(queries, p, dimension: dimension, count: count)
    return rowMajor(queries, metric: metric)
}

extension IDTable {
    /// Marks the slots of `ids` removed (an error names the first unknown or repeated id, and
    /// then nothing is removed).
    func remove(ids: [String]) throws {
        for s in try existingSlots(ids, table: self) { remove(s) }
    }
}

/// The slot-level form of a search's filter: tombstones, an allowed-slot bitmap, a predicate.
struct SlotFilter: @unchecked Sendable {
    let deleted: UnsafePointer<UInt8>
    let allowed: UnsafePointer<UInt8>?
    let predicate: (@Sendable (String) -> Bool)?
    let table: IDTable?
    /// Whether anything besides tombstones restricts the results.
    var restricts: Bool { allowed != nil || predicate != nil }

    /// Whether any slot is removed (else the tombstone check is skipped).
    var hasDeletions = true

    @inline(__always) func allows(_ slot: Int32) -> Bool {
        if hasDeletions && deleted[Int(slot)] != 0 { return false }
        if let a = allowed, a[Int(slot)] == 0 { return false }
        if let p = predicate, let t = table { return p(t.id(slot)) }
        return true
    }
}

/// Builds a ``SlotFilter`` and keeps its bitmap alive for `body`.
func withSlotFilter<R>(_ filter: NeighborFilter?, table: IDTable, _ body: (SlotFilter) throws -> R) rethrows -> R {
    let deletions = table.liveCount < table.slotCount
    func make(_ allowed: UnsafePointer<UInt8>?, _ predicate: (@Sendable (String) -> Bool)?) -> SlotFilter {
        var f = SlotFilter(deleted: table.deleted.pointer, allowed: allowed, predicate: predicate, table: table)
        f.hasDeletions = deletions
        return f
    }
    switch filter {
    case .none:
        return try body(make(nil, nil))
    case .predicate(let p):
        return try body(make(nil, p))
    case .allowedIDs(let set):
        var bitmap = [UInt8](repeating: 0, count: table.slotCount)
        for id in set { if let s = table.slot(of: id) { bitmap[Int(s)] = 1 } }
        return try bitmap.withUnsafeBufferPointer { b in try body(make(b.baseAddress!, nil)) }
    }
}

/// Converts per-query top-k slots/scores to neighbours. L2 scores (`2 q.x - |x|^2`, or `-|q - x|^2`
/// less `|q|^2`) become squared distances with the norms of `queries` (row-major, `dimension` wide).
func neighbors(from heaps: HeapSet, metric: Metric, table: IDTable, queries: [Float], dimension d: Int,
               threads: Int = 1) -> [[Neighbor]] {
    var lists = [[Neighbor]](repeating: [], count: heaps.queries)
    queries.withUnsafeBufferPointer { qp in
        lists.withUnsafeMutableBufferPointer { out in
            // Each query's list is its own array, so the queries split across threads (the ids are
            // new strings: at tens of thousands of queries a second this is not negligible).
            let box = UnsafeSendableBox((qp.baseAddress!, out.baseAddress!, heaps, table))
            Parallel.forEachChunk(count: heaps.queries, threads: threads, minimumChunk: 256) { range in
                let (qbase, out, heaps, table) = box.value
                for q in range {
                    let norm = metric == .l2 ? dot(qbase + q * d, qbase + q * d, d) : 0
                    out[q] = heaps.sorted(q).map { score, slot in
                        Neighbor(id: table.id(slot), score: metric == .l2 ? max(0, norm - score) : score)
                    }
                }
            }
        }
    }
    return lists
}
