import Foundation
import LinearAlgebra

/// Everything an index file says about itself besides its arrays (stored as JSON).
struct IndexHeader: Codable {
    var kind: NeighborIndexKind
    var metric: Metric
    var dimension: Int
    var slots: Int
    var buildSeconds: Double
    // HNSW
    var m: Int?
    var efConstruction: Int?
    var entryPoint: Int?
    var maxLevel: Int?
    // IVF and HNSW
    var seed: UInt64?
    // IVF
    var lists: Int?
}

/// The on-disk layout of a saved index, chosen so that it can be used in place once mapped:
///
///     "NBRINDEX"  u32 version (1)  u32 header JSON bytes  u64 section count
///     sections:   (name: 16 bytes, NUL-padded; offset: u64; byte count: u64) each
///     header JSON
///     section data, each starting at a multiple of 64 bytes
///
/// Little-endian. The arrays are the index's own buffers (row-major vectors, adjacency lists,
/// inverted lists), so a mapped file is searched without any decoding.
struct IndexFile {
    static let magic: [UInt8] = Array("NBRINDEX".utf8)
    static let version: UInt32 = 1

    let path: String
    let bytes: FileBytes
    let header: IndexHeader
    private let sections: [String: (offset: Int, length: Int)]

    /// Opens (maps or reads) and checks the framing and section table.
    init(url: URL, mapped: Bool) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw NeighborIndexError.file(path, "no such file") }
        bytes = try FileBytes(path: path, mapped: mapped)
        let size = bytes.length
        let p = bytes.base
        guard size >= 24 else { throw NeighborIndexError.file(path, "truncated: \(size) bytes is shorter than the 24-byte preamble") }
        guard (0..<8).allSatisfy({ p.load(fromByteOffset: $0, as: UInt8.self) == Self.magic[$0] }) else {
            throw NeighborIndexError.file(path, "not a neighbour index (the file does not start with NBRINDEX)")
        }
        let version = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard version == Self.version else {
            throw NeighborIndexError.file(path, "format version \(version), this build reads version \(Self.version)")
        }
        let headerBytes = Int(p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let count = p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        guard count < 1024 else { throw NeighborIndexError.file(path, "corrupt: \(count) sections") }
        let tableEnd = 24 + Int(count) * 32
        guard tableEnd + headerBytes <= size else {
            throw NeighborIndexError.file(path, "truncated: the section table and header need \(tableEnd + headerBytes) bytes, the file has \(size)")
        }
        var table = [String: (offset: Int, length: Int)]()
        for s in 0..<Int(count) {
            let at = 24 + s * 32
            let nameBytes = (0..<16).map { p.load(fromByteOffset: at + $0, as: UInt8.self) }.prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let offset = p.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)
            let length = p.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self)
            guard offset % 64 == 0, offset <= UInt64(size), length <= UInt64(size) - offset else {
                throw NeighborIndexError.file(path, "truncated or corrupt: section '\(name)' (\(length) bytes at \(offset)) lies outside the \(size)-byte file")
            }
            table[name] = (Int(offset), Int(length))
        }
        sections = table
        let json = Data(bytes: p + tableEnd, count: headerBytes)
        do {
            header = try JSONDecoder().decode(IndexHeader.self, from: json)
        } catch {
            throw NeighborIndexError.file(path, "corrupt header: \(error)")
        }
        guard header.dimension >= 1, header.slots >= 0 else {
            throw NeighborIndexError.file(path, "corrupt header: dimension \(header.dimension), \(header.slots) slots")
        }
    }

    /// Section `name` as a buffer of exactly `count` values of `T`.
    func buffer<T: BitwiseCopyable>(_ name: String, count: Int, as _: T.Type = T.self) throws -> GrowableBuffer<T> {
        guard let s = sections[name] else { throw NeighborIndexError.file(path, "section '\(name)' is missing") }
        let expected = count * MemoryLayout<T>.stride
        guard s.length == expected else {
            throw NeighborIndexError.file(path, "section '\(name)' holds \(s.length) bytes, expected \(expected) (\(count) x \(T.self))")
        }
        return GrowableBuffer(viewing: bytes, offset: s.offset, count: count)
    }

    /// The byte offset of section `name`.
    func offset(of name: String) throws -> Int {
        guard let s = sections[name] else { throw NeighborIndexError.file(path, "section '\(name)' is missing") }
        return s.offset
    }

    /// Section `name` whose length fixes its count.
    func buffer<T: BitwiseCopyable>(_ name: String, as _: T.Type = T.self) throws -> GrowableBuffer<T> {
        guard let s = sections[name] else { throw NeighborIndexError.file(path, "section '\(name)' is missing") }
        guard s.length % MemoryLayout<T>.stride == 0 else {
            throw NeighborIndexError.file(path, "section '\(name)' holds \(s.length) bytes, not a whole number of \(T.self)")
        }
        return GrowableBuffer(viewing: bytes, offset: s.offset, count: s.length / MemoryLayout<T>.stride)
    }

    /// The id table's three sections, checked.
    func idTable(slots: Int) throws -> IDTable {
        let offsets: GrowableBuffer<Int64> = try buffer("idOffsets", count: slots + 1)
        let bytes: GrowableBuffer<UInt8> = try buffer("idBytes")
        let deleted: GrowableBuffer<UInt8> = try buffer("deleted", count: slots)
        return try IDTable(offsets: offsets, bytes: bytes, deleted: deleted, path: path)
    }

    /// One section to write: its name and bytes (kept alive by the caller).
    struct Section {
        let name: String
        let bytes: UnsafeRawBufferPointer
        init<T>(_ name: String, _ buffer: GrowableBuffer<T>) {
            self.name = name
            bytes = UnsafeRawBufferPointer(start: buffer.pointer, count: buffer.count * MemoryLayout<T>.stride)
        }
        init(_ name: String, raw: UnsafeRawBufferPointer) { self.name = name; bytes = raw }
    }

    static func idSections(_ table: IDTable) -> [Section] {
        [Section("idOffsets", table.offsets), Section("idBytes", table.bytes), Section("deleted", table.deleted)]
    }

    /// Writes `header` and `sections` to `url` atomically (LinearAlgebra's `AtomicFile`: a
    /// temporary sibling, flushed and renamed into place), creating its directory if missing.
    static func write(to url: URL, header: IndexHeader, sections: [Section]) throws {
        let path = url.path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var offsets = [Int]()
        var cursor = 24 + sections.count * 32 + json.count
        for s in sections {
            cursor = (cursor + 63) / 64 * 64
            offsets.append(cursor)
            cursor += s.bytes.count
        }
        var preamble = [UInt8]()
        preamble += magic
        withUnsafeBytes(of: version.littleEndian) { preamble += $0 }
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { preamble += $0 }
        withUnsafeBytes(of: UInt64(sections.count).littleEndian) { preamble += $0 }
        for (s, off) in zip(sections, offsets) {
            var name = Array(s.name.utf8.prefix(16))
            name += [UInt8](repeating: 0, count: 16 - name.count)
            preamble += name
            withUnsafeBytes(of: UInt64(off).littleEndian) { preamble += $0 }
            withUnsafeBytes(of: UInt64(s.bytes.count).littleEndian) { preamble += $0 }
        }
        preamble += json
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            try AtomicFile.write(to: path) { out in
                try out.write(preamble)
                var written = preamble.count
                for (s, off) in zip(sections, offsets) {
                    if off > written { try out.write([UInt8](repeating: 0, count: off - written)) }
                    try out.write(s.bytes)
                    written = off + s.bytes.count
                }
            }
        } catch let error as AtomicFileError {
            throw NeighborIndexError.file(path, error.problem)
        }
    }
}
