import Foundation
import Testing

/// Runs `distributed-check` (built with the tests) under `mpirun` on 1 to 4 ranks of this
/// machine (loopback, oversubscribed) and checks its verdicts. Each check compares a
/// distributed computation with the single-process one on the same seeded input and exits
/// nonzero on a difference.
enum MPIRunner {
    /// `mpirun` on the PATH (or Debian's /usr/bin), `nil` when Open MPI is not installed.
    static let mpirun: String? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init) + ["/usr/bin"]
        return path.map { $0 + "/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var available: Bool { mpirun != nil }

    /// The directory of the built executables (the test bundle's).
    static var productsDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0 ..< 4 {
            url = url.deletingLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("distributed-check").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    struct Run { var status: Int32; var output: String; var seconds: Double; var timedOut: Bool }

    /// `mpirun -np ranks distributed-check arguments`, killed after `timeout` seconds.
    static func run(ranks: Int, _ arguments: [String], timeout: TimeInterval = 120) throws -> Run {
        let tool = productsDirectory.appendingPathComponent("distributed-check").path
        try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is not built (swift test builds it)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun!)
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", "\(ranks)", tool] + arguments
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["EMBEDDINGS_NO_BLAS_REEXEC"] = "1"
        process.environment = env
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mpirun-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        process.standardOutput = handle
        process.standardError = handle
        let start = Date()
        try process.run()
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout { timedOut = true; process.terminate(); break }
            usleep(20_000)
        }
        process.waitUntilExit()
        try handle.close()
        return Run(status: process.terminationStatus, output: (try? String(contentsOf: file, encoding: .utf8)) ?? "",
                   seconds: Date().timeIntervalSince(start), timedOut: timedOut)
    }
}

@Suite("Distributed (MPI)", .serialized,
       .enabled(if: MPIRunner.available, "mpirun not found: install Open MPI (bash scripts/setup.sh) to run the MPI tests"))
struct DistributedTests {
    @Test("A X by ghost exchange and A' X by reduce-scatter match the single-process products", arguments: [1, 2, 3, 4])
    func products(ranks: Int) throws {
        let run = try MPIRunner.run(ranks: ranks, ["product", "--rows", "300", "--columns", "200", "--nnz", "3000", "--width", "5"])
        #expect(run.status == 0 && !run.timedOut, "\(run.output)")
        #expect(run.output.contains("product: \(ranks) ranks"), "\(run.output)")
    }

    @Test("Even splits and a wide block (more columns than rows)")
    func evenProducts() throws {
        let run = try MPIRunner.run(ranks: 3, ["product", "--rows", "120", "--columns", "500", "--nnz", "2000", "--width", "17", "--even"])
        #expect(run.status == 0 && !run.timedOut, "\(run.output)")
    }

    @Test("Distributed randomized SVD matches RandomizedSVD (values 1e-5, angles 1e-3)", arguments: [1, 2, 3, 4])
    func randomizedSVD(ranks: Int) throws {
        let run = try MPIRunner.run(ranks: ranks, ["svd", "--rows", "300", "--columns", "200", "--nnz", "3000", "--rank", "8"])
        #expect(run.status == 0 && !run.timedOut, "\(run.output)")
        #expect(run.output.contains("svd: \(ranks) ranks"), "\(run.output)")
    }

