import Foundation
import Testing

/// Runs the package's built tools as child processes (optionally under `ulimit -v`), with a
/// deadline: a run that outlives it is killed and reported as a hang.
struct ToolRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

enum ToolRunner {
    /// The directory holding the built executables (`.build/<config>`): the test bundle's.
    static var productsDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url = url.deletingLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("follow-graph-svd").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    static func executable(_ name: String) throws -> String {
        let path = productsDirectory.appendingPathComponent(name).path
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is not built (swift test builds it)")
        return path
    }

    /// Runs `tool arguments` under `/bin/sh -c 'ulimit -v KB; exec …'` when `addressSpaceKB` is given.
    static func run(_ tool: String, _ arguments: [String], addressSpaceKB: Int? = nil,
                    environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> ToolRun {
        let path = try executable(tool)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let quoted = ([path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let limit = addressSpaceKB.map { "ulimit -v \($0); " } ?? ""
        process.arguments = ["-c", limit + "exec " + quoted]
        var env = ProcessInfo.processInfo.environment
        env["EMBEDDINGS_NO_BLAS_REEXEC"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("toolrun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline { timedOut = true; kill(process.processIdentifier, SIGKILL); break }
            usleep(20_000)
        }
        process.waitUntilExit()
        return ToolRun(status: process.terminationStatus,
                       stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                       timedOut: timedOut)
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small directed graph: `nodes` accounts, each following the next `degree` ones.
    static func ringGraph(nodes: Int, degree: Int) -> String {
        var text = ""
        for i in 0..<nodes { for d in 1...degree { text += "\(i)\t\((i + d * 7) % nodes)\n" } }
        return text
    }
}
