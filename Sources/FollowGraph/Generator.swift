import Foundation
import LinearAlgebra

/// What to do with an edge drawn twice.
public enum DuplicateEdgePolicy: String, Sendable, Codable {
    /// Keep only distinct edges and draw replacements until there are exactly `edges` distinct
    /// ones (the output is then sorted by source, then target). The default: a follow graph has
    /// no repeated follows.
    case remove
    /// Keep every draw: a multigraph with exactly `edges` edges in generation order.
    case keep
}

/// Parameters of ``FollowGraphGenerator``: a degree-corrected stochastic block model (a Chung-Lu
/// graph with planted communities).
public struct FollowGraphParameters: Sendable, Codable, Equatable {
    /// Number of nodes, ids `0 ..< nodes`.
    public var nodes: Int
    /// Number of edges to produce (exactly; see ``duplicates``).
    public var edges: Int
    /// Number of planted communities; nodes are spread over them evenly at random.
    public var communities: Int
    /// Fraction of edges whose endpoints lie in different communities, in `[0, 1]`.
    public var mixing: Double
    /// Power-law exponent `gamma > 1` of the out-degree distribution (`P(k) ~ k^-gamma`).
    public var outExponent: Double
    /// Power-law exponent `gamma > 1` of the in-degree distribution (unused when undirected).
    public var inExponent: Double
    /// Directed (follow) edges; when `false`, each edge is an unordered pair written `min<TAB>max`.
    public var directed: Bool
    /// Seed of every random draw.
    public var seed: UInt64
    /// Cap on any node's expected degree; `nil` means half the mean community size
    /// (a node cannot have more distinct in-community neighbours than its community has nodes).
    public var maxExpectedDegree: Double?
    /// What to do with repeated edges.
    public var duplicates: DuplicateEdgePolicy

    /// Parameters with the given values; see the properties for their meaning.
    public init(nodes: Int, edges: Int, communities: Int, mixing: Double = 0.2, outExponent: Double = 2.5,
                inExponent: Double = 2.1, directed: Bool = true, seed: UInt64 = 0,
                maxExpectedDegree: Double? = nil, duplicates: DuplicateEdgePolicy = .remove) {
        self.nodes = nodes
        self.edges = edges
        self.communities = communities
        self.mixing = mixing
        self.outExponent = outExponent
        self.inExponent = inExponent
        self.directed = directed
        self.seed = seed
        self.maxExpectedDegree = maxExpectedDegree
        self.duplicates = duplicates
    }

    /// The degree cap in effect.
    public var effectiveMaxExpectedDegree: Double {
        maxExpectedDegree ?? max(2, Double(nodes) / Double(max(communities, 1)) / 2)
    }

    /// One line describing the parameters, used as the `#` header of `edges.tsv`.
    public var headerLine: String {
        "# follow-graph-generate nodes=\(nodes) edges=\(edges) communities=\(communities) mixing=\(mixing) "
            + "out_exponent=\(outExponent) in_exponent=\(inExponent) directed=\(directed) seed=\(seed) "
            + "max_expected_degree=\(effectiveMaxExpectedDegree) duplicates=\(duplicates.rawValue)"
    }
}

/// A generated graph: edge arrays and the planted community of every node.
public struct GeneratedGraph: Sendable {
    /// The parameters that made it.
    public let parameters: FollowGraphParameters
    /// Edge sources (`sources[e] -> targets[e]`); for undirected graphs `sources[e] < targets[e]`.
    public let sources: [Int32]
    /// Edge targets.
    public let targets: [Int32]
    /// Community of each node, `0 ..< communities`.
    public let labels: [Int32]

    /// Number of edges.
    public var edgeCount: Int { sources.count }

    /// The fraction of edges whose endpoints are in different communities. Cost: O(edges).
    public var mixingFraction: Double {
        guard !sources.isEmpty else { return 0 }
        var crossing = 0
        for e in sources.indices where labels[Int(sources[e])] != labels[Int(targets[e])] { crossing += 1 }
        return Double(crossing) / Double(sources.count)
    }

