import Foundation
import Testing
@testable import EmbeddingStore
@testable import FollowGraph
import GraphData
import LinearAlgebra
import Solvers

/// A small directed graph with two planted groups: users 0..<20 follow accounts a0..a9, users
/// 20..<40 follow accounts b0..b9, plus a few cross follows.
func plantedEdgeList() -> String {
    var lines = ["# two planted groups"]
    for u in 0..<40 {
        let group = u < 20 ? "a" : "b"
        for k in 0..<6 { lines.append("u\(u)\t\(group)\((u * 7 + k * 3) % 10)") }
        if u % 5 == 0 { lines.append("u\(u)\t\(group == "a" ? "b" : "a")\(u % 10)") }
    }
    return lines.joined(separator: "\n")
}

@Suite struct PreprocessingTests {
    func adjacency(_ rows: [[Float]]) throws -> CSRMatrix<Float> { CSRMatrix(dense: Matrix(rows: rows)) }

    @Test func selectionKeepsMostFollowedAndActiveUsers() throws {
        // 0 -> 1, 0 -> 2, 3 -> 1, 3 -> 2, 4 -> 1; node 1 has 3 followers, node 2 has 2.
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 5), count: 5)
        rows[0][1] = 1; rows[0][2] = 1; rows[3][1] = 1; rows[3][2] = 1; rows[4][1] = 1
        let a = try adjacency(rows)
        let all = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, normalization: .none)
        #expect(all.producers == [1, 2])
        #expect(all.consumers == [0, 3, 4])
        let top = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, selection: .init(maxNodes: 1), normalization: .none)
        #expect(top.producers == [1])
        let active = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, selection: .init(minFollowing: 2), normalization: .none)
        #expect(active.consumers == [0, 3])
        #expect(active.matrix.toDense() == Matrix(rows: [[1, 1], [1, 1]]))
        #expect(throws: FollowGraphError.self) {
            try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, selection: .init(minFollowers: 4))
        }
    }

    @Test func weightingAndRegularisedDegreeNormalisation() throws {
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 4), count: 4)
        rows[0][1] = 3; rows[0][2] = 1; rows[3][1] = 1
        let a = try adjacency(rows)
        let binary = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, weighting: .binary, normalization: .none)
        #expect(binary.matrix.values.allSatisfy { $0 == 1 })
        let log = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, weighting: .log, normalization: .none)
        #expect(abs(log.matrix.toDense()[0, 0] - (1 + Float.log(3))) < 1e-6)
        // idf: account 1 has 2 followers among 2 users, account 2 has 1: the rarer one weighs more.
        let idf = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, weighting: .idf, normalization: .none)
        let d = idf.matrix.toDense()
        #expect(d[0, 1] > d[0, 0])
        // Degree normalisation with tau = 0 is D_out^-1/2 A D_in^-1/2.
        let plain = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true, normalization: .degree, degreeRegularization: 0)
        let dense = plain.linearOperator.densified()
        // Row 0 has degree 2, account 1 has in-degree 2: 1 / sqrt(2 * 2).
        #expect(abs(dense[0, 0] - 0.5) < 1e-6)
        // With the default tau (the mean degree) every scale is smaller.
        let regularised = try FollowGraphPreprocessing.prepare(adjacency: a, directed: true)
        #expect(regularised.linearOperator.densified()[0, 0] < dense[0, 0])
    }

    @Test func emptyGraphIsAnError() throws {
        #expect(throws: FollowGraphError.self) {
            try FollowGraphPreprocessing.prepare(adjacency: CSRMatrix<Float>(zeros: 3, columns: 3), directed: true)
        }
    }
}

