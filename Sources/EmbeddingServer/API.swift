import EmbeddingStore
import FeatureStore
import Foundation
import Hummingbird
import LinearAlgebra
import Neighbors
import Synchronization

/// Turns every error into a JSON body `{"error": {"status": 404, "reason": "..."}}`.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as FeatureStoreError {
            let status: HTTPResponse.Status
            switch error.kind {
            case .invalid: status = .badRequest
            case .notFound: status = .notFound
            case .conflict: status = .conflict
            case .integrity, .storage: status = .internalServerError
            }
            return JSON.error(status, error.message)
        } catch let error as HTTPError {
            var response = JSON.error(error.status, error.body ?? error.status.reasonPhrase)
            for field in error.headers { response.headers.append(field) }
            return response
        } catch {
            return JSON.error(.internalServerError, "internal error: \(error)")
        }
    }
}

/// Small JSON helpers: fast hand-written bodies for the hot paths, Codable for the rest.
enum JSON {
    static let headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]

    static func response(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        response(ByteBuffer(string: text), status: status)
    }

    static func response(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    static func encode<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        response(ByteBuffer(bytes: try StoreRendering.jsonEncoder(pretty: false).encode(value)), status: status)
    }

    static func error(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        response(.json(bound: 48 + JSONBytes.quotedBound(reason.utf8.count)) { out in
            out.raw("{\"error\":{\"status\":"); out.integer(status.code)
            out.raw(",\"reason\":"); out.quoted(reason); out.raw("}}")
        }, status: status)
    }

    /// The most bytes of one `{"id":...,"version":...,"vector":[...]}` object and its comma.
    static func vectorObjectBound(idBytes: Int, versionBytes: Int, dimension: Int) -> Int {
        JSONBytes.quotedBound(idBytes) + JSONBytes.quotedBound(versionBytes) + 32 + dimension * JSONBytes.numberBound
    }

    /// `{"id":...,"version":...,"vector":[...]}` straight from the mapped floats.
    @inline(__always)
    static func vectorObject(id: UnsafeBufferPointer<UInt8>, version: UnsafeBufferPointer<UInt8>, _ v: UnsafeBufferPointer<Float>,
                             into out: inout JSONBytes) {
        out.raw("{\"id\":"); out.quoted(id)
        out.raw(",\"version\":"); out.quoted(version)
        out.raw(",\"vector\":"); out.array(v)
        out.raw("}")
    }

    /// `{"version":...,"vectors":[{...},...],"missing":[...]}` for a batch of ids, in request
    /// order, appended to `buffer`. (Writing parts on both cores and joining them measured no
    /// faster: the work per number is small once the digits come from `FloatText`.)
    static func batch(_ ids: IDList, from version: OnlineVersion, into buffer: inout ByteBuffer) {
        var versionText = version.record.version
        versionText.withUTF8 { versionBytes in
            var bound = 64 + JSONBytes.quotedBound(versionBytes.count)
            let perID = vectorObjectBound(idBytes: 0, versionBytes: versionBytes.count, dimension: version.dimension)
            bound += ids.count * perID + JSONBytes.quotedBound(ids.bytes.count)
            buffer.writeJSON(bound: bound) { out in
                out.raw("{\"version\":"); out.quoted(versionBytes); out.raw(",\"vectors\":[")
                var missing = [Int]()
                var first = true
                for i in 0..<ids.count {
                    ids.withID(i) { id in
                        guard let row = version.row(of: id) else { missing.append(i); return }
                        if !first { out.byte(UInt8(ascii: ",")) }
                        first = false
                        version.withVector(atRow: row) { vectorObject(id: id, version: versionBytes, $0, into: &out) }
                    }
                }
                out.raw("],\"missing\":[")
                for (k, i) in missing.enumerated() {
                    if k > 0 { out.byte(UInt8(ascii: ",")) }
                    ids.withID(i) { out.quoted($0) }
                }
                out.raw("]}")
            }
        }
    }
}

/// Constant-time comparison of a presented token with the configured one.
func tokensMatch(_ presented: String, _ expected: String) -> Bool {
    let a = Array(presented.utf8), b = Array(expected.utf8)
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for i in 0..<b.count { difference |= (i < a.count ? a[i] : 0) ^ b[i] }
    return difference == 0
}

/// The body of `POST /v1/embeddings`: the table's path and the ``PublishOptions`` fields it may
/// set (`name`, `version`, `valid_from`/`valid_to` as timestamps, `description`, `owner`,
/// `tags`, `lineage`, `aliases`), decoded straight into the options the store takes.
struct PublishRequest: Decodable {
    var table: String
    var options: PublishOptions

