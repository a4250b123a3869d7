import EmbeddingStore
import Foundation
import GRDB
import Testing
@testable import FeatureStore

@Suite struct RegistryTests {
    @Test func migrationsRunOnceAndBringOldStoresForward() throws {
        let dir = try scratch("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A store made by the first schema only, with an alias in it.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("versions"), withIntermediateDirectories: true)
        let pool = try DatabasePool(path: dir.appendingPathComponent(FeatureStore.registryFileName).path)
        try FeatureStore.migrator(upTo: "v1-registry").migrate(pool)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO embedding (name, entity_type, created_at) VALUES ('old', 'user', '2024-01-01T00:00:00Z')")
            try db.execute(sql: """
                INSERT INTO version (embedding, version, created_at, published_at, valid_from, dimension, count, algorithm,
                    parameters, vectors_checksum, ids_checksum, lineage, scores, status, path)
                VALUES ('old', 'v1', 'x', 'x', 0, 2, 1, 'a', '{}', 's', 'i', '[]', '{}', 'active', 'versions/old/v1')
                """)
            try db.execute(sql: "INSERT INTO alias VALUES ('old', 'latest', 'v1', '2024-01-01T00:00:00Z')")
        }
        try pool.close()
        let store = try FeatureStore(directory: dir)
        #expect(try store.appliedMigrations() == ["v1-registry", "v2-alias-history"])
        // The migration seeded the history from the existing aliases.
        let history = try store.aliasHistory(of: "old")
        #expect(history.count == 1 && history[0].alias == "latest" && history[0].version == "v1")
        // Opening again applies nothing twice.
        let again = try FeatureStore(directory: dir)
        #expect(try again.appliedMigrations().count == 2)
        #expect(try again.embedding("old").versions.count == 1)
        // WAL mode.
        let mode = try again.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func openingAMissingStoreSaysHowToCreateOne() throws {
        let dir = try scratch("missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: FeatureStoreError.self) { try FeatureStore(directory: dir.appendingPathComponent("nope")) }
        do { _ = try FeatureStore(directory: dir.appendingPathComponent("nope")) } catch let e as FeatureStoreError {
            #expect(e.kind == .notFound && e.message.contains("embedding-store init"))
        }
    }

    @Test func publishRegistersAVersionAndIsANoOpTheSecondTime() throws {
        let dir = try scratch("publish")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (url, table) = try writeTable(in: dir, "t1")
        let first = try store.publish(table: url, options: PublishOptions(name: "users", description: "follow graph users",
                                                                            owner: "graph-team", tags: ["graph", "svd"]))
        #expect(first.created && first.version.version == "v1" && first.version.count == 40 && first.version.dimension == 5)
        #expect(first.version.vectorsChecksum == "sha256:" + (try FileChecksum.sha256(of: url.appendingPathComponent("vectors.npy"))))
        #expect(first.version.lineage == [LineageEntry(kind: "file", reference: "/data/edges-1.tsv")])
        #expect(first.version.scores["blogcatalog.macro_auc"] == 0.51)
        let again = try store.publish(table: url, options: PublishOptions(name: "users"))
        #expect(!again.created && again.version == first.version)
        let detail = try store.embedding("users")
        #expect(detail.versions.count == 1 && detail.embedding.owner == "graph-team" && detail.embedding.tags == ["graph", "svd"])
        #expect(detail.aliases.map(\.alias) == ["latest"])
        // The store holds its own read-only copy, byte for byte.
        let stored = try EmbeddingTable.read(from: store.directory(of: first.version))
        #expect(stored.ids == table.ids && stored.vectors == table.vectors)
        // Nothing is left in the staging area.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.appendingPathComponent("tmp").path).isEmpty)
    }

    @Test func publishRejectsBadTablesWithClearErrors() throws {
        let dir = try scratch("bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (url, _) = try writeTable(in: dir, "t")
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { try store.publish(table: url, options: PublishOptions(name: "../etc")) }.contains("may hold only"))
        #expect(message { try store.publish(table: url, options: PublishOptions(name: "ok", version: "a/b")) }.contains("version"))
        // A checksum in meta.json that does not match.
        var meta = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("meta.json"))) as! [String: Any]
        meta["vectors_checksum"] = "sha256:" + String(repeating: "0", count: 64)
        try JSONSerialization.data(withJSONObject: meta).write(to: url.appendingPathComponent("meta.json"))
        let mismatch = message { try store.publish(table: url, options: PublishOptions(name: "ok")) }
        #expect(mismatch.contains("SHA-256") && mismatch.contains("vectors.npy"))
        // The right checksum passes.
        meta["vectors_checksum"] = "sha256:" + (try FileChecksum.sha256(of: url.appendingPathComponent("vectors.npy")))
        try JSONSerialization.data(withJSONObject: meta).write(to: url.appendingPathComponent("meta.json"))
        #expect(try store.publish(table: url, options: PublishOptions(name: "ok")).created)
        // A duplicated id names its line.
        let (dup, _) = try writeTable(in: dir, "dup", seed: 2)
        var ids = try String(contentsOf: dup.appendingPathComponent("ids.tsv"), encoding: .utf8).split(separator: "\n").map(String.init)
        ids[7] = ids[3]
        try (ids.joined(separator: "\n") + "\n").write(to: dup.appendingPathComponent("ids.tsv"), atomically: true, encoding: .utf8)
        #expect(message { try store.publish(table: dup, options: PublishOptions(name: "dup")) }.contains("line 8 repeats the id of line 4"))
        // A truncated vectors file.
        let (short, _) = try writeTable(in: dir, "short", seed: 3)
        let handle = try FileHandle(forWritingTo: short.appendingPathComponent("vectors.npy"))
        try handle.truncate(atOffset: 200)
        try handle.close()
        #expect(message { try store.publish(table: short, options: PublishOptions(name: "short")) }.contains("bytes, expected"))
        // Same version string, other content.
        let (other, _) = try writeTable(in: dir, "other", seed: 4)
        #expect(message { try store.publish(table: other, options: PublishOptions(name: "ok", version: "v1")) }.contains("already has a version"))
        // Another dimension under the same name.
        let (wide, _) = try writeTable(in: dir, "wide", dimension: 6, seed: 5)
        #expect(message { try store.publish(table: wide, options: PublishOptions(name: "ok")) }.contains("dimension"))
        // None of the failures left a version or a directory behind.
        #expect(try store.embedding("ok").versions.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.appendingPathComponent("versions/ok").path) == ["v1"])
        #expect(throws: FeatureStoreError.self) { try store.embedding("dup") }
    }

