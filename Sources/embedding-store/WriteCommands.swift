import ArgumentParser
import EmbeddingStore
import FeatureStore
import Foundation

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Copy a table into the store as a new version.", discussion: """
        Checks the table, copies it (or --link: hard-links it), verifies SHA-256 (against meta.json's vectors_checksum when present), then registers it and moves `latest` in one transaction. Publishing the same content again changes nothing. The window [--valid-from, --valid-to) says which time the vectors describe; as-of reads and joins use it (default: from meta.json's created_at, open-ended).
        """)
    @OptionGroup var options: StoreOption
    @Argument(help: "The embedding table directory (vectors.npy, ids.tsv, meta.json).") var table: String
    @Option(help: "Embedding name (letters, digits, . _ -).") var name: String
    @Option(help: "Version string (default v1, v2, ...).") var version: String?
    @Option(help: "Window start (ISO-8601 or epoch seconds).") var validFrom: String?
    @Option(help: "Window end, exclusive (default open).") var validTo: String?
    @Option var description: String?
    @Option var owner: String?
    @Option(help: "A tag (repeat for more); replaces the embedding's tags.") var tag: [String] = []
    @Option(help: "NAME@VERSION or a file this version was made from (repeatable).") var lineage: [String] = []
    @Option(help: "Also point this alias at the new version (repeatable).") var alias: [String] = []
    @Flag(help: "Hard-link the files instead of copying them.") var link = false
    @Flag(help: "Leave the `latest` alias where it is.") var noLatest = false
    @Flag(help: "Print each stage (validated, staged, verified, registering, committed).") var verbose = false
    func run() throws {
        let store = try options.open()
        let pauseAt = ProcessInfo.processInfo.environment["EMBEDDING_STORE_TEST_PAUSE_AT"]  // kill -9 tests
        let result = try store.publish(table: URL(fileURLWithPath: table), options: PublishOptions(
            name: name, version: version, validFrom: try time(validFrom, "--valid-from"), validTo: try time(validTo, "--valid-to"),
            description: description, owner: owner, tags: tag.isEmpty ? nil : tag, lineage: lineage, aliases: alias,
            moveLatest: !noLatest, link: link, progress: { stage in
                if verbose || pauseAt != nil { FileHandle.standardError.write(Data("publish: \(stage.rawValue)\n".utf8)) }
                if stage.rawValue == pauseAt { sleep(600) }
            }))
        print(result.created ? "published \(result.version.reference) (\(result.version.count) x \(result.version.dimension))"
                             : "unchanged: same content as \(result.version.reference)")
    }
}

struct Alias: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Point ALIAS of NAME at VERSION (atomically), or --remove it.")
    @OptionGroup var options: StoreOption
    @Argument var name: String
    @Argument var alias: String
    @Argument var version: String?
    @Flag var remove = false
    func run() throws {
        let store = try options.open()
        if remove { try store.removeAlias(alias, of: name); print("removed \(name)@\(alias)"); return }
        guard let version else { throw ValidationError("give the VERSION to point \(alias) at") }
        try store.setAlias(alias, of: name, to: version)
        print("\(name)@\(alias) -> \(version)")
    }
}

struct Deprecate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mark NAME@VERSION deprecated (as-of reads skip it), or --undo.")
    @OptionGroup var options: StoreOption
    @Argument var reference: String
    @Flag var undo = false
    func run() throws {
        let (name, selector) = VersionSelector.parse(reference: reference)
        guard case .named(let version) = selector else { throw ValidationError("give NAME@VERSION") }
        try options.open().setStatus(undo ? .active : .deprecated, of: name, version: version)
        print("\(reference) is \(undo ? "active" : "deprecated")")
    }
}
