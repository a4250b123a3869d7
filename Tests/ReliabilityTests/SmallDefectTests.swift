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
        #expect(run.stderr.contains("numerically zero") && run.stderr.contains("use --dim 2"), "\(run.stderr)")
        let ring = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "1", "-o", dir.appendingPathComponent("f").path])
        #expect(!ring.stderr.contains("numerically zero"), "\(ring.stderr)")
    }
}

/// A gzip edge list (issue 12, defect 6): read as the plain file; damaged, a clear error.
@Suite struct GzipToolTests {
    @Test func gzipEdgeListsAreReadAndDamagedOnesRefused() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 300, degree: 4).write(to: plain, atomically: true, encoding: .utf8)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", plain.path]
        try gzip.run(); gzip.waitUntilExit()
        let gz = plain.path + ".gz"
        for (input, name) in [(plain.path, "plain"), (gz, "gz")] {
            let run = try ToolRunner.run("follow-graph-svd", [input, "--dim", "4", "--threads", "1", "-q", "-o", dir.appendingPathComponent(name).path])
            #expect(run.status == 0, "\(run.stderr)")
        }
        for table in ["consumers", "producers", "nodes"] {
            let a = try Data(contentsOf: dir.appendingPathComponent("plain/\(table)/vectors.npy"))
            let b = try Data(contentsOf: dir.appendingPathComponent("gz/\(table)/vectors.npy"))
            #expect(a == b, "\(table)")
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: gz))
        let cut = dir.appendingPathComponent("cut.tsv.gz")
        try whole.prefix(whole.count * 2 / 3).write(to: cut)
        let run = try ToolRunner.run("follow-graph-svd", [cut.path, "--dim", "4", "-o", dir.appendingPathComponent("cut").path])
        #expect(run.status == 1 && !run.timedOut)
        #expect(run.stderr.contains(cut.path + ":") && run.stderr.contains("damaged gzip data") && run.stderr.contains("truncated"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("cut").path))
    }
}

/// Issue 12, defect 4: a header is skipped only when that is certain, and then said on stderr
/// (also with `--quiet`); with `--header` the user said so, and nothing is printed.
@Suite struct HeaderNoticeTests {
    @Test func aDetectedHeaderIsSaidOnStderrUnlessAskedFor() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("named.tsv")
        try ("source\ttarget\n" + (0..<40).map { "n\($0)\tn\(($0 * 7 + 1) % 40)\n" }.joined()).write(to: edges, atomically: true, encoding: .utf8)
        let detected = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "2", "-q", "-o", dir.appendingPathComponent("a").path])
        #expect(detected.status == 0, "\(detected.stderr)")
        #expect(detected.stderr.contains("\(edges.path): the first line names the columns; skipped it as a header"), "\(detected.stderr)")
        let asked = try ToolRunner.run("follow-graph-svd", [edges.path, "--header", "--dim", "2", "-q", "-o", dir.appendingPathComponent("b").path])
        #expect(asked.status == 0 && !asked.stderr.contains("header"), "\(asked.stderr)")
        // The same ids either way: the header was not read as an edge.
        let a = try EmbeddingTable.read(from: dir.appendingPathComponent("a/nodes"))
        let b = try EmbeddingTable.read(from: dir.appendingPathComponent("b/nodes"))
        #expect(a.ids == b.ids && !a.ids.contains("source") && a.ids.count == 40)
    }
}