    /// Out-degree (edges as source) of every node; for undirected graphs use ``degrees()``.
    public func outDegrees() -> [Int] {
        var d = [Int](repeating: 0, count: labels.count)
        for s in sources { d[Int(s)] += 1 }
        return d
    }

    /// In-degree (edges as target) of every node.
    public func inDegrees() -> [Int] {
        var d = [Int](repeating: 0, count: labels.count)
        for t in targets { d[Int(t)] += 1 }
        return d
    }

    /// Total degree (edges touching the node at either end).
    public func degrees() -> [Int] {
        var d = [Int](repeating: 0, count: labels.count)
        for s in sources { d[Int(s)] += 1 }
        for t in targets { d[Int(t)] += 1 }
        return d
    }
}

/// Power-law follow graphs with planted communities: a directed degree-corrected stochastic
/// block model in the Chung-Lu style.
///
/// Every node gets an out-weight and an in-weight drawn from Pareto distributions with the
/// given exponents (minimum 1, capped so no node's expected degree exceeds
/// ``FollowGraphParameters/effectiveMaxExpectedDegree``). Each edge picks its source with
/// probability proportional to out-weight; with probability `1 - mixing` its target is drawn
/// from the source's community, otherwise from the other communities, in both cases
/// proportionally to in-weight. Self-loops are redrawn. Draws use Walker/Vose alias tables
/// (one global table per weight, one per community), so generation is O(nodes + edges) with
/// no per-edge objects; edges are generated in 64 fixed chunks, each with its own
/// `Xoshiro256/stream(seed:index:)`, in parallel, so the output depends only on the seed.
/// With ``DuplicateEdgePolicy/remove`` the edges are radix-sorted, de-duplicated and topped up
/// with fresh draws until exactly `edges` distinct edges remain.
public enum FollowGraphGenerator {
    static let chunkCount = 64

