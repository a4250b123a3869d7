import EmbeddingStore
import Foundation
import GRDB

/// A feature store: a directory holding `registry.sqlite` (SQLite in WAL mode, opened through
/// GRDB with versioned migrations) and `versions/NAME/VERSION/` table directories that never
/// change once registered.
///
/// Readers never block writers and see a version complete or not at all: a version's directory
/// is moved into place and its registry row inserted inside one write transaction, and readers
/// only open directories the registry names. Several processes may publish at once; SQLite's
/// lock (with a busy timeout) orders them.
///
/// ```swift
/// let store = try FeatureStore(directory: url, create: true)
/// let result = try store.publish(table: tableURL, options: PublishOptions(name: "users"))
/// let online = try store.openOnline(name: "users")          // memory-mapped, id -> row
/// let v = online.vector(for: "42")
/// ```
public final class FeatureStore: Sendable {
    /// The store's directory.
    public let directory: URL
    let pool: DatabasePool

    /// The registry file's name inside the store.
    public static let registryFileName = "registry.sqlite"

    /// Opens the store at `directory`, creating it when `create` is true, and brings its
    /// registry up to the newest schema (migrations run once, in order, in a transaction each).
    /// - Throws: ``FeatureStoreError`` (`.notFound`) when the store does not exist and `create` is
    ///   false, (`.storage`) when it cannot be opened or migrated.
    public init(directory: URL, create: Bool = false) throws {
        let dir = directory.standardizedFileURL
        self.directory = dir
        let fm = FileManager.default
        let registry = dir.appendingPathComponent(Self.registryFileName)
        if !fm.fileExists(atPath: registry.path) {
            guard create else {
                throw FeatureStoreError(.notFound, "\(dir.path): no feature store here (no \(Self.registryFileName)); create one with `embedding-store init`")
            }
            do {
                try fm.createDirectory(at: dir.appendingPathComponent("versions"), withIntermediateDirectories: true)
                try fm.createDirectory(at: dir.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            } catch {
                throw FeatureStoreError(.storage, "\(dir.path): cannot create the store: \(error.localizedDescription)")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.foreignKeysEnabled = true
        configuration.label = "FeatureStore"
        do {
            pool = try DatabasePool(path: registry.path, configuration: configuration)
            try Self.migrator().migrate(pool)
        } catch let error as FeatureStoreError {
            throw error
        } catch {
            throw FeatureStoreError(.storage, "\(registry.path): cannot open the registry: \(error)")
        }
    }

    /// The schema, as numbered migrations. Existing stores are brought forward; never edit a
    /// registered migration, add a new one.
    static func migrator(upTo last: String? = nil) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-registry") { db in
            try db.execute(sql: """
                CREATE TABLE embedding (
                    name TEXT PRIMARY KEY NOT NULL,
                    entity_type TEXT NOT NULL,
                    owner TEXT NOT NULL DEFAULT '',
                    description TEXT NOT NULL DEFAULT '',
                    tags TEXT NOT NULL DEFAULT '[]',
                    created_at TEXT NOT NULL
                );
                CREATE TABLE version (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    embedding TEXT NOT NULL REFERENCES embedding(name),
                    version TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    published_at TEXT NOT NULL,
                    valid_from REAL NOT NULL,
                    valid_to REAL,
                    dimension INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    algorithm TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    input_checksum TEXT,
                    vectors_checksum TEXT NOT NULL,
                    ids_checksum TEXT NOT NULL,
                    lineage TEXT NOT NULL,
                    scores TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'deprecated')),
                    path TEXT NOT NULL,
                    UNIQUE (embedding, version)
                );
                CREATE INDEX version_window ON version(embedding, valid_from);
                CREATE INDEX version_content ON version(embedding, vectors_checksum, ids_checksum);
                CREATE TABLE alias (
                    embedding TEXT NOT NULL REFERENCES embedding(name),
                    alias TEXT NOT NULL,
                    version TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (embedding, alias),
                    FOREIGN KEY (embedding, version) REFERENCES version(embedding, version)
                );
                """)
        }
        if last == "v1-registry" { return migrator }
        migrator.registerMigration("v2-alias-history") { db in
            // Who pointed which alias where, and when: an audit trail for "what did production serve?".
            try db.execute(sql: """
                CREATE TABLE alias_history (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    embedding TEXT NOT NULL,
                    alias TEXT NOT NULL,
                    version TEXT,
                    previous TEXT,
                    changed_at TEXT NOT NULL
                );
                INSERT INTO alias_history (embedding, alias, version, previous, changed_at)
                    SELECT embedding, alias, version, NULL, updated_at FROM alias;
                """)
        }
        return migrator
    }

    /// The migrations applied to this store's registry, oldest first.
    public func appliedMigrations() throws -> [String] {
        try wrap { try pool.read { db in try Self.migrator().appliedMigrations(db) } }
    }

    /// Runs `body`, turning GRDB and file errors into ``FeatureStoreError``.
    func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FeatureStoreError { throw error } catch {
            throw FeatureStoreError(.storage, "\(directory.path): registry error: \(error)")
        }
    }

