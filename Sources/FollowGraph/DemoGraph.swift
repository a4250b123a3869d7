import Foundation

/// The built-in default input of `follow-graph-svd --demo`: a synthetic follow graph with planted
/// topics, small enough to embed and benchmark in seconds, large enough to show the method work.
public enum DemoGraph {
    /// 20,000 accounts, 400,000 follows, 10 planted topics, 70% of follows across topics (so the
    /// topics are recoverable but not trivially: macro ROC-AUC about 0.95).
    public static func parameters(seed: UInt64) -> FollowGraphParameters {
        FollowGraphParameters(nodes: 20_000, edges: 400_000, communities: 10, mixing: 0.7,
                              outExponent: 2.5, inExponent: 2.1, directed: true, seed: seed)
    }

    /// Generates the demo graph and writes `edges.tsv` and `labels.tsv` (topic per account) into `directory`.
    /// - Throws: ``FollowGraphError`` when the files cannot be written.
    public static func write(to directory: URL, seed: UInt64) throws -> (edges: URL, labels: URL) {
        let graph = try FollowGraphGenerator.generate(parameters(seed: seed))
        try graph.write(to: directory)
        return (directory.appendingPathComponent("edges.tsv"), directory.appendingPathComponent("labels.tsv"))
    }
}