    /// Generates a graph.
    ///
    /// Cost: O(nodes + edges) time (a few radix-sort passes more with duplicate removal);
    /// memory about 16 bytes per edge plus 24 per node.
    /// - Throws: ``FollowGraphError`` if a parameter is out of range: `nodes < 2`, `edges < 0`,
    ///   `communities < 1`, fewer than 2 nodes per community (no self-loop-free intra edge),
    ///   `mixing` outside `[0, 1]` or positive with one community, an exponent `<= 1`, more
    ///   edges than distinct pairs allow with ``DuplicateEdgePolicy/remove``, or when duplicate
    ///   removal cannot reach the edge count (weights too concentrated).
    public static func generate(_ p: FollowGraphParameters) throws -> GeneratedGraph {
        try validate(p)
        let n = p.nodes, k = p.communities
        var rng = Xoshiro256.stream(seed: p.seed, index: 1 << 40)

        // Communities: a shuffled round-robin, so sizes differ by at most one.
        var labels = (0..<n).map { Int32($0 % k) }
        for i in stride(from: n - 1, to: 0, by: -1) {
            labels.swapAt(i, Int(rng.next().multipliedFullWidth(by: UInt64(i + 1)).high))
        }
        let cap = p.effectiveMaxExpectedDegree
        let outWeights = paretoWeights(count: n, exponent: p.outExponent, edges: p.edges, cap: cap, rng: &rng)
        let inWeights = p.directed
            ? paretoWeights(count: n, exponent: p.inExponent, edges: p.edges, cap: cap, rng: &rng)
            : outWeights
        let sampler = EdgeSampler(labels: labels, communities: k, outWeights: outWeights, inWeights: inWeights,
                                  mixing: p.mixing)

        var sources = [Int32](repeating: 0, count: p.edges)
        var targets = [Int32](repeating: 0, count: p.edges)
        sampler.fill(sources: &sources, targets: &targets, seed: p.seed, streamBase: 0, directed: p.directed)
        if p.duplicates == .remove {
            // Keep the drawn numbers of intra- and inter-community edges: a repeated edge is
            // replaced by a fresh draw of its own kind (repeats are likelier inside communities,
            // so plain redraws would bias the mixing fraction upwards).
            var intraTarget = 0
            for e in 0..<p.edges where labels[Int(sources[e])] == labels[Int(targets[e])] { intraTarget += 1 }
            let interTarget = p.edges - intraTarget
            let bits = max(1, Int.bitWidth - (n - 1).leadingZeroBitCount)
            let mask = (UInt64(1) << UInt64(bits)) - 1
            func isIntra(_ key: UInt64) -> Bool { labels[Int(key >> UInt64(bits))] == labels[Int(key & mask)] }
            var keys = packKeys(sources, targets, bits: bits)
            sources = []; targets = []
            radixSort(&keys, keyBits: 2 * bits)
            keys = uniqueSorted(keys)
            var intraCount = 0
            for key in keys where isIntra(key) { intraCount += 1 }
            var interCount = keys.count - intraCount
            var round: UInt64 = 1
            var stalledRounds = 0
            while keys.count < p.edges {
                var extra = [UInt64]()
                for (mode, deficit) in [(EdgeSampler.Mode.intra, intraTarget - intraCount), (.inter, interTarget - interCount)] where deficit > 0 {
                    var extraSources = [Int32](repeating: 0, count: deficit)
                    var extraTargets = [Int32](repeating: 0, count: deficit)
                    sampler.fill(sources: &extraSources, targets: &extraTargets, seed: p.seed,
                                 streamBase: round * UInt64(2 * chunkCount) + (mode == .intra ? 0 : UInt64(chunkCount)),
                                 directed: p.directed, mode: mode)
                    extra += packKeys(extraSources, extraTargets, bits: bits)
                }
                radixSort(&extra, keyBits: 2 * bits)
                let (merged, inserted) = mergeUnique(keys, uniqueSorted(extra))
                keys = merged
                for key in inserted { if isIntra(key) { intraCount += 1 } else { interCount += 1 } }
                stalledRounds = inserted.isEmpty ? stalledRounds + 1 : 0
                if stalledRounds >= 20 || round > 10_000 {
                    throw FollowGraphError("could only place \(keys.count) distinct edges of \(p.edges); lower maxExpectedDegree or the edge count")
                }
                round += 1
            }
            sources = keys.map { Int32(truncatingIfNeeded: $0 >> UInt64(bits)) }
            targets = keys.map { Int32(truncatingIfNeeded: $0 & mask) }
        }
        return GeneratedGraph(parameters: p, sources: sources, targets: targets, labels: labels)
    }

    static func validate(_ p: FollowGraphParameters) throws {
        guard p.nodes >= 2, p.nodes <= Int(Int32.max) else { throw FollowGraphError("nodes must be in 2...\(Int32.max), got \(p.nodes)") }
        guard p.edges >= 0 else { throw FollowGraphError("edges must be >= 0, got \(p.edges)") }
        guard p.communities >= 1 else { throw FollowGraphError("communities must be >= 1, got \(p.communities)") }
        guard p.nodes / p.communities >= 2 else {
            throw FollowGraphError("\(p.communities) communities leave fewer than 2 of the \(p.nodes) nodes per community")
        }
        guard p.mixing >= 0, p.mixing <= 1 else { throw FollowGraphError("mixing must be in [0, 1], got \(p.mixing)") }
        guard p.mixing == 0 || p.communities >= 2 else { throw FollowGraphError("mixing \(p.mixing) > 0 needs at least 2 communities") }
        guard p.outExponent > 1, p.inExponent > 1, p.outExponent.isFinite, p.inExponent.isFinite else {
            throw FollowGraphError("exponents must be finite and > 1, got out \(p.outExponent), in \(p.inExponent)")
        }
        if let cap = p.maxExpectedDegree, !(cap >= 1) { throw FollowGraphError("maxExpectedDegree must be >= 1, got \(cap)") }
        if p.duplicates == .remove {
            let communitySize = Double(p.nodes / p.communities)
            let intraPairs = Double(p.communities) * communitySize * (communitySize - 1)
            let allPairs = Double(p.nodes) * Double(p.nodes - 1)
            let available = (p.mixing < 1 ? intraPairs * 0.5 : 0) + (p.mixing > 0 ? (allPairs - intraPairs) * 0.5 : 0)
            let needed = Double(p.edges) * (p.directed ? 1 : 2)
            guard needed <= available else {
                throw FollowGraphError("\(p.edges) distinct edges are too many for \(p.nodes) nodes in \(p.communities) communities (at most about half the available pairs)")
            }
        }
    }

