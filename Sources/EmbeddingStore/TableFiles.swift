import Foundation
import LinearAlgebra

/// File-system helpers of table directories and output runs: flushed writes into a staging
/// directory, renames and exchanges of directories. A single file is replaced through
/// LinearAlgebra's ``AtomicFile`` (the package's one atomic file writer).
enum AtomicFiles {
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

    /// Atomically swaps two existing paths with Linux's `renameat2(RENAME_EXCHANGE)`; false when
    /// the call is unavailable or the file system cannot exchange (the paths are then unchanged).
    static func exchange(_ a: URL, _ b: URL) -> Bool {
        #if os(Linux)
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let atCurrentDirectory: Int32 = -100, exchange: UInt32 = 2
        return renameat2(atCurrentDirectory, a.path, atCurrentDirectory, b.path, exchange) == 0
        #else
        return false
        #endif
    }

    /// Replaces the file at `url` with `data` atomically (``AtomicFile``: temporary sibling,
    /// fsync, rename, directory fsync), so readers see either the old or the new file, never a
    /// partial one.
    static func replaceFile(at url: URL, with data: Data) throws {
        do { try AtomicFile.write(data, to: url.path) } catch let error as AtomicFileError {
            throw EmbeddingStoreError(error)
        }
    }
}

extension EmbeddingStoreError {
    /// The same path and problem as an ``AtomicFileError``.
    init(_ error: AtomicFileError) {
        self.init(path: error.path, problem: error.problem)
    }
}

/// A file written front to back through one descriptor and flushed at the end (no whole-file buffer).
///
/// With `direct`, the bytes go to the disk by direct I/O (Linux `O_DIRECT`) in aligned 4 MiB
/// blocks gathered in a buffer of the file's own: the kernel then neither copies them into the
/// page cache nor throttles the writer on dirty pages, so a large file costs the CPU only the copy
/// into that buffer. On the project's VM (issue 11) a 512 MiB table took 1.45 s through the page
/// cache, most of it the kernel's copy into freshly allocated cache pages. The file's last partial
/// block is written through the page cache; where the file system refuses direct I/O (`EINVAL`
/// at open or at a write) the file goes on through the page cache, the same bytes either way.
struct StreamedFile {
    let fd: Int32
    let path: String
    /// The aligned block buffer of a direct-I/O file (nil: plain writes), and its bytes in use.
    private var block: UnsafeMutableRawBufferPointer?
    private var blockUsed = 0
    private var direct: Bool
    /// Bytes written by direct I/O so far.
    private(set) var directBytes = 0

    /// The size of a direct write: a multiple of every logical block size Linux uses.
    static let directBlockBytes = 4 << 20
    static let directAlignment = 4096

    #if os(Linux) && arch(x86_64)
    static let directFlag: Int32 = 0o040000
    #elseif os(Linux) && arch(arm64)
    static let directFlag: Int32 = 0o200000
    #else
    static let directFlag: Int32 = 0
    #endif

    /// Creates (truncates) `url`, runs `body` to append its bytes, flushes it and closes it;
    /// `direct` asks for direct I/O (see the type's note; used for files of many MiB). Returns the
    /// bytes that went by direct I/O (0 without it).
    @discardableResult
    static func write(_ url: URL, direct: Bool = false, _ body: (inout StreamedFile) throws -> Void) throws -> Int {
        let flags = O_WRONLY | O_CREAT | O_TRUNC
        var fd: Int32 = -1
        var isDirect = direct && directFlag != 0
        if isDirect {
            fd = open(url.path, flags | directFlag, 0o644)
            if fd < 0 && errno == EINVAL { isDirect = false }      // the file system has no direct I/O
        }
        if fd < 0 && !isDirect { fd = open(url.path, flags, 0o644) }
        guard fd >= 0 else {
            throw EmbeddingStoreError(path: url.path, problem: "cannot create file: \(String(cString: strerror(errno)))")
        }
        var file = StreamedFile(fd: fd, path: url.path, direct: isDirect)
        defer {
            _ = close(fd)
            file.block?.deallocate()
        }
        if isDirect {
            file.block = UnsafeMutableRawBufferPointer.allocate(byteCount: directBlockBytes, alignment: directAlignment)
        }
        try body(&file)
        try file.flushBlock(final: true)
        guard fsync(fd) == 0 else {
            throw EmbeddingStoreError(path: url.path, problem: "cannot flush: \(String(cString: strerror(errno)))")
        }
        return file.directBytes
    }

