// EmbeddingServer: the online JSON API (`/v1/...`, described at `/openapi.json`) and the
// server-rendered discovery pages over a FeatureStore, on Hummingbird. Only this module and the
// `embedding-store serve` command link the HTTP stack.
import EmbeddingStore
import FeatureStore
import Foundation
import Hummingbird

/// How the server is started.
public struct ServerConfiguration: Sendable {
    /// Address to bind (default loopback only).
    public var host: String
    /// Port (0 picks a free one; see ``EmbeddingServer/EmbeddingServer/run(handleSignals:onRunning:)``).
    public var port: Int
    /// The bearer token that publish, alias and deprecate requests must carry; `nil` disables them.
    public var token: String?
    /// Whether reads also need the token.
    public var readsNeedToken: Bool
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Most ids in one batch request.
    public var maxBatchIDs: Int
    /// Seconds between checks of the registry for aliases moved by other processes.
    public var refreshInterval: Double

    /// A configuration with the defaults: 127.0.0.1:8080, no token (writes off), open reads,
    /// 1 MiB bodies, 10,000 ids per batch, refresh every 2 s.
    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, readsNeedToken: Bool = false,
                maxBodyBytes: Int = 1 << 20, maxBatchIDs: Int = 10_000, refreshInterval: Double = 2) {
        self.host = host; self.port = port; self.token = token; self.readsNeedToken = readsNeedToken
        self.maxBodyBytes = maxBodyBytes; self.maxBatchIDs = maxBatchIDs; self.refreshInterval = refreshInterval
    }

    /// Reads a token from `path`: its first line, which must be at least 16 characters.
    /// - Throws: FeatureStore's `FeatureStoreError` (`.invalid`) when the file is missing or the token short.
    public static func readToken(from path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FeatureStoreError(.invalid, "\(path): cannot read the token file")
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard token.count >= 16 else {
            throw FeatureStoreError(.invalid, "\(path): the token must be at least 16 characters (try: openssl rand -hex 32 > \(path))")
        }
        return token
    }
}

/// The HTTP server: JSON API, OpenAPI document and catalog pages for one store.
///
/// ```swift
/// let server = EmbeddingServer(store: try FeatureStore(directory: url), configuration: .init(port: 8080))
/// try await server.run { port in print("listening on \(port)") }
/// ```
public struct EmbeddingServer: Sendable {
    /// The store served.
    public let store: FeatureStore
    /// The online view (memory-mapped versions following `latest`).
    public let online: OnlineStore
    /// Settings.
    public let configuration: ServerConfiguration
    let maps = MapCache()
    let neighbours = NeighbourIndexes()
    let bodies = BodyBufferPool()

    /// A server for `store`.
    public init(store: FeatureStore, configuration: ServerConfiguration = ServerConfiguration()) {
        self.store = store
        self.online = OnlineStore(store: store)
        self.configuration = configuration
    }

    /// Serves until the task is cancelled (or SIGINT/SIGTERM when `handleSignals`); calls
    /// `onRunning` with the bound port once it listens. Aliases moved by other processes are
    /// picked up every ``ServerConfiguration/refreshInterval`` seconds (hot switch).
    public func run(handleSignals: Bool = false, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        addAPIRoutes(to: router)
        addPageRoutes(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "embedding-store"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
        let online = self.online, interval = configuration.refreshInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                if handleSignals { try await app.runService() } else { try await app.run() }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(interval))
                    _ = try? online.refresh()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
