import EmbeddingStore
import Foundation
import LinearAlgebra
import Testing

/// Run-level atomicity: a follow-graph-svd run's tables appear together or not at all, a killed
/// run leaves the previous output complete and its staging is removed by the next run, and a
/// tool deletes only what it wrote.
@Suite(.serialized) struct AtomicRunTests {
    /// Reads the output's tables and checks they come from one run (one dimension throughout).
    static func checkComplete(_ output: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let consumers = try EmbeddingTable.read(from: output.appendingPathComponent("consumers"))
        let producers = try EmbeddingTable.read(from: output.appendingPathComponent("producers"))
        let nodes = try EmbeddingTable.read(from: output.appendingPathComponent("nodes"))
        #expect(consumers.dimension == producers.dimension, sourceLocation: sourceLocation)
        #expect(nodes.dimension == 2 * consumers.dimension, "mixed run: nodes \(nodes.dimension), consumers \(consumers.dimension)", sourceLocation: sourceLocation)
        return consumers.dimension
    }

    static func hiddenSiblings(_ output: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: output.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(".") }
    }

    @Test func killedRunsLeaveThePreviousOutputCompleteAndTheirStagingIsCleaned() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 3000, degree: 6).write(to: edges, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("out/emb")
        let tool = try ToolRunner.executable("follow-graph-svd")
        func arguments(_ dim: Int) -> [String] { [edges.path, "--dim", "\(dim)", "--threads", "1", "-o", output.path] }
        let start = Date()
        let first = try ToolRunner.run("follow-graph-svd", arguments(4))
        let seconds = Date().timeIntervalSince(start)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.checkComplete(output) == 4)
        var rng = Xoshiro256(seed: 12)
        var killedMidway = 0
        for round in 0..<10 {
            let dim = round % 2 == 0 ? 6 : 4
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments(dim)
            process.environment = ProcessInfo.processInfo.environment.merging(["EMBEDDINGS_NO_BLAS_REEXEC": "1"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let delay = seconds * Double(rng.next() % 1000) / 1000
            usleep(UInt32(delay * 1_000_000))
            if process.isRunning { kill(process.processIdentifier, SIGKILL); killedMidway += 1 }
            process.waitUntilExit()
            let found = try Self.checkComplete(output)
            #expect(found == 4 || found == 6)
            #expect(try Set(FileManager.default.contentsOfDirectory(atPath: output.path))
                    == ["consumers", "producers", "nodes", OutputRun.markerName])
        }
        #expect(killedMidway > 0, "no run was killed before it finished")
        // The next complete run removes every staging directory the killed runs left.
        let last = try ToolRunner.run("follow-graph-svd", arguments(6))
        #expect(last.status == 0, "\(last.stderr)")
        #expect(try Self.checkComplete(output) == 6)
        #expect(try Self.hiddenSiblings(output) == [])
    }

    @Test func refusesAnOutputHoldingForeignFilesBeforeSolving() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 200, degree: 4).write(to: edges, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("emb")
        #expect(try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "4", "-o", output.path]).status == 0)
        // A user's file inside the output: the run refuses, nothing is deleted.
        let important = output.appendingPathComponent("important.csv")
        try Data("keep me".utf8).write(to: important)
        let run = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "4", "-v", "-o", output.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("important.csv") && run.stderr.contains("refusing"), "\(run.stderr)")
        #expect(!run.stderr.contains("built "), "the output was checked only after the work: \(run.stderr)")
        #expect(try String(contentsOf: important, encoding: .utf8) == "keep me")
        #expect(try Self.checkComplete(output) == 4)
        // Same for a table directory holding a foreign file.
        try FileManager.default.removeItem(at: important)
        try Data("x".utf8).write(to: output.appendingPathComponent("nodes/notes.txt"))
        let table = try EmbeddingTable.read(from: output.appendingPathComponent("consumers"))
        #expect(throws: EmbeddingStoreError.self) { try table.write(to: output.appendingPathComponent("nodes")) }
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("nodes/notes.txt").path))
        // A report path in a missing directory is refused before the work too.
        let badReport = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "4", "-v", "-o", dir.appendingPathComponent("e2").path,
                                                                "--report", dir.appendingPathComponent("missing/r.json").path])
        #expect(badReport.status == 1 && badReport.stderr.contains("does not exist") && !badReport.stderr.contains("built "), "\(badReport.stderr)")
    }

    @Test func anUndirectedRunReplacesADirectedRunWhole() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 200, degree: 4).write(to: edges, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("emb")
        #expect(try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "4", "-o", output.path]).status == 0)
        #expect(try ToolRunner.run("follow-graph-svd", [edges.path, "--undirected", "--dim", "4", "-o", output.path]).status == 0)
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: output.path)) == ["nodes", OutputRun.markerName])
        // The undirected default appends 2 neighbourhood blocks: 3 x --dim columns.
        #expect(try EmbeddingTable.read(from: output.appendingPathComponent("nodes")).dimension == 3 * 4)
    }

    @Test func staleStagingOfADeadProcessIsRemovedAndALiveOnesIsKept() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A finished child's pid is free: its staging is stale.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let stale = dir.appendingPathComponent(".t.staging-\(child.processIdentifier)-0000abcd")
        let live = dir.appendingPathComponent(".t.staging-\(getppid())-0000abcd")
        for d in [stale, live] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: false)
            try Data(count: 1000).write(to: d.appendingPathComponent("vectors.npy"))
        }
        let table = try EmbeddingTable(ids: ["a", "b"], vectors: Matrix(rows: 2, columns: 1, elements: [1, 2]),
                                       metadata: EmbeddingMetadata(entityType: "x", algorithm: "y"))
        try table.write(to: dir.appendingPathComponent("t"))
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
        // Replacing a table leaves no hidden sibling behind.
        try table.write(to: dir.appendingPathComponent("t"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [live.lastPathComponent, "t"])
    }
}
