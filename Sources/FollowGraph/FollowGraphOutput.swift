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
    /// A warning when some singular values are numerically zero (at most `s1 * sqrt(eps)`, about
    /// `3.5e-4 * s1` in float32): the matrix has lower rank than the dimension, and those
    /// dimensions carry no information. Nil when every value is above the tolerance.
    ///
    /// Why this tolerance, and not numpy's dense `s1 * eps * max(m, n)`: that one bounds the
    /// rounding of a dense SVD whose every dot product runs over `max(m, n)` terms, and in float32
    /// it passes `s1` itself once `max(m, n) > 1 / eps` (8.4M): a 10M-account run called all 64
    /// of its values (0.64 to 0.51) zero. A truncated SVD of a sparse graph does not round like
    /// that. The ARPACK back-end solves the eigenproblem of the Gramian `A'A` (or `AA'`) in
    /// float32, whose eigenvalues are resolved to about `eps * s1^2`, so singular values below
    /// `s1 * sqrt(eps)` cannot be told from zero; the randomized back-end's Rayleigh-Ritz step
    /// does better (`s1 * eps` times the growth of its float32 sums, about `sqrt(length)` for
    /// rounding errors of random sign, 3.2e3 for 10M rows, which is again about `1 / sqrt(eps)`).
    /// So `s1 * sqrt(eps)` is the floor of both back-ends, and it does not grow with the graph.
    public var rankWarning: String? { Self.rankWarning(singularValues: svd.s) }

    /// ``rankWarning`` for the leading singular values `s` of a matrix of any shape (the tolerance
    /// does not depend on it), naming the dimension setting by `names` (the library's `dimension`
    /// by default).
    public static func rankWarning(singularValues s: [Float], names: FollowGraphParameterNames = [:]) -> String? {
        let dim = names.name(.dimension)
        guard let first = s.first, first > 0 else { return "every singular value is zero: the matrix carries no signal" }
        let tolerance = first * Float.ulpOfOne.squareRoot()
        let zero = s.filter { $0 <= tolerance }.count
        guard zero > 0 else { return nil }
        return "\(zero) of the \(s.count) singular values are numerically zero (at most \(tolerance)): the matrix has rank \(s.count - zero) < \(dim) \(s.count), so \(zero) dimensions carry no information; use \(dim) \(s.count - zero)"
    }
}
