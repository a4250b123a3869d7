import EmbeddingStore
import Foundation
import LinearAlgebra
import Solvers
import Testing

/// Smaller defects of issue 12: ALS on values that overflow float32, CRLF ids.tsv.
@Suite struct SmallDefectTests {
    @Test func alsRefusesValuesThatOverflowFloat32InsteadOfReturningUntrainedFactors() throws {
        let m = try CSRMatrix<Float>(rows: 2, columns: 2, rowOffsets: [0, 2, 3], columnIndices: [0, 1, 1],
                                     values: [3e38, 1e38, 2e38])
        var c = ALSConfiguration(factors: 2, iterations: 3, computeLoss: true)
        c.feedback = .explicit
        do {
            _ = try ALS.fit(m, configuration: c)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("rescale"), "\(error)")
        }
        // Ordinary ratings still train, with a finite, non-increasing loss.
        let ok = try CSRMatrix<Float>(rows: 2, columns: 2, rowOffsets: [0, 2, 3], columnIndices: [0, 1, 1], values: [3, 1, 2])
        let model = try ALS.fit(ok, configuration: c)
        let losses = model.diagnostics.objective ?? []
        #expect(losses.count == 3 && losses.allSatisfy(\.isFinite))
    }

    @Test func crlfIDsFileIsReadLineByLine() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try EmbeddingTable(ids: ["a", "b", "c"], vectors: Matrix(rows: 3, columns: 1, elements: [1, 2, 3]),
                                       metadata: EmbeddingMetadata(entityType: "x", algorithm: "y"))
        let url = dir.appendingPathComponent("t")
        try table.write(to: url)
        try Data("a\r\nb\r\nc\r\n".utf8).write(to: url.appendingPathComponent("ids.tsv"))
        #expect(try EmbeddingTable.read(from: url).ids == ["a", "b", "c"])
        try Data([0xEF, 0xBB, 0xBF] + Array("a\nb\nc".utf8)).write(to: url.appendingPathComponent("ids.tsv"))
        #expect(try EmbeddingTable.read(from: url).ids == ["a", "b", "c"])
    }
}

@Suite struct RankWarningTests {
    @Test func anUndirectedStarAtDim8WarnsAboutNullSingularValues() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("star.tsv")
        try (1...30).map { "0\t\($0)\n" }.joined().write(to: edges, atomically: true, encoding: .utf8)
        let run = try ToolRunner.run("follow-graph-svd", [edges.path, "--undirected", "--dim", "8", "-o", dir.appendingPathComponent("e").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("numerically zero"), "\(run.stderr)")
        let ring = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "1", "-o", dir.appendingPathComponent("f").path])
        #expect(!ring.stderr.contains("numerically zero"), "\(ring.stderr)")
    }
}
