#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One open-addressing slot: the id's first 8 bytes (zero padded), its length, index + 1
/// (0 marks an empty slot).
struct IDSlot {
    var word: UInt64
    var length: UInt32
    var indexPlusOne: UInt32
}

/// The hash table behind ``IDMap``: ids as bytes in one arena, a linear-probing table of
/// 16-byte slots that holds ids of up to 8 bytes entirely (no arena access to compare them).
/// Manual memory, so the parser's hot loop has no array bounds or uniqueness checks.
/// Not thread-safe; ``IDMap`` copies it before mutating a shared instance.
final class IDTable: @unchecked Sendable {
    private(set) var slots: UnsafeMutablePointer<IDSlot>
    private(set) var capacity: Int
    private var mask: Int
    /// id bytes; followed by 8 readable bytes beyond `arenaCount`.
    private(set) var arena: UnsafeMutablePointer<UInt8>
    private(set) var arenaCount = 0
    private var arenaCapacity: Int
    /// offsets[i] is where id i starts in the arena; `count + 1` entries.
    private(set) var offsets: UnsafeMutablePointer<Int>
    private(set) var count = 0
    private var offsetsCapacity: Int

    static let arenaPadding = 8

    /// Direct index for ids that are canonical decimal integers (`0` or no leading zero, at most
    /// 9 digits): `direct[v]` is the index of id `v`, or -1. It covers values below a limit
    /// that grows with the number of ids, so dense integer ids (SNAP files) skip the hash table.
    private var direct: UnsafeMutablePointer<Int32>
    private var directCount: Int

    init(expectedCount: Int = 16) {
        var cap = 16
        while cap * 7 < max(expectedCount, 1) * 10 { cap *= 2 }
        capacity = cap
        mask = cap - 1
        slots = UnsafeMutablePointer<IDSlot>.allocate(capacity: cap)
        slots.initialize(repeating: IDSlot(word: 0, length: 0, indexPlusOne: 0), count: cap)
        offsetsCapacity = max(expectedCount, 16) + 1
        offsets = UnsafeMutablePointer<Int>.allocate(capacity: offsetsCapacity)
        offsets[0] = 0
        arenaCapacity = max(expectedCount, 16) * 8
        arena = malloc(arenaCapacity + IDTable.arenaPadding)!.assumingMemoryBound(to: UInt8.self)
        (arena).initialize(repeating: 0, count: arenaCapacity + IDTable.arenaPadding)
        directCount = 1024
        direct = UnsafeMutablePointer<Int32>.allocate(capacity: directCount)
        direct.initialize(repeating: -1, count: directCount)
    }

    deinit {
        direct.deallocate()
        slots.deallocate()
        offsets.deallocate()
        free(arena)
    }

    func copy() -> IDTable {
        let t = IDTable(expectedCount: count)
        for i in 0..<count {
            _ = t.findOrInsert(UnsafePointer(arena + offsets[i]), offsets[i + 1] - offsets[i])
        }
        return t
    }

    /// The first `min(len, 8)` bytes of `p` as a little-endian word, zero padded.
    /// Requires 8 readable bytes at `p`.
    @inline(__always)
    static func word(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt64 {
        let w = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        return len >= 8 ? w : w & ((1 &<< UInt64(len &* 8)) &- 1)
    }

    /// Hash of the id; `first` must be `word(p, len)`. Reads whole 8-byte words (the tail
    /// masked), so `p` must have 8 readable bytes past `len` rounded down to a multiple of 8.
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ len: Int, first: UInt64) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = (UInt64(truncatingIfNeeded: len) &* 0xC2B2_AE3D_27D4_EB4F ^ first) &* k
        if len > 8 {
            var i = 8
            while i < len {
                h = (h ^ (h >> 31) ^ word(p + i, len - i)) &* k
                i += 8
            }
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 29
        return h
    }

    @inline(__always)
    private func matches(_ s: IDSlot, _ w: UInt64, _ p: UnsafePointer<UInt8>, _ len: Int) -> Bool {
        if s.word != w || s.length != UInt32(truncatingIfNeeded: len) { return false }
        if len <= 8 { return true }
        let start = offsets[Int(s.indexPlusOne) - 1]
        return memcmp(arena + start + 8, p + 8, len - 8) == 0
    }

