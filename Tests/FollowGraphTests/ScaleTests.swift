import Foundation
import Testing
@testable import EmbeddingStore
@testable import FollowGraph
import GraphData
import LinearAlgebra

/// Streamed tables, the memory-mapped binary CSR path, progress lines and the memory budget.
@Suite(.serialized) struct ScaleTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scale-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func streamedTableFilesEqualTheInMemoryTable() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let vectors = Matrix<Float>.gaussian(rows: 70_000, columns: 3, seed: 5)   // several row blocks
        let ids = (0..<vectors.rows).map { "node\($0)" }
        let table = try EmbeddingTable(ids: ids, vectors: vectors, metadata: EmbeddingMetadata(entityType: "node", algorithm: "test"))
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        for d in [a, b] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: false) }
        try table.writeFiles(into: a)
        try EmbeddingTable.writeStreamedFiles(into: b, count: vectors.rows, dimension: 3, metadata: table.metadata, id: { ids[$0] }) { range, out in
            for i in range { for j in 0..<3 { out[(i - range.lowerBound) * 3 + j] = vectors[i, j] } }
        }
        for name in ["vectors.npy", "ids.tsv", "meta.json"] {
            #expect(try Data(contentsOf: a.appendingPathComponent(name)) == Data(contentsOf: b.appendingPathComponent(name)), "\(name)")
        }
        #expect(try EmbeddingTable.read(from: b).vectors == vectors)
        // A non-finite element is refused with the file and the row.
        #expect(throws: EmbeddingStoreError.self) {
            try EmbeddingTable.writeStreamedFiles(into: b, count: 2, dimension: 1, metadata: table.metadata, id: { ids[$0] }) { range, out in
                for i in range { out[i - range.lowerBound] = i == 1 ? .nan : 1 }
            }
        }
    }

    /// The streamed run writes the same tables as the in-memory embedding of the same graph.
    @Test(arguments: [FollowGraphMethod.spectral, .svd])
    func streamedRunWritesTheInMemoryTables(method: FollowGraphMethod) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edgesURL = dir.appendingPathComponent("edges.tsv")
        try plantedEdgeList().write(to: edgesURL, atomically: true, encoding: .utf8)
        var c = FollowGraphSVDConfiguration()
        c.dimension = 4; c.seed = 3; c.method = method
        var lines: [String] = []
        let report = try FollowGraphRun.run(FollowGraphRunOptions(edges: edgesURL, output: dir.appendingPathComponent("out"), configuration: c)) { lines.append($0) }
        let edges = try EdgeList.read(path: edgesURL.path, options: .init(selfLoops: .drop))
        let e = try FollowGraphSVD.embed(edges: edges, configuration: c, inputFile: edgesURL)
        for (name, expected) in [("consumers", e.consumers), ("producers", e.producers), ("nodes", e.nodes!)] {
            let written = try EmbeddingTable.read(from: dir.appendingPathComponent("out/\(name)"))
            #expect(written.ids == expected.ids, "\(name)")
            #expect(written.vectors == expected.vectors, "\(name)")
            #expect(written.metadata.parameters == expected.metadata.parameters && written.metadata.inputChecksum == expected.metadata.inputChecksum)
        }
        // Progress: one line per phase, each with the elapsed time and the resident memory.
        for phase in ["read ", "memory budget: solve", "built ", "wrote table consumers", " into "] {
            let line = lines.first { $0.contains(phase) }
            #expect(line != nil, "no '\(phase)' line in \(lines)")
            #expect(line?.range(of: #"^\[ *[0-9.]+ s, RSS +[0-9.]+ GiB\] "#, options: .regularExpression) != nil, "\(line ?? "")")
        }
        #expect(report.phases?.map(\.name).starts(with: ["read", "build", "solve", "write"]) == true, "\(report.phases ?? [])")
        #expect(report.phases?.allSatisfy { $0.peakMemoryBytes > 0 } == true)
    }

    /// The mapped operator equals the in-memory selected, weighted matrix, and the run on a
    /// binary CSR file equals the run on the edge list.
    @Test func mappedCSRMatchesTheInMemoryMatrixAndRun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Repeated lines: summed into weights 2 and 3 by the CSR's reader (the log weighting sees them).
        let text = plantedEdgeList() + "\nu3\ta1\nu3\ta1\nu4\ta2\nu4\ta2\nu4\ta2\n"
        let edgesURL = dir.appendingPathComponent("edges.tsv"), csr = dir.appendingPathComponent("g.csr")
        try text.write(to: edgesURL, atomically: true, encoding: .utf8)
        let edges = try EdgeList.read(path: edgesURL.path, options: .init(selfLoops: .drop, duplicates: .sum))
        try GraphCSRFile.write(edges, to: csr.path)
        let file = try GraphCSRFile(path: csr.path)
        let a = try FollowGraphSVD.adjacencyMatrix(edges)
        for weighting in EdgeWeighting.allCases {
            for selection in [NodeSelection(), NodeSelection(minFollowers: 4, minFollowing: 2), NodeSelection(maxNodes: 12)] {
                let prepared = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, selection: selection,
                                                                    weighting: weighting, normalization: .degree)
                let mapped = try MappedFollowGraph(file: file, selection: selection, weighting: weighting)
                #expect(mapped.consumers == prepared.consumers && mapped.producers == prepared.producers)
                #expect(mapped.nonzeroCount == prepared.matrix.nonzeroCount)
                let scales = FollowGraphPreprocessing.degreeScales(mapped, degreeRegularization: nil)
                let op = mapped.scaled(rows: scales.rows, columns: scales.columns)
                let x = Matrix<Float>.gaussian(rows: op.columns, columns: 5, seed: 1)
                let xt = Matrix<Float>.gaussian(rows: op.rows, columns: 5, seed: 2)
                let tolerance = 64 * Float.ulpOfOne
                #expect((op.apply(x) - prepared.linearOperator.apply(x)).maxAbs <= tolerance * x.maxAbs, "\(weighting) \(selection)")
                #expect((op.applyTranspose(xt) - prepared.linearOperator.applyTranspose(xt)).maxAbs <= tolerance * xt.maxAbs)
            }
        }
        // The whole run: same tables up to float32 rounding in a different summation order.
        var c = FollowGraphSVDConfiguration()
        c.dimension = 4; c.seed = 3
        let fromText = try FollowGraphRun.run(FollowGraphRunOptions(edges: edgesURL, output: dir.appendingPathComponent("t"), configuration: c))
        var mappedOptions = FollowGraphRunOptions(edges: csr, output: dir.appendingPathComponent("m"), configuration: c)
        mappedOptions.verifyCSRChecksum = true
        let fromCSR = try FollowGraphRun.run(mappedOptions)
        #expect(fromCSR.inputFormat == "binary CSR (memory-mapped)")
        #expect(zip(fromText.singularValues, fromCSR.singularValues).allSatisfy { abs($0 - $1) <= 1e-4 * fromText.singularValues[0] })
        for name in ["consumers", "producers", "nodes"] {
            let t = try EmbeddingTable.read(from: dir.appendingPathComponent("t/\(name)"))
            let m = try EmbeddingTable.read(from: dir.appendingPathComponent("m/\(name)"))
            #expect(t.ids == m.ids)
            #expect((t.vectors - m.vectors).maxAbs <= 1e-3 * max(1, t.vectors.maxAbs), "\(name)")
        }
    }

    /// The budget printed before the solve is within a factor of 2 of what the solve adds to the
    /// resident memory on a mid-size graph: the solve phase's peak (`VmHWM`, reset at its start)
    /// less the resident memory when it starts (the progress line that ends the build). Measured
    /// in a child process (`follow-graph-svd --report`): in this test process other tests run at
    /// the same time and the heap that earlier tests freed is reused, so its resident memory says
    /// little about one run.
    @Test func solveBudgetIsWithinAFactorOfTwoOfTheMeasuredPeak() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edgesURL = dir.appendingPathComponent("edges.tsv")
        var p = FollowGraphParameters(nodes: 50_000, edges: 500_000, communities: 20)
        p.seed = 1
        let graph = try FollowGraphGenerator.generate(p)
        try graph.write(to: dir.appendingPathComponent("g"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("g/edges.tsv"), to: edgesURL)
        var c = FollowGraphSVDConfiguration()
        c.dimension = 32; c.method = .svd
        let edges = try EdgeList.read(path: edgesURL.path)
        let estimate = Double(FollowGraphSVD.budget(graph: edges, configuration: c, streamedTables: true).phases.first { $0.name == "solve" }!.bytes)

        var tool = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 where !FileManager.default.isExecutableFile(atPath: tool.appendingPathComponent("follow-graph-svd").path) {
            tool = tool.deletingLastPathComponent()
        }
        tool = tool.appendingPathComponent("follow-graph-svd")
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "follow-graph-svd is not built beside the tests")
        let reportURL = dir.appendingPathComponent("report.json")
        let process = Process()
        process.executableURL = tool
        process.arguments = [edgesURL.path, "--output", dir.appendingPathComponent("out").path, "--dim", "32", "--method", "svd",
                             "--report", reportURL.path]
        let errors = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let log = try String(contentsOf: errors, encoding: .utf8)
        try #require(process.terminationStatus == 0, "\(log)")
        // "[    1.2 s, RSS  0.21 GiB] built 49985 x 49985 matrix with ...": the resident memory as the solve starts.
        let built = try #require(log.split(separator: "\n").first { $0.contains("] built ") && $0.contains(" matrix with ") }, "\(log)")
        let rssText = try #require(built.split(separator: "RSS").last?.split(separator: "GiB").first, "\(built)")
        let atStart = try #require(Double(rssText.trimmingCharacters(in: .whitespaces))) * 1_073_741_824
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: reportURL)) as? [String: Any])
        let phases = try #require(report["phases"] as? [[String: Any]])
        guard let solvePeak = phases.first(where: { $0["name"] as? String == "solve" })?["peak_memory_bytes"] as? Int, solvePeak > 0 else {
            return   // no /proc/self/status VmHWM here: the peak cannot be measured per phase
        }
        let measured = Double(solvePeak) - atStart
        #expect(measured < 2 * estimate && measured > estimate / 2, "solve: estimated \(estimate), measured \(measured) (peak \(solvePeak), at start \(atStart)); \(log)")
    }
}
