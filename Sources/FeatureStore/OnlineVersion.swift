import EmbeddingStore
import Foundation

/// A read-only file mapped into memory; unmapped when the last reference goes.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer?
    let length: Int
    let path: String

    init(_ url: URL) throws {
        path = url.path
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw FeatureStoreError(.storage, "\(url.path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FeatureStoreError(.storage, "\(url.path): cannot stat: \(String(cString: strerror(errno)))")
        }
        length = Int(info.st_size)
        if length == 0 { base = nil; return }
        let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw FeatureStoreError(.storage, "\(url.path): cannot map into memory: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: length)
    }

    deinit { if let base { munmap(UnsafeMutableRawPointer(mutating: base), length) } }
}

/// An id -> row hash table over the bytes of an `ids.tsv` (one id per line), built without a
/// `String` per id: 8 bytes of line offset plus about 8 bytes of table per id.
struct IDIndex: Sendable {
    /// Byte offset of each row's id; `starts[count]` is one past the end of the last line.
    let starts: [Int]
    /// Open addressing, linear probing; `-1` is empty, otherwise a row.
    let slots: [Int32]
    let mask: Int

    /// Indexes `bytes` (the file at `path`, for errors), expecting `expectedRows` lines.
    /// - Throws: ``FeatureStoreError`` (`.invalid`) naming the line of an empty, duplicated or
    ///   tab-holding id, or when the line count differs.
    init(bytes: UnsafeBufferPointer<UInt8>, expectedRows: Int, path: String) throws {
        guard expectedRows < Int(Int32.max) else {
            throw FeatureStoreError(.invalid, "\(path): \(expectedRows) rows is more than this index holds (2^31 - 1)")
        }
        var starts = [Int]()
        starts.reserveCapacity(expectedRows + 1)
        let n = bytes.count
        var i = 0
        if let base = bytes.baseAddress {
            while i < n {
                starts.append(i)
                if let nl = memchr(base + i, 0x0A, n - i) {
                    i = UnsafeRawPointer(nl).assumingMemoryBound(to: UInt8.self) - base + 1
                } else {
                    i = n + 1
                }
            }
        }
        starts.append(i)
        let rows = starts.count - 1
        guard rows == expectedRows else {
            throw FeatureStoreError(.invalid, "\(path): \(rows) ids but the vectors have \(expectedRows) rows")
        }
        var capacity = 16
        while capacity < 2 * max(rows, 1) { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        for r in 0..<rows {
            let (s, e) = Self.span(starts, r, bytes)
            if e <= s {
                throw FeatureStoreError(.invalid, "\(path): line \(r + 1) is empty")
            }
            if memchr(bytes.baseAddress! + s, 0x09, e - s) != nil {
                throw FeatureStoreError(.invalid, "\(path): line \(r + 1) holds a tab")
            }
            let key = UnsafeBufferPointer(rebasing: bytes[s..<e])
            var slot = Self.hash(key) & mask
            while slots[slot] >= 0 {
                let other = Int(slots[slot])
                let (os, oe) = Self.span(starts, other, bytes)
                if oe - os == e - s, memcmp(bytes.baseAddress! + os, bytes.baseAddress! + s, e - s) == 0 {
                    throw FeatureStoreError(.invalid, "\(path): line \(r + 1) repeats the id of line \(other + 1)")
                }
                slot = (slot + 1) & mask
            }
            slots[slot] = Int32(r)
        }
        self.starts = starts
        self.slots = slots
        self.mask = mask
    }

    /// Row `r`'s id bytes `[start, end)`, without the newline or a carriage return.
    @inline(__always)
    static func span(_ starts: [Int], _ r: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
        let s = starts[r]
        var e = min(starts[r + 1] - 1, bytes.count)
        if e > s, bytes[e - 1] == 0x0D { e -= 1 }
        return (s, e)
    }

    /// FNV-1a, 64-bit.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    func row(of key: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let kb = key.baseAddress, let base = bytes.baseAddress, !key.isEmpty else { return nil }
        var slot = Self.hash(key) & mask
        while true {
            let r = Int(slots[slot])
            if r < 0 { return nil }
            let (s, e) = Self.span(starts, r, bytes)
            if e - s == key.count, memcmp(base + s, kb, key.count) == 0 { return r }
            slot = (slot + 1) & mask
        }
    }
}

