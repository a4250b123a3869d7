import EmbeddingStore
import Foundation
import LinearAlgebra

/// How one account changed between two windows.
public struct Mover: Sendable, Codable, Equatable {
    public let id: String
    /// Cosine distance `1 - cos(x R, y)` between its aligned new vector and its old one.
    public let displacement: Double
    /// `|N_old ∩ N_new| / k` of its k nearest neighbours among the shared accounts.
    public let neighborOverlap: Double
    /// Distinct partners in the earlier and in the later window (when degrees were given).
    public let degreeBefore: Int?, degreeAfter: Int?

    enum CodingKeys: String, CodingKey {
        case id, displacement
        case neighborOverlap = "neighbor_overlap"
        case degreeBefore = "degree_before", degreeAfter = "degree_after"
    }
}

/// The drift between two windows' embeddings of the same accounts.
public struct DriftReport: Sendable, Codable, Equatable {
    /// The windows compared (labels, e.g. `2010-03-28..2010-09-23`).
    public var from: String, to: String
    /// Accounts in both windows.
    public var sharedAccounts: Int
    /// Accounts only in the earlier, only in the later window.
    public var leftAccounts: Int, newAccounts: Int
    /// The Procrustes fit: rows used and `||X R - Y|| / ||Y||`.
    public var alignmentFittedOn: Int
    public var alignmentResidual: Double
    /// Displacement (cosine distance after alignment) over the shared accounts: mean, median, 90th percentile.
    public var meanDisplacement: Double, medianDisplacement: Double, p90Displacement: Double
    /// Global stability: the mean cosine similarity of the shared accounts' aligned vectors (1 - mean displacement).
    public var stability: Double
    /// Mean neighbour overlap@k over `overlapQueries` sampled shared accounts (needs no alignment).
    public var neighborOverlap: Double
    public var overlapK: Int, overlapQueries: Int
    /// The accounts that moved most (among those with at least `moverMinimumDegree` partners in both windows).
    public var topMovers: [Mover]
    public var moverMinimumDegree: Int

    enum CodingKeys: String, CodingKey {
        case from, to
        case sharedAccounts = "shared_accounts", leftAccounts = "left_accounts", newAccounts = "new_accounts"
        case alignmentFittedOn = "alignment_fitted_on", alignmentResidual = "alignment_residual"
        case meanDisplacement = "mean_displacement", medianDisplacement = "median_displacement"
        case p90Displacement = "p90_displacement", stability
        case neighborOverlap = "neighbor_overlap", overlapK = "overlap_k", overlapQueries = "overlap_queries"
        case topMovers = "top_movers", moverMinimumDegree = "mover_minimum_degree"
    }
}

/// Drift measures between an earlier embedding and a later one aligned onto it.
public enum Drift {
    /// Options of ``measure(earlier:later:alignment:options:degrees:)``.
    public struct Options: Sendable, Equatable {
        /// Neighbours compared per account (overlap@k).
        public var k = 10
        /// Shared accounts sampled for the mean overlap (all when fewer); the movers are always included.
        public var overlapSample = 2000
        /// How many top movers to report.
        public var topMovers = 20
        /// Movers must have at least this many partners in both windows (when degrees are given),
        /// so that accounts seen once or twice do not fill the list.
        public var moverMinimumDegree = 5
        /// Seed of the overlap sample.
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Measures drift from `earlier` to `later` (already aligned onto `earlier`, e.g. by
    /// ``Procrustes/align(_:onto:anchors:normalizeRows:)``).
    ///
    /// - Parameters:
    ///   - earlier: the table of the earlier window.
    ///   - later: the table of the later window, already aligned onto `earlier`.
    ///   - alignment: the rotation that aligned `later` (its fit is part of the report).
    ///   - o: thresholds and sample sizes (``Options``).
    ///   - degrees: distinct partners of each account in the earlier and the later window, for
    ///     the movers' minimum degree and the report.
    /// - Complexity: O(shared d) for displacements, plus two k-NN searches of `overlapSample`
    ///   queries over the shared accounts (GEMMs of shared x d x sample).
    public static func measure(earlier: EmbeddingTable, later: EmbeddingTable, alignment: ProcrustesAlignment,
                               options o: Options = .init(),
                               degrees: (earlier: [String: Int], later: [String: Int])? = nil) throws -> DriftReport {
        var shared = [(Int, Int)]()
        for (row, id) in later.ids.enumerated() { if let e = earlier.row(of: id) { shared.append((e, row)) } }
        guard shared.count > o.k else {
            throw TemporalError("drift: only \(shared.count) accounts in both windows; need more than k = \(o.k)")
        }
        let x = Procrustes.unitRows(Procrustes.gatherRows(earlier.vectors, shared.map(\.0)))
        let y = Procrustes.unitRows(Procrustes.gatherRows(later.vectors, shared.map(\.1)))
        var displacement = [Double](repeating: 0, count: shared.count)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                let n = shared.count
                for j in 0..<x.columns { for i in 0..<n { displacement[i] += Double(px[i + j * n] * py[i + j * n]) } }
            }
        }
        displacement = displacement.map { 1 - $0 }
        let sorted = displacement.sorted()
        func quantile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }
        let ids = shared.map { later.ids[$0.1] }