    /// Pareto(minimum 1, exponent gamma) weights, capped so that `edges * w / sum(w) <= cap`.
    static func paretoWeights(count: Int, exponent: Double, edges: Int, cap: Double, rng: inout Xoshiro256) -> [Double] {
        let power = -1 / (exponent - 1)
        var w = (0..<count).map { _ in Foundation.pow(1 - rng.nextUniform(), power) }
        guard edges > 0 else { return w }
        // The cap depends on the sum, which the cap changes: a few fixed-point passes suffice.
        for _ in 0..<8 {
            let limit = cap * w.reduce(0, +) / Double(edges)
            if limit < 1 { break } // degenerate request: every weight would be capped
            var changed = false
            for i in w.indices where w[i] > limit { w[i] = limit; changed = true }
            if !changed { break }
        }
        return w
    }

    /// Packs edge `e` as `source << bits | target`.
    static func packKeys(_ sources: [Int32], _ targets: [Int32], bits: Int) -> [UInt64] {
        var keys = [UInt64](repeating: 0, count: sources.count)
        let shift = UInt64(bits)
        for e in sources.indices { keys[e] = UInt64(sources[e]) << shift | UInt64(targets[e]) }
        return keys
    }

    /// LSD radix sort of `keys` on their low `keyBits` bits, 11 bits per pass.
    static func radixSort(_ keys: inout [UInt64], keyBits: Int) {
        let count = keys.count
        if count < 2 { return }
        let digitBits = 11, buckets = 1 << digitBits
        var scratch = [UInt64](repeating: 0, count: count)
        var shift = 0
        var inScratch = false
        var histogram = [Int](repeating: 0, count: buckets)
        while shift < keyBits {
            keys.withUnsafeMutableBufferPointer { a in
                scratch.withUnsafeMutableBufferPointer { b in
                    let src = inScratch ? b : a, dst = inScratch ? a : b
                    for i in 0..<buckets { histogram[i] = 0 }
                    let mask = UInt64(buckets - 1), s = UInt64(shift)
                    for i in 0..<count { histogram[Int((src[i] >> s) & mask)] += 1 }
                    var total = 0
                    for i in 0..<buckets { let c = histogram[i]; histogram[i] = total; total += c }
                    for i in 0..<count {
                        let key = src[i]
                        let digit = Int((key >> s) & mask)
                        dst[histogram[digit]] = key
                        histogram[digit] += 1
                    }
                }
            }
            inScratch.toggle()
            shift += digitBits
        }
        if inScratch { swap(&keys, &scratch) }
    }

    /// `sorted` without repeats.
    static func uniqueSorted(_ sorted: [UInt64]) -> [UInt64] {
        var out = [UInt64]()
        out.reserveCapacity(sorted.count)
        for key in sorted where out.last != key { out.append(key) }
        return out
    }

    /// The sorted union of two sorted, repeat-free arrays, and the keys of `b` not in `a`.
    static func mergeUnique(_ a: [UInt64], _ b: [UInt64]) -> (merged: [UInt64], inserted: [UInt64]) {
        var out = [UInt64](), inserted = [UInt64]()
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a[i] < b[j] { out.append(a[i]); i += 1 } else if b[j] < a[i] {
                out.append(b[j]); inserted.append(b[j]); j += 1
            } else {
                out.append(a[i]); i += 1; j += 1
            }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        inserted.append(contentsOf: b[j...])
        return (out, inserted)
    }
}

/// Walker/Vose alias table over `weights`: O(1) draws proportional to the weights.
struct AliasTable: Sendable {
    let probability: [Double]
    let alias: [Int32]