    @Test func aliasesMoveAtomicallyAndKeepAHistory() throws {
        let dir = try scratch("alias")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (a, _) = try writeTable(in: dir, "a", seed: 1)
        let (b, _) = try writeTable(in: dir, "b", seed: 2)
        try store.publish(table: a, options: PublishOptions(name: "e", aliases: ["production"]))
        try store.publish(table: b, options: PublishOptions(name: "e"))
        #expect(try store.resolve("e").version == "v2")
        #expect(try store.resolve("e", .alias("production")).version == "v1")
        #expect(try store.resolve("e", .named("production")).version == "v1")
        #expect(try store.resolve("e", .named("v2")).version == "v2")
        try store.setAlias("production", of: "e", to: "v2")
        #expect(try store.resolve("e", .alias("production")).version == "v2")
        #expect(throws: FeatureStoreError.self) { try store.setAlias("production", of: "e", to: "v9") }
        #expect(try store.resolve("e", .alias("production")).version == "v2")
        try store.removeAlias("production", of: "e")
        #expect(throws: FeatureStoreError.self) { try store.resolve("e", .alias("production")) }
        let history = try store.aliasHistory(of: "e").filter { $0.alias == "production" }
        #expect(history.map(\.version) == ["v1", "v2", nil])
        #expect(history.map(\.previous) == [nil, "v1", "v2"])
    }

