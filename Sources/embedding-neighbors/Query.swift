import ArgumentParser
import Foundation
import LinearAlgebra
import Neighbors
import ToolSupport

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the k nearest neighbours of ids or vectors (query<TAB>rank<TAB>id<TAB>score lines).",
        discussion: """
        Scores are cosine similarities, inner products, or squared L2 distances. With --id or --ids \
        the stored vectors are the queries (so each id is normally its own first neighbour). \
        --allow restricts the results to the ids in a file (one a line), applied during the search.
        """)

    @Option(help: "The index file.") var index: String
    @Option(help: "One query id.") var id: String?
    @Option(help: "A file of query ids, one a line.") var ids: String?
    @Option(help: "A .npy float32/float64 matrix of query vectors (one a row).") var vectors: String?
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "HNSW: beam width (default 64).") var ef: Int?
    @Option(help: "IVF: lists scanned per query (default 16).") var probes: Int?
    @Option(help: "Only return ids listed in this file (one a line).") var allow: String?
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var output: JSONOutputOptions

    func run() throws {
        guard [id, ids, vectors].compactMap({ $0 }).count == 1 else { throw ValidationError("give exactly one of --id, --ids, --vectors") }
        let t = try threads.apply()
        let loaded = try NeighborIndexes.load(from: URL(fileURLWithPath: index))
        var p = SearchParameters(k: k, threads: t, ef: ef, probes: probes)
        if let allow { p.filter = .allowedIDs(Set(try ToolInput.lines(allow))) }
        let labels: [String]
        let results: [[Neighbor]]
        if let vectors {
            let m = try ToolInput.floatMatrix(npy: vectors)
            labels = (0..<m.rows).map(String.init)
            results = try loaded.search(m, parameters: p)
        } else {
            labels = try id.map { [$0] } ?? ToolInput.lines(ids!)
            results = try loaded.search(ids: labels, parameters: p)
        }
        var out = ""
        for (label, list) in zip(labels, results) {
            for (rank, n) in list.enumerated() { out += "\(label)\t\(rank + 1)\t\(n.id)\t\(n.score)\n" }
        }
        FileHandle.standardOutput.write(out.data(using: .utf8)!)
        try output.write(QueryReport(results: zip(labels, results).map { label, list in
            QueryReport.Result(query: label, neighbors: list.map { .init(id: $0.id, score: Double($0.score)) })
        }))
    }
}

/// The `--json` report of `query`: `{"results": [{"query", "neighbors": [{"id", "score"}]}]}`.
struct QueryReport: Encodable {
    struct Result: Encodable {
        struct Hit: Encodable { var id: String, score: Double }
        var query: String, neighbors: [Hit]
    }
    var results: [Result]
}
