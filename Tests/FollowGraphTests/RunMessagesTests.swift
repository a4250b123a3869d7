import Foundation
import Synchronization
import Testing
@testable import FollowGraph
import GraphData
import LinearAlgebra

/// What a follow-graph run tells its user (issue 12): settings named by the library's parameters
/// unless the caller maps them to its flags, and solver warnings (ARPACK stopping short)
/// handed to the run's warning channel and kept in the report.
@Suite struct RunMessagesTests {
    func withEdges(_ text: String, _ body: (URL, URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("messages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try Data(text.utf8).write(to: edges)
        try body(edges, dir)
    }

    static let flags: FollowGraphParameterNames = [.dimension: "--dim", .maxNodes: "--max-nodes", .minFollowers: "--min-followers",
                                                  .minFollowing: "--min-following", .undirected: "--undirected",
                                                  .threads: "--threads", .binaryCSR: "--write-csr"]

    func runError(_ options: FollowGraphRunOptions) -> String {
        do { _ = try FollowGraphRun.run(options); return "no error" } catch { return String(describing: error) }
    }

    @Test func errorsNameLibraryParametersUnlessTheCallerMapsThem() throws {
        try withEdges(plantedEdgeList()) { edges, dir in
            var c = FollowGraphSVDConfiguration()
            c.dimension = 500
            var options = FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("a"), configuration: c)
            let library = runError(options)
            #expect(library.contains("dimension 500 is larger") && !library.contains("--"), "\(library)")
            options.parameterNames = Self.flags
            let tool = runError(options)
            #expect(tool.contains("--dim 500 is larger"), "\(tool)")

            c.dimension = 2; c.selection.minFollowers = 1000
            options = FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("b"), configuration: c)
            #expect(runError(options).contains("(selection.minFollowers)"))
            options.parameterNames = Self.flags
            #expect(runError(options).contains("(--min-followers)"))
        }
    }

