import EmbeddingStore
import Foundation
import GRDB

/// What ``FeatureStore/FeatureStore/publish(table:options:)`` should register.
public struct PublishOptions: Sendable {
    /// The embedding's name (created on first publish).
    public var name: String
    /// The version string; default `v<N>` with N one more than the versions so far.
    public var version: String?
    /// Start of the time window the vectors describe; default the table's `created_at`.
    public var validFrom: Double?
    /// End of the window (exclusive); default open-ended.
    public var validTo: Double?
    /// Description, owner and tags of the embedding (set when given, kept otherwise).
    public var description: String?
    /// See ``PublishOptions/description``.
    public var owner: String?
    /// See ``PublishOptions/description``.
    public var tags: [String]?
    /// What the version was made from: `name@version` of published versions, or file paths.
    /// The table's `input_file` is added automatically.
    public var lineage: [String]
    /// Aliases to point at the new version besides `latest`.
    public var aliases: [String]
    /// Whether to move the `latest` alias to the new version (default true).
    public var moveLatest: Bool
    /// Hard-link the files into the store instead of copying them (falls back to a copy across
    /// file systems). Safe with tables written by this package (they are replaced by rename,
    /// never rewritten in place).
    public var link: Bool
    /// Called as the publish passes each stage (for progress lines).
    public var progress: (@Sendable (PublishStage) -> Void)?

    /// Options for publishing under `name` with every default.
    public init(name: String, version: String? = nil, validFrom: Double? = nil, validTo: Double? = nil,
                description: String? = nil, owner: String? = nil, tags: [String]? = nil, lineage: [String] = [],
                aliases: [String] = [], moveLatest: Bool = true, link: Bool = false,
                progress: (@Sendable (PublishStage) -> Void)? = nil) {
        self.name = name; self.version = version; self.validFrom = validFrom; self.validTo = validTo
        self.description = description; self.owner = owner; self.tags = tags; self.lineage = lineage
        self.aliases = aliases; self.moveLatest = moveLatest; self.link = link; self.progress = progress
    }
}

/// The stages of a publish, in order.
public enum PublishStage: String, Sendable {
    /// The table's header, metadata and ids were checked.
    case validated
    /// The files are in the store's staging area (copied or linked) and flushed.
    case staged
    /// The checksums were computed (and matched meta.json's `vectors_checksum` when present).
    case verified
    /// Inside the registry transaction, the directory moved into place, before the commit.
    case registering
    /// The version is visible.
    case committed
}

/// What a publish did.
public struct PublishResult: Sendable {
    /// The registered version (the existing one when nothing changed).
    public var version: VersionRecord
    /// False when the same content was already published under this name (a no-op).
    public var created: Bool
}