    private enum Key: String, CodingKey {
        case table, name, version, validFrom, validTo, description, owner, tags, lineage, aliases
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func timestamp(_ key: Key, _ field: String) throws -> Double? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let t = Timestamp.parse(text) else { throw HTTPError(.badRequest, message: "\(field) \(text.debugDescription) is not a timestamp") }
            return t
        }
        table = try c.decode(String.self, forKey: .table)
        options = PublishOptions(
            name: try c.decode(String.self, forKey: .name), version: try c.decodeIfPresent(String.self, forKey: .version),
            validFrom: try timestamp(.validFrom, "valid_from"), validTo: try timestamp(.validTo, "valid_to"),
            description: try c.decodeIfPresent(String.self, forKey: .description),
            owner: try c.decodeIfPresent(String.self, forKey: .owner), tags: try c.decodeIfPresent([String].self, forKey: .tags),
            lineage: try c.decodeIfPresent([String].self, forKey: .lineage) ?? [],
            aliases: try c.decodeIfPresent([String].self, forKey: .aliases) ?? [])
    }
}

struct AliasRequest: Decodable { var version: String }
struct StatusRequest: Decodable { var status: VersionStatus }

extension EmbeddingServer {
    /// Checks the bearer token when `write` or reads are gated. Throws 401/403 as JSON.
    func authorize(_ request: Request, write: Bool) throws {
        guard write || configuration.readsNeedToken else { return }
        guard let token = configuration.token else {
            throw HTTPError(.forbidden, message: "writes are disabled: start the server with --token-file")
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), tokensMatch(String(header.dropFirst(7)), token) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "missing or wrong bearer token")
        }
    }

    /// The version selector from `version=`, `alias=` or `as_of=` (at most one).
    func selector(_ request: Request) throws -> VersionSelector {
        guard let query = request.uri.query, !query.isEmpty else { return .latest }
        let q = request.uri.queryParameters
        let given = [("version", q.get("version")), ("alias", q.get("alias")), ("as_of", q.get("as_of"))].filter { $0.1 != nil }
        guard given.count <= 1 else { throw HTTPError(.badRequest, message: "give at most one of version, alias, as_of") }
        guard let (key, value) = given.first, let value else { return .latest }
        switch key {
        case "version": try StoreNames.validate(value, as: "version"); return .version(value)
        case "alias": try StoreNames.validate(value, as: "alias"); return .alias(value)
        default:
            guard let t = Timestamp.parse(value) else {
                throw HTTPError(.badRequest, message: "as_of \(value.debugDescription) is neither ISO-8601 nor seconds since 1970")
            }
            return .asOf(t)
        }
    }

    func name(_ context: BasicRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        try StoreNames.validate(name, as: "embedding name")
        return name
    }

    func id(_ context: BasicRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        try StoreNames.validateID(id)
        return id
    }

    /// The request body, refused with 413 beyond ``ServerConfiguration/maxBodyBytes``.
    func bodyBytes(_ request: Request) async throws -> ByteBuffer {
        var request = request
        do { return try await request.collectBody(upTo: configuration.maxBodyBytes) } catch {
            throw HTTPError(.contentTooLarge, message: "request body over \(configuration.maxBodyBytes) bytes")
        }
    }

    func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await bodyBytes(request)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(T.self, from: Data(buffer.readableBytesView)) } catch let error as HTTPError {
            throw error   // a decoder's own message (a field that is JSON but not valid)
        } catch {
            throw HTTPError(.badRequest, message: "request body is not the expected JSON: \(error)")
        }
    }

    /// The ids of a batch body, parsed in place (see ``IDList``).
    func batchIDs(_ request: Request) async throws -> IDList {
        let buffer = try await bodyBytes(request)
        do {
            return try buffer.withUnsafeReadableBytes { raw throws(IDListError) in try IDList(parsing: raw, limit: configuration.maxBatchIDs) }
        } catch {
            throw HTTPError(error.status, message: error.reason)
        }
    }

    func addAPIRoutes(to router: Router<BasicRequestContext>) {
        router.get("/openapi.json") { _, _ in JSON.response(OpenAPI.document) }
        router.get("/healthz") { _, _ in JSON.response("{\"status\":\"ok\"}") }
        router.get("/v1/embeddings") { request, _ in
            try authorize(request, write: false)
            let q = request.uri.queryParameters
            let found = try store.embeddings(search: q.get("q"), tag: q.get("tag"), entityType: q.get("entity_type"), owner: q.get("owner"))
            return try JSON.encode(["embeddings": found])
        }
        router.get("/v1/embeddings/{name}") { request, context in
            try authorize(request, write: false)
            return try JSON.encode(try store.embedding(try name(context)))
        }
        router.get("/v1/embeddings/{name}/vectors/{id}") { request, context in
            try authorize(request, write: false)
            let id = try id(context)
            let version = try online.version(of: try name(context), try selector(request))
            guard let row = version.row(of: id) else {
                throw FeatureStoreError(.notFound, "\(version.record.reference) has no id \(id.debugDescription)")
            }
            var idText = id, versionText = version.record.version
            let body = idText.withUTF8 { idBytes in
                versionText.withUTF8 { versionBytes in
                    ByteBuffer.json(bound: JSON.vectorObjectBound(idBytes: idBytes.count, versionBytes: versionBytes.count, dimension: version.dimension)) { out in
                        version.withVector(atRow: row) { JSON.vectorObject(id: idBytes, version: versionBytes, $0, into: &out) }
                    }
                }
            }
            return JSON.response(body)
        }
        router.post("/v1/embeddings/{name}/vectors") { request, context in
            try authorize(request, write: false)
            let name = try name(context)
            let ids = try await batchIDs(request)
            let version = try online.version(of: name, try selector(request))
            var buffer = bodies.take(capacity: 0)
            JSON.batch(ids, from: version, into: &buffer)
            bodies.give(buffer)
            return JSON.response(buffer)
        }
        router.get("/v1/embeddings/{name}/neighbors/{id}") { request, context in
            try authorize(request, write: false)
            let id = try id(context)
            let kText = request.uri.queryParameters.get("k") ?? "10"
            guard let k = Int(kText), (1...1000).contains(k) else {
                throw HTTPError(.badRequest, message: "k \(kText.debugDescription) must be an integer from 1 to 1000")
            }
            let version = try online.version(of: try name(context), try selector(request))
            let neighbors = try neighbours.find(id: id, k: k, in: version)
            return try JSON.encode(neighbors)
        }
        router.post("/v1/embeddings") { request, _ in
            try authorize(request, write: true)
            let p = try await body(PublishRequest.self, request)
            let result = try store.publish(table: URL(fileURLWithPath: p.table), options: p.options)
            _ = try? online.refresh()
            return try JSON.encode(PublishReply(created: result.created, version: result.version), status: result.created ? .created : .ok)
        }
        router.put("/v1/embeddings/{name}/aliases/{alias}") { request, context in
            try authorize(request, write: true)
            let name = try name(context), alias = try context.parameters.require("alias")
            let version = try await body(AliasRequest.self, request).version
            try store.setAlias(alias, of: name, to: version)
            _ = try? online.refresh()
            return try JSON.encode(try store.embedding(name).aliases)
        }
        router.delete("/v1/embeddings/{name}/aliases/{alias}") { request, context in
            try authorize(request, write: true)
            let name = try name(context)
            try store.removeAlias(try context.parameters.require("alias"), of: name)
            return try JSON.encode(try store.embedding(name).aliases)
        }
        router.put("/v1/embeddings/{name}/versions/{version}/status") { request, context in
            try authorize(request, write: true)
            let name = try name(context), version = try context.parameters.require("version")
            let status = try await body(StatusRequest.self, request).status
            try store.setStatus(status, of: name, version: version)
            return try JSON.encode(try store.resolve(name, .version(version)))
        }
    }
}

