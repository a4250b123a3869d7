// CandidateGeneration: the seeds' use of neighbour search (layer 4, on FollowGraph, Solvers and
// Neighbors): hold out part of each user's follows, embed the rest, and measure how many held-out
// follows the producer index returns for the user's consumer vector, beside popularity and ALS.
import EmbeddingStore
import FollowGraph
import Foundation
import GraphData
import LinearAlgebra
import Neighbors
import Solvers

/// Candidate generation benchmark (`embedding-benchmark candidates`).
public enum CandidateGenerationBenchmark {
    /// Settings; every random choice is seeded.
    public struct Configuration: Sendable {
        /// Fraction of each user's follows held out (`round(holdout * degree)`, keeping at least one follow).
        public var holdout: Double = 0.1
        /// Embedding dimension (SVD rank and ALS factors).
        public var dimension: Int = 64
        public var seed: UInt64 = 0
        /// Users evaluated (drawn among users with held-out follows; 0 = all).
        public var users: Int = 10_000
        /// The producer index: HNSW (inner product, M 16, efConstruction 200) or exact.
        public var index: NeighborIndexKind = .hnsw
        /// HNSW beam width at query time.
        public var ef: Int = 256
        /// ALS sweeps (0 skips the ALS baseline).
        public var alsIterations: Int = 10
        public var threads: Int? = nil
        public init() {}
    }

    /// Recall of the held-out follows among the top 10 and top 100 candidates (already-followed
    /// accounts excluded), averaged over users.
    public struct Recall: Sendable, Equatable {
        public var at10: Double
        public var at100: Double
    }

    public struct Result: Sendable {
        public var users: Int
        public var heldOutEdges: Int
        public var trainingEdges: Int
        /// Follow-graph SVD consumer vectors queried against the producer index.
        public var embedding: Recall
        public var popularity: Recall
        public var als: Recall?
        public var seconds: [String: Double]
    }

