import Foundation
import Testing
@testable import GraphData

/// `../shared/data` next to the package root (override with `EMBEDDINGS_DATA`).
let dataDirectory: String = {
    if let d = ProcessInfo.processInfo.environment["EMBEDDINGS_DATA"] { return d }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent("../shared/data").standardizedFileURL.path
}()

struct RealGraph: Sendable, CustomTestStringConvertible {
    let folder: String
    let file: String
    let nodes: Int
    let edges: Int
    let directed: Bool
    let selfLoops: Int
    let labels: Int?        // distinct labels, nil when the folder has no labels file
    let labelLines: Int?
    var path: String { "\(dataDirectory)/\(folder)/\(file)" }
    var testDescription: String { folder }
}

/// The README's table. Its node count is the number of distinct ids over the edge lines, its
/// edge count the number of edge lines (undirected pairs listed once); every labels file
/// labels exactly the graph's nodes (checked below: no isolated labelled nodes).
let realGraphs: [RealGraph] = [
    .init(folder: "blogcatalog", file: "edges.tsv", nodes: 10_312, edges: 333_983, directed: false, selfLoops: 0, labels: 39, labelLines: 14_476),
    .init(folder: "musae-facebook", file: "edges.tsv", nodes: 22_470, edges: 171_002, directed: false, selfLoops: 179, labels: 4, labelLines: 22_470),
    .init(folder: "deezer-europe", file: "edges.tsv", nodes: 28_281, edges: 92_752, directed: false, selfLoops: 0, labels: 2, labelLines: 28_281),
    .init(folder: "twitter-follow-bofa", file: "edges.tsv", nodes: 13_688, edges: 68_328, directed: true, selfLoops: 0, labels: 2, labelLines: 13_688),
    .init(folder: "twitter-follow-verizon", file: "edges.tsv", nodes: 9_226, edges: 59_576, directed: true, selfLoops: 0, labels: 2, labelLines: 9_226),
    .init(folder: "twitter-follow-hershey", file: "edges.tsv", nodes: 3_726, edges: 23_939, directed: true, selfLoops: 0, labels: 2, labelLines: 3_726),
    .init(folder: "slashdot", file: "edges.txt", nodes: 82_168, edges: 948_464, directed: true, selfLoops: 78_303, labels: nil, labelLines: nil),
    .init(folder: "wiki-vote", file: "edges.txt", nodes: 7_115, edges: 103_689, directed: true, selfLoops: 0, labels: nil, labelLines: nil),
]

@Suite(.enabled(if: FileManager.default.fileExists(atPath: dataDirectory),
                "real data folder \(dataDirectory) is absent; set EMBEDDINGS_DATA to run these tests"))
struct RealDataTests {
    @Test(arguments: realGraphs)
    func readsWithTheREADMECounts(_ g: RealGraph) throws {
        let graph = try EdgeList.read(path: g.path, options: .init(directed: g.directed))
        #expect(graph.nodeCount == g.nodes)
        #expect(graph.statistics.dataLines == g.edges)
        #expect(!graph.statistics.headerSkipped)
        #expect(graph.statistics.selfLoopLines == g.selfLoops)
        // No repeated lines in these files; undirected ones list each pair in one direction only.
        let stored = g.directed ? g.edges : 2 * g.edges - g.selfLoops
        #expect(graph.edgeCount == stored)
        #expect(graph.statistics.duplicatesMerged == 0)
        #expect(graph.hasSharedIDMap && graph.isSorted && graph.weights == nil)

        // Dropping self-loops removes exactly the README's count.
        if g.selfLoops > 0 {
            let dropped = try EdgeList.read(path: g.path, options: .init(directed: g.directed, selfLoops: .drop))
            #expect(dropped.edgeCount == stored - g.selfLoops)
        }

        let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = graph.adjacencyCSR()
        #expect(csr.rowOffsets.count == g.nodes + 1 && Int(csr.rowOffsets.last!) == stored)

        guard let labelCount = g.labels, let labelLines = g.labelLines else { return }
        let labels = try LabelTable.read(path: "\(dataDirectory)/\(g.folder)/labels.tsv", nodes: graph.sourceIDs)
        #expect(labels.nodeIDs == graph.sourceIDs)
        #expect(labels.labelCount == labelCount)
        #expect(labels.statistics.dataLines == labelLines)
        #expect(labels.labeledNodeCount == g.nodes)
        #expect(labels.labelIndices.count == labelLines)
    }

    @Test func slashdotKeepsIDsAsText() throws {
        let graph = try EdgeList.read(path: "\(dataDirectory)/slashdot/edges.txt")
        // The first data line is "0\t0" (CRLF file with '#' header lines).
        #expect(graph.sourceIDs[0] == "0")
        #expect(graph.sourceIDs.index(ofID: "82167") != nil)
        #expect(graph.sourceIDs.index(ofID: "82168") == nil)
    }
}