struct PublishReply: Encodable {
    var created: Bool
    var version: VersionRecord
}

/// The neighbour list the API and the explorer page show.
struct NeighbourList: Encodable {
    struct Item: Encodable { var id: String; var similarity: Float }
    var id: String
    var version: String
    var k: Int
    var method: String
    var neighbors: [Item]
}

/// Neighbour search through the Neighbors module: one exact cosine index (fused GEMM top-k) per
/// served version, built on first use from the mapped vectors and kept until the version changes.
final class NeighbourIndexes: Sendable {
    private let indexes = Mutex<[String: IndexBox]>([:])

    final class IndexBox: @unchecked Sendable {
        // Searches are serialised by the lock: the index is not documented as safe for concurrent searches.
        private let index: ExactIndex
        private let lock = NSLock()
        init(_ index: ExactIndex) { self.index = index }
        func search(_ query: Matrix<Float>, _ parameters: SearchParameters) throws -> [Neighbor] {
            lock.lock()
            defer { lock.unlock() }
            return try index.search(query, parameters: parameters)[0]
        }
    }

    func index(for version: OnlineVersion) throws -> IndexBox {
        let key = version.record.reference + version.record.vectorsChecksum
        if let box = indexes.withLock({ $0[key] }) { return box }
        let n = version.count, d = version.dimension
        var matrix = Matrix<Float>(rows: n, columns: d)
        version.withVectors { v in
            for r in 0..<n { for j in 0..<d { matrix.elements[r + j * n] = v[r * d + j] } }
        }
        let index = try ExactIndex(dimension: d, metric: .cosine)
        try index.add(ids: (0..<n).map(version.id(atRow:)), vectors: matrix, threads: nil)
        let box = IndexBox(index)
        indexes.withLock { map in
            map = map.filter { $0.key.hasPrefix(version.record.embedding + "@") == false }   // drop older versions of this embedding
            map[key] = box
        }
        return box
    }

    /// The `k` nearest ids to `id` by cosine similarity (the id itself left out).
    func find(id: String, k: Int, in version: OnlineVersion) throws -> NeighbourList {
        guard let row = version.row(of: id) else {
            throw FeatureStoreError(.notFound, "\(version.record.reference) has no id \(id.debugDescription)")
        }
        let box = try index(for: version)
        let query = Matrix<Float>(rows: 1, columns: version.dimension, elements: version.vector(atRow: row))
        let found = try box.search(query, SearchParameters(k: min(k + 1, version.count), threads: 1))
        let items = found.filter { $0.id != id }.prefix(k).map { NeighbourList.Item(id: $0.id, similarity: $0.score) }
        return NeighbourList(id: id, version: version.record.version, k: k, method: "exact-cosine (Neighbors.ExactIndex)",
                             neighbors: Array(items))
    }
}