    private init(fd: Int32, path: String, direct: Bool) {
        self.fd = fd
        self.path = path
        self.direct = direct
    }

    mutating func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let block else { return try writePlain(bytes) }
        var offset = 0
        while offset < bytes.count {
            let n = min(block.count - blockUsed, bytes.count - offset)
            (block.baseAddress! + blockUsed).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            blockUsed += n
            offset += n
            if blockUsed == block.count { try flushBlock(final: false) }
        }
    }

    /// Writes the block buffer: whole aligned blocks by direct I/O, and at the end (`final`)
    /// the unaligned tail through the page cache.
    private mutating func flushBlock(final: Bool) throws {
        guard let block, blockUsed > 0 else { return }
        let aligned = final ? blockUsed / Self.directAlignment * Self.directAlignment : blockUsed
        var done = 0
        if direct {
            while done < aligned {
                let n = Foundation.write(fd, block.baseAddress! + done, aligned - done)
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EINVAL { break }          // refused: the rest goes through the page cache
                guard n > 0 else {
                    throw EmbeddingStoreError(path: path, problem: "write failed: \(n == 0 ? "no bytes written" : String(cString: strerror(errno)))")
                }
                done += n
                if done % Self.directAlignment != 0 { break }   // a short unaligned write: go on buffered
            }
            directBytes += done
        }
        if done < blockUsed {
            try stopDirect()
            try writePlain(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(block)[done..<blockUsed]))
        }
        blockUsed = 0
    }

    /// Clears `O_DIRECT` on the descriptor, so that the following writes go through the page cache.
    private mutating func stopDirect() throws {
        guard direct else { return }
        direct = false
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~Self.directFlag) == 0 else {
            throw EmbeddingStoreError(path: path, problem: "cannot turn off direct I/O: \(String(cString: strerror(errno)))")
        }
    }

    private func writePlain(_ bytes: UnsafeRawBufferPointer) throws {
        do { try AtomicFile.writeAll(fd, bytes, path: path) } catch let error as AtomicFileError {
            throw EmbeddingStoreError(error)
        }
    }
}

extension EmbeddingTable {
    /// The files a table directory holds; a directory holding only these (or nothing) may be
    /// replaced by ``write(to:)``.
    public static let fileNames: Set<String> = [vectorsFileName, idsFileName, metadataFileName]

    /// Writes the table as a directory (`vectors.npy`, `ids.tsv`, `meta.json`), atomically.
    ///
    /// The files go into a hidden staging sibling `.<name>.staging-<pid>-<random>`, each flushed
    /// with `fsync`, and the staging directory then takes `directory`'s place in one atomic
    /// exchange (``OutputRun``): readers see the old table or the new one, never a mix or
    /// nothing. An existing `directory` must be empty or hold only the table files: anything
    /// else in it is left untouched and the write refused. Missing parent directories are created.
    ///
    /// Cost: O(count * dimension) time; extra memory O(64K floats + ids).
    /// - Throws: ``EmbeddingStoreError`` when a file cannot be written, or when `directory`
    ///   exists and is not a table directory (nothing is changed).
    public func write(to directory: URL) throws {
        let run = try OutputRun(destination: directory, tool: "embedding table", entries: Self.fileNames, marked: false)
        do {
            try writeFiles(into: run.staging)
            try run.commit()
        } catch {
            run.discard()
            throw error
        }
    }

