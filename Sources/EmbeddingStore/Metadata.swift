import Foundation

/// An error about an embedding table's files: which file, and what is wrong with it.
public struct EmbeddingStoreError: Error, CustomStringConvertible, Sendable {
    /// The file or directory concerned.
    public let path: String
    /// What is wrong, in words.
    public let problem: String

    /// Creates an error about `path`.
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// `"<path>: <problem>"`.
    public var description: String { "\(path): \(problem)" }
}

/// A JSON value, for the free-form parameter dictionary of ``EmbeddingMetadata``.
///
/// Integers are kept apart from other numbers so that a parameter such as `dimension: 64` or a
/// 64-bit seed survives a round trip exactly.
public enum JSONValue: Codable, Sendable, Equatable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number that is an integer in the signed 64-bit range.
    case int(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Decodes any JSON value. Integers that fit `Int64` decode as ``int(_:)``.
    /// - Throws: `DecodingError` if the value is not JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let b = try? container.decode(Bool.self) { self = .bool(b); return }
        if let i = try? container.decode(Int64.self) { self = .int(i); return }
        if let d = try? container.decode(Double.self) { self = .double(d); return }
        if let s = try? container.decode(String.self) { self = .string(s); return }
        if let a = try? container.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? container.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
    }

    /// Encodes the value as itself.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension JSONValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral {
    /// An ``int(_:)``.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A ``double(_:)``.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A ``string(_:)``.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A ``bool(_:)``.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// What an embedding table's `meta.json` records: what the rows are, how they were made, from
/// which input, and how well they scored.
///
/// Keys in the file are snake_case (`entity_type`, `created_at`, ...), so that Python reads them
/// naturally. `count` and `dimension` always agree with the vectors: ``EmbeddingTable`` sets them.
public struct EmbeddingMetadata: Codable, Sendable, Equatable {
    /// Version of this file layout; currently 1.
    public var formatVersion: Int
    /// What a row is, e.g. `"user"` or `"word"`.
    public var entityType: String
    /// Number of columns of the vectors.
    public var dimension: Int
    /// Number of rows (entities).
    public var count: Int
    /// The algorithm's name, e.g. `"randomized-svd"`.
    public var algorithm: String
    /// The algorithm's parameters (free-form JSON values).
    public var parameters: [String: JSONValue]
    /// Path of the input file the embeddings were computed from, if any.
    public var inputFile: String?
    /// Checksum of the input file, written `"sha256:<64 hex digits>"` (see ``FileChecksum``).
    public var inputChecksum: String?
    /// Creation time, ISO-8601 with a time zone, e.g. `"2024-05-01T12:00:00Z"`.
    public var createdAt: String
    /// Benchmark scores measured so far, by name (e.g. `"blogcatalog.macro_auc"`).
    public var scores: [String: Double]
    /// The seed of the random source that made the embeddings, if any.
    public var seed: UInt64?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case entityType = "entity_type"
        case dimension, count, algorithm, parameters
        case inputFile = "input_file"
        case inputChecksum = "input_checksum"
        case createdAt = "created_at"
        case scores, seed
    }

    /// Metadata with the given fields; `createdAt` defaults to now, `count` and `dimension` to 0
    /// (``EmbeddingTable`` fills them in from the vectors).
    public init(entityType: String, algorithm: String, parameters: [String: JSONValue] = [:],
                inputFile: String? = nil, inputChecksum: String? = nil,
                createdAt: String = EmbeddingMetadata.timestamp(), scores: [String: Double] = [:],
                seed: UInt64? = nil, count: Int = 0, dimension: Int = 0) {
        self.formatVersion = 1
        self.entityType = entityType
        self.dimension = dimension
        self.count = count
        self.algorithm = algorithm
        self.parameters = parameters
        self.inputFile = inputFile
        self.inputChecksum = inputChecksum
        self.createdAt = createdAt
        self.scores = scores
        self.seed = seed
    }

    /// Decodes metadata; `parameters` and `scores` may be absent (empty), `format_version`
    /// defaults to 1.
    /// - Throws: `DecodingError` when a required key is missing or has the wrong type.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try c.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 1
        entityType = try c.decode(String.self, forKey: .entityType)
        dimension = try c.decode(Int.self, forKey: .dimension)
        count = try c.decode(Int.self, forKey: .count)
        algorithm = try c.decode(String.self, forKey: .algorithm)
        parameters = try c.decodeIfPresent([String: JSONValue].self, forKey: .parameters) ?? [:]
        inputFile = try c.decodeIfPresent(String.self, forKey: .inputFile)
        inputChecksum = try c.decodeIfPresent(String.self, forKey: .inputChecksum)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        scores = try c.decodeIfPresent([String: Double].self, forKey: .scores) ?? [:]
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
    }

    /// Sets ``inputFile`` to `url`'s path and ``inputChecksum`` to its SHA-256.
    /// Cost: one streaming pass over the file.
    /// - Throws: ``EmbeddingStoreError`` if the file cannot be read.
    public mutating func recordInput(_ url: URL) throws {
        inputFile = url.path
        inputChecksum = "sha256:" + (try FileChecksum.sha256(of: url))
    }

    /// `date` as ISO-8601 in UTC, e.g. `"2024-05-01T12:00:00Z"`.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// The JSON text of this metadata: pretty-printed, keys sorted, trailing newline.
    /// - Throws: `EncodingError` if a score is not finite.
    public func jsonData() throws -> Data { try JSONReport.data(self) }
}

/// A typed report a tool writes with `--report`: any `Encodable` value as pretty-printed JSON
/// with sorted keys (the same text style as `meta.json`).
public enum JSONReport {
    /// The JSON text of `value`, with a trailing newline.
    /// - Throws: `EncodingError` if a number is not finite.
    public static func data<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    /// Writes `value` to `url` through a temporary file renamed into place, so a failed run
    /// never leaves half a report.
    /// - Throws: ``EmbeddingStoreError`` naming the file when it cannot be written.
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        do { try data(value).write(to: url, options: .atomic) } catch {
            throw EmbeddingStoreError(path: url.path, problem: "cannot write the report: \(error)")
        }
    }
}
