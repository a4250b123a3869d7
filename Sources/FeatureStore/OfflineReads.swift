import EmbeddingStore
import Foundation
import LinearAlgebra

/// Vectors read for a list of ids from one version.
public struct VectorLookup: Sendable {
    /// The version they came from.
    public var version: VersionRecord
    /// The vector of each requested id, `nil` where the version has no such id.
    public var vectors: [[Float]?]
}

/// What a point-in-time join wrote.
public struct JoinSummary: Codable, Sendable, Equatable {
    /// Rows read from the input.
    public var rows: Int
    /// Rows that found a vector.
    public var matched: Int
    /// Rows whose timestamp no active version's window holds.
    public var noVersion: Int
    /// Rows whose version lacks the id.
    public var missingID: Int
    /// How many rows each version answered, by version string.
    public var rowsByVersion: [String: Int]
}

extension FeatureStore {
    /// Opens the version `selector` picks for online reads (memory map, id index).
    public func openOnline(name: String, _ selector: VersionSelector = .latest) throws -> OnlineVersion {
        let record = try resolve(name, selector)
        return try OnlineVersion(directory: directory(of: record), record: record)
    }

    /// The vectors of `ids` in the version of `name` that `selector` picks.
    /// Cost: opening the version (memory map plus an id index, O(count)) and O(dimension) per id.
    public func vectors(name: String, _ selector: VersionSelector = .latest, ids: [String]) throws -> VectorLookup {
        let online = try openOnline(name: name, selector)
        return VectorLookup(version: online.record, vectors: ids.map { online.vector(for: $0) })
    }

    /// Copies the whole version `selector` picks into `destination` as an embedding table
    /// directory (`vectors.npy`, `ids.tsv`, `meta.json`), via a temporary sibling and a rename.
    /// - Throws: ``FeatureStoreError`` when `destination` exists or a file cannot be copied.
    @discardableResult
    public func export(name: String, _ selector: VersionSelector = .latest, to destination: URL) throws -> VersionRecord {
        let record = try resolve(name, selector)
        let fm = FileManager.default
        let target = destination.standardizedFileURL
        guard !fm.fileExists(atPath: target.path) else {
            throw FeatureStoreError(.invalid, "\(target.path) exists; export writes a new directory")
        }
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
            for file in [EmbeddingTable.vectorsFileName, EmbeddingTable.idsFileName, EmbeddingTable.metadataFileName] {
                try fm.copyItem(at: directory(of: record).appendingPathComponent(file), to: temporary.appendingPathComponent(file))
                chmod(temporary.appendingPathComponent(file).path, 0o644)
            }
            try fm.moveItem(at: temporary, to: target)
        } catch {
            try? fm.removeItem(at: temporary)
            throw FeatureStoreError(.storage, "cannot export \(record.reference) to \(target.path): \(error.localizedDescription)")
        }
        return record
    }

    /// Point-in-time join: for each `id, timestamp` row of `rows` (tab- or comma-separated; a
    /// header line is skipped; timestamps as ``Timestamp/parse(_:)`` reads them), the vector of
    /// `id` in the active version of `name` whose window holds the timestamp (see
    /// ``VersionSelector/asOf(_:)``): never a version whose window starts after the row's time.
    ///
    /// Writes the directory `output`: `vectors.npy` (`rows x dimension` float32, zeros where no
    /// vector was found) and `rows.tsv` (`id`, `timestamp`, `version` — empty when not found).
    /// Streams: the input is read and the output written in 1 MiB blocks, and versions are
    /// memory-mapped, so memory does not grow with the number of rows.
    /// - Throws: ``FeatureStoreError`` naming the input line of a malformed row.
    @discardableResult
    public func join(name: String, rows input: URL, output: URL,
                     progress: ((Int) -> Void)? = nil) throws -> JoinSummary {
        let versions = try activeVersions(name)
        guard let first = versions.first else {
            throw FeatureStoreError(.notFound, "embedding '\(name)' has no active version")
        }
        let dimension = first.dimension
        var opened = [String: OnlineVersion]()
        func online(_ v: VersionRecord) throws -> OnlineVersion {
            if let o = opened[v.version] { return o }
            let o = try OnlineVersion(directory: directory(of: v), record: v)
            opened[v.version] = o
            return o
        }
        let fm = FileManager.default
        let target = output.standardizedFileURL
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(at: temporary)
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: true) } catch {
            throw FeatureStoreError(.storage, "\(temporary.path): \(error.localizedDescription)")
        }
        var summary = JoinSummary(rows: 0, matched: 0, noVersion: 0, missingID: 0, rowsByVersion: [:])
        do {
            let vectorsOut = try BufferedWriter(temporary.appendingPathComponent(EmbeddingTable.vectorsFileName))
            let rowsOut = try BufferedWriter(temporary.appendingPathComponent("rows.tsv"))
            let headerLength = NPY.headerBytes(descr: "<f4", rows: 0, columns: dimension).count
            try vectorsOut.write([UInt8](repeating: 0x20, count: headerLength))
            try rowsOut.write(Array("id\ttimestamp\tversion\n".utf8))
            let zeros = [Float](repeating: 0, count: dimension)
            var lastVersion: VersionRecord?
            try LineReader.forEachLine(of: input) { line, number in
                // Split at the first tab or comma.
                guard let sep = line.firstIndex(where: { $0 == 0x09 || $0 == 0x2C }) else {
                    if line.isEmpty { return }
                    throw FeatureStoreError(.invalid, "\(input.path):\(number): expected 'id<TAB or ,>timestamp'")
                }
                let idBytes = UnsafeBufferPointer(rebasing: line[..<sep])
                var timeBytes = UnsafeBufferPointer(rebasing: line[(sep + 1)...])
                if let end = timeBytes.firstIndex(where: { $0 == 0x09 || $0 == 0x2C }) {
                    timeBytes = UnsafeBufferPointer(rebasing: timeBytes[..<end])
                }
                guard let t = Timestamp.parse(bytes: timeBytes) else {
                    if number == 1 { return }  // a header line
                    throw FeatureStoreError(.invalid, "\(input.path):\(number): timestamp \(String(decoding: timeBytes, as: UTF8.self).debugDescription) is neither ISO-8601 nor seconds since the epoch")
                }
                summary.rows += 1
                let version: VersionRecord?
                if let lastVersion, lastVersion.covers(t), Self.pickAsOf(versions, t)?.version == lastVersion.version {
                    version = lastVersion
                } else {
                    version = Self.pickAsOf(versions, t)
                }
                lastVersion = version
                var found = false
                if let version {
                    let o = try online(version)
                    if let r = o.index.row(of: idBytes, in: o.idsFile.bytes) {
                        try o.withVector(atRow: r) { try vectorsOut.write(raw: UnsafeRawBufferPointer($0)) }
                        found = true
                        summary.matched += 1
                        summary.rowsByVersion[version.version, default: 0] += 1
                    } else {
                        summary.missingID += 1
                    }
                } else {
                    summary.noVersion += 1
                }
                if !found { try zeros.withUnsafeBytes { try vectorsOut.write(raw: $0) } }
                try rowsOut.write(idBytes)
                try rowsOut.write([0x09])
                try rowsOut.write(timeBytes)
                try rowsOut.write([0x09])
                if found, let version { try rowsOut.write(Array(version.version.utf8)) }
                try rowsOut.write([0x0A])
                if summary.rows % 1_000_000 == 0 { progress?(summary.rows) }
            }
            try vectorsOut.flush()
            let header = NPY.headerBytes(descr: "<f4", rows: summary.rows, columns: dimension)
            guard header.count == headerLength else {
                throw FeatureStoreError(.storage, "npy header grew from \(headerLength) to \(header.count) bytes")
            }
            try vectorsOut.write(header, at: 0)
            try vectorsOut.close()
            try rowsOut.close()
            if fm.fileExists(atPath: target.path) {
                guard fm.fileExists(atPath: target.appendingPathComponent("rows.tsv").path) else {
                    throw FeatureStoreError(.invalid, "\(target.path) exists and is not a join output; refusing to replace it")
                }
                try fm.removeItem(at: target)
            }
            try fm.moveItem(at: temporary, to: target)
        } catch {
            try? fm.removeItem(at: temporary)
            if let e = error as? FeatureStoreError { throw e }
            throw FeatureStoreError(.storage, "join into \(target.path): \(error.localizedDescription)")
        }
        return summary
    }
}

