import Foundation
import Testing
@testable import EmbeddingStore
@testable import FollowGraph
import LinearAlgebra
import Solvers

/// The node order for the gathers' locality: label propagation groups the planted communities,
/// and a run in that order gives the input order's tables (rows in the input order, values to
/// float rounding) and LAPACK's singular values.
@Suite struct NodeOrderTests {
    static let parameters = FollowGraphParameters(nodes: 3_000, edges: 40_000, communities: 8, mixing: 0.1, seed: 5)

    static func graph() throws -> (adjacency: CSRMatrix<Float>, labels: [Int32]) {
        let g = try FollowGraphGenerator.generate(parameters)
        var coo = COOMatrix<Float>(rows: parameters.nodes, columns: parameters.nodes)
        for (s, t) in zip(g.sources, g.targets) { coo.append(row: Int(s), column: Int(t), value: 1) }
        return (try coo.toCSR(), g.labels.map { Int32($0) })
    }

    @Test func labelPropagationGroupsTheCommunities() throws {
        let (a, labels) = try Self.graph()
        let p = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, normalization: .none)
        let order = FollowGraphLocality.labelPropagationOrder(p.matrix, consumers: p.consumers, producers: p.producers,
                                                              nodeCount: a.rows)
        #expect(isPermutation(order.rows, of: p.matrix.rows) && isPermutation(order.columns, of: p.matrix.columns))
        /// The share of neighbouring rows (or columns) whose nodes are in the same planted community.
        func sameCommunity(_ positions: [Int32], _ nodes: [Int32]) -> Double {
            let community = positions.map { labels[Int(nodes[Int($0)])] }
            return Double(zip(community.dropFirst(), community).filter { $0 == $1 }.count) / Double(community.count - 1)
        }
        let input = sameCommunity((0..<Int32(p.consumers.count)).map { $0 }, p.consumers)
        #expect(input < 0.3)                                          // 8 communities, ids interleaved
        #expect(sameCommunity(order.rows, p.consumers) > 0.9, "input order \(input)")
        #expect(sameCommunity(order.columns, p.producers) > 0.9)
        // Deterministic.
        let again = FollowGraphLocality.labelPropagationOrder(p.matrix, consumers: p.consumers, producers: p.producers, nodeCount: a.rows)
        #expect(again.rows == order.rows && again.columns == order.columns)
    }

    /// One round already groups most of the planted communities (0.88 here), two as well as three; each
    /// count of rounds gives its own deterministic order, and a run records its rounds.
    @Test(arguments: [1, 2]) func fewerRoundsStillGroupTheCommunities(rounds: Int) throws {
        let (a, labels) = try Self.graph()
        let p = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, normalization: .none)
        let order = FollowGraphLocality.labelPropagationOrder(p.matrix, consumers: p.consumers, producers: p.producers,
                                                              nodeCount: a.rows, rounds: rounds)
        #expect(isPermutation(order.rows, of: p.matrix.rows) && isPermutation(order.columns, of: p.matrix.columns))
        let community = order.rows.map { labels[Int(p.consumers[Int($0)])] }
        let same = Double(zip(community.dropFirst(), community).filter { $0 == $1 }.count) / Double(community.count - 1)
        // Input order: under 0.3 (8 communities, ids interleaved); 3 rounds: over 0.9 (the test above).
        #expect(same > (rounds == 1 ? 0.8 : 0.9), "\(rounds) rounds: \(same)")
        let again = FollowGraphLocality.labelPropagationOrder(p.matrix, consumers: p.consumers, producers: p.producers,
                                                              nodeCount: a.rows, rounds: rounds)
        #expect(again.rows == order.rows && again.columns == order.columns)
    }

    @Test func localityRoundsAreCheckedAndRecorded() throws {
        var c = FollowGraphSVDConfiguration()
        #expect(c.localityRounds == FollowGraphLocality.rounds)
        c.dimension = 4; c.nodeOrder = .locality; c.localityRounds = 0
        #expect(throws: FollowGraphError.self) { try FollowGraphSVD.factorize(adjacency: try Self.graph().adjacency, configuration: c) { _ in } }
        c.localityRounds = 1
        var recorded: [String: JSONValue] = [:]
        _ = try FollowGraphSVD.factorize(adjacency: try Self.graph().adjacency, configuration: c) { recorded[$0.name] = $0.metadata.parameters["locality_rounds"] }
        #expect(recorded.count == 3 && recorded.values.allSatisfy { $0 == .int(1) })
        c.nodeOrder = .input
        recorded = [:]
        _ = try FollowGraphSVD.factorize(adjacency: try Self.graph().adjacency, configuration: c) { recorded[$0.name] = $0.metadata.parameters["locality_rounds"] }
        #expect(recorded.isEmpty)
    }

    @Test func automaticOrderFollowsTheBlockSize() {
        var c = FollowGraphSVDConfiguration()
        #expect(c.nodeOrder == .input && !FollowGraphLocality.applies(c, rows: 1_000_000, columns: 990_000, inMemory: true))
        c.nodeOrder = .auto
        #expect(FollowGraphLocality.applies(c, rows: 1_000_000, columns: 990_000, inMemory: true))
        #expect(!FollowGraphLocality.applies(c, rows: 82_168, columns: 82_168, inMemory: true))      // slashdot: 24 MB
        #expect(!FollowGraphLocality.applies(c, rows: 1_000_000, columns: 990_000, inMemory: false))
        c.nodeOrder = .input
        #expect(!FollowGraphLocality.applies(c, rows: 1_000_000, columns: 990_000, inMemory: true))
        c.nodeOrder = .locality
        #expect(FollowGraphLocality.applies(c, rows: 100, columns: 100, inMemory: true))
        c.solver = .arpack
        #expect(!FollowGraphLocality.applies(c, rows: 100, columns: 100, inMemory: true))
        c.solver = .randomized; c.directed = false
        #expect(!FollowGraphLocality.applies(c, rows: 100, columns: 100, inMemory: true))   // undirected spectral
        c.method = .svd
        #expect(FollowGraphLocality.applies(c, rows: 100, columns: 100, inMemory: true))
    }

    func run(_ order: FollowGraphNodeOrder, method: FollowGraphMethod) throws -> (FollowGraphFactorization, [String: EmbeddingTable]) {
        let (a, _) = try Self.graph()
        var c = FollowGraphSVDConfiguration()
        c.method = method; c.dimension = 4; c.powerIterations = 30; c.nodeOrder = order; c.seed = 9
        c.spectral.consumerPowerIterations = 30
        var tables: [String: EmbeddingTable] = [:]
        let result = try FollowGraphSVD.factorize(adjacency: a, configuration: c) { table in
            tables[table.name] = try table.table(id: { "n\($0)" })
        }
        return (result, tables)
    }

    @Test(arguments: [FollowGraphMethod.spectral, .svd])
    func localityOrderGivesTheInputOrdersTables(method: FollowGraphMethod) throws {
        let (plain, plainTables) = try run(.input, method: method)
        let (local, localTables) = try run(.locality, method: method)
        #expect(plain.warnings.isEmpty && local.warnings.isEmpty)
        #expect(plainTables.keys.sorted() == ["consumers", "nodes", "producers"] && localTables.keys.sorted() == plainTables.keys.sorted())
        #expect(localTables["nodes"]!.metadata.parameters["node_order"] == .string("locality"))
        #expect(plainTables["nodes"]!.metadata.parameters["node_order"] == .string("input"))
        // LAPACK's singular values of the matrices factorised: the degree-normalised one (the
        // returned SVD; tables producers and nodes), and for the directed spectral method
        // D_out^-1/2 A D_in^-1/4 (its consumers table's SVD).
        let (a, _) = try Self.graph()
        let p = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, normalization: .none)
        let m = p.matrix
        let d = FollowGraphPreprocessing.degreeScales(m, degreeRegularization: nil)
        let exact = try m.scaledRows(by: d.rows).scaledColumns(by: d.columns).toDense().converted(to: Double.self).singularValues()
        let consumerExact = method == .svd ? exact : try m.scaledRows(by: m.rowSums().map { $0 > 0 ? 1 / $0.squareRoot() : 0 })
            .scaledColumns(by: m.columnSums().map { $0 > 0 ? Float(pow(Double($0), -0.25)) : 0 }).toDense().converted(to: Double.self).singularValues()
        // Float rounding of sums taken in another order, through 61 products: 1000 ulp of s_1
        // for the values; the vectors move by that over the smallest gap around the top 4
        // (Davis-Kahan; the 8 planted communities give a cluster of close values).
        let eps = Double(Float.ulpOfOne), s1 = Double(plain.svd.s[0])
        for i in 0..<4 {
            #expect(abs(Double(local.svd.s[i]) - Double(plain.svd.s[i])) <= 1000 * eps * s1)
            #expect(abs(Double(local.svd.s[i]) - exact[i]) <= 1000 * eps * exact[0], "s\(i + 1) \(local.svd.s[i]) vs \(exact[i])")
        }
        #expect(abs(local.svd.diagnostics.maxRelativeResidual - plain.svd.diagnostics.maxRelativeResidual) <= 1000 * eps)
        func gap(_ s: [Double]) -> Double { (0..<4).map { s[$0] - s[$0 + 1] }.min()! }
        for name in plainTables.keys {
            let x = plainTables[name]!, y = localTables[name]!
            #expect(x.ids == y.ids)                                  // rows in the input order
            let values = name == "consumers" ? consumerExact : exact
            let scale = Double(x.vectors.elements.map { abs($0) }.max()!)
            let difference = zip(x.vectors.elements, y.vectors.elements).map { Double(abs($0 - $1)) }.max()!
            let bound = 1000 * eps * values[0] / gap(values) * scale
            #expect(difference <= bound, "\(name): \(difference) of \(scale), bound \(bound), gap \(gap(values))")
        }
    }
}