    init(_ weights: [Double]) {
        let count = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(count) / total }
        var probability = [Double](repeating: 1, count: count)
        var alias = (0..<count).map { Int32($0) }
        var small = [Int](), large = [Int]()
        for i in 0..<count { if scaled[i] < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast(), let l = large.last {
            probability[s] = scaled[s]
            alias[s] = Int32(l)
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { large.removeLast(); small.append(l) }
        }
        // Leftovers (rounding) keep probability 1.
        self.probability = probability
        self.alias = alias
    }

    @inline(__always) func draw(_ rng: inout Xoshiro256) -> Int {
        let i = Int(truncatingIfNeeded: rng.next().multipliedFullWidth(by: UInt64(probability.count)).high)
        return rng.nextUniform() < probability[i] ? i : Int(alias[i])
    }
}

/// The alias tables of one generator run.
struct EdgeSampler: Sendable {
    let labels: [Int32]
    let sourceTable: AliasTable          // all nodes by out-weight
    let targetTable: AliasTable          // all nodes by in-weight (inter-community draws, with rejection)
    let members: [Int32]                 // nodes grouped by community
    let memberOffsets: [Int]
    let communityTables: [AliasTable]    // per community, over its members by in-weight
    let mixing: Double

    init(labels: [Int32], communities k: Int, outWeights: [Double], inWeights: [Double], mixing: Double) {
        self.labels = labels
        self.mixing = mixing
        sourceTable = AliasTable(outWeights)
        targetTable = AliasTable(inWeights)
        var offsets = [Int](repeating: 0, count: k + 1)
        for c in labels { offsets[Int(c) + 1] += 1 }
        for c in 0..<k { offsets[c + 1] += offsets[c] }
        var cursor = offsets
        var members = [Int32](repeating: 0, count: labels.count)
        for (v, c) in labels.enumerated() { members[cursor[Int(c)]] = Int32(v); cursor[Int(c)] += 1 }
        self.members = members
        self.memberOffsets = offsets
        communityTables = (0..<k).map { c in AliasTable(members[offsets[c]..<offsets[c + 1]].map { inWeights[Int($0)] }) }
    }

    /// Which kind of edge to draw.
    enum Mode: Sendable { case mixed, intra, inter }

    /// One edge, never a self-loop: inter-community with probability `mixing` (``Mode/mixed``),
    /// or of the kind `mode` asks for.
    @inline(__always) func drawEdge(_ rng: inout Xoshiro256, mode: Mode) -> (Int32, Int32) {
        let s = sourceTable.draw(&rng)
        let c = Int(labels[s])
        let inter: Bool
        switch mode {
        case .mixed: inter = rng.nextUniform() < mixing
        case .intra: inter = false
        case .inter: inter = true
        }
        if inter {
            while true {
                let t = targetTable.draw(&rng)
                if labels[t] != Int32(c) { return (Int32(s), Int32(t)) }
            }
        }
        let base = memberOffsets[c]
        while true {
            let t = Int(members[base + communityTables[c].draw(&rng)])
            if t != s { return (Int32(s), Int32(t)) }
        }
    }

    /// Fills the arrays with edges, in `FollowGraphGenerator.chunkCount` chunks with streams
    /// `streamBase + chunk`, in parallel. Undirected edges are stored as (min, max).
    func fill(sources: inout [Int32], targets: inout [Int32], seed: UInt64, streamBase: UInt64, directed: Bool,
              mode: Mode = .mixed) {
        let m = sources.count
        let chunks = FollowGraphGenerator.chunkCount
        sources.withUnsafeMutableBufferPointer { sp in
            targets.withUnsafeMutableBufferPointer { tp in
                let box = UnsafeSendableBox((sp.baseAddress, tp.baseAddress))
                let sampler = self
                Parallel.forEachChunk(count: chunks) { range in
                    guard let src = box.value.0, let dst = box.value.1 else { return }
                    for chunk in range {
                        var rng = Xoshiro256.stream(seed: seed, index: streamBase + UInt64(chunk))
                        for e in (m * chunk / chunks)..<(m * (chunk + 1) / chunks) {
                            let (s, t) = sampler.drawEdge(&rng, mode: mode)
                            if directed || s < t { src[e] = s; dst[e] = t } else { src[e] = t; dst[e] = s }
                        }
                    }
                }
            }
        }
    }
}
