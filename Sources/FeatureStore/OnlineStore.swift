import Foundation
import Synchronization

/// In-process online serving: for each embedding, one memory-mapped ``OnlineVersion`` chosen by
/// an alias, switched to a new version without stopping readers.
///
/// A switch opens and indexes the new version first, then swaps one reference under a lock;
/// readers holding the old version finish with it, and its mapping is released when the last
/// of them lets go.
///
/// ```swift
/// let online = OnlineStore(store: store)
/// let v = try online.version(of: "users")      // opens the `latest` alias on first use
/// v.vector(for: "42")
/// try online.refresh()                         // follow aliases that moved
/// ```
public final class OnlineStore: Sendable {
    /// The store read from.
    public let store: FeatureStore
    /// The alias followed for each embedding.
    public let alias: String
    private let current = Mutex<[String: OnlineVersion]>([:])

    /// Serves `store`, following `alias` (default `latest`).
    public init(store: FeatureStore, alias: String = "latest") {
        self.store = store
        self.alias = alias
    }

    /// The version currently served for `name`, opening it on first use.
    /// - Throws: ``FeatureStoreError`` when the embedding or its alias does not exist.
    public func version(of name: String) throws -> OnlineVersion {
        if let v = current.withLock({ $0[name] }) { return v }
        let opened = try store.openOnline(name: name, alias == "latest" ? .latest : .alias(alias))
        return current.withLock { map in
            if let existing = map[name] { return existing }
            map[name] = opened
            return opened
        }
    }

    /// A version of `name` picked by `selector`: the served one when it matches, else opened now
    /// (and not kept).
    public func version(of name: String, _ selector: VersionSelector) throws -> OnlineVersion {
        if selector == .latest && alias == "latest" { return try version(of: name) }
        let record = try store.resolve(name, selector)
        if let v = current.withLock({ $0[name] }), v.record.version == record.version { return v }
        return try OnlineVersion(directory: store.directory(of: record), record: record)
    }

    /// Switches `name` to `version` (opened before the swap). Returns the version served before.
    @discardableResult
    public func switchVersion(of name: String, to version: OnlineVersion) -> OnlineVersion? {
        current.withLock { map in
            let old = map[name]
            map[name] = version
            return old
        }
    }

    /// Re-reads the alias of every served embedding and hot-switches those that moved.
    /// Returns the names switched.
    @discardableResult
    public func refresh() throws -> [String] {
        let served = current.withLock { $0 }
        var switched = [String]()
        for (name, version) in served {
            let record = try store.resolve(name, alias == "latest" ? .latest : .alias(alias))
            if record.version != version.record.version {
                switchVersion(of: name, to: try OnlineVersion(directory: store.directory(of: record), record: record))
                switched.append(name)
            }
        }
        return switched.sorted()
    }
}