    /// Runs the benchmark on a directed follow graph.
    /// - Throws: when the graph is too small to hold anything out, or a step fails.
    public static func run(edges: EdgeList, configuration c: Configuration, log: (String) -> Void = { _ in }) throws -> Result {
        guard c.holdout > 0, c.holdout < 1 else { throw NeighborIndexError.invalidInput("holdout must be in (0, 1) (got \(c.holdout))") }
        guard c.dimension >= 1 else { throw NeighborIndexError.invalidInput("dimension must be at least 1") }
        let threads = c.threads ?? Parallel.threads
        var seconds = [String: Double]()
        var clock = Date()
        func lap(_ name: String) { seconds[name] = Date().timeIntervalSince(clock); clock = Date() }

        // 1. Split each user's follows (seeded per user, so independent of order).
        let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
        var trainText = [UInt8]()
        trainText.reserveCapacity(edges.edgeCount * 16)
        var heldOut = [Int32: [Int32]]()
        var trainingEdges = 0
        for u in 0..<edges.rowCount {
            let lo = Int(csr.rowOffsets[u]), hi = Int(csr.rowOffsets[u + 1])
            var follows = Array(csr.columnIndices[lo..<hi])
            let h = min(follows.count - 1, Int((c.holdout * Double(follows.count)).rounded()))
            if h > 0 {
                var rng = Xoshiro256.stream(seed: c.seed, index: UInt64(u))
                for i in 0..<h { follows.swapAt(i, i + Int(rng.next() % UInt64(follows.count - i))) }
                heldOut[Int32(u)] = Array(follows[0..<h])
            }
            for v in follows[max(h, 0)...] {
                trainText += Array(edges.sourceIDs[u].utf8); trainText.append(0x09)
                trainText += Array(edges.sourceIDs[Int(v)].utf8); trainText.append(0x0A)
                trainingEdges += 1
            }
        }
        guard !heldOut.isEmpty else { throw NeighborIndexError.invalidInput("no user has enough follows to hold any out") }
        var options = EdgeListReader.Options()
        options.selfLoops = .drop
        let training = try EdgeList.read(data: trainText, name: "<training edges>", options: options)
        trainText = []
        lap("split")
        log("held out \(heldOut.values.reduce(0) { $0 + $1.count }) follows of \(heldOut.count) users; \(trainingEdges) training edges")

        // Users to evaluate (seeded sample), with their training follows and held-out sets as ids.
        var candidates = heldOut.keys.sorted()
        var rng = Xoshiro256(seed: c.seed ^ 0x5EED)
        let userCount = c.users > 0 ? min(c.users, candidates.count) : candidates.count
        for i in 0..<userCount { candidates.swapAt(i, i + Int(rng.next() % UInt64(candidates.count - i))) }
        let evaluated = Array(candidates.prefix(userCount)).sorted()

        // 2. Embed the training graph.
        var svdConfig = FollowGraphSVDConfiguration()
        // A consumer vector queries the producer index, so both sides must come from one
        // factorisation (U S^1/2 and V S^1/2); the spectral default builds its consumer side
        // from a second, differently normalised SVD, whose vectors are not comparable with the
        // producers'.
        svdConfig.method = .svd
        svdConfig.dimension = c.dimension
        svdConfig.seed = c.seed
        let embedding = try FollowGraphSVD.embed(edges: training, configuration: svdConfig, log: log)
        lap("embed")

        // 3. Index the producers; query each user's consumer vector with its training follows filtered out.
        let index = try NeighborIndexes.make(kind: c.index, dimension: c.dimension, metric: .innerProduct, seed: c.seed)
        try index.add(embedding.producers, threads: threads)
        lap("index")
        let trainCSR: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = training.adjacencyCSR()
        func trainingFollows(_ id: String) -> [Int32] {
            guard let r = training.sourceIDs.index(ofID: id), Int(r) < training.rowCount else { return [] }
            return Array(trainCSR.columnIndices[Int(trainCSR.rowOffsets[Int(r)])..<Int(trainCSR.rowOffsets[Int(r) + 1])])
        }
        var embedHits10 = 0.0, embedHits100 = 0.0, popHits10 = 0.0, popHits100 = 0.0, alsHits10 = 0.0, alsHits100 = 0.0
        // Popularity: producers by training in-degree.
        var inDegree = [Int](repeating: 0, count: training.nodeCount)
        for v in trainCSR.columnIndices { inDegree[Int(v)] += 1 }
        let popular = (0..<training.nodeCount).sorted { inDegree[$0] > inDegree[$1] || (inDegree[$0] == inDegree[$1] && $0 < $1) }
        var als: ALSModel? = nil
        if c.alsIterations > 0 {
            let m = try CSRMatrix<Float>(rows: training.nodeCount, columns: training.nodeCount, rowOffsets: trainCSR.rowOffsets,
                                         columnIndices: trainCSR.columnIndices, values: trainCSR.values)
            als = try ALS.fit(m, configuration: ALSConfiguration(factors: c.dimension, iterations: c.alsIterations, seed: c.seed, threads: threads))
            lap("als")
        }
        let k = min(100, index.count)
        for u in evaluated {
            let id = edges.sourceIDs[Int(u)]
            let truth = Set(heldOut[u]!.map { edges.sourceIDs[Int($0)] })
            let followed = trainingFollows(id)
            let followedIDs = Set(followed.map { training.sourceIDs[Int($0)] })
            func score(_ ranked: [String]) -> (Double, Double) {
                let h10 = ranked.prefix(10).filter(truth.contains).count, h100 = ranked.prefix(100).filter(truth.contains).count
                return (Double(h10) / Double(truth.count), Double(h100) / Double(truth.count))
            }
            if let v = embedding.consumers.vector(for: id) {
                let found = try index.search(Matrix(rows: [v]), parameters: SearchParameters(
                    k: min(k, max(1, index.count - followedIDs.count)), filter: .predicate { !followedIDs.contains($0) },
                    threads: 1, ef: max(c.ef, k)))[0]
                let (a, b) = score(found.map(\.id))
                embedHits10 += a; embedHits100 += b
            }
            var pop = [String]()
            for p in popular where pop.count < 100 {
                let pid = training.sourceIDs[p]
                if inDegree[p] > 0 && !followedIDs.contains(pid) && pid != id { pop.append(pid) }
            }
            let (a, b) = score(pop)
            popHits10 += a; popHits100 += b
            if let als, let r = training.sourceIDs.index(ofID: id) {
                let ranked = try als.recommend(user: Int(r), count: 100).map { training.sourceIDs[$0.index] }
                let (a, b) = score(ranked)
                alsHits10 += a; alsHits100 += b
            }
        }
        lap("query")
        let m = Double(evaluated.count)
        return Result(users: evaluated.count, heldOutEdges: heldOut.values.reduce(0) { $0 + $1.count }, trainingEdges: trainingEdges,
                      embedding: Recall(at10: embedHits10 / m, at100: embedHits100 / m),
                      popularity: Recall(at10: popHits10 / m, at100: popHits100 / m),
                      als: als == nil ? nil : Recall(at10: alsHits10 / m, at100: alsHits100 / m),
                      seconds: seconds)
    }
}
