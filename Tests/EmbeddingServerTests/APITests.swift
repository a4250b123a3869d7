import EmbeddingStore
import Foundation
import Testing
@testable import EmbeddingServer
@testable import FeatureStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A store with two versions of `users` (jan, feb windows) and a running server on a loopback port.
final class Fixture: @unchecked Sendable {
    let dir: URL
    let store: FeatureStore
    let tables: [EmbeddingTable]
    let token = "test-token-0123456789abcdef"
    var port = 0
    var task: Task<Void, any Error>?

    init(label: String, readsNeedToken: Bool = false) async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("server-tests-\(label)-\(UInt32.random(in: 0 ... .max))")
        store = try FeatureStore(directory: dir.appendingPathComponent("store"), create: true)
        var tables = [EmbeddingTable]()
        for (i, window) in [("2024-01-01", "2024-02-01"), ("2024-02-01", nil)].enumerated() {
            let ids = (0..<50).map { "acct\($0)" }
            let meta = EmbeddingMetadata(entityType: "account", algorithm: "randomized-svd", createdAt: "2024-01-01T00:00:00Z",
                                         scores: ["blogcatalog.macro_auc": 0.6 + 0.05 * Double(i)], seed: UInt64(i + 1))
            let table = try EmbeddingTable(ids: ids, vectors: .gaussian(rows: 50, columns: 4, seed: UInt64(i + 1)), metadata: meta)
            try table.write(to: dir.appendingPathComponent("t\(i)"))
            try store.publish(table: dir.appendingPathComponent("t\(i)"), options: PublishOptions(
                name: "users", validFrom: Timestamp.parse(window.0), validTo: window.1.flatMap(Timestamp.parse),
                description: "Accounts <from> the follow graph", owner: "graph-team", tags: ["graph", "svd"]))
            tables.append(table)
        }
        self.tables = tables
        let server = EmbeddingServer(store: store, configuration: ServerConfiguration(
            port: 0, token: token, readsNeedToken: readsNeedToken, maxBodyBytes: 64 * 1024, maxBatchIDs: 100, refreshInterval: 0.2))
        let ready = AsyncStream<Int>.makeStream()
        task = Task { try await server.run { port in ready.continuation.yield(port) } }
        for await p in ready.stream { port = p; break }
    }

    func stop() async {
        task?.cancel()
        _ = await task?.result
        try? FileManager.default.removeItem(at: dir)
    }

    /// (status, parsed JSON or nil, body text)
    func request(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, token: String? = nil) async throws -> (Int, Any?, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) }
        if let body { request.httpBody = body }
        if request.httpBody != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let text = String(decoding: data, as: UTF8.self)
        return ((response as! HTTPURLResponse).statusCode, try? JSONSerialization.jsonObject(with: data), text)
    }
}

func floats(_ any: Any?) -> [Float] { ((any as? [Any]) ?? []).map { Float(($0 as! NSNumber).doubleValue) } }

