import EmbeddingStore
import Foundation

/// A published embedding: a named family of versions with the same kind of entity.
public struct EmbeddingRecord: Codable, Sendable, Equatable {
    /// Unique name, e.g. `follow-graph-consumers` (see ``StoreNames``).
    public var name: String
    /// What a row is: `user`, `account`, `word`, `item`...
    public var entityType: String
    /// Who answers for it (team or person).
    public var owner: String
    /// What it is for, in words.
    public var description: String
    /// Free tags for discovery.
    public var tags: [String]
    /// When it was first published (ISO-8601 UTC).
    public var createdAt: String
}

/// Whether a version may be chosen by aliases and as-of reads.
public enum VersionStatus: String, Codable, Sendable {
    /// In use.
    case active
    /// Kept for reproducibility, but skipped by as-of selection; explicit reads still work.
    case deprecated
}

/// Where a version came from: an input file or another published version.
public struct LineageEntry: Codable, Sendable, Equatable, Hashable {
    /// `file` or `version`.
    public var kind: String
    /// A file path, or `name@version`.
    public var reference: String
    /// `sha256:<hex>` of the file, or the version's vectors checksum, when known.
    public var checksum: String?

    /// An entry of `kind` pointing at `reference`.
    public init(kind: String, reference: String, checksum: String? = nil) {
        self.kind = kind
        self.reference = reference
        self.checksum = checksum
    }
}

/// One immutable version of an embedding, as the registry describes it.
public struct VersionRecord: Codable, Sendable, Equatable {
    /// The embedding's name.
    public var embedding: String
    /// The version string, unique within the embedding (`v1`, `2024-05-01`...).
    public var version: String
    /// When the vectors were computed (from `meta.json`).
    public var createdAt: String
    /// When the version entered the store.
    public var publishedAt: String
    /// Start of the time window the vectors describe (inclusive), seconds since the epoch.
    public var validFrom: Double
    /// End of the window (exclusive); `nil` means open-ended.
    public var validTo: Double?
    /// Vector dimension.
    public var dimension: Int
    /// Number of rows.
    public var count: Int
    /// Algorithm that made the vectors.
    public var algorithm: String
    /// Its parameters.
    public var parameters: [String: JSONValue]
    /// Checksum of the input the vectors were computed from (`meta.json`'s `input_checksum`).
    public var inputChecksum: String?
    /// `sha256:<hex>` of `vectors.npy`.
    public var vectorsChecksum: String
    /// `sha256:<hex>` of `ids.tsv`.
    public var idsChecksum: String
    /// What the version was made from.
    public var lineage: [LineageEntry]
    /// Benchmark scores by name.
    public var scores: [String: Double]
    /// Active or deprecated.
    public var status: VersionStatus
    /// The version's directory, relative to the store.
    public var path: String

    /// `name@version`.
    public var reference: String { "\(embedding)@\(version)" }

    /// Whether time `t` (seconds) falls inside `[validFrom, validTo)`.
    public func covers(_ t: Double) -> Bool { t >= validFrom && (validTo.map { t < $0 } ?? true) }

    enum CodingKeys: String, CodingKey {
        case embedding, version, createdAt, publishedAt, validFrom, validTo, dimension, count, algorithm
        case parameters, inputChecksum, vectorsChecksum, idsChecksum, lineage, scores, status, path
    }