/// Appends bytes to a file through a 1 MiB buffer.
final class BufferedWriter {
    let fd: Int32
    let path: String
    var buffer = [UInt8]()

    init(_ url: URL) throws {
        path = url.path
        fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FeatureStoreError(.storage, "\(path): cannot create: \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write(raw: $0) } }
    func write(_ bytes: UnsafeBufferPointer<UInt8>) throws { try write(raw: UnsafeRawBufferPointer(bytes)) }

    func write(raw: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: raw)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { throw FeatureStoreError(.storage, "\(path): write failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes `bytes` at `offset` (after a flush), e.g. a header patched in at the end.
    func write(_ bytes: [UInt8], at offset: Int) throws {
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw FeatureStoreError(.storage, "\(path): write failed: \(String(cString: strerror(errno)))") }
    }

    func close() throws {
        try flush()
        _ = fsync(fd)
        _ = Foundation.close(fd)
    }
}

/// Reads a file's lines in 1 MiB blocks.
enum LineReader {
    /// Calls `body` with each line's bytes (without `\n` or `\r\n`) and its 1-based number.
    static func forEachLine(of url: URL, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw FeatureStoreError(.invalid, "\(url.path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var filled = 0, number = 0
        while true {
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            guard n >= 0 else { throw FeatureStoreError(.invalid, "\(url.path): read failed: \(String(cString: strerror(errno)))") }
            let end = filled + n
            let consumed: Int = try buffer.withUnsafeBufferPointer { all in
                var start = 0
                while start < end {
                    guard let nl = all[start..<end].firstIndex(of: 0x0A) else { break }
                    var stop = nl
                    if stop > start, all[stop - 1] == 0x0D { stop -= 1 }
                    number += 1
                    try body(UnsafeBufferPointer(rebasing: all[start..<stop]), number)
                    start = nl + 1
                }
                if n == 0 && start < end {
                    var stop = end
                    if all[stop - 1] == 0x0D { stop -= 1 }
                    number += 1
                    try body(UnsafeBufferPointer(rebasing: all[start..<stop]), number)
                    start = end
                }
                return start
            }
            if n == 0 { return }
            buffer.withUnsafeMutableBytes { b in
                if consumed < end { memmove(b.baseAddress!, b.baseAddress! + consumed, end - consumed) }
            }
            filled = end - consumed
        }
    }
}