    /// Writes `vectors.npy`, `ids.tsv` and `meta.json` into an existing directory (an
    /// ``OutputRun``'s staging directory), each flushed. Not atomic by itself.
    public func writeFiles(into directory: URL) throws {
        try NPY.write(vectors, to: directory.appendingPathComponent(Self.vectorsFileName))
        var idText = ids.joined(separator: "\n")
        if !ids.isEmpty { idText += "\n" }
        try AtomicFiles.writeSynced(Data(idText.utf8), to: directory.appendingPathComponent(Self.idsFileName))
        try AtomicFiles.writeSynced(try encodedMetadata(path: directory.path),
                                    to: directory.appendingPathComponent(Self.metadataFileName))
    }

    /// Writes a table's three files into an existing directory (an ``OutputRun``'s staging
    /// directory) without ever holding the table: `vectors.npy` is streamed in blocks of rows that
    /// `rows` fills, `ids.tsv` from `id(i)`, then `meta.json` (its count and dimension set here).
    /// The bytes are those ``writeFiles(into:)`` writes for the same table.
    ///
    /// `rows(range, buffer)` fills `buffer` with rows `range` in C order (`(i - range.lowerBound)
    /// * dimension + j`); blocks hold about 64K elements. A `vectors.npy` of 2^20 elements or
    /// more is written by direct I/O where the file system allows it (no copy into the page
    /// cache; still flushed with `fsync`).
    ///
    /// Checks as ``init(ids:vectors:metadata:)`` does, row by row (an empty id or one with a tab
    /// or line break, a non-finite element), except that ids are not checked for repeats: that
    /// would hold every id at once. Ids must be distinct (e.g. from one id map).
    ///
    /// Cost: O(count * dimension) time; memory one block of rows, one block of ids and a 4 MiB
    /// direct-I/O buffer.
    /// - Throws: ``EmbeddingStoreError`` naming the file and row for a bad id or element, or a
    ///   failed write (the files are then incomplete: write into a staging directory).
    public static func writeStreamedFiles(into directory: URL, count: Int, dimension: Int, metadata: EmbeddingMetadata,
                                          id: (Int) -> String,
                                          rows: (Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void) throws {
        precondition(count >= 0 && dimension >= 0, "writeStreamedFiles: negative shape")
        let vectorsURL = directory.appendingPathComponent(vectorsFileName)
        try StreamedFile.write(vectorsURL, direct: count * dimension >= 1 << 20) { out in
            try out.append(NPY.headerBytes(descr: Float.npyDescr, rows: count, columns: dimension))
            guard count > 0, dimension > 0 else { return }
            let blockRows = max(1, min(count, (1 << 16) / dimension))
            var buffer = [Float](repeating: 0, count: blockRows * dimension)
            var r0 = 0
            while r0 < count {
                let r1 = min(count, r0 + blockRows), used = (r1 - r0) * dimension
                try buffer.withUnsafeMutableBufferPointer { b in
                    let block = UnsafeMutableBufferPointer(rebasing: b[0..<used])
                    rows(r0..<r1, block)
                    if let bad = block.firstIndex(where: { !$0.isFinite }) {
                        throw EmbeddingStoreError(path: vectorsURL.path, problem: "vector element (\(r0 + bad / dimension), \(bad % dimension)) is \(block[bad])")
                    }
                    try out.append(UnsafeRawBufferPointer(block))
                }
                r0 = r1
            }
        }
        let idsURL = directory.appendingPathComponent(idsFileName)
        try StreamedFile.write(idsURL) { out in
            var bytes = [UInt8]()
            bytes.reserveCapacity(1 << 16)
            for i in 0..<count {
                let text = id(i)
                if text.isEmpty || text.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
                    throw EmbeddingStoreError(path: idsURL.path, problem: "id of row \(i) (\(text.debugDescription)) is empty or contains a tab or line break")
                }
                bytes.append(contentsOf: text.utf8)
                bytes.append(0x0A)
                if bytes.count >= 1 << 16 { try out.append(bytes); bytes.removeAll(keepingCapacity: true) }
            }
            try out.append(bytes)
        }
        var meta = metadata
        meta.count = count
        meta.dimension = dimension
        let data: Data
        do { data = try meta.jsonData() } catch {
            throw EmbeddingStoreError(path: directory.path, problem: "cannot encode metadata (non-finite score?): \(error)")
        }
        try AtomicFiles.writeSynced(data, to: directory.appendingPathComponent(metadataFileName))
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
        guard String(data: data, encoding: .utf8) != nil else {
            throw EmbeddingStoreError(path: url.path, problem: "not valid UTF-8")
        }
        if data.isEmpty { return [] }
        // Split on the bytes: in a String, "\r\n" is one Character and never equals "\n", so a
        // CRLF file would read as a single id. A UTF-8 byte-order mark is dropped.
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> String in
            String(decoding: line.last == 0x0D ? line.dropLast() : line[...], as: UTF8.self)
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

/// One run's output directory, written as a whole: everything goes into a hidden staging
/// directory beside it, which then takes the destination's place in one atomic step.
///
/// The package's one atomic writer of directories (embedding tables, multi-table runs such as
/// `follow-graph-svd`'s `consumers`/`producers`/`nodes`, generated graphs; single files are
/// replaced by LinearAlgebra's atomic file writer):
///
/// 1. ``init(destination:tool:entries:marked:)`` checks the destination before any work:
///    it must be absent, empty, or hold only entries this writer makes (`entries`, or those a
///    marked previous run lists in its `.embeddings-run` marker); anything else there (a
///    user's file) makes it refuse, so a tool deletes only what it wrote. It removes staging
///    directories left by killed runs (`.<name>.staging-<pid>-*` whose process is gone) and
///    creates a fresh staging directory.
/// 2. The caller writes into ``staging``.
/// 3. ``commit()`` writes the marker (when `marked`), flushes, and swaps staging and
///    destination with `renameat2(RENAME_EXCHANGE)` (one atomic step on Linux: the path
///    always holds a complete old or new run), then deletes the old content. Where the file
///    system cannot exchange, it falls back to two renames.
///
/// A run killed at any point leaves the previous output complete; its staging directory is
/// removed by the next run into the same destination.
public final class OutputRun: @unchecked Sendable {
    /// The marker file of a marked run directory: the tool and the entries it wrote.
    public static let markerName = ".embeddings-run"

    /// Where the output appears on ``commit()``.
    public let destination: URL
    /// The hidden directory to write into.
    public let staging: URL
    let tool: String
    let entries: Set<String>
    let marked: Bool
    private var done = false

    /// Prepares a run into `destination` (see the type's description).
    /// - Parameters:
    ///   - destination: the directory the run replaces (or creates) when it commits.
    ///   - tool: named in errors and in the marker.
    ///   - entries: names this writer may create inside `destination` (and so may replace).
    ///   - marked: whether the committed directory gets an `.embeddings-run` marker.
    /// - Throws: ``EmbeddingStoreError`` when `destination` is a file, holds entries this writer
    ///   did not make, or the staging directory cannot be created.
    public init(destination: URL, tool: String, entries: Set<String>, marked: Bool = true) throws {
        let fm = FileManager.default
        let target = destination.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw EmbeddingStoreError(path: parent.path, problem: "cannot create parent directory: \(error.localizedDescription)")
        }
        Self.removeStaleStaging(in: parent, name: name)
        try Self.checkReplaceable(target, tool: tool, entries: entries)
        let staging = parent.appendingPathComponent(".\(name).staging-\(getpid())-\(AtomicFile.randomSuffix())")
        do { try fm.createDirectory(at: staging, withIntermediateDirectories: false) } catch {
            throw EmbeddingStoreError(path: staging.path, problem: "cannot create staging directory: \(error.localizedDescription)")
        }
        self.destination = target
        self.staging = staging
        self.tool = tool
        self.entries = entries
        self.marked = marked
    }

    deinit { if !done { discard() } }

    /// Throws unless `target` is absent, an empty directory, or a directory whose entries this
    /// writer makes.
    static func checkReplaceable(_ target: URL, tool: String, entries: Set<String>) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: target.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw EmbeddingStoreError(path: target.path, problem: "exists and is not a directory; refusing to replace it")
        }
        let contents = (try? fm.contentsOfDirectory(atPath: target.path)) ?? []
        var ours = entries
        ours.insert(markerName)
        ours.formUnion(markedEntries(in: target))
        let foreign = contents.filter { !ours.contains($0) }.sorted()
        if !foreign.isEmpty {
            let shown = foreign.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ") + (foreign.count > 3 ? " and \(foreign.count - 3) more" : "")
            throw EmbeddingStoreError(path: target.path, problem: "exists and holds \(shown), which \(tool) does not write; refusing to replace it (choose another output, or remove it yourself)")
        }
    }

    /// The entries a marked run directory's marker lists (empty without a marker).
    static func markedEntries(in directory: URL) -> [String] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent(markerName), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { $0.hasPrefix("entry ") ? String($0.dropFirst(6)) : nil }
    }

    /// Removes `.<name>.staging-<pid>-*` siblings whose process no longer runs.
    static func removeStaleStaging(in parent: URL, name: String) {
        let fm = FileManager.default
        let prefix = ".\(name).staging-"
        for entry in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? [] where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
            if pid == getpid() { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // still running
            try? fm.removeItem(at: parent.appendingPathComponent(entry))
        }
    }

    /// Adds the marker (when marked), flushes, and puts the staged directory in place.
    /// - Throws: ``EmbeddingStoreError`` when the swap fails (the destination is unchanged).
    public func commit() throws {
        let fm = FileManager.default
        if marked {
            let written = ((try? fm.contentsOfDirectory(atPath: staging.path)) ?? []).filter { $0 != Self.markerName }.sorted()
            let text = "embeddings-run 1\ntool \(tool)\n" + written.map { "entry \($0)\n" }.joined()
            try AtomicFiles.writeSynced(Data(text.utf8), to: staging.appendingPathComponent(Self.markerName))
        }
        for entry in (try? fm.contentsOfDirectory(atPath: staging.path)) ?? [] {
            AtomicFile.sync(staging.appendingPathComponent(entry).path)
        }
        AtomicFile.sync(staging.path)
        let parent = destination.deletingLastPathComponent()
        if fm.fileExists(atPath: destination.path) {
            try Self.checkReplaceable(destination, tool: tool, entries: entries)  // re-check: it may have changed
            if AtomicFiles.exchange(staging, destination) {
                // `staging` now holds the previous output.
                done = true
                AtomicFile.sync(parent.path)
                try? fm.removeItem(at: staging)
                return
            }
            // No atomic exchange on this file system: move the old output aside, then rename.
            let old = parent.appendingPathComponent(".\(destination.lastPathComponent).staging-\(getpid())-\(AtomicFile.randomSuffix())")
            try AtomicFiles.rename(destination, old)
            do { try AtomicFiles.rename(staging, destination) } catch {
                try? AtomicFiles.rename(old, destination)
                throw error
            }
            done = true
            AtomicFile.sync(parent.path)
            try? fm.removeItem(at: old)
            return
        }
        try AtomicFiles.rename(staging, destination)
        done = true
        AtomicFile.sync(parent.path)
    }

    /// Removes the staging directory (the destination is untouched).
    public func discard() {
        done = true
        try? FileManager.default.removeItem(at: staging)
    }
}

extension OutputRun {
    /// Checks, before any work, that a file can later be written at `path` (a report): its
    /// directory exists and is writable, and `path` is not a directory.
    /// - Throws: ``EmbeddingStoreError`` saying what is wrong.
    public static func checkWritableFile(_ path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw EmbeddingStoreError(path: url.path, problem: "is a directory, not a file")
        }
        let parent = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EmbeddingStoreError(path: url.path, problem: "its directory \(parent) does not exist")
        }
        guard access(parent, W_OK) == 0 else {
            throw EmbeddingStoreError(path: url.path, problem: "its directory \(parent) is not writable")
        }
    }
}
