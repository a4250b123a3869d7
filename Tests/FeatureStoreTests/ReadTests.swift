import EmbeddingStore
import Foundation
import LinearAlgebra
import Testing
@testable import FeatureStore

@Suite struct ReadTests {
    @Test func onlineLookupsReturnTheStoredRowsExactly() throws {
        let dir = try scratch("online")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (url, table) = try writeTable(in: dir, "t", rows: 300, dimension: 8)
        try store.publish(table: url, options: PublishOptions(name: "e"))
        let online = try store.openOnline(name: "e")
        #expect(online.count == 300 && online.dimension == 8)
        for r in [0, 1, 150, 299] {
            #expect(online.row(of: "u\(r)") == r)
            #expect(online.vector(for: "u\(r)") == table.vector(at: r))
            #expect(online.id(atRow: r) == "u\(r)")
        }
        #expect(online.row(of: "u300") == nil && online.row(of: "") == nil && online.row(of: "u1\n") == nil)
        let lookup = try store.vectors(name: "e", ids: ["u5", "missing", "u7"])
        #expect(lookup.vectors[0] == table.vector(at: 5) && lookup.vectors[1] == nil && lookup.vectors[2] == table.vector(at: 7))
        // The whole block in place: row r starts at r * dimension.
        online.withVectors { v in #expect(Array(v[(42 * 8)..<(43 * 8)]) == table.vector(at: 42)) }
    }

    @Test func hotSwitchServesTheNewVersionWhileOldReadersFinish() throws {
        let dir = try scratch("switch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (a, ta) = try writeTable(in: dir, "a", seed: 1)
        let (b, tb) = try writeTable(in: dir, "b", seed: 2)
        try store.publish(table: a, options: PublishOptions(name: "e"))
        let online = OnlineStore(store: store)
        let old = try online.version(of: "e")
        #expect(old.vector(for: "u3") == ta.vector(at: 3))
        try store.publish(table: b, options: PublishOptions(name: "e"))
        #expect(try online.refresh() == ["e"])
        #expect(try online.version(of: "e").vector(for: "u3") == tb.vector(at: 3))
        #expect(old.vector(for: "u3") == ta.vector(at: 3))      // a reader holding the old one is unaffected
        #expect(try online.refresh().isEmpty)
        #expect(try online.version(of: "e", .version("v1")).record.version == "v1")
    }

    @Test func pointInTimeJoinUsesTheVersionValidAtEachRowWithoutLeakage() throws {
        let dir = try scratch("join")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let jan = Timestamp.parse("2024-01-01")!, feb = Timestamp.parse("2024-02-01")!
        let (a, ta) = try writeTable(in: dir, "a", seed: 1)
        let (b, tb) = try writeTable(in: dir, "b", seed: 2)
        try store.publish(table: a, options: PublishOptions(name: "e", version: "jan", validFrom: jan, validTo: feb))
        try store.publish(table: b, options: PublishOptions(name: "e", version: "feb", validFrom: feb))
        let rows = dir.appendingPathComponent("rows.csv")
        try """
            user_id,event_time
            u1,2024-01-15T00:00:00Z
            u1,2024-01-31T23:59:59.999Z
            u1,2024-02-01T00:00:00Z
            u2,\(feb + 86400)
            u3,2023-12-31T23:59:59Z
            nobody,2024-01-02
            """.write(to: rows, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("joined")
        let summary = try store.join(name: "e", rows: rows, output: out)
        #expect(summary == JoinSummary(rows: 6, matched: 4, noVersion: 1, missingID: 1, rowsByVersion: ["jan": 2, "feb": 2]))
        let vectors: Matrix<Float> = try NPY.read(from: out.appendingPathComponent("vectors.npy"))
        #expect(vectors.rows == 6 && vectors.columns == 5)
        #expect(vectors.row(0) == ta.vector(at: 1) && vectors.row(1) == ta.vector(at: 1))
        #expect(vectors.row(2) == tb.vector(at: 1) && vectors.row(3) == tb.vector(at: 2))
        #expect(vectors.row(4) == [Float](repeating: 0, count: 5) && vectors.row(5) == [Float](repeating: 0, count: 5))
        let lines = try String(contentsOf: out.appendingPathComponent("rows.tsv"), encoding: .utf8).split(separator: "\n")
        #expect(lines[0] == "id\ttimestamp\tversion" && lines[1] == "u1\t2024-01-15T00:00:00Z\tjan" && lines[3].hasSuffix("\tfeb"))
        #expect(lines[5] == "u3\t2023-12-31T23:59:59Z\t")
        // A malformed row names its line; the earlier output is left as it was.
        try "u1,2024-01-15\nu2,yesterday\n".write(to: rows, atomically: true, encoding: .utf8)
        do { try store.join(name: "e", rows: rows, output: out); Issue.record("no error") } catch {
            #expect("\(error)".contains("rows.csv:2"))
        }
        #expect(try NPY.readHeader(from: out.appendingPathComponent("vectors.npy")).shape == [6, 5])
    }

    @Test func exportWritesAReadableTable() throws {
        let dir = try scratch("export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let (a, ta) = try writeTable(in: dir, "a", seed: 1)
        try store.publish(table: a, options: PublishOptions(name: "e"))
        let out = dir.appendingPathComponent("exported")
        try store.export(name: "e", .version("v1"), to: out)
        let again = try EmbeddingTable.read(from: out)
        #expect(again.ids == ta.ids && again.vectors == ta.vectors)
        #expect(throws: FeatureStoreError.self) { try store.export(name: "e", to: out) }
    }

    @Test func readersSeeWholeVersionsWhilePublishesRun() async throws {
        let dir = try scratch("concurrent")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        let tables = try (1...6).map { try writeTable(in: dir, "t\($0)", rows: 200, seed: UInt64($0)).0 }
        try store.publish(table: tables[0], options: PublishOptions(name: "e"))
        let path = store.directory
        try await withThrowingTaskGroup(of: Int.self) { group in
            // Two writers, each with its own connection pool, as two processes would be.
            for w in 0..<2 {
                group.addTask {
                    let mine = try FeatureStore(directory: path)
                    for t in stride(from: 1 + w, to: 6, by: 2) {
                        try mine.publish(table: tables[t], options: PublishOptions(name: "e"))
                    }
                    return 0
                }
            }
            // Readers: every version they resolve opens completely.
            for _ in 0..<3 {
                group.addTask {
                    let reader = try FeatureStore(directory: path)
                    var reads = 0
                    for _ in 0..<60 {
                        let v = try reader.openOnline(name: "e")
                        #expect(v.count == 200 && v.row(of: "u199") == 199)
                        reads += 1
                    }
                    return reads
                }
            }
            var total = 0
            for try await n in group { total += n }
            #expect(total == 180)
        }
        let versions = try store.embedding("e").versions
        #expect(versions.count == 6 && Set(versions.map(\.version)).count == 6)
    }
}
