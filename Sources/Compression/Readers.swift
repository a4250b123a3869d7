import Foundation

/// A labelled dataset read from files: per-entity ids, labels as class indices, and the class
/// names those indices stand for.
public struct LabeledEntities: Sendable {
    /// Entity ids, as the files spell them.
    public let ids: [String]
    /// Class index of each entity, in `0 ..< classNames.count`.
    public let labels: [Int]
    /// Class names, sorted; `labels[i]` indexes this array.
    public let classNames: [String]
}

/// Readers for the raw inputs of feature compression: sparse feature files and label files.
public enum FeatureReaders {
    /// Reads a sparse feature file: a JSON object mapping each node id (a string) to an array of
    /// non-negative integer feature ids, e.g. `{"0": [12, 7], "1": []}` (the MUSAE format).
    ///
    /// - Returns: the node ids sorted (numerically when every id is an integer, otherwise as
    ///   strings) and their feature lists in the same order; `dimension` is the largest feature
    ///   id plus one.
    /// - Throws: ``CompressionError`` when the file cannot be read, is not valid JSON (a
    ///   truncated file), is not an object of integer arrays, or holds a negative id or one
    ///   above 2^31 - 1.
    /// - Complexity: O(file size).
    public static func readSparseFeatures(path: String) throws -> (ids: [String], features: [[Int]], dimension: Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CompressionError(file: path, "cannot read: \(error.localizedDescription)")
        }
        let decoded: [String: [Int]]
        do { decoded = try JSONDecoder().decode([String: [Int]].self, from: data) } catch let error as DecodingError {
            throw CompressionError(file: path, "malformed sparse feature file (expected {\"node\": [feature ids...]}): \(describe(error))")
        } catch {
            throw CompressionError(file: path, "malformed sparse feature file: \(error)")
        }
        var ids = Array(decoded.keys)
        if ids.allSatisfy({ Int($0) != nil }) { ids.sort { Int($0)! < Int($1)! } } else { ids.sort() }
        var dimension = 0
        var lists = [[Int]]()
        lists.reserveCapacity(ids.count)
        for id in ids {
            let list = decoded[id]!
            for f in list {
                guard f >= 0 && f < Int(Int32.max) else {
                    throw CompressionError(file: path, "node \"\(id)\" has feature id \(f), outside 0..<\(Int32.max)")
                }
                dimension = max(dimension, f + 1)
            }
            lists.append(list)
        }
        return (ids, lists, dimension)
    }

    /// Reads a label file, `node<TAB>label` per line (`#` lines and blank lines skipped).
    /// A node listed on several lines keeps its first label.
    /// - Returns: node id -> label text.
    /// - Throws: ``CompressionError`` (with the line number) for a line without a tab or with
    ///   an empty field, or an unreadable file.
    public static func readLabels(path: String) throws -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CompressionError(file: path, "cannot read: \(error.localizedDescription)")
        }
        var labels = [String: String]()
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw CompressionError(file: path, line: lineNumber, "expected node<TAB>label, got \"\(line.prefix(80))\"")
            }
            let node = String(fields[0])
            if labels[node] == nil { labels[node] = String(fields[1]) }
        }
        return labels
    }

    /// Joins per-node labels to `ids`, keeping the nodes that have a label.
    /// - Returns: the positions in `ids` kept, and the labelled entities (class names sorted).
    /// - Throws: ``CompressionError`` when no node has a label.
    public static func attachLabels(ids: [String], labels: [String: String], source: String) throws -> (kept: [Int], entities: LabeledEntities) {
        let classNames = Array(Set(labels.values)).sorted()
        let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        var kept = [Int](), keptIds = [String](), classes = [Int]()
        for (i, id) in ids.enumerated() {
            if let label = labels[id] { kept.append(i); keptIds.append(id); classes.append(classIndex[label]!) }
        }
        guard !kept.isEmpty else { throw CompressionError(file: source, "no node of the feature file has a label") }
        return (kept, LabeledEntities(ids: keptIds, labels: classes, classNames: classNames))
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c): return "invalid or truncated JSON: \(c.debugDescription) \(c.underlyingError.map { "(\($0))" } ?? "")"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
            let path = c.codingPath.map { $0.stringValue }.joined(separator: ".")
            return "at \(path.isEmpty ? "top level" : path): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
