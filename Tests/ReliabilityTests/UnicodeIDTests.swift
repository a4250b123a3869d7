import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra
import Testing

/// Ids are bytes end to end: an NFC and an NFD spelling of one name are two ids everywhere
/// (reader, id map, label reader, table), never merged by `String ==` (canonical equivalence).
@Suite struct UnicodeIDTests {
    static let nfc = "Z\u{FC}rich"     // ü as one scalar
    static let nfd = "Zu\u{308}rich"   // u + combining diaeresis

    @Test func spellingsAreDistinctButCanonicallyEqual() {
        #expect(Self.nfc == Self.nfd)                       // why String keys are wrong
        #expect(Array(Self.nfc.utf8) != Array(Self.nfd.utf8))
    }

    @Test func readerAndIDMapKeepBothSpellings() throws {
        let g = try EdgeList.read(string: "\(Self.nfc)\tBern\n\(Self.nfd)\tBern\n")
        #expect(g.nodeCount == 3)
        #expect(g.sourceIDs.idBytes(at: 0) == Array(Self.nfc.utf8))
        #expect(g.sourceIDs.idBytes(at: 2) == Array(Self.nfd.utf8))
        #expect(g.sourceIDs.index(ofID: Self.nfc) == 0)
        #expect(g.sourceIDs.index(ofID: Self.nfd) == 2)
        var map = IDMap([Self.nfc])
        #expect(map.insert(Self.nfd).inserted)
        #expect(map.count == 2)
    }

    @Test func labelReaderKeepsBothSpellings() throws {
        let labels = try LabelTable.read(string: "\(Self.nfc)\tcity\n\(Self.nfd)\ttown\n")
        #expect(labels.nodeCount == 2)
        #expect(labels.nodeIDs.idBytes(at: 1) == Array(Self.nfd.utf8))
    }

    @Test func tableAcceptsBothSpellingsAndLooksUpByBytes() throws {
        let table = try EmbeddingTable(ids: [Self.nfc, Self.nfd], vectors: Matrix(rows: 2, columns: 1, elements: [1, 2]),
                                       metadata: EmbeddingMetadata(entityType: "city", algorithm: "test"))
        #expect(table.row(of: Self.nfc) == 0)
        #expect(table.row(of: Self.nfd) == 1)
        #expect(throws: EmbeddingStoreError.self) {
            try EmbeddingTable(ids: [Self.nfd, Self.nfd], vectors: Matrix(rows: 2, columns: 1, elements: [1, 2]),
                               metadata: EmbeddingMetadata(entityType: "city", algorithm: "test"))
        }
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try table.write(to: dir.appendingPathComponent("t"))
        let again = try EmbeddingTable.read(from: dir.appendingPathComponent("t"))
        #expect(again.ids.map { Array($0.utf8) } == [Array(Self.nfc.utf8), Array(Self.nfd.utf8)])
    }

    @Test func followGraphSVDWritesBothSpellings() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = ToolRunner.ringGraph(nodes: 30, degree: 3)
        text += "\(Self.nfc)\t1\n\(Self.nfd)\t2\n3\t\(Self.nfc)\n4\t\(Self.nfd)\n"
        let edges = dir.appendingPathComponent("edges.tsv")
        try Data(text.utf8).write(to: edges)
        let run = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "2", "-o", dir.appendingPathComponent("emb").path])
        #expect(run.status == 0, "\(run.stderr)")
        let ids = try Data(contentsOf: dir.appendingPathComponent("emb/nodes/ids.tsv"))
        let lines = ids.split(separator: 0x0A).map { Array($0) }
        #expect(lines.count == 32)
        #expect(lines.contains(Array(Self.nfc.utf8)) && lines.contains(Array(Self.nfd.utf8)))
    }
}
