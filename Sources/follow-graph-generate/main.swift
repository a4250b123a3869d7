import ArgumentParser
import FollowGraph
import Foundation
import LinearAlgebra

/// `follow-graph-generate`: argument parsing for FollowGraph's ``FollowGraphGenerator``.
@main
struct FollowGraphGenerate: ParsableCommand {
    static func main() {
        BLAS.useAVX512KernelsIfAvailable()
        main(nil)
    }

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

    @Option(name: .shortAndLong, help: "Directory that receives edges.tsv and labels.tsv.")
    var output: String

    @Option(help: "Number of nodes.")
    var nodes: Int = 100_000

    @Option(help: "Number of distinct edges.")
    var edges: Int = 2_000_000

    @Option(help: "Number of planted communities.")
    var communities: Int = 20

    @Option(help: "Fraction of edges between communities, in [0, 1].")
    var mixing: Double = 0.2

    @Option(help: "Power-law exponent of the out-degree (following) distribution, > 1.")
    var outExponent: Double = 2.5

    @Option(help: "Power-law exponent of the in-degree (follower) distribution, > 1.")
    var inExponent: Double = 2.1

    @Flag(help: "Generate an undirected graph (each edge written once as `min<TAB>max`).")
    var undirected = false

    @Flag(help: "Keep repeated edges (a multigraph) instead of redrawing them.")
    var keepDuplicates = false

    @Option(help: "Seed of every random draw.")
    var seed: UInt64 = 0

    func run() throws {
        let start = Date()
        let parameters = FollowGraphParameters(
            nodes: nodes, edges: edges, communities: communities, mixing: mixing,
            outExponent: outExponent, inExponent: inExponent, directed: !undirected, seed: seed,
            duplicates: keepDuplicates ? .keep : .remove)
        let graph = try FollowGraphGenerator.generate(parameters)
        let generated = Date()
        try graph.write(to: URL(fileURLWithPath: output))
        let written = Date()
        let degrees = graph.inDegrees()
        print("follow-graph-generate: \(nodes) nodes, \(graph.edgeCount) edges, \(communities) communities, mixing \(String(format: "%.4f", graph.mixingFraction))")
        print("  max in-degree \(degrees.max() ?? 0), mean \(String(format: "%.1f", Double(graph.edgeCount) / Double(max(nodes, 1))))")
        print(String(format: "  seconds: generate %.2f  write %.2f", generated.timeIntervalSince(start), written.timeIntervalSince(generated)))
        print("  wrote \(output)/edges.tsv and \(output)/labels.tsv")
    }
}

