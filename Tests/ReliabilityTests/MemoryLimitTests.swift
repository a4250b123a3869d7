import Foundation
import LinearAlgebra
import Testing

/// follow-graph-svd under an address-space limit: a clean error naming what is needed, never a
/// hang (OpenBLAS's buffer allocation used to spin forever) or an abort.
@Suite(.serialized) struct MemoryLimitTests {
    @Test func tinyGraphUnderTightLimitStopsWithAnErrorInsteadOfSpinning() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 40, degree: 5).write(to: edges, atomically: true, encoding: .utf8)
        for kb in [200_000, 300_000, 400_000] {
            let run = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "4", "-o", dir.appendingPathComponent("out").path],
                                         addressSpaceKB: kb, timeout: 60)
            #expect(!run.timedOut, "hung under ulimit -v \(kb)")
            #expect(run.status == 1, "ulimit -v \(kb): status \(run.status), stderr \(run.stderr)")
            #expect(run.stderr.contains("not enough memory"), "\(run.stderr)")
            #expect(run.stderr.contains("allows"), "\(run.stderr)")
            #expect(!run.stderr.contains("Fatal error"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/nodes").path))
        }
    }

    @Test func budgetNamesTheSolvePhaseAndTheFlagsToChange() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 20_000, degree: 3).write(to: edges, atomically: true, encoding: .utf8)
        let run = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "3000", "--threads", "1", "-o", dir.appendingPathComponent("out").path],
                                     addressSpaceKB: 700_000, environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 60)
        #expect(!run.timedOut)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the solve phase needs"), "\(run.stderr)")
        #expect(run.stderr.contains("--dim (now 3000)") && run.stderr.contains("--max-nodes"), "\(run.stderr)")
    }

    @Test func runFitsUnderAModestLimitWithOneBLASThread() throws {
        let dir = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv")
        try ToolRunner.ringGraph(nodes: 40, degree: 5).write(to: edges, atomically: true, encoding: .utf8)
        let run = try ToolRunner.run("follow-graph-svd", [edges.path, "--dim", "4", "--threads", "1", "-o", dir.appendingPathComponent("out").path],
                                     addressSpaceKB: 600_000, environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 60)
        #expect(!run.timedOut)
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test func budgetChecksBothLimits() {
        let budget = MemoryBudget(phases: [.init(name: "read", bytes: 100 << 20, detail: "x"),
                                           .init(name: "solve", bytes: 300 << 20, detail: "y")],
                                  advice: "a smaller --dim")
        #expect(budget.peak.name == "solve")
        #expect(budget.lines.count == 2)
        #expect(throws: Never.self) {
            try budget.check(MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 1 << 30, cgroupLimit: nil, cgroupInUse: 0))
        }
        do {
            try budget.check(MemoryLimits(addressSpaceLimit: 400 << 20, addressSpaceInUse: 100 << 20, cgroupLimit: nil, cgroupInUse: 0))
            Issue.record("expected an address-space error")
        } catch {
            #expect(error.phase == "solve" && error.allowed == 400 << 20)
            #expect(error.description.contains("a smaller --dim"))
        }
        do {
            try budget.check(MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 0, cgroupLimit: 350 << 20, cgroupInUse: 60 << 20))
            Issue.record("expected a cgroup error")
        } catch {
            #expect(error.limit.hasPrefix("cgroup memory.max"))
            #expect(error.needed == 360 << 20)
        }
        let current = MemoryLimits.current()
        #expect(current.addressSpaceInUse > 0)
    }
}