    @Test func anEdgeListWithoutEdgesIsAnErrorNamingTheFile() throws {
        try withEdges("# only comments\n\n") { edges, dir in
            let message = runError(FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("out")))
            #expect(message.hasPrefix(edges.path + ": the graph has no edges (0 edge lines"), "\(message)")
        }
    }

    @Test func memoryAdviceNamesTheSettingsAsAsked() throws {
        let graph = try EdgeList.read(string: plantedEdgeList())
        var c = FollowGraphSVDConfiguration()
        c.dimension = 3
        let library = FollowGraphSVD.budget(graph: graph, configuration: c).advice
        #expect(library.contains("dimension (now 3)") && library.contains("selection.maxNodes") && !library.contains("--"), "\(library)")
        let tool = FollowGraphSVD.budget(graph: graph, configuration: c, names: Self.flags).advice
        #expect(tool.contains("--dim (now 3)") && tool.contains("--max-nodes") && tool.contains("--write-csr"), "\(tool)")
        let rank = FollowGraphEmbedding.rankWarning(singularValues: [1, 0], names: Self.flags)
        #expect(rank?.contains("use --dim 1") == true)
        #expect(FollowGraphEmbedding.rankWarning(singularValues: [1, 0])?.contains("use dimension 1") == true)
    }

    /// The 10M-account run's values (0.64 down to 0.51) are not numerically zero: numpy's dense
    /// tolerance `s1 * eps * max(m, n)` is 0.76 there, above `s1`. Values below `s1 * sqrt(eps)`
    /// (the float32 Gramian's floor) are, and the count names them.
    @Test func rankToleranceDoesNotGrowWithTheGraph() throws {
        let tenMillion = (0..<64).map { 0.64 - 0.13 * Float($0) / 63 }
        #expect(0.64 * Float.ulpOfOne * 10_000_000 > 0.64)   // the old tolerance at m = n = 10M
        #expect(FollowGraphEmbedding.rankWarning(singularValues: tenMillion) == nil)
        let floor = Float.ulpOfOne.squareRoot()
        // Just above the floor: kept; just below (and rounding noise at s1 * eps): zero.
        #expect(FollowGraphEmbedding.rankWarning(singularValues: [1, 0.5, 2 * floor]) == nil)
        let deficient = FollowGraphEmbedding.rankWarning(singularValues: [1, 0.5, floor / 2, 4 * Float.ulpOfOne], names: Self.flags)
        #expect(deficient?.hasPrefix("2 of the 4 singular values are numerically zero") == true, "\(deficient ?? "nil")")
        #expect(deficient?.contains("use --dim 2") == true)
        #expect(FollowGraphEmbedding.rankWarning(singularValues: [0, 0])?.contains("every singular value is zero") == true)
    }

    @Test func arpackStoppingShortIsAWarningOfTheRun() throws {
        var p = FollowGraphParameters(nodes: 3000, edges: 30_000, communities: 6)
        p.seed = 2
        let graph = try FollowGraphGenerator.generate(p)
        let text = (0..<graph.sources.count).map { "\(graph.sources[$0])\t\(graph.targets[$0])\n" }.joined()
        try withEdges(text) { edges, dir in
            var c = FollowGraphSVDConfiguration()
            c.method = .svd; c.solver = .arpack; c.dimension = 12; c.arpackMaxIterations = 1
            var options = FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("out"), configuration: c)
            let received = Mutex<[String]>([])
            options.warn = { warning in received.withLock { $0.append(warning) } }
            let report = try FollowGraphRun.run(options)
            let warnings = received.withLock { $0 }
            #expect(report.diagnostics.allConverged == false)
            #expect(warnings.contains { $0.contains("converged") && $0.contains("What to change") }, "\(warnings)")
            #expect(report.warnings == warnings)
            // Converged runs have none.
            c.arpackMaxIterations = nil
            options = FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("ok"), configuration: c)
            options.warn = { warning in Issue.record("unexpected warning: \(warning)") }
            #expect(try FollowGraphRun.run(options).warnings == nil)
        }
    }

    /// The directed spectral method's second SVD (the consumers table) is in the report: its
    /// passes, phases and residual; one-SVD runs have none.
    @Test func theSecondSVDIsReported() throws {
        try withEdges(plantedEdgeList()) { edges, dir in
            var c = FollowGraphSVDConfiguration()
            c.dimension = 4; c.seed = 3; c.spectral.consumerPowerIterations = 2
            let report = try FollowGraphRun.run(FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("spectral"), configuration: c))
            let second = try #require(report.secondDiagnostics)
            #expect(second.operatorApplications == 6 && report.passes == 10)   // 2q + 2 each (q = 2; q = 4 for the first)
            #expect(second.maxRelativeResidual.isFinite && second.maxRelativeResidual > 0)
            #expect(report.secondSolverPhases?["range finder"] != nil)
            #expect(report.summary.contains { $0.contains("second SVD (consumers)") && $0.contains("6 passes") }, "\(report.summary)")
            let encoded = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
            #expect(encoded.contains("\"second_diagnostics\"") && encoded.contains("\"second_solver_phases\""))
            c.method = .svd
            let plain = try FollowGraphRun.run(FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("svd"), configuration: c))
            #expect(plain.secondDiagnostics == nil && plain.secondSolverPhases == nil)
        }
    }

    /// The undirected spectral method takes its proximity SVD with the randomized solver: a
    /// solver asked for it is not silently dropped but named in a warning of the run.
    @Test func aSolverTheSpectralMethodDoesNotUseIsAWarning() throws {
        try withEdges(plantedEdgeList()) { edges, dir in
            var c = FollowGraphSVDConfiguration()
            c.directed = false; c.solver = .arpack; c.dimension = 3
            let report = try FollowGraphRun.run(FollowGraphRunOptions(edges: edges, output: dir.appendingPathComponent("out"), configuration: c))
            #expect(report.warnings?.contains { $0.contains("solver arpack applies to method svd") } == true, "\(report.warnings ?? [])")
        }
    }
}
