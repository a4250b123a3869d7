import Foundation
import LinearAlgebra

/// File-system helpers for atomic replacement: temporary siblings, fsync, rename.
enum AtomicFiles {
    /// A random 8-hex-digit suffix for temporary names.
    static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = UInt32.random(in: .min ... .max, using: &generator)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Flushes the file or directory at `path` to stable storage (best effort for directories).
    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            _ = close(fd)
        }
    }

    /// Writes `data` to `url` and flushes it.
    static func writeSynced(_ data: Data, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw EmbeddingStoreError(path: url.path, problem: "cannot create file")
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw EmbeddingStoreError(path: url.path, problem: "write failed: \(error.localizedDescription)")
        }
    }

    /// Renames `from` to `to` (POSIX `rename`: atomic, replaces a file at `to`).
    static func rename(_ from: URL, _ to: URL) throws {
        if Foundation.rename(from.path, to.path) != 0 {
            let message = String(cString: strerror(errno))
            throw EmbeddingStoreError(path: to.path, problem: "cannot rename \(from.path) to it: \(message)")
        }
    }

    /// Writes `data` to a temporary sibling of `url`, flushes it and renames it over `url`, so
    /// readers see either the old or the new file, never a partial one.
    static func replaceFile(at url: URL, with data: Data) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(randomSuffix())")
        do {
            try writeSynced(data, to: temporary)
            try rename(temporary, url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        sync(url.deletingLastPathComponent().path)
    }
}