        // Movers: largest displacement among accounts active enough in both windows.
        let eligible = shared.indices.filter { i in
            guard let degrees else { return true }
            return (degrees.earlier[ids[i]] ?? 0) >= o.moverMinimumDegree && (degrees.later[ids[i]] ?? 0) >= o.moverMinimumDegree
        }
        let movers = eligible.sorted { displacement[$0] != displacement[$1] ? displacement[$0] > displacement[$1] : $0 < $1 }
            .prefix(o.topMovers)

        // Overlap@k among the shared accounts, on a seeded sample plus the movers.
        var rng = Xoshiro256(seed: o.seed)
        var sample = Array(shared.indices)
        if sample.count > o.overlapSample {
            for i in 0..<o.overlapSample { sample.swapAt(i, i + Int(rng.next() % UInt64(sample.count - i))) }
            sample = Array(sample.prefix(o.overlapSample))
        }
        let sampleCount = sample.count
        sample += movers.filter { !sample.contains($0) }
        let metaE = EmbeddingMetadata(entityType: "account", algorithm: "shared")
        let tableE = try EmbeddingTable(ids: ids, vectors: x, metadata: metaE)
        let tableL = try EmbeddingTable(ids: ids, vectors: y, metadata: metaE)
        let before = tableE.nearestNeighbors(of: sample, k: o.k)
        let after = tableL.nearestNeighbors(of: sample, k: o.k)
        var overlap = [Int: Double]()
        for (q, row) in sample.enumerated() {
            let a = Set(before[q].map(\.row)), b = Set(after[q].map(\.row))
            overlap[row] = Double(a.intersection(b).count) / Double(o.k)
        }
        let meanOverlap = sample.prefix(sampleCount).reduce(0.0) { $0 + overlap[$1]! } / Double(sampleCount)
        let mean = displacement.reduce(0, +) / Double(displacement.count)
        return DriftReport(
            from: windowName(earlier), to: windowName(later), sharedAccounts: shared.count,
            leftAccounts: earlier.count - shared.count, newAccounts: later.count - shared.count,
            alignmentFittedOn: alignment.fittedOn, alignmentResidual: alignment.relativeResidual,
            meanDisplacement: mean, medianDisplacement: quantile(0.5), p90Displacement: quantile(0.9),
            stability: 1 - mean, neighborOverlap: meanOverlap, overlapK: o.k, overlapQueries: sampleCount,
            topMovers: movers.map { i in
                Mover(id: ids[i], displacement: displacement[i], neighborOverlap: overlap[i] ?? 0,
                      degreeBefore: degrees?.earlier[ids[i]], degreeAfter: degrees?.later[ids[i]])
            },
            moverMinimumDegree: degrees == nil ? 0 : o.moverMinimumDegree)
    }

    /// The `window` parameter of a table's metadata, or its algorithm.
    static func windowName(_ t: EmbeddingTable) -> String {
        if case .string(let s)? = t.metadata.parameters["window"] { return s }
        return t.metadata.algorithm
    }
}
