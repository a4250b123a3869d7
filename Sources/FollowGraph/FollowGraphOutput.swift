// A follow-graph run's output directory: its tables (and the demo's input) staged together and
// committed as one unit through EmbeddingStore's OutputRun.
import EmbeddingStore
import Foundation

extension FollowGraphEmbedding {
    /// The entries a `follow-graph-svd` output directory may hold: the tables and the demo input.
    public static let outputEntries: Set<String> = ["consumers", "producers", "nodes", "demo-input"]

    /// Starts a run into `directory`: checks, before any work, that it is absent, empty or a
    /// previous run's output (nothing else inside), and removes staging left by killed runs.
    public static func startOutput(_ directory: URL) throws -> OutputRun {
        try OutputRun(destination: directory, tool: "follow-graph-svd", entries: outputEntries)
    }

    /// Writes the run's tables into `run`'s staging directory and commits the run: a directed
    /// graph gives `consumers`, `producers` and `nodes`, an undirected one `nodes`; all appear
    /// at once or not at all. `inputShownAs` replaces the tables' recorded input path (the demo
    /// reads its input from the staging directory, which becomes `DIR/demo-input`).
    /// Returns the tables written, by name.
    @discardableResult
    public func write(into run: OutputRun, directed: Bool, inputShownAs: String? = nil) throws -> [(String, EmbeddingTable)] {
        var tables: [(String, EmbeddingTable)] = directed
            ? [("consumers", consumers), ("producers", producers)] + (nodes.map { [("nodes", $0)] } ?? [])
            : [("nodes", consumers)]
        if let shown = inputShownAs {
            for i in tables.indices { tables[i].1.metadata.inputFile = shown }
        }
        for (name, table) in tables {
            let directory = run.staging.appendingPathComponent(name)
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false) } catch {
                throw FollowGraphError("\(directory.path): cannot create directory: \(error.localizedDescription)")
            }
            try table.writeFiles(into: directory)
        }
        try run.commit()
        return tables
    }
}

extension FollowGraphEmbedding {
    /// A warning when some singular values are numerically zero (at most `s1 * eps * max(m, n)`,
    /// LAPACK's rank tolerance in float32): the matrix has lower rank than the dimension, and those
    /// dimensions carry no information. Nil when every value is above the tolerance.
    public var rankWarning: String? { Self.rankWarning(singularValues: svd.s, rows: rows, columns: columns) }

    /// ``rankWarning`` for singular values of a `rows x columns` matrix, naming the dimension
    /// setting by `names` (the library's `dimension` by default).
    public static func rankWarning(singularValues s: [Float], rows: Int, columns: Int,
                                   names: FollowGraphParameterNames = [:]) -> String? {
        let dim = names.name(.dimension)
        guard let first = s.first, first > 0 else { return "every singular value is zero: the matrix carries no signal" }
        let tolerance = first * Float.ulpOfOne * Float(Swift.max(rows, columns))
        let zero = s.filter { $0 <= tolerance }.count
        guard zero > 0 else { return nil }
        return "\(zero) of the \(s.count) singular values are numerically zero (at most \(tolerance)): the matrix has rank \(s.count - zero) < \(dim) \(s.count), so \(zero) dimensions carry no information; use \(dim) \(s.count - zero)"
    }
}