extension FeatureStore {
    /// Publishes the embedding table in `table` (`vectors.npy`, `ids.tsv`, `meta.json`) as a new
    /// immutable version of `options.name`.
    ///
    /// 1. Checks `vectors.npy` (2-D `<f4`, C order, as long as its shape says), `meta.json`
    ///    (count and dimension agree) and `ids.tsv` (one non-empty, unique id per row).
    /// 2. Copies (or hard-links) the three files into `tmp/` inside the store and flushes them.
    /// 3. Hashes the staged `vectors.npy` and `ids.tsv` (SHA-256); when `meta.json` carries a
    ///    `vectors_checksum`, they must agree.
    /// 4. In one write transaction: if a version of this name has the same checksums, nothing
    ///    changes (publishing twice is a no-op); otherwise the staged directory is renamed to
    ///    `versions/NAME/VERSION`, the version row inserted and `latest` (and `options.aliases`)
    ///    moved, then the transaction commits. A process killed at any point leaves either the
    ///    committed version or nothing visible; its leftovers are removed by the next publish.
    ///
    /// Cost: one copy and one hash pass over the files; memory O(count) for the id check.
    /// - Throws: ``FeatureStoreError``: `.invalid` for a malformed table or option, `.integrity`
    ///   for a checksum mismatch, `.conflict` when the version string exists with other content.
    @discardableResult
    public func publish(table: URL, options: PublishOptions) throws -> PublishResult {
        try StoreNames.validate(options.name, as: "embedding name")
        if let v = options.version { try StoreNames.validate(v, as: "version") }
        for a in options.aliases { try StoreNames.validate(a, as: "alias") }
        let source = table.standardizedFileURL
        let metaURL = source.appendingPathComponent(EmbeddingTable.metadataFileName)
        let vectorsURL = source.appendingPathComponent(EmbeddingTable.vectorsFileName)
        let idsURL = source.appendingPathComponent(EmbeddingTable.idsFileName)
        let meta: EmbeddingMetadata
        do { meta = try EmbeddingTable.readMetadata(metaURL) } catch {
            throw FeatureStoreError(.invalid, "\(error)")
        }
        let claimedChecksum = try Self.claimedVectorsChecksum(metaURL)
        try Self.checkVectorsFile(vectorsURL, meta: meta)
        let validFrom = options.validFrom ?? Timestamp.parse(meta.createdAt) ?? Timestamp.now()
        if let to = options.validTo, to <= validFrom {
            throw FeatureStoreError(.invalid, "valid-to \(Timestamp.format(to)) is not after valid-from \(Timestamp.format(validFrom))")
        }
        let lineage = try resolveLineage(options.lineage, meta: meta)
        options.progress?(.validated)

        // Stage.
        let fm = FileManager.default
        let tmp = directory.appendingPathComponent("tmp", isDirectory: true)
        let staging = tmp.appendingPathComponent("\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw FeatureStoreError(.storage, "\(staging.path): cannot create the staging directory: \(error.localizedDescription)")
        }
        var moved: URL?
        defer {
            try? fm.removeItem(at: staging)
        }
        for file in [EmbeddingTable.vectorsFileName, EmbeddingTable.idsFileName, EmbeddingTable.metadataFileName] {
            let from = source.appendingPathComponent(file), to = staging.appendingPathComponent(file)
            try Self.place(from, at: to, link: options.link && file != EmbeddingTable.metadataFileName)
        }
        Self.sync(staging.path)
        // The id check runs on the staged copy (what readers will map).
        do {
            let ids = try MappedFile(staging.appendingPathComponent(EmbeddingTable.idsFileName))
            _ = try IDIndex(bytes: ids.bytes, expectedRows: meta.count, path: idsURL.path)
        }
        options.progress?(.staged)

        let vectorsChecksum: String, idsChecksum: String
        do {
            vectorsChecksum = "sha256:" + (try FileChecksum.sha256(of: staging.appendingPathComponent(EmbeddingTable.vectorsFileName)))
            idsChecksum = "sha256:" + (try FileChecksum.sha256(of: staging.appendingPathComponent(EmbeddingTable.idsFileName)))
        } catch {
            throw FeatureStoreError(.storage, "\(error)")
        }
        if let claimedChecksum, claimedChecksum != vectorsChecksum {
            throw FeatureStoreError(.integrity, "\(vectorsURL.path): SHA-256 is \(vectorsChecksum), but \(metaURL.path) says \(claimedChecksum)")
        }
        options.progress?(.verified)

        let now = EmbeddingMetadata.timestamp()
        let result: PublishResult = try wrap {
            try pool.writeWithoutTransaction { db in
                var outcome: PublishResult?
                do {
                    try db.inTransaction(.immediate) {
                        try self.removeLeftovers(db, name: options.name)
                        if let row = try Row.fetchOne(db, sql: """
                            SELECT * FROM version WHERE embedding = ? AND vectors_checksum = ? AND ids_checksum = ? ORDER BY id LIMIT 1
                            """, arguments: [options.name, vectorsChecksum, idsChecksum]) {
                            outcome = PublishResult(version: try Self.versionRecord(row), created: false)
                            return .commit
                        }
                        try self.upsertEmbedding(db, options: options, entityType: meta.entityType, now: now)
                        let existing = try Self.versions(db, of: options.name)
                        if let first = existing.first, first.dimension != meta.dimension {
                            throw FeatureStoreError(.conflict, "embedding '\(options.name)' has dimension \(first.dimension); this table has \(meta.dimension)")
                        }
                        let version: String
                        if let v = options.version {
                            if existing.contains(where: { $0.version == v }) {
                                throw FeatureStoreError(.conflict, "embedding '\(options.name)' already has a version '\(v)' with other content; choose another --version")
                            }
                            version = v
                        } else {
                            var k = existing.count + 1
                            while existing.contains(where: { $0.version == "v\(k)" }) { k += 1 }
                            version = "v\(k)"
                        }
                        let relative = "versions/\(options.name)/\(version)"
                        let final = self.directory.appendingPathComponent(relative, isDirectory: true)
                        do {
                            try fm.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
                        } catch {
                            throw FeatureStoreError(.storage, "\(final.deletingLastPathComponent().path): \(error.localizedDescription)")
                        }
                        guard rename(staging.path, final.path) == 0 else {
                            throw FeatureStoreError(.storage, "cannot move \(staging.path) to \(final.path): \(String(cString: strerror(errno)))")
                        }
                        moved = final
                        Self.sync(final.deletingLastPathComponent().path)
                        let record = VersionRecord(
                            embedding: options.name, version: version, createdAt: meta.createdAt, publishedAt: now,
                            validFrom: validFrom, validTo: options.validTo, dimension: meta.dimension, count: meta.count,
                            algorithm: meta.algorithm, parameters: meta.parameters, inputChecksum: meta.inputChecksum,
                            vectorsChecksum: vectorsChecksum, idsChecksum: idsChecksum, lineage: lineage,
                            scores: meta.scores, status: .active, path: relative)
                        try db.execute(sql: """
                            INSERT INTO version (embedding, version, created_at, published_at, valid_from, valid_to, dimension,
                                count, algorithm, parameters, input_checksum, vectors_checksum, ids_checksum, lineage, scores,
                                status, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [
                                record.embedding, record.version, record.createdAt, record.publishedAt, record.validFrom,
                                record.validTo, record.dimension, record.count, record.algorithm,
                                try Self.encodeJSON(record.parameters), record.inputChecksum, record.vectorsChecksum,
                                record.idsChecksum, try Self.encodeJSON(record.lineage), try Self.encodeJSON(record.scores),
                                record.status.rawValue, record.path,
                            ])
                        if options.moveLatest { try Self.moveAlias(db, name: options.name, alias: "latest", to: version) }
                        for alias in options.aliases { try Self.moveAlias(db, name: options.name, alias: alias, to: version) }
                        options.progress?(.registering)
                        outcome = PublishResult(version: record, created: true)
                        return .commit
                    }
                } catch {
                    // Rolled back: take the directory out again so nothing unregistered stays.
                    if let moved { try? fm.removeItem(at: moved) }
                    throw error
                }
                return outcome!
            }
        }
        options.progress?(.committed)
        return result
    }

    /// Removes what killed publishes left: staging directories of dead processes, and version
    /// directories of `name` that the registry does not name. Runs inside the write transaction,
    /// so no live publish is between its rename and its commit.
    func removeLeftovers(_ db: Database, name: String) throws {
        let fm = FileManager.default
        let tmp = directory.appendingPathComponent("tmp", isDirectory: true)
        for entry in (try? fm.contentsOfDirectory(atPath: tmp.path)) ?? [] {
            guard let dash = entry.firstIndex(of: "-"), let pid = Int32(entry[..<dash]) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                try? fm.removeItem(at: tmp.appendingPathComponent(entry))
            }
        }
        let dir = directory.appendingPathComponent("versions/\(name)", isDirectory: true)
        let registered = Set(try String.fetchAll(db, sql: "SELECT version FROM version WHERE embedding = ?", arguments: [name]))
        for entry in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where !registered.contains(entry) {
            try? fm.removeItem(at: dir.appendingPathComponent(entry))
        }
    }

    func upsertEmbedding(_ db: Database, options: PublishOptions, entityType: String, now: String) throws {
        if let row = try Row.fetchOne(db, sql: "SELECT * FROM embedding WHERE name = ?", arguments: [options.name]) {
            let record = try Self.embeddingRecord(row)
            guard record.entityType == entityType else {
                throw FeatureStoreError(.conflict, "embedding '\(options.name)' holds '\(record.entityType)' entities; this table's meta.json says '\(entityType)'")
            }
            try db.execute(sql: "UPDATE embedding SET owner = ?, description = ?, tags = ? WHERE name = ?", arguments: [
                options.owner ?? record.owner, options.description ?? record.description,
                try Self.encodeJSON(options.tags ?? record.tags), options.name,
            ])
        } else {
            try db.execute(sql: "INSERT INTO embedding (name, entity_type, owner, description, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [options.name, entityType, options.owner ?? "", options.description ?? "",
                                       try Self.encodeJSON(options.tags ?? []), now])
        }
    }

    /// Turns `--lineage` references into entries: `name@version` of a published version (checked)
    /// or an existing file (hashed); the table's own input file comes first.
    func resolveLineage(_ references: [String], meta: EmbeddingMetadata) throws -> [LineageEntry] {
        var entries = [LineageEntry]()
        if let input = meta.inputFile {
            entries.append(LineageEntry(kind: "file", reference: input, checksum: meta.inputChecksum))
        }
        for reference in references {
            if FileManager.default.fileExists(atPath: reference) {
                let url = URL(fileURLWithPath: reference).standardizedFileURL
                let digest: String
                do { digest = "sha256:" + (try FileChecksum.sha256(of: url)) } catch {
                    throw FeatureStoreError(.invalid, "lineage \(reference): \(error)")
                }
                entries.append(LineageEntry(kind: "file", reference: url.path, checksum: digest))
            } else if reference.contains("@") {
                let (name, selector) = VersionSelector.parse(reference: reference)
                let v = try resolve(name, selector)
                entries.append(LineageEntry(kind: "version", reference: v.reference, checksum: v.vectorsChecksum))
            } else {
                throw FeatureStoreError(.invalid, "lineage '\(reference)' is neither an existing file nor NAME@VERSION")
            }
        }
        return entries
    }

    /// `meta.json`'s optional `vectors_checksum` (`sha256:<hex>` or bare hex), normalised.
    static func claimedVectorsChecksum(_ metaURL: URL) throws -> String? {
        guard let data = FileManager.default.contents(atPath: metaURL.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let value = object["vectors_checksum"] else { return nil }
        guard let text = value as? String else {
            throw FeatureStoreError(.invalid, "\(metaURL.path): vectors_checksum is not a string")
        }
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw FeatureStoreError(.invalid, "\(metaURL.path): vectors_checksum \(text.debugDescription) is not sha256:<64 hex digits>")
        }
        return "sha256:" + hex.lowercased()
    }

    /// Checks that `vectors.npy` is a C-order 2-D float32 array matching `meta`, and long enough.
    static func checkVectorsFile(_ url: URL, meta: EmbeddingMetadata) throws {
        let header: NPYHeader
        do { header = try NPY.readHeader(from: url) } catch { throw FeatureStoreError(.invalid, "\(error)") }
        guard header.descr == "<f4" else {
            throw FeatureStoreError(.invalid, "\(url.path): dtype '\(header.descr)', expected '<f4' (float32)")
        }
        guard header.shape.count == 2, !header.fortranOrder else {
            throw FeatureStoreError(.invalid, "\(url.path): shape \(header.shape)\(header.fortranOrder ? " in Fortran order" : ""); expected 2-D (count, dimension) in C order")
        }
        guard header.shape[0] == meta.count, header.shape[1] == meta.dimension else {
            throw FeatureStoreError(.invalid, "\(url.path): shape \(header.shape) but meta.json says count \(meta.count), dimension \(meta.dimension)")
        }
        guard meta.dimension > 0 else { throw FeatureStoreError(.invalid, "\(url.path): dimension 0") }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let needed = header.dataOffset + meta.count * meta.dimension * 4
        guard size == needed else {
            throw FeatureStoreError(.invalid, "\(url.path): \(size) bytes, expected \(needed) for \(meta.count) x \(meta.dimension) float32")
        }
    }

    /// Hard-links or copies `from` to `to`; copies are made read-only.
    static func place(_ from: URL, at to: URL, link linkFile: Bool) throws {
        if linkFile, link(from.path, to.path) == 0 { return }
        do { try FileManager.default.copyItem(at: from, to: to) } catch {
            throw FeatureStoreError(.storage, "cannot copy \(from.path) into the store: \(error.localizedDescription)")
        }
        chmod(to.path, 0o444)
        sync(to.path)
    }

    /// Flushes a file or directory to stable storage (best effort).
    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); _ = close(fd) }
    }
}
