import ArgumentParser
import FollowGraph
import Foundation
import LinearAlgebra
import ToolSupport

/// `follow-graph-generate`: argument parsing for FollowGraph's ``FollowGraphGenerator``.
@main
struct FollowGraphGenerate: EmbeddingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow-graph-generate",
        abstract: "Generate a power-law follow graph with planted communities (degree-corrected block model).",
        discussion: """
        Writes DIR/edges.tsv (`src<TAB>dst`, ids 0..<nodes, with a `#` line giving the parameters) and \
        DIR/labels.tsv (`node<TAB>community`), the format of ../shared/data, each written to a temporary \
        file and renamed into place. Node weights are Pareto distributed (out- and in-degree exponents), \
        a fraction --mixing of edges crosses communities, and the same --seed gives the same files.

        Examples:
          follow-graph-generate --output /tmp/g --nodes 1000000 --edges 20000000 --communities 100
          follow-graph-generate --output /tmp/small --nodes 5000 --edges 80000 --communities 8 --mixing 0.3
        """)

    @Option(name: .shortAndLong, help: "Directory that receives edges.tsv and labels.tsv.") var output: String
    @Option(help: "Number of nodes.") var nodes: Int = 100_000
    @Option(help: "Number of distinct edges.") var edges: Int = 2_000_000
    @Option(help: "Number of planted communities.") var communities: Int = 20
    @Option(help: "Fraction of edges between communities, in [0, 1].") var mixing: Double = 0.2
    @Option(help: "Power-law exponent of the out-degree (following) distribution, > 1.") var outExponent: Double = 2.5
    @Option(help: "Power-law exponent of the in-degree (follower) distribution, > 1.") var inExponent: Double = 2.1
    @Flag(help: "Generate an undirected graph (each edge written once as `min<TAB>max`).") var undirected = false
    @Flag(help: "Keep repeated edges (a multigraph) instead of redrawing them.") var keepDuplicates = false
    @OptionGroup var seed: SeedOptions
    @OptionGroup var json: JSONOutputOptions

    func run() throws {
        let start = Date()
        let parameters = FollowGraphParameters(
            nodes: nodes, edges: edges, communities: communities, mixing: mixing,
            outExponent: outExponent, inExponent: inExponent, directed: !undirected, seed: seed.seed,
            duplicates: keepDuplicates ? .keep : .remove)
        let graph = try FollowGraphGenerator.generate(parameters)
        let generated = Date()
        try graph.write(to: URL(fileURLWithPath: output))
        let report = GenerateReport(
            nodes: nodes, edges: graph.edgeCount, communities: communities, mixing: graph.mixingFraction,
            maxInDegree: graph.inDegrees().max() ?? 0, generateSeconds: generated.timeIntervalSince(start),
            writeSeconds: Date().timeIntervalSince(generated), output: output)
        report.summary.forEach { print($0) }
        try json.write(report)
    }
}

/// What `follow-graph-generate` made (`--json`).
struct GenerateReport: Codable {
    var nodes, edges, communities: Int
    /// The fraction of edges that cross communities, as drawn.
    var mixing: Double
    var maxInDegree: Int
    var generateSeconds, writeSeconds: Double
    var output: String

    enum CodingKeys: String, CodingKey {
        case nodes, edges, communities, mixing, maxInDegree = "max_in_degree", output
        case generateSeconds = "generate_seconds", writeSeconds = "write_seconds"
    }

    var summary: [String] {
        ["follow-graph-generate: \(nodes) nodes, \(edges) edges, \(communities) communities, mixing \(String(format: "%.4f", mixing))",
         "  max in-degree \(maxInDegree), mean \(String(format: "%.1f", Double(edges) / Double(max(nodes, 1))))",
         String(format: "  seconds: generate %.2f  write %.2f", generateSeconds, writeSeconds),
         "  wrote \(output)/edges.tsv and \(output)/labels.tsv"]
    }
}
