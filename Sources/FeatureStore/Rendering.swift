import EmbeddingStore
import Foundation

/// Text and JSON renderings of registry records, for the command-line tool and the server.
public enum StoreRendering {
    /// A JSON encoder with snake_case keys, sorted keys and no escaped slashes.
    public static func jsonEncoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `value` as JSON text (pretty-printed, snake_case keys).
    public static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try jsonEncoder().encode(value), as: UTF8.self)
    }

    /// One line per embedding: name, entity type, latest version, count x dimension, owner, description.
    public static func catalogTable(_ summaries: [EmbeddingSummary]) -> String {
        if summaries.isEmpty { return "(no embeddings)\n" }
        var rows = [["NAME", "ENTITY", "LATEST", "VERSIONS", "SHAPE", "OWNER", "DESCRIPTION"]]
        for s in summaries {
            rows.append([s.embedding.name, s.embedding.entityType, s.latest?.version ?? "-", "\(s.versionCount)",
                         s.latest.map { "\($0.count)x\($0.dimension)" } ?? "-", s.embedding.owner,
                         String(s.embedding.description.prefix(60))])
        }
        return table(rows)
    }

    /// The embedding, its aliases and a line per version (window, shape, algorithm, status, scores).
    public static func detailText(_ d: EmbeddingDetail) -> String {
        var out = "\(d.embedding.name) (\(d.embedding.entityType))"
        if !d.embedding.owner.isEmpty { out += ", owner \(d.embedding.owner)" }
        out += "\n"
        if !d.embedding.description.isEmpty { out += "  \(d.embedding.description)\n" }
        if !d.embedding.tags.isEmpty { out += "  tags: \(d.embedding.tags.joined(separator: ", "))\n" }
        out += "  aliases: " + (d.aliases.isEmpty ? "none" : d.aliases.map { "\($0.alias) -> \($0.version)" }.joined(separator: ", ")) + "\n\n"
        var rows = [["VERSION", "VALID FROM", "VALID TO", "SHAPE", "ALGORITHM", "STATUS", "SCORES"]]
        for v in d.versions {
            rows.append([v.version, Timestamp.format(v.validFrom), v.validTo.map(Timestamp.format) ?? "open",
                         "\(v.count)x\(v.dimension)", v.algorithm, v.status.rawValue,
                         v.scores.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }.joined(separator: " ")])
        }
        return out + table(rows)
    }

    /// One version in full: window, shape, checksums, lineage, parameters, scores.
    public static func versionText(_ v: VersionRecord, directory: URL) -> String {
        var out = "\(v.reference)  \(v.status.rawValue)\n"
        out += "  window      \(Timestamp.format(v.validFrom)) .. \(v.validTo.map(Timestamp.format) ?? "open")\n"
        out += "  shape       \(v.count) x \(v.dimension) float32\n"
        out += "  algorithm   \(v.algorithm)\n"
        out += "  created     \(v.createdAt), published \(v.publishedAt)\n"
        out += "  vectors     \(v.vectorsChecksum)\n  ids         \(v.idsChecksum)\n"
        out += "  files       \(directory.path)\n"
        for l in v.lineage { out += "  lineage     \(l.kind) \(l.reference)\(l.checksum.map { " (\($0))" } ?? "")\n" }
        for (k, value) in v.parameters.sorted(by: { $0.key < $1.key }) {
            let text = (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "?"
            out += "  parameter   \(k) = \(text)\n"
        }
        for (k, value) in v.scores.sorted(by: { $0.key < $1.key }) { out += "  score       \(k) = \(value)\n" }
        return out
    }

    static func table(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
