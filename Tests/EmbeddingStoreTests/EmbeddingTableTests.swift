import Foundation
import LinearAlgebra
import Testing
@testable import EmbeddingStore

func sampleTable(rows: Int = 50, dimension: Int = 7, seed: UInt64 = 3) throws -> EmbeddingTable {
    let ids = (0..<rows).map { "user_\($0 * 13 % 1000)_\($0)" }
    let metadata = EmbeddingMetadata(
        entityType: "user", algorithm: "randomized-svd",
        parameters: ["rank": 7, "oversampling": 10, "power_iterations": 2, "tolerance": 1e-6,
                     "normalization": "sqrt-degree", "weights": .array([1, 2.5, "x", .null]),
                     "nested": .object(["flag": true])],
        inputFile: "/data/edges.tsv", inputChecksum: "sha256:" + String(repeating: "ab", count: 32),
        createdAt: "2024-05-01T12:00:00Z", scores: ["blogcatalog.macro_auc": 0.71],
        seed: UInt64.max - 1)
    return try EmbeddingTable(ids: ids, vectors: .gaussian(rows: rows, columns: dimension, seed: seed), metadata: metadata)
}

@Suite struct EmbeddingTableTests {
    @Test func writeReadRoundTripIsExact() throws {
        let dir = try makeScratchDirectory("table")
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try sampleTable()
        #expect(table.metadata.count == 50 && table.metadata.dimension == 7)
        let url = dir.appendingPathComponent("nested/users")
        try table.write(to: url)
        let again = try EmbeddingTable.read(from: url)
        #expect(again.ids == table.ids)
        #expect(again.vectors == table.vectors)
        #expect(again.metadata == table.metadata)
        #expect(again.row(of: "user_13_1") == 1)
        #expect(again.vector(for: "user_13_1") == table.vectors.row(1))
        // Only the three files, no temporaries left next to the table.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: url.path)) == ["vectors.npy", "ids.tsv", "meta.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["users"])
        // ids.tsv is one id per line with a final newline.
        let idText = try String(contentsOf: url.appendingPathComponent("ids.tsv"), encoding: .utf8)
        #expect(idText == table.ids.joined(separator: "\n") + "\n")
        // meta.json uses snake_case keys and keeps integers as integers.
        let json = try String(contentsOf: url.appendingPathComponent("meta.json"), encoding: .utf8)
        #expect(json.contains("\"entity_type\" : \"user\""))
        #expect(json.contains("\"rank\" : 7"))
        #expect(json.contains("\"seed\" : 18446744073709551614"))
    }

    @Test func emptyTableRoundTrips() throws {
        let dir = try makeScratchDirectory("empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try EmbeddingTable(ids: [], vectors: Matrix(rows: 0, columns: 4),
                                       metadata: EmbeddingMetadata(entityType: "word", algorithm: "none"))
        try table.write(to: dir.appendingPathComponent("t"))
        let again = try EmbeddingTable.read(from: dir.appendingPathComponent("t"))
        #expect(again.count == 0 && again.dimension == 4)
    }