    /// The value of a canonical decimal integer id of at most 9 digits, else -1.
    @inline(__always)
    static func canonicalInteger(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int {
        if len > 9 || len == 0 { return -1 }
        if p[0] == 48 { return len == 1 ? 0 : -1 }
        var v = 0
        for i in 0..<len {
            let d = p[i] &- 48
            if d > 9 { return -1 }
            v = v &* 10 &+ Int(d)
        }
        return v
    }

    /// Makes the direct index cover `v` when `v` is below the current limit; returns whether
    /// `direct[v]` may be used.
    @inline(__always)
    private func directCovers(_ v: Int) -> Bool {
        if v < directCount { return true }
        if v >= max(1 << 22, count &* 4) { return false }
        var n = directCount * 2
        while n <= v { n *= 2 }
        let d = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        d.moveInitialize(from: direct, count: directCount)
        (d + directCount).initialize(repeating: -1, count: n - directCount)
        direct.deallocate()
        direct = d
        directCount = n
        return true
    }

    /// The index of the id `p[0..<len]`, or -1. Requires 8 readable bytes past `len`.
    @inline(__always)
    func find(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int32 {
        let v = IDTable.canonicalInteger(p, len)
        if v >= 0 && v < directCount {
            let i = direct[v]
            if i >= 0 { return i }
        }
        return findHashed(p, len)
    }

    @inline(__always)
    private func findHashed(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int32 {
        let w = IDTable.word(p, len)
        var i = Int(truncatingIfNeeded: IDTable.hash(p, len, first: w)) & mask
        while true {
            let s = slots[i]
            if s.indexPlusOne == 0 { return -1 }
            if matches(s, w, p, len) { return Int32(bitPattern: s.indexPlusOne &- 1) }
            i = (i &+ 1) & mask
        }
    }

    /// The index of the id `p[0..<len]`, inserting it (next index) when new; -1 when the
    /// table already holds `Int32.max` ids. Requires `len <= GraphDataError.maximumIDLength`
    /// and 8 readable bytes past `len`.
    @inline(__always)
    func findOrInsert(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int32 {
        let v = IDTable.canonicalInteger(p, len)
        if v >= 0 && directCovers(v) {
            let i = direct[v]
            if i >= 0 { return i }
            let j = findOrInsertHashed(p, len)
            if j >= 0 { direct[v] = j }
            return j
        }
        return findOrInsertHashed(p, len)
    }

    @inline(__always)
    private func findOrInsertHashed(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int32 {
        let w = IDTable.word(p, len)
        return findOrInsertHashed(p, len, w, IDTable.hash(p, len, first: w))
    }

    // MARK: Batched lookups
    //
    // The parser resolves ids a batch of lines at a time in three passes: `prepare` (per id,
    // while its bytes are in cache), `peek` (independent loads of the direct-index entry or the
    // hash slot, so many cache misses are in flight at once), and `resolve` (in file order, so
    // first-appearance numbering is unchanged).

    /// Per-id lookup state for a batch.
    struct Probe {
        var p: UnsafePointer<UInt8>
        var length: Int
        /// Canonical integer value, or -1.
        var value: Int
        var word: UInt64 = 0
        var hash: UInt64 = 0
        /// The index when `peek` already found the id, else -1.
        var found: Int32 = -1
    }

    /// Keeps the peeked slot loads observable.
    private(set) var peekSink: UInt64 = 0

    @inline(__always)
    static func prepare(_ p: UnsafePointer<UInt8>, _ len: Int) -> Probe {
        let v = canonicalInteger(p, len)
        var probe = Probe(p: p, length: len, value: v)
        if v < 0 {
            probe.word = word(p, len)
            probe.hash = hash(p, len, first: probe.word)
        }
        return probe
    }

    /// Loads the entry a probe will need: the direct-index entry (resolving the probe when the
    /// id is known) or the first hash slot.
    @inline(__always)
    func peek(_ probe: inout Probe) {
        if probe.value >= 0 {
            if probe.value < directCount { probe.found = direct[probe.value] }
        } else {
            peekSink &+= slots[Int(truncatingIfNeeded: probe.hash) & mask].word
        }
    }

    /// ``findOrInsert(_:_:)`` for a prepared (and possibly peeked) probe.
    @inline(__always)
    func resolve(_ probe: Probe) -> Int32 {
        if probe.found >= 0 { return probe.found }
        if probe.value >= 0 { return findOrInsert(probe.p, probe.length) }
        return findOrInsertHashed(probe.p, probe.length, probe.word, probe.hash)
    }

    @inline(__always)
    private func findOrInsertHashed(_ p: UnsafePointer<UInt8>, _ len: Int, _ w: UInt64, _ h: UInt64) -> Int32 {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s.indexPlusOne == 0 { break }
            if matches(s, w, p, len) { return Int32(bitPattern: s.indexPlusOne &- 1) }
            i = (i &+ 1) & mask
        }
        return insert(at: i, p, len, w)
    }

    private func insert(at slot: Int, _ p: UnsafePointer<UInt8>, _ len: Int, _ w: UInt64) -> Int32 {
        if count >= Int(Int32.max) { return -1 }
        if arenaCount + len > arenaCapacity {
            var cap = arenaCapacity * 2
            while arenaCount + len > cap { cap *= 2 }
            arena = realloc(arena, cap + IDTable.arenaPadding)!.assumingMemoryBound(to: UInt8.self)
            (arena + arenaCount).initialize(repeating: 0, count: cap + IDTable.arenaPadding - arenaCount)
            arenaCapacity = cap
        }
        if count + 2 > offsetsCapacity {
            let cap = offsetsCapacity * 2
            let o = UnsafeMutablePointer<Int>.allocate(capacity: cap)
            o.moveInitialize(from: offsets, count: count + 1)
            offsets.deallocate()
            offsets = o
            offsetsCapacity = cap
        }
        (arena + arenaCount).update(from: p, count: len)
        arenaCount += len
        let index = count
        count += 1
        offsets[count] = arenaCount
        slots[slot] = IDSlot(word: w, length: UInt32(len), indexPlusOne: UInt32(count))
        if count * 10 > capacity * 7 { grow() }
        return Int32(index)
    }

    private func grow() {
        let newCapacity = capacity * 2
        let newMask = newCapacity - 1
        let s = UnsafeMutablePointer<IDSlot>.allocate(capacity: newCapacity)
        s.initialize(repeating: IDSlot(word: 0, length: 0, indexPlusOne: 0), count: newCapacity)
        for j in 0..<capacity {
            let slot = slots[j]
            if slot.indexPlusOne == 0 { continue }
            let len = Int(slot.length)
            let h = len <= 8
                ? IDTable.hash(UnsafePointer(arena), len, first: slot.word)  // p unused for len <= 8
                : IDTable.hash(UnsafePointer(arena + offsets[Int(slot.indexPlusOne) - 1]), len,
                               first: slot.word)
            var i = Int(truncatingIfNeeded: h) & newMask
            while s[i].indexPlusOne != 0 { i = (i &+ 1) & newMask }
            s[i] = slot
        }
        slots.deallocate()
        slots = s
        capacity = newCapacity
        mask = newMask
    }

    /// Bytes of id `i`.
    @inline(__always)
    func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: arena + offsets[i], count: offsets[i + 1] - offsets[i])
    }
}

/// A two-way map between string ids and dense indices `0..<count`, numbered in order of first
/// insertion (for the readers: first appearance in the file).
///
/// Ids are kept exactly as the bytes that appeared in the input; ``subscript(_:)`` decodes them
/// as UTF-8 (invalid sequences become U+FFFD), ``idBytes(at:)`` returns the raw bytes. Lookups
/// hash the id's bytes (expected O(length)); ids of at most 8 bytes are compared without
/// touching the id storage. The map is a value type with copy-on-write storage: the edge-list
/// reader's ``EdgeList/sourceIDs`` and ``EdgeList/targetIDs`` share one storage when the graph
/// has a single id map.
///
/// `IDMap` is a `RandomAccessCollection` of the ids, so `map.firstIndex`, `Array(map)`,
/// `for id in map` work as expected; `map[i]` is the id with index `i`.
public struct IDMap: RandomAccessCollection, Sendable, Equatable, CustomStringConvertible {
    var table: IDTable

    init(table: IDTable) { self.table = table }

    /// An empty map.
    public init() { table = IDTable() }

    /// A map of `ids`, numbered in order; repeated ids keep their first index.
    public init(_ ids: some Sequence<String>) {
        self.init()
        for id in ids { insert(id) }
    }

    /// Number of distinct ids.
    public var count: Int { table.count }
    /// Always 0.
    public var startIndex: Int { 0 }
    /// ``count``.
    public var endIndex: Int { table.count }

    /// The id with index `index`, decoded as UTF-8. Cost: O(id length).
    /// - Precondition: `0 <= index < count`.
    public subscript(index: Int) -> String {
        precondition(index >= 0 && index < table.count, "IDMap: index \(index) out of range 0..<\(table.count)")
        return String(decoding: table.bytes(index), as: UTF8.self)
    }

    /// The exact bytes of the id with index `index`.
    /// - Precondition: `0 <= index < count`.
    public func idBytes(at index: Int) -> [UInt8] {
        precondition(index >= 0 && index < table.count, "IDMap: index \(index) out of range 0..<\(table.count)")
        return Array(table.bytes(index))
    }

    /// The index of `id`, or nil when absent. Cost: expected O(id length).
    public func index(ofID id: String) -> Int32? {
        var id = id
        return id.withUTF8 { index(ofIDBytes: $0) }
    }

    /// The index of the id with these exact bytes, or nil when absent.
    public func index(ofIDBytes bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        IDMap.withPadded(bytes) { p, n in
            let i = table.find(p, n)
            return i < 0 ? nil : i
        }
    }

    /// Inserts `id` if absent. Returns its index and whether it was new.
    /// Cost: expected O(id length), amortized.
    /// - Precondition: fewer than `Int32.max` ids.
    @discardableResult
    public mutating func insert(_ id: String) -> (index: Int32, inserted: Bool) {
        if !isKnownUniquelyReferenced(&table) { table = table.copy() }
        var id = id
        let t = table
        return id.withUTF8 { bytes in
            IDMap.withPadded(bytes) { p, n in
                let before = t.count
                let i = t.findOrInsert(p, n)
                precondition(i >= 0, "IDMap: more than Int32.max ids")
                return (i, t.count > before)
            }
        }
    }

    /// All ids in index order. Cost: O(total id bytes).
    public var ids: [String] { (0..<count).map { self[$0] } }

    /// Two maps are equal when they hold the same ids with the same indices.
    public static func == (a: IDMap, b: IDMap) -> Bool {
        if a.table === b.table { return true }
        if a.count != b.count || a.table.arenaCount != b.table.arenaCount { return false }
        for i in 0...a.count where a.table.offsets[i] != b.table.offsets[i] { return false }
        return memcmp(a.table.arena, b.table.arena, a.table.arenaCount) == 0
    }

    /// Whether `self` and `other` share one storage (as the readers' shared maps do).
    public func sharesStorage(with other: IDMap) -> Bool { table === other.table }

    /// A short summary: the count and the first few ids.
    public var description: String {
        let head = (0..<Swift.min(count, 5)).map { self[$0] }.joined(separator: ", ")
        return "IDMap(\(count) ids: \(head)\(count > 5 ? ", …" : ""))"
    }

    /// Runs `body` on a copy of `bytes` followed by 8 zero bytes (the table reads whole words).
    static func withPadded<R>(_ bytes: UnsafeBufferPointer<UInt8>,
                              _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        let n = bytes.count
        let tmp = UnsafeMutablePointer<UInt8>.allocate(capacity: n + 8)
        defer { tmp.deallocate() }
        tmp.initialize(repeating: 0, count: n + 8)
        if n > 0 { tmp.update(from: bytes.baseAddress!, count: n) }
        return body(UnsafePointer(tmp), n)
    }
}
