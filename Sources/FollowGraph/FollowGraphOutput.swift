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