    @Test func replacesAnExistingTableButNothingElse() throws {
        let dir = try makeScratchDirectory("replace")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t")
        try sampleTable(rows: 10, seed: 1).write(to: url)
        let second = try sampleTable(rows: 20, dimension: 3, seed: 2)
        try second.write(to: url)
        let again = try EmbeddingTable.read(from: url)
        #expect(again.vectors == second.vectors)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["t"])

        // A directory with other content is not replaced.
        let other = dir.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: other.appendingPathComponent("cat.jpg"))
        #expect(throws: EmbeddingStoreError.self) { try second.write(to: other) }
        #expect(FileManager.default.fileExists(atPath: other.appendingPathComponent("cat.jpg").path))
        // Nor is a plain file.
        let file = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        #expect(throws: EmbeddingStoreError.self) { try second.write(to: file) }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["t", "photos", "file"])
    }

    @Test func invalidTablesAreRejected() throws {
        let m = Matrix<Float>.gaussian(rows: 3, columns: 2, seed: 1)
        let meta = EmbeddingMetadata(entityType: "user", algorithm: "x")
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable(ids: ["a", "b"], vectors: m, metadata: meta) }
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable(ids: ["a", "b", "a"], vectors: m, metadata: meta) }
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable(ids: ["a", "b\tc", "d"], vectors: m, metadata: meta) }
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable(ids: ["a", "", "d"], vectors: m, metadata: meta) }
        var nan = m
        nan[1, 1] = .nan
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable(ids: ["a", "b", "c"], vectors: nan, metadata: meta) }
    }

    @Test func malformedDirectoriesGiveClearErrors() throws {
        let dir = try makeScratchDirectory("malformed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t")
        let table = try sampleTable(rows: 6, dimension: 2)
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.read(from: url) } // missing directory

        // Fewer ids than rows.
        try table.write(to: url)
        try Data("a\nb\n".utf8).write(to: url.appendingPathComponent("ids.tsv"))
        let idsError = #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.read(from: url) }
        #expect(idsError?.path.hasSuffix("ids.tsv") == true)
        #expect(idsError?.problem.contains("2 ids") == true)

        // float64 vectors.
        try table.write(to: url)
        try NPY.write(table.vectors.converted(to: Double.self), to: url.appendingPathComponent("vectors.npy"))
        let dtypeError = #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.read(from: url) }
        #expect(dtypeError?.problem.contains("<f8") == true)

        // Metadata that disagrees with the shape.
        try table.write(to: url)
        try NPY.write(Matrix<Float>(rows: 6, columns: 3), to: url.appendingPathComponent("vectors.npy"))
        let shapeError = #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.read(from: url) }
        #expect(shapeError?.path.hasSuffix("meta.json") == true)

        // Broken JSON and a missing key.
        try table.write(to: url)
        try Data("{ not json".utf8).write(to: url.appendingPathComponent("meta.json"))
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.read(from: url) }
        try Data("{\"entity_type\": \"u\", \"count\": 6, \"dimension\": 2, \"created_at\": \"x\"}".utf8)
            .write(to: url.appendingPathComponent("meta.json"))
        let keyError = #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.read(from: url) }
        #expect(keyError?.problem.contains("algorithm") == true)

        // Missing vectors.
        try table.write(to: url)
        try FileManager.default.removeItem(at: url.appendingPathComponent("vectors.npy"))
        #expect(throws: NPYError.self) { try EmbeddingTable.read(from: url) }
    }

    @Test func updateScoresMergesAtomically() throws {
        let dir = try makeScratchDirectory("scores")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t")
        let table = try sampleTable()
        try table.write(to: url)
        let updated = try EmbeddingTable.updateScores(in: url, scores: ["follow_jaccard.spearman": 0.25, "blogcatalog.macro_auc": 0.8])
        #expect(updated.scores == ["follow_jaccard.spearman": 0.25, "blogcatalog.macro_auc": 0.8])
        let again = try EmbeddingTable.read(from: url)
        #expect(again.metadata.scores == updated.scores)
        #expect(again.metadata.parameters == table.metadata.parameters)
        #expect(again.vectors == table.vectors)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: url.path)) == ["vectors.npy", "ids.tsv", "meta.json"])
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.updateScores(in: url, scores: ["bad": .nan]) }
        #expect(throws: EmbeddingStoreError.self) { try EmbeddingTable.updateScores(in: dir.appendingPathComponent("none"), scores: [:]) }
    }

    @Test func recordInputChecksumsTheFile() throws {
        let dir = try makeScratchDirectory("checksum")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("edges.tsv")
        try Data("abc".utf8).write(to: url)
        var meta = EmbeddingMetadata(entityType: "user", algorithm: "x")
        try meta.recordInput(url)
        #expect(meta.inputChecksum == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(meta.inputFile == url.path)
        #expect(meta.createdAt.hasSuffix("Z") && meta.createdAt.count == 20)
    }

    @Test func cosineAndNearestNeighborsMatchBruteForce() throws {
        let n = 300, d = 9
        var vectors = Matrix<Float>.gaussian(rows: n, columns: d, seed: 21)
        for j in 0..<d { vectors[17, j] = 0 } // a zero row
        let table = try EmbeddingTable(ids: (0..<n).map { "n\($0)" }, vectors: vectors,
                                       metadata: EmbeddingMetadata(entityType: "node", algorithm: "gaussian"))
        func exact(_ a: Int, _ b: Int) -> Double {
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in 0..<d {
                let x = Double(vectors[a, j]), y = Double(vectors[b, j])
                dot += x * y; na += x * x; nb += y * y
            }
            return na > 0 && nb > 0 ? dot / (na * nb).squareRoot() : 0
        }
        let pairs = [(0, 1), (5, 5), (17, 3), (299, 42), (100, 200)]
        let cos = table.cosineSimilarities(rowsA: pairs.map(\.0), rowsB: pairs.map(\.1))
        for (p, (a, b)) in pairs.enumerated() {
            #expect(abs(cos[p] - exact(a, b)) <= 1e-12)
            #expect(abs(table.cosineSimilarity(a, b) - exact(a, b)) <= 1e-12)
        }
        let queries = [0, 17, 150, 299, 3]
        let k = 6
        let found = table.nearestNeighbors(of: queries, k: k, blockSize: 2)
        let tolerance = 64 * Double(Float.ulpOfOne)
        for (qi, q) in queries.enumerated() {
            let candidates: [(row: Int, score: Double)] = (0..<n).filter { $0 != q }.map { (row: $0, score: exact(q, $0)) }
            let sorted = candidates.sorted { (a: (row: Int, score: Double), b: (row: Int, score: Double)) -> Bool in
                a.score > b.score || (a.score == b.score && a.row < b.row)
            }
            let expected = sorted.prefix(k)
            #expect(found[qi].count == k)
            for (got, want) in zip(found[qi], expected) {
                #expect(abs(Double(got.similarity) - want.score) <= tolerance)
                #expect(abs(exact(q, got.row) - want.score) <= tolerance) // same score even if a near-tie swaps rows
            }
        }
        let withSelf = table.nearestNeighbors(of: [4], k: 1, excludeSelf: false)
        #expect(withSelf[0][0].row == 4)
        #expect(table.nearestNeighbors(of: [1], k: 1000).count == 1)
        #expect(table.nearestNeighbors(of: [1], k: 1000)[0].count == n - 1)
    }
}
