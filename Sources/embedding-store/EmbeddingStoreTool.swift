import ArgumentParser
import EmbeddingStore
import FeatureStore
import Foundation

struct StoreOption: ParsableArguments {
    @Option(help: ArgumentHelp("The store directory (default: $EMBEDDINGS_STORE).", valueName: "DIR"))
    var store: String?
    func open(create: Bool = false) throws -> FeatureStore {
        guard let path = store ?? ProcessInfo.processInfo.environment["EMBEDDINGS_STORE"] else {
            throw ValidationError("give --store DIR or set EMBEDDINGS_STORE")
        }
        return try FeatureStore(directory: URL(fileURLWithPath: path), create: create)
    }
}

func time(_ text: String?, _ flag: String) throws -> Double? {
    guard let text else { return nil }
    guard let t = Timestamp.parse(text) else { throw ValidationError("\(flag) \(text.debugDescription): use ISO-8601 (2024-05-01T00:00:00Z) or seconds since 1970") }
    return t
}

@main struct EmbeddingStoreTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedding-store",
        abstract: "Publish embedding tables as versions, find them, and read them offline and online.",
        discussion: """
        A store is a directory: registry.sqlite (the registry) and
        versions/NAME/VERSION/ (immutable copies of embedding tables:
        vectors.npy, ids.tsv, meta.json). A typical session:
          export EMBEDDINGS_STORE=~/store        # or --store DIR on each command
          embedding-store init
          embedding-store publish out/consumers --name consumers --tag graph
          embedding-store list --search graph
          embedding-store get consumers --id 42
          embedding-store get consumers@v1 --ids ids.txt --output v.npy
          embedding-store join consumers --rows events.csv --output joined
          embedding-store serve                  # API + catalog, 127.0.0.1:8080
        NAME@VERSION or NAME@ALIAS picks a version; NAME alone means the
        `latest` alias. Each subcommand's --help says more.
        """,
        subcommands: [Init.self, Publish.self, List.self, Show.self, Get.self, Join.self, Export.self, Alias.self, Deprecate.self, Serve.self])
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an empty store (no-op if one exists).")
    @OptionGroup var options: StoreOption
    func run() throws { let s = try options.open(create: true); print("store ready at \(s.directory.path)") }
}