@Suite(.serialized) struct APITests {
    @Test func readEndpointsAnswerWithTheStoredVectors() async throws {
        let f = try await Fixture(label: "read")
        do {
            var (status, json, _) = try await f.request("GET", "/v1/embeddings?q=GRAPH")
            let list = (json as! [String: Any])["embeddings"] as! [[String: Any]]
            #expect(status == 200 && list.count == 1 && list[0]["version_count"] as? Int == 2)
            (status, json, _) = try await f.request("GET", "/v1/embeddings?q=nothing")
            #expect(((json as! [String: Any])["embeddings"] as! [Any]).isEmpty)
            (status, json, _) = try await f.request("GET", "/v1/embeddings/users")
            let detail = json as! [String: Any]
            #expect(status == 200 && (detail["versions"] as! [Any]).count == 2)
            (status, json, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct7")
            var v = json as! [String: Any]
            #expect(status == 200 && v["version"] as? String == "v2" && floats(v["vector"]) == f.tables[1].vector(at: 7))
            (status, json, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct7?version=v1")
            #expect(floats((json as! [String: Any])["vector"]) == f.tables[0].vector(at: 7))
            (status, json, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct7?as_of=2024-01-31T23:59:59Z")
            v = json as! [String: Any]
            #expect(v["version"] as? String == "v1")
            (status, json, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct7?alias=latest")
            #expect((json as! [String: Any])["version"] as? String == "v2")
            (status, json, _) = try await f.request("POST", "/v1/embeddings/users/vectors", json: ["ids": ["acct1", "ghost", "acct2"]])
            let batch = json as! [String: Any]
            let vectors = batch["vectors"] as! [[String: Any]]
            #expect(status == 200 && vectors.count == 2 && batch["missing"] as? [String] == ["ghost"])
            #expect(floats(vectors[1]["vector"]) == f.tables[1].vector(at: 2))
            (status, json, _) = try await f.request("GET", "/v1/embeddings/users/neighbors/acct3?k=4")
            let neighbours = (json as! [String: Any])["neighbors"] as! [[String: Any]]
            let expected = f.tables[1].nearestNeighbors(of: [3], k: 4)[0].map { "acct\($0.row)" }
            #expect(status == 200 && neighbours.map { $0["id"] as! String } == expected)
            (status, _, _) = try await f.request("GET", "/healthz")
            #expect(status == 200)
        }
        await f.stop()
    }

    @Test func badInputGetsAJSONErrorWithAReason() async throws {
        let f = try await Fixture(label: "bad")
        do {
            for (method, path, expected) in [
                ("GET", "/v1/embeddings/nope", 404), ("GET", "/v1/embeddings/users/vectors/ghost", 404),
                ("GET", "/v1/embeddings/users/vectors/acct1?version=v9", 404), ("GET", "/v1/embeddings/users/vectors/acct1?as_of=yesterday", 400),
                ("GET", "/v1/embeddings/users/vectors/acct1?as_of=2023-01-01", 404),
                ("GET", "/v1/embeddings/users/vectors/acct1?version=v1&alias=latest", 400),
                ("GET", "/v1/embeddings/bad%20name", 400), ("GET", "/v1/embeddings/..%2Fetc/vectors/x", 400),
                ("GET", "/v1/embeddings/users/neighbors/acct1?k=0", 400), ("GET", "/v1/embeddings/users/neighbors/acct1?k=abc", 400),
                ("GET", "/v1/no-such-route", 404),
            ] {
                let (status, json, text) = try await f.request(method, path)
                let error = (json as? [String: Any])?["error"] as? [String: Any]
                #expect(status == expected, "\(path): \(text)")
                #expect(error?["status"] as? Int == expected && !((error?["reason"] as? String) ?? "").isEmpty, "\(path): \(text)")
            }
            var (status, _, text) = try await f.request("POST", "/v1/embeddings/users/vectors", body: Data("{not json".utf8))
            #expect(status == 400 && text.contains("reason"))
            (status, _, _) = try await f.request("POST", "/v1/embeddings/users/vectors", json: ["ids": (0..<101).map { "acct\($0)" }])
            #expect(status == 413)
            (status, _, _) = try await f.request("POST", "/v1/embeddings/users/vectors", body: Data(repeating: 0x20, count: 70 * 1024))
            #expect(status == 413)
            (status, _, text) = try await f.request("POST", "/v1/embeddings/users/vectors", json: ["ids": ["a\tb"]])
            #expect(status == 400 && text.contains("tab"))
        }
        await f.stop()
    }

    @Test func writesNeedTheBearerTokenAndMoveAliasesAtOnce() async throws {
        let f = try await Fixture(label: "auth")
        do {
            let body: [String: Any] = ["version": "v1"]
            var (status, _, text) = try await f.request("PUT", "/v1/embeddings/users/aliases/production", json: body)
            #expect(status == 401 && text.contains("token"))
            (status, _, _) = try await f.request("PUT", "/v1/embeddings/users/aliases/production", json: body, token: "wrong-token-0123456789abcdef")
            #expect(status == 401)
            (status, _, _) = try await f.request("PUT", "/v1/embeddings/users/aliases/production", json: body, token: f.token)
            #expect(status == 200)
            var (_, json, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct1?alias=production")
            #expect((json as! [String: Any])["version"] as? String == "v1")
            (status, _, _) = try await f.request("PUT", "/v1/embeddings/users/aliases/production", json: ["version": "v7"], token: f.token)
            #expect(status == 404)
            (status, _, _) = try await f.request("DELETE", "/v1/embeddings/users/aliases/production", token: f.token)
            #expect(status == 200)
            (status, _, _) = try await f.request("PUT", "/v1/embeddings/users/versions/v1/status", json: ["status": "deprecated"], token: f.token)
            #expect(status == 200)
            (status, _, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct1?as_of=2024-01-15")
            #expect(status == 404)
            // Publish through the API; latest moves and the served version switches.
            let third = try EmbeddingTable(ids: (0..<50).map { "acct\($0)" }, vectors: .gaussian(rows: 50, columns: 4, seed: 9),
                                           metadata: EmbeddingMetadata(entityType: "account", algorithm: "als"))
            try third.write(to: f.dir.appendingPathComponent("t3"))
            let publish: [String: Any] = ["table": f.dir.appendingPathComponent("t3").path, "name": "users", "valid_from": "2024-03-01"]
            (status, _, _) = try await f.request("POST", "/v1/embeddings", json: publish)
            #expect(status == 401)
            (status, json, _) = try await f.request("POST", "/v1/embeddings", json: publish, token: f.token)
            #expect(status == 201 && ((json as! [String: Any])["version"] as! [String: Any])["version"] as? String == "v3")
            (status, _, _) = try await f.request("POST", "/v1/embeddings", json: publish, token: f.token)
            #expect(status == 200)
            (_, json, _) = try await f.request("GET", "/v1/embeddings/users/vectors/acct5")
            #expect(floats((json as! [String: Any])["vector"]) == third.vector(at: 5))
            (status, _, text) = try await f.request("POST", "/v1/embeddings", json: ["table": "/nonexistent", "name": "x"], token: f.token)
            #expect(status == 400 && text.contains("nonexistent"))
        }
        await f.stop()
        // Token-gated reads.
        let gated = try await Fixture(label: "gated", readsNeedToken: true)
        do {
            #expect(try await gated.request("GET", "/v1/embeddings").0 == 401)
            #expect(try await gated.request("GET", "/v1/embeddings", token: gated.token).0 == 200)
        }
        await gated.stop()
        #expect(tokensMatch("abc", "abc") && !tokensMatch("abd", "abc") && !tokensMatch("ab", "abc") && !tokensMatch("abcd", "abc"))
    }

    @Test func theOpenAPIDocumentDescribesEveryRouteTruthfully() async throws {
        let f = try await Fixture(label: "openapi")
        do {
            let (status, json, _) = try await f.request("GET", "/openapi.json")
            #expect(status == 200)
            let paths = (json as! [String: Any])["paths"] as! [String: [String: Any]]
            // Every documented operation exists and answers one of its documented statuses.
            let examples: [String: (query: String, body: Any?)] = [
                "GET /v1/embeddings/{name}/neighbors/{id}": ("?k=3", nil),
                "POST /v1/embeddings/{name}/vectors": ("", ["ids": ["acct1"]]),
                "PUT /v1/embeddings/{name}/aliases/{alias}": ("", ["version": "v1"]),
                "PUT /v1/embeddings/{name}/versions/{version}/status": ("", ["status": "active"]),
                "POST /v1/embeddings": ("", ["table": f.dir.appendingPathComponent("t0").path, "name": "users"]),
            ]
            var operations = [String]()
            for (path, methods) in paths.sorted(by: { $0.key < $1.key }) {
                for method in ["get", "post", "put", "delete"] {
                    guard let op = methods[method] as? [String: Any] else { continue }
                    let key = "\(method.uppercased()) \(path)"
                    operations.append(key)
                    let concrete = path.replacingOccurrences(of: "{name}", with: "users").replacingOccurrences(of: "{id}", with: "acct1")
                        .replacingOccurrences(of: "{alias}", with: "staging").replacingOccurrences(of: "{version}", with: "v1")
                    let example = examples[key]
                    let (code, body, text) = try await f.request(method.uppercased(), concrete + (example?.query ?? ""), json: example?.body, token: f.token)
                    let responses = op["responses"] as! [String: Any]
                    #expect(responses["\(code)"] != nil, "\(key) answered \(code): \(text)")
                    // Documented required fields are present.
                    if let schema = (((responses["\(code)"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any],
                       let required = schema["required"] as? [String], let object = body as? [String: Any] {
                        for field in required { #expect(object[field] != nil, "\(key): no '\(field)' in \(text)") }
                    }
                }
            }
            // And every route the server has is documented.
            #expect(Set(operations) == Set([
                "GET /v1/embeddings", "POST /v1/embeddings", "GET /v1/embeddings/{name}", "GET /v1/embeddings/{name}/vectors/{id}",
                "POST /v1/embeddings/{name}/vectors", "GET /v1/embeddings/{name}/neighbors/{id}", "PUT /v1/embeddings/{name}/aliases/{alias}",
                "DELETE /v1/embeddings/{name}/aliases/{alias}", "PUT /v1/embeddings/{name}/versions/{version}/status",
                "GET /openapi.json", "GET /healthz",
            ]))
        }
        await f.stop()
    }
}