/// One version opened for online reads: `vectors.npy` mapped into memory (no copy; pages come
/// from the page cache and are shared by every process reading the version) and an id -> row
/// hash table over `ids.tsv`. Lookups take a hash, a compare and a 4 * dimension byte copy.
///
/// Thread-safe: immutable after opening.
public final class OnlineVersion: Sendable {
    /// The registry's record of this version.
    public let record: VersionRecord
    /// Number of rows.
    public let count: Int
    /// Vector dimension.
    public let dimension: Int
    let vectorsFile: MappedFile
    let idsFile: MappedFile
    let dataOffset: Int
    let index: IDIndex

    /// Maps the version in `directory` (as registered by `record`).
    /// - Throws: ``FeatureStoreError`` when a file is missing, its header disagrees with the
    ///   record, or the ids are malformed.
    public init(directory: URL, record: VersionRecord) throws {
        let vectorsURL = directory.appendingPathComponent(EmbeddingTable.vectorsFileName)
        let header: NPYHeader
        do { header = try NPY.readHeader(from: vectorsURL) } catch {
            throw FeatureStoreError(.integrity, "\(error)")
        }
        guard header.descr == "<f4", header.shape.count == 2, !header.fortranOrder,
              header.shape[0] == record.count, header.shape[1] == record.dimension else {
            throw FeatureStoreError(.integrity, "\(vectorsURL.path): header \(header.descr) \(header.shape) disagrees with the registry (\(record.count) x \(record.dimension) float32, C order)")
        }
        let file = try MappedFile(vectorsURL)
        guard file.length >= header.dataOffset + record.count * record.dimension * 4 else {
            throw FeatureStoreError(.integrity, "\(vectorsURL.path): \(file.length) bytes, too short for \(record.count) x \(record.dimension) float32")
        }
        let idsURL = directory.appendingPathComponent(EmbeddingTable.idsFileName)
        let ids = try MappedFile(idsURL)
        self.index = try IDIndex(bytes: ids.bytes, expectedRows: record.count, path: idsURL.path)
        self.record = record
        self.count = record.count
        self.dimension = record.dimension
        self.vectorsFile = file
        self.idsFile = ids
        self.dataOffset = header.dataOffset
    }

    /// The row of `id`, or `nil`. Cost: O(id length) expected.
    public func row(of id: String) -> Int? {
        var id = id
        return id.withUTF8 { index.row(of: $0, in: idsFile.bytes) }
    }

    /// The row of the id whose UTF-8 bytes are `id`, or `nil` (no `String` needed).
    @inline(__always)
    public func row(of id: UnsafeBufferPointer<UInt8>) -> Int? {
        index.row(of: id, in: idsFile.bytes)
    }

    /// Row `row`'s id.
    /// - Precondition: `0 <= row < count`.
    public func id(atRow row: Int) -> String {
        precondition(row >= 0 && row < count, "id(atRow:): row \(row) out of 0..<\(count)")
        let (s, e) = IDIndex.span(index.starts, row, idsFile.bytes)
        return String(decoding: UnsafeBufferPointer(rebasing: idsFile.bytes[s..<e]), as: UTF8.self)
    }

    /// Calls `body` with row `row`'s `dimension` floats, in place in the mapping (no copy).
    /// - Precondition: `0 <= row < count`.
    @inline(__always)
    public func withVector<R>(atRow row: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(row >= 0 && row < count, "withVector(atRow:): row \(row) out of 0..<\(count)")
        let p = (vectorsFile.base! + dataOffset + row * dimension * 4).assumingMemoryBound(to: Float.self)
        return try body(UnsafeBufferPointer(start: p, count: dimension))
    }

    /// A copy of row `row`'s vector.
    public func vector(atRow row: Int) -> [Float] { withVector(atRow: row) { Array($0) } }

    /// The vector of `id`, or `nil` when the version has no such id.
    public func vector(for id: String) -> [Float]? { row(of: id).map(vector(atRow:)) }

    /// Calls `body` with the whole `count x dimension` row-major block of floats (no copy).
    public func withVectors<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let p = (vectorsFile.base.map { $0 + dataOffset })?.assumingMemoryBound(to: Float.self)
        return try body(UnsafeBufferPointer(start: p, count: count * dimension))
    }
}