    // MARK: Reading the registry

    /// The embeddings whose name, description, owner, entity type or tags contain `search`
    /// (case-insensitive; all when `nil` or empty), optionally narrowed to one tag, entity type
    /// or owner (exact), sorted by name.
    public func embeddings(search: String? = nil, tag: String? = nil, entityType: String? = nil,
                           owner: String? = nil) throws -> [EmbeddingSummary] {
        try wrap {
            try pool.read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM embedding ORDER BY name")
                var result = [EmbeddingSummary]()
                let needle = search?.lowercased() ?? ""
                for row in rows {
                    let record = try Self.embeddingRecord(row)
                    if !needle.isEmpty {
                        let haystack = ([record.name, record.description, record.owner, record.entityType] + record.tags)
                            .joined(separator: "\n").lowercased()
                        if !haystack.contains(needle) { continue }
                    }
                    if let tag, !tag.isEmpty, !record.tags.contains(tag) { continue }
                    if let entityType, !entityType.isEmpty, record.entityType != entityType { continue }
                    if let owner, !owner.isEmpty, record.owner != owner { continue }
                    let versions = try Self.versions(db, of: record.name)
                    let aliases = try Self.aliases(db, of: record.name)
                    result.append(EmbeddingSummary(embedding: record, versionCount: versions.count,
                                                   latest: versions.last, aliases: aliases))
                }
                return result
            }
        }
    }

    /// The embedding `name` with all its versions (oldest first) and aliases.
    /// - Throws: ``FeatureStoreError`` (`.notFound`) when there is no such embedding.
    public func embedding(_ name: String) throws -> EmbeddingDetail {
        try StoreNames.validate(name, as: "embedding name")
        return try wrap {
            try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM embedding WHERE name = ?", arguments: [name]) else {
                    throw FeatureStoreError(.notFound, "no embedding named '\(name)'")
                }
                return EmbeddingDetail(embedding: try Self.embeddingRecord(row), versions: try Self.versions(db, of: name),
                                       aliases: try Self.aliases(db, of: name))
            }
        }
    }

    /// The version of `name` that `selector` picks.
    /// - Throws: ``FeatureStoreError`` (`.notFound`) naming what was looked for.
    public func resolve(_ name: String, _ selector: VersionSelector = .latest) throws -> VersionRecord {
        try StoreNames.validate(name, as: "embedding name")
        return try wrap { try pool.read { db in try Self.resolve(db, name, selector) } }
    }

    /// The active versions of `name` in selection order for as-of reads (see ``VersionSelector/asOf(_:)``).
    public func activeVersions(_ name: String) throws -> [VersionRecord] {
        try StoreNames.validate(name, as: "embedding name")
        return try wrap { try pool.read { db in try Self.versions(db, of: name).filter { $0.status == .active } } }
    }

    /// The directory holding `version`'s files.
    public func directory(of version: VersionRecord) -> URL {
        directory.appendingPathComponent(version.path, isDirectory: true)
    }

    static func resolve(_ db: Database, _ name: String, _ selector: VersionSelector) throws -> VersionRecord {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM embedding WHERE name = ?", arguments: [name]) == true else {
            throw FeatureStoreError(.notFound, "no embedding named '\(name)'")
        }
        func byVersion(_ v: String) throws -> VersionRecord? {
            try Row.fetchOne(db, sql: "SELECT * FROM version WHERE embedding = ? AND version = ?", arguments: [name, v])
                .map(versionRecord)
        }
        func byAlias(_ a: String) throws -> VersionRecord? {
            guard let v = try String.fetchOne(db, sql: "SELECT version FROM alias WHERE embedding = ? AND alias = ?",
                                              arguments: [name, a]) else { return nil }
            return try byVersion(v)
        }
        switch selector {
        case .latest:
            if let v = try byAlias("latest") { return v }
            throw FeatureStoreError(.notFound, "embedding '\(name)' has no 'latest' version")
        case .version(let v):
            if let r = try byVersion(v) { return r }
            throw FeatureStoreError(.notFound, "embedding '\(name)' has no version '\(v)'")
        case .alias(let a):
            if let r = try byAlias(a) { return r }
            throw FeatureStoreError(.notFound, "embedding '\(name)' has no alias '\(a)'")
        case .named(let s):
            if let r = try byVersion(s) ?? byAlias(s) { return r }
            throw FeatureStoreError(.notFound, "embedding '\(name)' has no version or alias '\(s)'")
        case .asOf(let t):
            let candidates = try versions(db, of: name).filter { $0.status == .active }
            if let r = pickAsOf(candidates, t) { return r }
            throw FeatureStoreError(.notFound, "embedding '\(name)' has no active version valid at \(Timestamp.format(t))")
        }
    }

    /// The version valid at `t` among `versions` (oldest first): the covering one with the latest
    /// `validFrom`, ties going to the later published.
    static func pickAsOf(_ versions: [VersionRecord], _ t: Double) -> VersionRecord? {
        var best: VersionRecord?
        for v in versions where v.covers(t) {
            if let b = best, b.validFrom > v.validFrom { continue }
            best = v
        }
        return best
    }

    static func versions(_ db: Database, of name: String) throws -> [VersionRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM version WHERE embedding = ? ORDER BY id", arguments: [name])
            .map(versionRecord)
    }

    static func aliases(_ db: Database, of name: String) throws -> [AliasRecord] {
        try Row.fetchAll(db, sql: "SELECT alias, version, updated_at FROM alias WHERE embedding = ? ORDER BY alias",
                         arguments: [name])
            .map { AliasRecord(alias: $0["alias"], version: $0["version"], updatedAt: $0["updated_at"]) }
    }

    static func embeddingRecord(_ row: Row) throws -> EmbeddingRecord {
        EmbeddingRecord(name: row["name"], entityType: row["entity_type"], owner: row["owner"],
                        description: row["description"], tags: try decodeJSON([String].self, row["tags"]),
                        createdAt: row["created_at"])
    }

    static func versionRecord(_ row: Row) throws -> VersionRecord {
        VersionRecord(embedding: row["embedding"], version: row["version"], createdAt: row["created_at"],
                      publishedAt: row["published_at"], validFrom: row["valid_from"], validTo: row["valid_to"],
                      dimension: row["dimension"], count: row["count"], algorithm: row["algorithm"],
                      parameters: try decodeJSON([String: JSONValue].self, row["parameters"]),
                      inputChecksum: row["input_checksum"], vectorsChecksum: row["vectors_checksum"],
                      idsChecksum: row["ids_checksum"],
                      lineage: try decodeJSON([LineageEntry].self, row["lineage"]),
                      scores: try decodeJSON([String: Double].self, row["scores"]),
                      status: VersionStatus(rawValue: row["status"]) ?? .active, path: row["path"])
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
            throw FeatureStoreError(.integrity, "registry holds malformed JSON \(String(text.prefix(80)).debugDescription): \(error)")
        }
    }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    // MARK: Aliases and status

    /// Runs `body` in one immediate write transaction (committed when it returns), errors
    /// wrapped as ``FeatureStoreError``.
    func writeTransaction(_ body: (Database) throws -> Void) throws {
        try wrap {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try body(db)
                    return .commit
                }
            }
        }
    }

    /// Points `alias` of `name` at `version` (creating or moving it) in one transaction; the
    /// move is recorded in the alias history. Readers see the old or the new target, never neither.
    /// - Throws: ``FeatureStoreError`` when the name, alias or version is invalid or unknown.
    public func setAlias(_ alias: String, of name: String, to version: String) throws {
        try StoreNames.validate(name, as: "embedding name")
        try StoreNames.validate(alias, as: "alias")
        try StoreNames.validate(version, as: "version")
        try writeTransaction { db in
            _ = try Self.resolve(db, name, .version(version))
            try Self.moveAlias(db, name: name, alias: alias, to: version)
        }
    }

    /// Deletes `alias` of `name`.
    /// - Throws: ``FeatureStoreError`` (`.notFound`) if it does not exist.
    public func removeAlias(_ alias: String, of name: String) throws {
        try StoreNames.validate(name, as: "embedding name")
        try StoreNames.validate(alias, as: "alias")
        try writeTransaction { db in
            guard let previous = try String.fetchOne(db, sql: "SELECT version FROM alias WHERE embedding = ? AND alias = ?",
                                                     arguments: [name, alias]) else {
                throw FeatureStoreError(.notFound, "embedding '\(name)' has no alias '\(alias)'")
            }
            try db.execute(sql: "DELETE FROM alias WHERE embedding = ? AND alias = ?", arguments: [name, alias])
            try db.execute(sql: "INSERT INTO alias_history (embedding, alias, version, previous, changed_at) VALUES (?, ?, NULL, ?, ?)",
                           arguments: [name, alias, previous, EmbeddingMetadata.timestamp()])
        }
    }

    static func moveAlias(_ db: Database, name: String, alias: String, to version: String) throws {
        let previous = try String.fetchOne(db, sql: "SELECT version FROM alias WHERE embedding = ? AND alias = ?",
                                           arguments: [name, alias])
        if previous == version { return }
        let now = EmbeddingMetadata.timestamp()
        try db.execute(sql: """
            INSERT INTO alias (embedding, alias, version, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (embedding, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at
            """, arguments: [name, alias, version, now])
        try db.execute(sql: "INSERT INTO alias_history (embedding, alias, version, previous, changed_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [name, alias, version, previous, now])
    }

    /// The alias history of `name`, oldest first: `(alias, version or nil when removed, previous, time)`.
    public func aliasHistory(of name: String) throws -> [(alias: String, version: String?, previous: String?, changedAt: String)] {
        try wrap {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM alias_history WHERE embedding = ? ORDER BY id", arguments: [name])
                    .map { (alias: $0["alias"], version: $0["version"], previous: $0["previous"], changedAt: $0["changed_at"]) }
            }
        }
    }

    /// Sets the status of `name@version`. A deprecated version stays readable by its version string,
    /// but as-of reads skip it. Aliases pointing at it are left where they are (move them first).
    /// - Throws: ``FeatureStoreError`` (`.notFound`) for an unknown version.
    public func setStatus(_ status: VersionStatus, of name: String, version: String) throws {
        try StoreNames.validate(name, as: "embedding name")
        try StoreNames.validate(version, as: "version")
        try writeTransaction { db in
            _ = try Self.resolve(db, name, .version(version))
            try db.execute(sql: "UPDATE version SET status = ? WHERE embedding = ? AND version = ?",
                           arguments: [status.rawValue, name, version])
        }
    }
}
