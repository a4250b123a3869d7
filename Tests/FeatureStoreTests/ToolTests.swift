import EmbeddingStore
import Foundation
import LinearAlgebra
import Testing
@testable import FeatureStore

/// The `embedding-store` executable built beside the test bundle.
func toolURL() throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("embedding-store")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw FeatureStoreError(.notFound, "embedding-store executable not found near \(CommandLine.arguments[0]); run `swift build` first")
}

/// Runs the tool and returns (exit status, stdout, stderr).
@discardableResult
func runTool(_ arguments: [String], environment: [String: String] = [:], executable: URL? = nil,
             unset: [String] = []) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = try executable ?? toolURL()
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    for key in unset { env.removeValue(forKey: key) }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite(.serialized) struct ToolTests {
    @Test func killDashNineDuringPublishLeavesNothingHalfVisible() throws {
        let dir = try scratch("kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let storeURL = dir.appendingPathComponent("store")
        let store = try FeatureStore(directory: storeURL, create: true)
        let (a, _) = try writeTable(in: dir, "a", rows: 2000, seed: 1)
        let (b, tb) = try writeTable(in: dir, "b", rows: 2000, seed: 2)
        try store.publish(table: a, options: PublishOptions(name: "e"))
        for stage in ["staged", "verified", "registering"] {
            let process = Process()
            process.executableURL = try toolURL()
            process.arguments = ["publish", b.path, "--name", "e", "--store", storeURL.path]
            process.environment = ProcessInfo.processInfo.environment.merging(["EMBEDDING_STORE_TEST_PAUSE_AT": stage]) { $1 }
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            var seen = ""
            while !seen.contains("publish: \(stage)") {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            #expect(seen.contains("publish: \(stage)"), "child said: \(seen)")
            // Paused (at `registering` it holds the write lock mid-transaction): readers still work.
            let reader = try FeatureStore(directory: storeURL)
            #expect(try reader.resolve("e").version == "v1")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let after = try FeatureStore(directory: storeURL)
            #expect(try after.embedding("e").versions.map(\.version) == ["v1"], "after kill at \(stage)")
            #expect(try after.openOnline(name: "e").count == 2000)
        }
        // The next publish clears the leftovers and registers the version whole.
        let result = try store.publish(table: b, options: PublishOptions(name: "e"))
        #expect(result.created && result.version.version == "v2")
        #expect(try store.openOnline(name: "e").vector(for: "u9") == tb.vector(at: 9))
        #expect(try FileManager.default.contentsOfDirectory(atPath: storeURL.appendingPathComponent("versions/e").path).sorted() == ["v1", "v2"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: storeURL.appendingPathComponent("tmp").path).isEmpty)
    }

    @Test func theToolPublishesListsShowsGetsJoinsAndMovesAliases() throws {
        let dir = try scratch("tool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = dir.appendingPathComponent("store").path
        let (a, ta) = try writeTable(in: dir, "a", seed: 1)
        let (b, _) = try writeTable(in: dir, "b", seed: 2)
        #expect(try runTool(["init", "--store", s]).0 == 0)
        let (code, out, _) = try runTool(["publish", a.path, "--name", "users", "--tag", "graph", "--owner", "me",
                                          "--valid-from", "2024-01-01", "--valid-to", "2024-02-01", "--store", s])
        #expect(code == 0 && out.contains("published users@v1"))
        #expect(try runTool(["publish", a.path, "--name", "users", "--store", s]).1.contains("unchanged"))
        #expect(try runTool(["publish", b.path, "--name", "users", "--valid-from", "2024-02-01"], environment: ["EMBEDDINGS_STORE": s]).0 == 0)
        #expect(try runTool(["list", "--search", "GRAPH", "--store", s]).1.contains("users"))
        let json = try runTool(["list", "--json", "--store", s]).1
        #expect(json.contains("\"version_count\" : 2"))
        #expect(try runTool(["show", "users", "--store", s]).1.contains("latest -> v2"))
        #expect(try runTool(["show", "users@v1", "--store", s]).1.contains("2024-01-01T00:00:00Z .. 2024-02-01T00:00:00Z"))
        let got = try runTool(["get", "users", "--id", "u3", "--as-of", "2024-01-15", "--store", s]).1
        #expect(got.hasPrefix("u3\t") && got.contains("\(ta.vector(at: 3)[0])"))
        let npy = dir.appendingPathComponent("out.npy")
        #expect(try runTool(["get", "users@v1", "--id", "u3", "--id", "u4", "--output", npy.path, "--store", s]).0 == 0)
        let m: Matrix<Float> = try NPY.read(from: npy)
        #expect(m.row(1) == ta.vector(at: 4))
        let missing = try runTool(["get", "users", "--id", "nobody", "--store", s])
        #expect(missing.0 != 0 && missing.2.contains("nobody"))
        try "u1,2024-01-10\nu1,2024-03-01\n".write(to: dir.appendingPathComponent("rows.csv"), atomically: true, encoding: .utf8)
        let joined = try runTool(["join", "users", "--rows", dir.appendingPathComponent("rows.csv").path,
                                  "--output", dir.appendingPathComponent("joined").path, "--store", s])
        #expect(joined.1.contains("2 rows: 2 matched"))
        #expect(try runTool(["alias", "users", "production", "v1", "--store", s]).0 == 0)
        #expect(try runTool(["show", "users@production", "--json", "--store", s]).1.contains("\"version\" : \"v1\""))
        #expect(try runTool(["deprecate", "users@v1", "--store", s]).0 == 0)
        #expect(try runTool(["get", "users", "--id", "u1", "--as-of", "2024-01-10", "--store", s]).0 != 0)
        #expect(try runTool(["export", "users@v1", "--output", dir.appendingPathComponent("exp").path, "--store", s]).0 == 0)
        let bad = try runTool(["show", "nope", "--store", s])
        #expect(bad.0 != 0 && bad.2.contains("no embedding named 'nope'"))
        #expect(try runTool(["list"], environment: ["EMBEDDINGS_STORE": dir.appendingPathComponent("none").path]).2.contains("embedding-store init"))
    }

    /// `serve` started as a user would (port 0: it prints the port it bound) answers lookups
    /// with the stored vectors, and a 404 for an unknown id.
    @Test func serveAnswersLookups() async throws {
        let dir = try scratch("serve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = dir.appendingPathComponent("store").path
        let (a, ta) = try writeTable(in: dir, "a", seed: 3)
        #expect(try runTool(["init", "--store", s]).0 == 0)
        #expect(try runTool(["publish", a.path, "--name", "users", "--store", s]).0 == 0)
        let process = Process()
        process.executableURL = try toolURL()
        process.arguments = ["serve", "--store", s, "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var line = ""
        while !line.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.filter(\.isNumber)) }, "no port in \(line.debugDescription)")
        for row in [0, 7, 39] {
            let (status, body) = try httpGet(port: port, path: "/v1/embeddings/users/vectors/u\(row)")
            #expect(status == 200)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let vector = try #require(object["vector"] as? [Double])
            #expect(vector.map(Float.init) == ta.vector(at: row))
        }
        #expect(try httpGet(port: port, path: "/v1/embeddings/users/vectors/nobody").0 == 404)
    }
}

/// One HTTP/1.1 GET on 127.0.0.1 over a plain socket: (status, body).
func httpGet(port: Int, path: String) throws -> (Int, String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FeatureStoreError(.storage, "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw FeatureStoreError(.storage, "cannot connect to 127.0.0.1:\(port)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    guard write(fd, request, request.count) == request.count else { throw FeatureStoreError(.storage, "short write") }
    var response = [UInt8](), buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

/// The embedding tools' `--publish NAME --store DIR`: the table they wrote becomes a version.
@Suite(.serialized) struct PublishFromToolsTests {
    /// Runs another tool built beside embedding-store, without an inherited EMBEDDINGS_STORE.
    func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let url = try toolURL().deletingLastPathComponent().appendingPathComponent(tool)
        try #require(FileManager.default.isExecutableFile(atPath: url.path), "\(tool) is not built beside embedding-store")
        return try runTool(arguments, environment: environment, executable: url,
                           unset: environment["EMBEDDINGS_STORE"] == nil ? ["EMBEDDINGS_STORE"] : [])
    }

    @Test func wordEmbedAndALSPublishWhatTheyWrote() throws {
        let dir = try scratch("tool-publish")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus.txt"), store = dir.appendingPathComponent("store")
        var text = ""
        for i in 0..<400 { text += "the cat sat on the mat number \(i % 7) while a dog ran to the park\n" }
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        let words = dir.appendingPathComponent("words").path
        let args = [corpus.path, "--output", words, "--min-count", "1", "--dim", "4", "--quiet", "--publish", "words", "--store", store.path,
                    "--publish-tag", "test"]
        var (status, out, err) = try run("word-embed", args)
        #expect(status == 0, "word-embed failed: \(err)")
        #expect(out.contains("published words@v1"), "stdout: \(out)")
        let published = try FeatureStore(directory: store).resolve("words")
        let written = try EmbeddingTable.read(from: URL(fileURLWithPath: words))
        #expect(published.count == written.count && published.dimension == 4)
        #expect(try FeatureStore(directory: store).embedding("words").embedding.tags == ["test"])
        (status, out, _) = try run("word-embed", args)
        #expect(status == 0 && out.contains("already holds") && !out.contains("published words@v2"), "stdout: \(out)")

        let interactions = dir.appendingPathComponent("interactions.tsv")
        try (0..<300).map { "u\($0 % 30)\ti\(($0 * 7) % 20)" }.joined(separator: "\n").write(to: interactions, atomically: true, encoding: .utf8)
        (status, out, err) = try run("als-embed", [interactions.path, "--output", dir.appendingPathComponent("als").path, "--factors", "4",
                                                  "--iterations", "2", "--publish", "recs"], environment: ["EMBEDDINGS_STORE": store.path])
        #expect(status == 0, "als-embed failed: \(err)")
        #expect(out.contains("published recs.users@v1") && out.contains("published recs.items@v1"), "stdout: \(out)")
        #expect(try FeatureStore(directory: store).resolve("recs.items").count == 20)
    }

    @Test func followGraphSVDPublishesEachTableItWrote() throws {
        let dir = try scratch("tool-publish-graph")
        defer { try? FileManager.default.removeItem(at: dir) }
        let edges = dir.appendingPathComponent("edges.tsv"), store = dir.appendingPathComponent("store")
        var state: UInt64 = 3
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        try (0..<600).map { _ in "a\(next() % 60)\tb\(next() % 40)" }.joined(separator: "\n").write(to: edges, atomically: true, encoding: .utf8)
        let (status, out, err) = try run("follow-graph-svd", [edges.path, "--output", dir.appendingPathComponent("emb").path, "--dim", "4",
                                                             "--quiet", "--publish", "graph", "--store", store.path])
        #expect(status == 0, "follow-graph-svd failed: \(err)")
        for table in ["consumers", "producers", "nodes"] {
            #expect(out.contains("published graph.\(table)@v1"), "stdout: \(out)")
            let written = try EmbeddingTable.read(from: dir.appendingPathComponent("emb/\(table)"))
            #expect(try FeatureStore(directory: store).resolve("graph.\(table)").count == written.count)
        }
        let (refused, _, message) = try run("follow-graph-svd", [edges.path, "--write-csr", dir.appendingPathComponent("g.csr").path,
                                                                 "--publish", "graph", "--store", store.path])
        #expect(refused == 64 && message.contains("--publish goes with an embedding run"), "stderr: \(message)")
    }

    @Test func publishingMistakesAreRefusedBeforeAnyWork() throws {
        let dir = try scratch("tool-publish-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus.txt")
        try "a b c\n".write(to: corpus, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("out").path
        var (status, _, err) = try run("word-embed", [corpus.path, "--output", output, "--publish", "words"])
        #expect(status == 64 && err.contains("--publish needs --store DIR or EMBEDDINGS_STORE"), "stderr: \(err)")
        (status, _, err) = try run("word-embed", [corpus.path, "--output", output, "--publish", "../evil", "--store", dir.path])
        #expect(status == 64 && err.contains("may hold only letters"), "stderr: \(err)")
        (status, _, err) = try run("word-embed", [corpus.path, "--output", output, "--store", dir.path])
        #expect(status == 64 && err.contains("--store is used with --publish NAME"), "stderr: \(err)")
        // NAME.consumers must fit the registry's 128 characters: 118 is the most, checked up front.
        (status, _, err) = try run("als-embed", [corpus.path, "--output", output, "--publish", String(repeating: "n", count: 119), "--store", dir.path])
        #expect(status == 64 && err.contains("the name is 119 characters; at most 118"), "stderr: \(err)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
