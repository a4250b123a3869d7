import Foundation
import LinearAlgebra
import Testing
@testable import FollowGraph

@Suite struct GeneratorTests {
    static let base = FollowGraphParameters(nodes: 20_000, edges: 200_000, communities: 10, mixing: 0.2,
                                            outExponent: 2.5, inExponent: 2.1, directed: true, seed: 7)

    @Test func sameSeedSameGraphOtherSeedOtherGraph() throws {
        let a = try FollowGraphGenerator.generate(Self.base)
        let b = try FollowGraphGenerator.generate(Self.base)
        #expect(a.sources == b.sources && a.targets == b.targets && a.labels == b.labels)
        var other = Self.base
        other.seed = 8
        let c = try FollowGraphGenerator.generate(other)
        #expect(c.sources != a.sources || c.targets != a.targets)
        #expect(c.labels != a.labels)
    }

    @Test(arguments: [DuplicateEdgePolicy.remove, .keep])
    func exactEdgeCountNoSelfLoopsAndDuplicatePolicy(policy: DuplicateEdgePolicy) throws {
        var p = Self.base
        p.duplicates = policy
        let g = try FollowGraphGenerator.generate(p)
        #expect(g.edgeCount == p.edges)
        #expect(g.targets.count == p.edges)
        #expect(!zip(g.sources, g.targets).contains { $0 == $1 })
        #expect(g.sources.allSatisfy { $0 >= 0 && Int($0) < p.nodes } && g.targets.allSatisfy { $0 >= 0 && Int($0) < p.nodes })
        let distinct = Set(zip(g.sources, g.targets).map { Int64($0) << 32 | Int64($1) }).count
        if policy == .remove {
            #expect(distinct == p.edges)
            // Sorted by (source, target).
            #expect(zip(g.sources.indices.dropLast(), g.sources.indices.dropFirst()).allSatisfy { i, j in
                g.sources[i] < g.sources[j] || (g.sources[i] == g.sources[j] && g.targets[i] < g.targets[j])
            })
        } else {
            #expect(distinct < p.edges) // heavy-tailed weights do repeat some pairs
        }
    }

    @Test(arguments: [0.0, 0.2, 0.5, 1.0])
    func mixingFractionIsNearTheTarget(mixing: Double) throws {
        var p = Self.base
        p.mixing = mixing
        let g = try FollowGraphGenerator.generate(p)
        #expect(abs(g.mixingFraction - mixing) <= 0.01, "measured \(g.mixingFraction)")
        // Communities are balanced.
        var sizes = [Int](repeating: 0, count: p.communities)
        for c in g.labels { sizes[Int(c)] += 1 }
        #expect(sizes.max()! - sizes.min()! <= 1)
    }

    @Test func degreesAreHeavyTailed() throws {
        let g = try FollowGraphGenerator.generate(Self.base)
        let inDegrees = g.inDegrees(), outDegrees = g.outDegrees()
        let mean = Double(g.edgeCount) / Double(Self.base.nodes)
        #expect(Double(inDegrees.max()!) > 20 * mean)
        #expect(Double(outDegrees.max()!) > 10 * mean)
        // Many nodes far below the mean: the median is under it.
        #expect(Double(inDegrees.sorted()[inDegrees.count / 2]) < mean)
        // The cap holds (duplicates removal can only lower degrees): no degree above 1.5x the cap.
        let cap = Self.base.effectiveMaxExpectedDegree
        #expect(Double(inDegrees.max()!) <= 1.5 * cap)
    }

    @Test func undirectedEdgesAreOrderedPairs() throws {
        var p = Self.base
        p.directed = false
        p.edges = 100_000
        let g = try FollowGraphGenerator.generate(p)
        #expect(g.edgeCount == 100_000)
        #expect(zip(g.sources, g.targets).allSatisfy { $0 < $1 })
        #expect(abs(g.mixingFraction - 0.2) <= 0.01)
    }

    @Test func badParametersThrow() {
        func check(_ change: (inout FollowGraphParameters) -> Void) {
            var p = Self.base
            change(&p)
            #expect(throws: FollowGraphError.self) { try FollowGraphGenerator.generate(p) }
        }
        check { $0.nodes = 1 }
        check { $0.edges = -1 }
        check { $0.communities = 0 }
        check { $0.communities = 15_000 }
        check { $0.mixing = 1.5 }
        check { $0.communities = 1; $0.mixing = 0.1 }
        check { $0.outExponent = 1 }
        check { $0.inExponent = .nan }
        check { $0.nodes = 100; $0.edges = 9_000 } // more distinct pairs than exist
        check { $0.maxExpectedDegree = 0.5 }
    }

    @Test func writesParsableFilesAtomically() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("followgraph-tests-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        var p = Self.base
        p.nodes = 500; p.edges = 3_000; p.communities = 5
        let g = try FollowGraphGenerator.generate(p)
        try g.write(to: dir)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["edges.tsv", "labels.tsv"])
        let edgeLines = try String(contentsOf: dir.appendingPathComponent("edges.tsv"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        #expect(edgeLines.first == Substring(p.headerLine))
        #expect(edgeLines.last == "")
        let pairs = edgeLines.dropFirst().dropLast().map { $0.split(separator: "\t").map { Int32($0)! } }
        #expect(pairs.map { $0[0] } == g.sources)
        #expect(pairs.map { $0[1] } == g.targets)
        let labelLines = try String(contentsOf: dir.appendingPathComponent("labels.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t").map { Int32($0)! } }
        #expect(labelLines.map { $0[0] } == (0..<500).map { Int32($0) })
        #expect(labelLines.map { $0[1] } == g.labels)
        // Rewriting replaces the files.
        p.seed = 99
        try FollowGraphGenerator.generate(p).write(to: dir)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["edges.tsv", "labels.tsv"])
    }

    @Test func aliasTableDrawsProportionally() {
        let weights = [1.0, 2, 3, 4, 0]
        let table = AliasTable(weights)
        var rng = Xoshiro256(seed: 3)
        var counts = [Int](repeating: 0, count: 5)
        let draws = 200_000
        for _ in 0..<draws { counts[table.draw(&rng)] += 1 }
        for i in 0..<5 {
            let expected = Double(draws) * weights[i] / 10
            #expect(abs(Double(counts[i]) - expected) <= 5 * expected.squareRoot() + 1)
        }
    }
}