    @Test func asOfPicksTheWindowHoldingTheTimeAtItsEdges() throws {
        let dir = try scratch("asof")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let jan = Timestamp.parse("2024-01-01T00:00:00Z")!, feb = Timestamp.parse("2024-02-01T00:00:00Z")!
        let mar = Timestamp.parse("2024-03-01T00:00:00Z")!
        let (a, _) = try writeTable(in: dir, "a", seed: 1)
        let (b, _) = try writeTable(in: dir, "b", seed: 2)
        let (c, _) = try writeTable(in: dir, "c", seed: 3)
        try store.publish(table: a, options: PublishOptions(name: "e", version: "jan", validFrom: jan, validTo: feb))
        try store.publish(table: b, options: PublishOptions(name: "e", version: "feb", validFrom: feb, validTo: mar))
        #expect(throws: FeatureStoreError.self) { try store.resolve("e", .asOf(jan - 0.001)) }
        #expect(try store.resolve("e", .asOf(jan)).version == "jan")                 // start is inclusive
        #expect(try store.resolve("e", .asOf(feb - 0.001)).version == "jan")
        #expect(try store.resolve("e", .asOf(feb)).version == "feb")                 // end is exclusive
        #expect(throws: FeatureStoreError.self) { try store.resolve("e", .asOf(mar)) }
        // An open-ended later version takes over from its start; deprecated versions are skipped.
        try store.publish(table: c, options: PublishOptions(name: "e", version: "mar", validFrom: mar))
        #expect(try store.resolve("e", .asOf(mar + 1e7)).version == "mar")
        try store.setStatus(.deprecated, of: "e", version: "feb")
        #expect(throws: FeatureStoreError.self) { try store.resolve("e", .asOf(feb)) }
        #expect(try store.resolve("e", .version("feb")).status == .deprecated)     // still readable explicitly
        // A window that ends before it starts is refused.
        #expect(throws: FeatureStoreError.self) {
            try store.publish(table: a, options: PublishOptions(name: "f", validFrom: feb, validTo: jan))
        }
    }

    @Test func timestampsParseTheFormatsUsersWrite() {
        #expect(Timestamp.parse("1970-01-01") == 0)
        #expect(Timestamp.parse("2024-05-01T12:00:00Z") == 1_714_564_800)
        #expect(Timestamp.parse("2024-05-01 14:00:00+02:00") == 1_714_564_800)
        #expect(Timestamp.parse("2024-05-01T12:00:00.250Z") == 1_714_564_800.25)
        #expect(Timestamp.parse("2024-05-01T12:00") == 1_714_564_800)
        #expect(Timestamp.parse("1714564800") == 1_714_564_800)
        #expect(Timestamp.parse("1714564800.5") == 1_714_564_800.5)
        for bad in ["", "x", "2024-13-01", "2024-05-01T25:00:00Z", "2024-05-01T12:00:00Q", "12a"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        #expect(Timestamp.format(1_714_564_800) == "2024-05-01T12:00:00Z")
        #expect(Timestamp.format(1_714_564_800.25) == "2024-05-01T12:00:00.250Z")
    }

    @Test func searchFindsByNameTagOwnerAndEntityType() throws {
        let dir = try scratch("search")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (a, _) = try writeTable(in: dir, "a", seed: 1)
        let (w, _) = try writeTable(in: dir, "w", seed: 2, entityType: "word")
        try store.publish(table: a, options: PublishOptions(name: "consumers", description: "Follow-graph consumers", owner: "graph", tags: ["svd"]))
        try store.publish(table: w, options: PublishOptions(name: "words", description: "SGNS", owner: "text", tags: ["nlp"]))
        #expect(try store.embeddings().map(\.embedding.name) == ["consumers", "words"])
        #expect(try store.embeddings(search: "FOLLOW").map(\.embedding.name) == ["consumers"])
        #expect(try store.embeddings(search: "nlp").map(\.embedding.name) == ["words"])
        #expect(try store.embeddings(tag: "svd").map(\.embedding.name) == ["consumers"])
        #expect(try store.embeddings(entityType: "word").map(\.embedding.name) == ["words"])
        #expect(try store.embeddings(owner: "graph").map(\.embedding.name) == ["consumers"])
        #expect(try store.embeddings(search: "nothing-like-this").isEmpty)
        // Another entity type under an existing name is refused.
        #expect(throws: FeatureStoreError.self) { try store.publish(table: w, options: PublishOptions(name: "consumers")) }
        // Lineage to a published version is checked and recorded with its checksum.
        let (b, _) = try writeTable(in: dir, "b", seed: 3)
        let r = try store.publish(table: b, options: PublishOptions(name: "derived", lineage: ["consumers@v1"]))
        #expect(r.version.lineage.last?.reference == "consumers@v1")
        #expect(r.version.lineage.last?.checksum == (try store.resolve("consumers").vectorsChecksum))
        #expect(throws: FeatureStoreError.self) { try store.publish(table: b, options: PublishOptions(name: "x", lineage: ["consumers@v7"])) }
    }
}
