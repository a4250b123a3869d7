import ArgumentParser
import EmbeddingStore
import FeatureStore
import Foundation

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List embeddings, optionally searching name, description, owner, tags.")
    @OptionGroup var options: StoreOption
    @Option(help: "Text to search for (case-insensitive).") var search: String?
    @Option var tag: String?
    @Option var entityType: String?
    @Option var owner: String?
    @Flag(help: "Print JSON.") var json = false
    func run() throws {
        let found = try options.open().embeddings(search: search, tag: tag, entityType: entityType, owner: owner)
        print(json ? try StoreRendering.json(found) : StoreRendering.catalogTable(found), terminator: json ? "\n" : "")
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an embedding's versions, or one version (NAME@VERSION) in full.")
    @OptionGroup var options: StoreOption
    @Argument(help: "NAME, NAME@VERSION or NAME@ALIAS.") var reference: String
    @Flag(help: "Print JSON.") var json = false
    func run() throws {
        let store = try options.open()
        let (name, selector) = VersionSelector.parse(reference: reference)
        if selector == .latest {
            let d = try store.embedding(name)
            print(json ? try StoreRendering.json(d) : StoreRendering.detailText(d), terminator: json ? "\n" : "")
        } else {
            let v = try store.resolve(name, selector)
            print(json ? try StoreRendering.json(v) : StoreRendering.versionText(v, directory: store.directory(of: v)), terminator: json ? "\n" : "")
        }
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print vectors (id, then values) or write them to a .npy file.")
    @OptionGroup var options: StoreOption
    @Argument(help: "NAME, NAME@VERSION or NAME@ALIAS.") var reference: String
    @Option(help: "An id (repeatable).") var id: [String] = []
    @Option(help: "A file with one id per line.") var ids: String?
    @Option(help: "Read the version valid at this time instead.") var asOf: String?
    @Option(help: "Write the vectors, in the ids' order, to this .npy file.") var output: String?
    func run() throws {
        let (name, selector) = VersionSelector.parse(reference: reference)
        var wanted = id
        if let ids { wanted += try String(contentsOfFile: ids, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init) }
        guard !wanted.isEmpty else { throw ValidationError("give --id X or --ids FILE") }
        let lookup = try options.open().vectors(name: name, try time(asOf, "--as-of").map(VersionSelector.asOf) ?? selector, ids: wanted)
        let missing = zip(wanted, lookup.vectors).filter { $0.1 == nil }.map(\.0)
        FileHandle.standardError.write(Data("from \(lookup.version.reference); \(wanted.count - missing.count) found\n".utf8))
        guard missing.isEmpty else { throw ValidationError("not in \(lookup.version.reference): \(missing.prefix(10).joined(separator: ", "))") }
        if let output { try NPY.write(.init(rows: lookup.vectors.map { $0! }), to: URL(fileURLWithPath: output)); return }
        for (i, v) in zip(wanted, lookup.vectors) { print(i + "\t" + v!.map { "\($0)" }.joined(separator: " ")) }
    }
}

struct Join: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Point-in-time join: each (id, timestamp) row gets the vector valid then.", discussion: """
        --rows is a CSV or TSV file of `id,timestamp` (header optional). OUT becomes a directory with vectors.npy (one row per input row, zeros where nothing was valid) and rows.tsv (id, timestamp, version used). Streams: memory does not grow with the number of rows.
        """)
    @OptionGroup var options: StoreOption
    @Argument var name: String
    @Option var rows: String
    @Option var output: String
    func run() throws {
        let s = try options.open().join(name: name, rows: URL(fileURLWithPath: rows), output: URL(fileURLWithPath: output))
        print("\(s.rows) rows: \(s.matched) matched, \(s.noVersion) before any version, \(s.missingID) ids missing; by version \(s.rowsByVersion)")
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Copy a whole version out as an embedding table directory.")
    @OptionGroup var options: StoreOption
    @Argument(help: "NAME, NAME@VERSION or NAME@ALIAS.") var reference: String
    @Option var output: String
    func run() throws {
        let (name, selector) = VersionSelector.parse(reference: reference)
        print("exported \(try options.open().export(name: name, selector, to: URL(fileURLWithPath: output)).reference) to \(output)")
    }
}