extension EmbeddingTable {
    /// Writes the table as a directory (`vectors.npy`, `ids.tsv`, `meta.json`), atomically.
    ///
    /// The files go into a temporary sibling `.<name>.tmp-XXXXXXXX`, each flushed with `fsync`,
    /// and the directory is then renamed to `directory`. If `directory` already exists it must be
    /// an embedding table (it holds `meta.json`) or empty: it is first renamed to
    /// `.<name>.old-XXXXXXXX`, the new table renamed into place, and the old one deleted; if the
    /// second rename fails the old table is put back. Readers therefore never see a half-written
    /// table at `directory` (between the two renames the path is briefly absent). Missing parent
    /// directories are created.
    ///
    /// Cost: O(count * dimension) time; extra memory O(64K floats + ids).
    /// - Throws: ``EmbeddingStoreError`` or ``NPYError`` when a file cannot be written, or when
    ///   `directory` exists and is not an embedding table or empty directory (it is left untouched).
    public func write(to directory: URL) throws {
        let fm = FileManager.default
        let target = directory.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw EmbeddingStoreError(path: parent.path, problem: "cannot create parent directory: \(error.localizedDescription)")
        }
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: target.path, isDirectory: &isDirectory)
        if exists {
            guard isDirectory.boolValue else {
                throw EmbeddingStoreError(path: target.path, problem: "exists and is not a directory; refusing to replace it")
            }
            let contents = (try? fm.contentsOfDirectory(atPath: target.path)) ?? []
            guard contents.isEmpty || contents.contains(Self.metadataFileName) else {
                throw EmbeddingStoreError(path: target.path, problem: "exists and is neither empty nor an embedding table (no \(Self.metadataFileName)); refusing to replace it")
            }
        }
        let temporary = parent.appendingPathComponent(".\(name).tmp-\(AtomicFiles.randomSuffix())")
        do {
            do { try fm.createDirectory(at: temporary, withIntermediateDirectories: false) } catch {
                throw EmbeddingStoreError(path: temporary.path, problem: "cannot create temporary directory: \(error.localizedDescription)")
            }
            try NPY.write(vectors, to: temporary.appendingPathComponent(Self.vectorsFileName))
            var idText = ids.joined(separator: "\n")
            if !ids.isEmpty { idText += "\n" }
            try AtomicFiles.writeSynced(Data(idText.utf8), to: temporary.appendingPathComponent(Self.idsFileName))
            try AtomicFiles.writeSynced(try encodedMetadata(path: target.path),
                                        to: temporary.appendingPathComponent(Self.metadataFileName))
            AtomicFiles.sync(temporary.path)
            if exists {
                let old = parent.appendingPathComponent(".\(name).old-\(AtomicFiles.randomSuffix())")
                try AtomicFiles.rename(target, old)
                do { try AtomicFiles.rename(temporary, target) } catch {
                    try? AtomicFiles.rename(old, target)
                    throw error
                }
                try? fm.removeItem(at: old)
            } else {
                try AtomicFiles.rename(temporary, target)
            }
            AtomicFiles.sync(parent.path)
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
    }

    func encodedMetadata(path: String) throws -> Data {
        do { return try metadata.jsonData() } catch {
            throw EmbeddingStoreError(path: path, problem: "cannot encode metadata (non-finite score?): \(error)")
        }
    }

    /// Reads a table written by ``write(to:)`` (or by numpy with the same layout).
    ///
    /// Cost: O(count * dimension) time; peak memory about twice the vectors (C-order buffer and
    /// its column-major transpose).
    /// - Throws: ``EmbeddingStoreError`` naming the file when the directory or a file is missing,
    ///   `meta.json` is not valid metadata, `vectors.npy` is not a 2-D `'<f4'` array (wrong dtype,
    ///   shape or truncated data, reported as ``NPYError``), the number of ids differs from the
    ///   number of rows, an id repeats, or `meta.json`'s count/dimension disagree with the shape.
    public static func read(from directory: URL) throws -> EmbeddingTable {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EmbeddingStoreError(path: directory.path, problem: "embedding table directory does not exist")
        }
        let metaURL = directory.appendingPathComponent(metadataFileName)
        let metadata = try readMetadata(metaURL)
        let vectorsURL = directory.appendingPathComponent(vectorsFileName)
        let header = try NPY.readHeader(from: vectorsURL)
        guard header.descr == Float.npyDescr else {
            throw EmbeddingStoreError(path: vectorsURL.path, problem: "dtype is '\(header.descr)', expected '<f4' (float32)")
        }
        guard header.shape.count == 2 else {
            throw EmbeddingStoreError(path: vectorsURL.path, problem: "shape \(header.shape) is not 2-D (count, dimension)")
        }
        let vectors: Matrix<Float> = try NPY.read(from: vectorsURL)
        let idsURL = directory.appendingPathComponent(idsFileName)
        let ids = try readIDs(idsURL)
        guard ids.count == vectors.rows else {
            throw EmbeddingStoreError(path: idsURL.path, problem: "\(ids.count) ids but \(vectorsFileName) has \(vectors.rows) rows")
        }
        guard metadata.count == vectors.rows, metadata.dimension == vectors.columns else {
            throw EmbeddingStoreError(path: metaURL.path, problem: "says count \(metadata.count), dimension \(metadata.dimension), but \(vectorsFileName) is \(vectors.rows) x \(vectors.columns)")
        }
        do {
            return try EmbeddingTable(ids: ids, vectors: vectors, metadata: metadata)
        } catch let error as EmbeddingStoreError {
            throw EmbeddingStoreError(path: directory.path, problem: error.problem)
        }
    }

    /// Reads and decodes a `meta.json`.
    /// - Throws: ``EmbeddingStoreError`` if it is missing or not valid metadata.
    public static func readMetadata(_ url: URL) throws -> EmbeddingMetadata {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EmbeddingStoreError(path: url.path, problem: "file does not exist or cannot be read")
        }
        do {
            return try JSONDecoder().decode(EmbeddingMetadata.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw EmbeddingStoreError(path: url.path, problem: "missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw EmbeddingStoreError(path: url.path, problem: "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
        } catch {
            throw EmbeddingStoreError(path: url.path, problem: "malformed metadata JSON: \(error)")
        }
    }

    static func readIDs(_ url: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EmbeddingStoreError(path: url.path, problem: "file does not exist or cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EmbeddingStoreError(path: url.path, problem: "not valid UTF-8")
        }
        if text.isEmpty { return [] }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        if let empty = lines.firstIndex(of: "") {
            throw EmbeddingStoreError(path: url.path, problem: "line \(empty + 1) is empty")
        }
        return lines
    }

    /// Merges `scores` into the `meta.json` of the table at `directory` (existing names are
    /// overwritten, others kept) and rewrites the file atomically (temporary sibling, fsync,
    /// rename). The vectors and ids are not touched. Returns the updated metadata.
    /// Cost: O(size of meta.json).
    /// - Throws: ``EmbeddingStoreError`` if `meta.json` is missing or malformed, a score is not
    ///   finite, or the file cannot be written.
    @discardableResult
    public static func updateScores(in directory: URL, scores: [String: Double]) throws -> EmbeddingMetadata {
        let metaURL = directory.appendingPathComponent(metadataFileName)
        var metadata = try readMetadata(metaURL)
        for (name, value) in scores {
            guard value.isFinite else {
                throw EmbeddingStoreError(path: metaURL.path, problem: "score '\(name)' is \(value), not finite")
            }
            metadata.scores[name] = value
        }
        let data: Data
        do { data = try metadata.jsonData() } catch {
            throw EmbeddingStoreError(path: metaURL.path, problem: "cannot encode metadata: \(error)")
        }
        try AtomicFiles.replaceFile(at: metaURL, with: data)
        return metadata
    }
}