@Suite struct FollowGraphSVDTests {
    @Test(arguments: FollowGraphMethod.allCases)
    func embeddingsFactorTheOperatorAndSeparatePlantedGroups(method: FollowGraphMethod) throws {
        let edges = try EdgeList.read(string: plantedEdgeList(), options: .init(selfLoops: .drop))
        var c = FollowGraphSVDConfiguration()
        c.dimension = 4
        c.seed = 3
        c.method = method
        c.spectral.consumerPowerIterations = 2   // as follow-graph-svd
        let e = try FollowGraphSVD.embed(edges: edges, configuration: c)
        #expect(e.consumers.count == 40 && e.producers.count == 20)
        #expect(e.consumers.dimension == 4 && e.nodes?.dimension == 8 && e.nodes?.count == 60)
        // U S^1/2 (V S^1/2)' reconstructs the rank-4 approximation: check via the SVD itself.
        let s = e.svd.s
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(e.svd.diagnostics.maxRelativeResidual < 0.05)
        // Users of the same group are closer (cosine) than users of different groups.
        let table = e.consumers
        func cosine(_ a: String, _ b: String) -> Double {
            table.cosineSimilarity(table.row(of: a)!, table.row(of: b)!)
        }
        #expect(cosine("u1", "u2") > cosine("u1", "u22"))
        #expect(cosine("u21", "u33") > cosine("u21", "u3"))
        // The both-sides table holds each side in its half, zeros where an account is absent.
        let nodes = e.nodes!
        let u1 = nodes.vector(for: "u1")!, a0 = nodes.vector(for: "a0")!
        if method == .svd { #expect(Array(u1[0..<4]) == e.consumers.vector(for: "u1")!) }
        #expect(u1[4..<8].allSatisfy { $0 == 0 })      // u1 has no followers
        #expect(a0[0..<4].allSatisfy { $0 == 0 })      // a0 follows nobody
        #expect(Array(a0[4..<8]) == e.producers.vector(for: "a0")!)
        if method == .spectral {
            // Followers: U S of D_out^-1/2 A, scaled to unit RMS entries.
            let rms = (e.consumers.vectors.elements.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(40 * 4)).squareRoot()
            #expect(abs(rms - 1) < 1e-4)
            // Its SVD takes consumerPowerIterations (2) power iterations, the first SVD the pipeline's (4 here, k >= 0.1 min(m, n)):
            // 2q + 2 passes each.
            #expect(e.consumers.metadata.parameters["power_iterations"] == .int(2))
            #expect(e.consumers.metadata.parameters["passes"] == .int(6))
            #expect(e.producers.metadata.parameters["passes"] == .int(10))
        }
        // Same seed, same embedding.
        let again = try FollowGraphSVD.embed(edges: edges, configuration: c)
        #expect((again.consumers.vectors - e.consumers.vectors).maxAbs <= 1e-4)
    }

    /// The directed spectral consumers table is `U S` of `X = D_out^-1/2 A D_in^-e`: at full rank
    /// (20 of the 40 x 20 matrix) its Gram matrix is `X X'` up to the unit-RMS factor, so its
    /// cosines are those of the rows of the dense `X`; with another exponent they are not.
    @Test(arguments: [Float(0.25), 0, 0.5])
    func directedConsumersAreUSOfTheColumnScaledRowNormalisedAdjacency(exponent: Float) throws {
        let text = plantedEdgeList()
        let edges = try EdgeList.read(string: text, options: .init(selfLoops: .drop))
        var c = FollowGraphSVDConfiguration()
        c.dimension = 20; c.seed = 3; c.spectral.consumerColumnExponent = exponent
        let table = try FollowGraphSVD.embed(edges: edges, configuration: c).consumers
        let pairs = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t").map(String.init) }
        let producers = Array(Set(pairs.map { $0[1] })).sorted()
        var x = Matrix<Double>(rows: table.count, columns: producers.count)
        for p in pairs { x[table.row(of: p[0])!, producers.firstIndex(of: p[1])!] = 1 }
        let inDegrees = (0..<x.columns).map { j in (0..<x.rows).reduce(0.0) { $0 + x[$1, j] } }
        x.scaleColumns(by: inDegrees.map { Foundation.pow($0, -Double(exponent)) })   // D_in^-e; D_out^-1/2 leaves cosines as they are
        func cosines(_ rows: [[Double]]) -> [Double] {
            let unit = rows.map { r in let n = r.reduce(0) { $0 + $1 * $1 }.squareRoot(); return r.map { $0 / n } }
            return unit.flatMap { a in unit.map { b in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } } }
        }
        let expected = cosines((0..<x.rows).map { i in (0..<x.columns).map { x[i, $0] } })
        let got = cosines((0..<table.count).map { table.vector(at: $0).map(Double.init) })
        let worst = zip(expected, got).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
        #expect(worst < 100 * Double(Float.ulpOfOne), "largest cosine difference \(worst) at exponent \(exponent)")
        if exponent != 0.25 {   // the default's cosines differ from these: the setting is used
            var d = FollowGraphSVDConfiguration(); d.dimension = 20; d.seed = 3
            let byDefault = try FollowGraphSVD.embed(edges: edges, configuration: d).consumers
            let other = cosines((0..<byDefault.count).map { byDefault.vector(at: $0).map(Double.init) })
            #expect(zip(expected, other).contains { abs($0.0 - $0.1) > 0.01 })
        }
    }

