import ArgumentParser
import FeatureStore
import Foundation

/// `--publish NAME` with `--store DIR` (or `$EMBEDDINGS_STORE`): publish the table a tool just
/// wrote to the feature store as a new version of NAME, in the same run. The tool writes its
/// output first (atomically, as always), then publishes it: a failed publish leaves the written
/// table in place and says so.
public struct PublishingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("After writing, publish the output table to the feature store under this name.", valueName: "NAME"))
    public var publish: String?

    @Option(name: .customLong("store"), help: ArgumentHelp("The feature store for --publish (created if absent; default: $EMBEDDINGS_STORE).", valueName: "DIR"))
    public var storeDirectory: String?

    @Option(name: .customLong("publish-tag"), help: ArgumentHelp("A tag for the published embedding (repeatable).", valueName: "TAG"))
    public var tags: [String] = []

    public init() {}

    /// The longest suffix a tool of this package adds to `--publish NAME` (follow-graph-svd's
    /// `NAME.consumers` and `NAME.producers`; als-embed adds `.users` and `.items`).
    public static let longestSuffix = "consumers"

    /// The longest NAME `--publish` takes: NAME.SUFFIX must stay within the registry's limit
    /// (``StoreNames/maximumLength``) for every suffix a tool adds.
    public static var maximumNameLength: Int { StoreNames.maximumLength - 1 - longestSuffix.utf8.count }

    public func validate() throws {
        guard let name = publish else {
            if storeDirectory != nil { throw ValidationError("--store is used with --publish NAME") }
            if !tags.isEmpty { throw ValidationError("--publish-tag is used with --publish NAME") }
            return
        }
        do { try StoreNames.validate(name, as: "embedding name") } catch {
            throw ValidationError("--publish: \(error)")
        }
        guard name.utf8.count <= Self.maximumNameLength else {
            throw ValidationError("--publish: the name is \(name.utf8.count) characters; at most \(Self.maximumNameLength), so that the published NAME.\(Self.longestSuffix) stays within the store's \(StoreNames.maximumLength)")
        }
        if resolvedStore == nil { throw ValidationError("--publish needs --store DIR or EMBEDDINGS_STORE") }
    }

    /// The store directory in force: `--store`, else `$EMBEDDINGS_STORE`.
    public var resolvedStore: String? {
        storeDirectory ?? ProcessInfo.processInfo.environment["EMBEDDINGS_STORE"]
    }

    /// Publishes each written table when `--publish NAME` was given (creating the store when
    /// needed): a table without a suffix as NAME, one with a suffix as NAME.SUFFIX (a tool that
    /// writes `users` and `items` publishes NAME.users and NAME.items). Returns the lines to
    /// print, one a table (none when nothing was asked). `description` and `lineage` (the input
    /// files) go to the registry; publishing the same content again is a no-op and says so.
    @discardableResult
    public func publishIfAsked(_ tables: [(suffix: String?, path: String)], description: String, lineage: [String] = []) throws -> [String] {
        guard let base = publish, let storePath = resolvedStore else { return [] }
        let store: FeatureStore
        do { store = try FeatureStore(directory: URL(fileURLWithPath: storePath), create: true) } catch {
            throw PublishingError(message: "wrote \(tables.map(\.path).joined(separator: ", ")), but the store \(storePath) cannot be opened: \(error)")
        }
        // Every name is checked before the first publish, so that none is half done.
        let names = tables.map { table in table.suffix.map { base + "." + $0 } ?? base }
        for (name, table) in zip(names, tables) {
            do { try StoreNames.validate(name, as: "embedding name") } catch {
                throw PublishingError(message: "wrote \(table.path), but it cannot be published: \(error)")
            }
        }
        var lines = [String]()
        for (name, (_, path)) in zip(names, tables) {
            do {
                let result = try store.publish(table: URL(fileURLWithPath: path), options: PublishOptions(
                    name: name, description: description, tags: tags.isEmpty ? nil : tags,
                    lineage: lineage.map { URL(fileURLWithPath: $0).standardizedFileURL.path }))
                let v = result.version
                lines.append(result.created ? "published \(v.reference) (\(v.count) x \(v.dimension)) to \(storePath)"
                                            : "\(v.reference) in \(storePath) already holds \(path); nothing published")
            } catch {
                throw PublishingError(message: "wrote \(path), but publishing it as \(name) to \(storePath) failed: \(error)")
            }
        }
        return lines
    }
}

/// A publish after a successful write failed; the message says the output is in place.
public struct PublishingError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