    /// A follow graph with planted communities, string ids, a header, comments, blank lines,
    /// CRLF line ends, duplicate edges and self-loops.
    static func graphFile(nodes: Int, degree: Int, seed: UInt64) throws -> URL {
        var state = seed
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var text = "source\ttarget\n# a comment\n\n"
        for i in 0 ..< nodes {
            let community = i % 5
            for d in 0 ..< degree {
                let j = next() % 10 < 8 ? (next() % (nodes / 5)) * 5 + community : next() % nodes
                text += "user\(i)\t@acct\(j)" + (d == 0 ? "\r\n" : "\n")
                if d == 1 { text += "user\(i) @acct\(j)\n" }      // duplicate, blank separator
            }
            if i % 17 == 0 { text += "user\(i),user\(i)\n% self-loop above\n" }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-\(UUID().uuidString).tsv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("Each rank reads its byte range; ids and rows are the single-process reader's", arguments: [1, 2, 3, 4])
    func edgeList(ranks: Int) throws {
        let file = try Self.graphFile(nodes: 300, degree: 6, seed: 11)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try MPIRunner.run(ranks: ranks, ["edges", "--file", file.path])
        #expect(run.status == 0 && !run.timedOut, "\(run.output)")
        #expect(run.output.contains("edges: \(ranks) ranks"), "\(run.output)")
        let undirected = try MPIRunner.run(ranks: ranks, ["edges", "--file", file.path, "--undirected"])
        #expect(undirected.status == 0 && !undirected.timedOut, "\(undirected.output)")
    }

    @Test("A bad line is reported with its file and global line number by the rank that read it")
    func badLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-bad-\(UUID().uuidString).tsv")
        defer { try? FileManager.default.removeItem(at: file) }
        var text = ""
        for i in 0 ..< 400 { text += "a\(i)\tb\(i)\n" }
        text += "only-one-column\n"
        for i in 0 ..< 40 { text += "c\(i)\td\(i)\n" }
        try text.write(to: file, atomically: true, encoding: .utf8)
        let run = try MPIRunner.run(ranks: 3, ["edges", "--file", file.path], timeout: 60)
        #expect(run.status != 0 && !run.timedOut)
        #expect(run.output.contains("\(file.path):401: 1 column"), "\(run.output)")
    }

    @Test("PARPACK eigenpairs match ARPACK's on the same operator", arguments: [1, 2, 4])
    func parpack(ranks: Int) throws {
        let run = try MPIRunner.run(ranks: ranks, ["eigen", "--rows", "200", "--nnz", "1500", "--rank", "6"])
        #expect(run.status == 0 && !run.timedOut, "\(run.output)")
        #expect(run.output.contains("eigen: \(ranks) ranks"), "\(run.output)")
    }

    @Test("Distributed ALS matches ALS (Cholesky rows), implicit and explicit", arguments: [1, 2, 3, 4])
    func als(ranks: Int) throws {
        for feedback in [[], ["--explicit"]] {
            let run = try MPIRunner.run(ranks: ranks, ["als"] + feedback)
            #expect(run.status == 0 && !run.timedOut, "\(run.output)")
            #expect(run.output.contains("als: \(ranks) ranks"), "\(run.output)")
        }
    }

    /// A users x items list with a header, weights, repeated pairs (summed), a CRLF line and
    /// ids that are both a user and an item (separate id maps).
    static func interactionFile(seed: UInt64) throws -> URL {
        var state = seed
        func next(_ n: Int) -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) % n }
        var text = "user\titem\tweight\n"
        for line in 0 ..< 900 {
            text += "\(1 + next(120))\t\(1 + next(80))\t\(1 + next(3))" + (line == 450 ? "\r\n" : "\n")
        }
        text += "7\t7\t2\n"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-als-\(UUID().uuidString).tsv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("als-embed --distributed writes the single-process tables (ids, order, factors)", arguments: [1, 2, 3, 4])
    func alsEmbed(ranks: Int) throws {
        let file = try Self.interactionFile(seed: 9)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-als-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: output) }
        for feedback in ranks == 2 ? [[], ["--explicit"]] : [[]] {
            try? FileManager.default.removeItem(at: output)
            let run = try MPIRunner.run(ranks: ranks, ["als-embed", "--file", file.path, "--output", output.path] + feedback)
            #expect(run.status == 0 && !run.timedOut, "\(run.output)")
            #expect(run.output.contains("als-embed: \(ranks) ranks"), "\(run.output)")
            #expect(run.output.contains("120 users x 80 items"), "\(run.output)")
        }
    }

    @Test("follow-graph-svd --distributed writes the single-process tables", arguments: [(1, "spectral"), (2, "svd"), (3, "spectral"), (4, "svd")])
    func followGraph(ranks: Int, method: String) throws {
        let file = try Self.graphFile(nodes: 400, degree: 8, seed: 5)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: output) }
        let run = try MPIRunner.run(ranks: ranks, ["follow-graph", "--file", file.path, "--output", output.path, "--method", method, "--rank", "8"])
        #expect(run.status == 0 && !run.timedOut, "\(run.output)")
        #expect(run.output.contains("follow-graph: \(ranks) ranks, \(method)"), "\(run.output)")
    }

    @Test("A rank failing mid-run ends every rank with an error, no hang")
    func failingRank() throws {
        let run = try MPIRunner.run(ranks: 3, ["fail", "--rank", "1", "--after", "3"], timeout: 60)
        #expect(!run.timedOut, "mpirun still running after 60 s: \(run.output)")
        #expect(run.status != 0)
        #expect(run.output.contains("rank 1 of 3: error: injected failure on rank 1 at pass 3"), "\(run.output)")
        #expect(run.seconds < 30, "took \(run.seconds) s")
    }

    @Test("A rank + oversampling above min(m, n) is a clear error on every rank")
    func invalidRank() throws {
        let run = try MPIRunner.run(ranks: 2, ["svd", "--rows", "20", "--columns", "12", "--nnz", "60", "--rank", "8"])
        #expect(run.status != 0, "\(run.output)")
        #expect(run.output.contains("error"), "\(run.output)")
    }
}
