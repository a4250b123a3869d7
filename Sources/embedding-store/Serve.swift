import ArgumentParser
import EmbeddingServer
import FeatureStore
import Foundation

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the JSON API (/v1, /openapi.json) and the catalog pages.", discussion: """
        Open http://HOST:PORT/ for the catalog. Reads are open unless --token-for-reads; publishing, aliases and status changes need `Authorization: Bearer TOKEN` with the token from --token-file (without one they are refused). Aliases moved by other processes are followed within 2 s. Binds to 127.0.0.1 unless --host says otherwise.
        """)
    @OptionGroup var options: StoreOption
    @Option var host = "127.0.0.1"
    @Option var port = 8080
    @Option(help: "File whose first line is the bearer token (at least 16 characters).") var tokenFile: String?
    @Flag(help: "Require the token for reads too.") var tokenForReads = false
    func run() async throws {
        let token = try tokenFile.map(ServerConfiguration.readToken(from:))
        if tokenForReads && token == nil { throw ValidationError("--token-for-reads needs --token-file") }
        let server = EmbeddingServer(store: try options.open(), configuration: ServerConfiguration(
            host: host, port: port, token: token, readsNeedToken: tokenForReads))
        try await server.run(handleSignals: true) { port in
            FileHandle.standardOutput.write(Data("serving \(server.store.directory.path) on http://\(host):\(port)/\n".utf8))
        }
    }
}