    /// Encodes with the window as ISO-8601 strings.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(embedding, forKey: .embedding)
        try c.encode(version, forKey: .version)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(publishedAt, forKey: .publishedAt)
        try c.encode(Timestamp.format(validFrom), forKey: .validFrom)
        try c.encode(validTo.map(Timestamp.format), forKey: .validTo)
        try c.encode(dimension, forKey: .dimension)
        try c.encode(count, forKey: .count)
        try c.encode(algorithm, forKey: .algorithm)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(inputChecksum, forKey: .inputChecksum)
        try c.encode(vectorsChecksum, forKey: .vectorsChecksum)
        try c.encode(idsChecksum, forKey: .idsChecksum)
        try c.encode(lineage, forKey: .lineage)
        try c.encode(scores, forKey: .scores)
        try c.encode(status, forKey: .status)
        try c.encode(path, forKey: .path)
    }

    /// Decodes what ``encode(to:)`` wrote.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func time(_ key: CodingKeys) throws -> Double? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let t = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not a timestamp: \(text)")
            }
            return t
        }
        embedding = try c.decode(String.self, forKey: .embedding)
        version = try c.decode(String.self, forKey: .version)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        publishedAt = try c.decode(String.self, forKey: .publishedAt)
        validFrom = try time(.validFrom) ?? 0
        validTo = try time(.validTo)
        dimension = try c.decode(Int.self, forKey: .dimension)
        count = try c.decode(Int.self, forKey: .count)
        algorithm = try c.decode(String.self, forKey: .algorithm)
        parameters = try c.decode([String: JSONValue].self, forKey: .parameters)
        inputChecksum = try c.decodeIfPresent(String.self, forKey: .inputChecksum)
        vectorsChecksum = try c.decode(String.self, forKey: .vectorsChecksum)
        idsChecksum = try c.decode(String.self, forKey: .idsChecksum)
        lineage = try c.decode([LineageEntry].self, forKey: .lineage)
        scores = try c.decode([String: Double].self, forKey: .scores)
        status = try c.decode(VersionStatus.self, forKey: .status)
        path = try c.decode(String.self, forKey: .path)
    }

    init(embedding: String, version: String, createdAt: String, publishedAt: String, validFrom: Double,
         validTo: Double?, dimension: Int, count: Int, algorithm: String, parameters: [String: JSONValue],
         inputChecksum: String?, vectorsChecksum: String, idsChecksum: String, lineage: [LineageEntry],
         scores: [String: Double], status: VersionStatus, path: String) {
        self.embedding = embedding; self.version = version; self.createdAt = createdAt
        self.publishedAt = publishedAt; self.validFrom = validFrom; self.validTo = validTo
        self.dimension = dimension; self.count = count; self.algorithm = algorithm
        self.parameters = parameters; self.inputChecksum = inputChecksum
        self.vectorsChecksum = vectorsChecksum; self.idsChecksum = idsChecksum
        self.lineage = lineage; self.scores = scores; self.status = status; self.path = path
    }
}

/// An alias (`latest`, `production`, any name) pointing at one version of an embedding.
public struct AliasRecord: Codable, Sendable, Equatable {
    /// The alias.
    public var alias: String
    /// The version it points at.
    public var version: String
    /// When it last moved (ISO-8601 UTC).
    public var updatedAt: String
}

/// One line of the catalog: an embedding with its newest version and aliases.
public struct EmbeddingSummary: Codable, Sendable, Equatable {
    /// The embedding.
    public var embedding: EmbeddingRecord
    /// How many versions it has.
    public var versionCount: Int
    /// Its newest version, if any.
    public var latest: VersionRecord?
    /// Its aliases.
    public var aliases: [AliasRecord]
}

/// Everything the registry knows about one embedding.
public struct EmbeddingDetail: Codable, Sendable, Equatable {
    /// The embedding.
    public var embedding: EmbeddingRecord
    /// Its versions, oldest first.
    public var versions: [VersionRecord]
    /// Its aliases.
    public var aliases: [AliasRecord]
}

/// Which version of an embedding a read wants.
public enum VersionSelector: Sendable, Equatable, CustomStringConvertible {
    /// The version the `latest` alias points at.
    case latest
    /// A version string; when no version has that name, an alias of that name.
    case named(String)
    /// Exactly this version string.
    case version(String)
    /// The version an alias points at.
    case alias(String)
    /// The active version whose window holds this time (seconds since the epoch): among those,
    /// the one with the latest `valid_from`, then the latest published.
    case asOf(Double)

    /// Parses `NAME`, `NAME@VERSION` or `NAME@ALIAS` into the name and a selector.
    public static func parse(reference: String) -> (name: String, selector: VersionSelector) {
        guard let at = reference.firstIndex(of: "@") else { return (reference, .latest) }
        return (String(reference[..<at]), .named(String(reference[reference.index(after: at)...])))
    }

    /// `latest`, `v3`, `alias production`, `as of 2024-05-01T00:00:00Z`.
    public var description: String {
        switch self {
        case .latest: return "latest"
        case .named(let s), .version(let s): return s
        case .alias(let a): return "alias \(a)"
        case .asOf(let t): return "as of \(Timestamp.format(t))"
        }
    }
}