    @Test func undirectedGraphGivesOneSymmetricNodeSet() throws {
        let edges = try EdgeList.read(string: plantedEdgeList(), options: .init(directed: false, selfLoops: .drop))
        var c = FollowGraphSVDConfiguration()
        c.dimension = 3
        c.directed = false
        for method in FollowGraphMethod.allCases {
            c.method = method
            let e = try FollowGraphSVD.embed(edges: edges, configuration: c)
            #expect(e.nodes == nil)
            #expect(e.consumers.ids == e.producers.ids)
            #expect(e.consumers.count == 60)
            #expect(e.consumers.vectors.allFinite)
        }
    }

    @Test func dimensionLargerThanTheGraphIsAClearError() throws {
        let edges = try EdgeList.read(string: "a\tb\nb\tc\n")
        var c = FollowGraphSVDConfiguration()
        c.dimension = 5
        do {
            _ = try FollowGraphSVD.embed(edges: edges, configuration: c)
            Issue.record("expected an error")
        } catch let error as FollowGraphError {
            #expect(error.description.contains("dimension 5 is larger") && !error.description.contains("--"))
            #expect(error.naming([.dimension: "--dim"]).description.contains("--dim 5 is larger"))
        }
    }

    @Test func emptyEdgeListIsAClearError() throws {
        let edges = try EdgeList.read(string: "# nothing here\n")
        #expect(throws: FollowGraphError.self) {
            try FollowGraphSVD.embed(edges: edges, configuration: FollowGraphSVDConfiguration())
        }
    }

    @Test func labelsOfUnknownNodesAreAnErrorNamingTheLine() throws {
        let edges = try EdgeList.read(string: plantedEdgeList())
        let result = Result { try LabelTable.read(string: "u1\tx\nnobody\ty\n", name: "labels.tsv", nodes: edges.sourceIDs) }
        guard case .failure(let error) = result else { Issue.record("expected an error"); return }
        let message = String(describing: error)
        #expect(message.contains("labels.tsv:2"), "got: \(message)")
    }

    @Test func arpackAndRandomizedAgreeOnTheSpectrum() throws {
        let edges = try EdgeList.read(string: plantedEdgeList(), options: .init(selfLoops: .drop))
        var c = FollowGraphSVDConfiguration()
        c.dimension = 3
        let randomized = try FollowGraphSVD.embed(edges: edges, configuration: c)
        c.solver = .arpack
        let arpack = try FollowGraphSVD.embed(edges: edges, configuration: c)
        for (x, y) in zip(randomized.svd.s, arpack.svd.s) { #expect(abs(x - y) <= 1e-3 * arpack.svd.s[0]) }
        #expect(arpack.svd.diagnostics.maxRelativeResidual < 1e-4)
    }
}
