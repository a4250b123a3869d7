import EmbeddingStore
import LinearAlgebra

/// Each user's set of followed accounts, in compressed-sparse-row form: row `u`'s followed
/// accounts are `columnIndices[rowOffsets[u] ..< rowOffsets[u + 1]]`.
public struct FollowSets: Sendable {
    /// `rows + 1` non-decreasing offsets starting at 0.
    public let rowOffsets: [Int64]
    /// Followed-account indices, `>= 0`. Rows need not be sorted; duplicates are ignored.
    public let columnIndices: [Int32]

    /// Number of users (rows).
    public var rows: Int { rowOffsets.count - 1 }

    /// Wraps CSR arrays after checking them. Cost: O(rows + nonzeros).
    /// - Throws: ``EvaluationError`` if the offsets are empty, do not start at 0, decrease, do not
    ///   end at `columnIndices.count`, or an index is negative.
    public init(rowOffsets: [Int64], columnIndices: [Int32]) throws {
        guard let first = rowOffsets.first, first == 0 else {
            throw EvaluationError("FollowSets: rowOffsets must be non-empty and start at 0")
        }
        for r in 1..<rowOffsets.count where rowOffsets[r] < rowOffsets[r - 1] {
            throw EvaluationError("FollowSets: rowOffsets decrease at row \(r - 1)")
        }
        guard rowOffsets.last! == Int64(columnIndices.count) else {
            throw EvaluationError("FollowSets: rowOffsets end at \(rowOffsets.last!) but there are \(columnIndices.count) column indices")
        }
        if let bad = columnIndices.firstIndex(where: { $0 < 0 }) {
            throw EvaluationError("FollowSets: negative column index \(columnIndices[bad]) at position \(bad)")
        }
        self.rowOffsets = rowOffsets
        self.columnIndices = columnIndices
    }
}

/// The outcome of a ``JaccardBenchmark`` run.
public struct JaccardResult: Sendable, Codable, Equatable {
    /// Spearman correlation between the pairs' embedding cosine similarity and the Jaccard index
    /// of their followed sets.
    public let spearman: Double
    /// Number of pairs scored.
    public let pairs: Int
    /// Pairs drawn to share a followed account.
    public let sharedPairs: Int
    /// Pairs drawn uniformly at random.
    public let randomPairs: Int
    /// Mean Jaccard index of the shared and random halves.
    public let meanJaccardShared: Double, meanJaccardRandom: Double
    /// Mean cosine similarity of the shared and random halves.
    public let meanCosineShared: Double, meanCosineRandom: Double
    /// Users eligible for sampling (in the table, following at least one account).
    public let eligibleUsers: Int
    /// Followed-set rows whose id is not in the table (skipped).
    public let usersMissing: Int
    /// The sampling seed.
    public let seed: UInt64
    /// How the pairs were drawn.
    public let sampling: JaccardSampling
}

/// How ``JaccardBenchmark`` draws its pairs.
public enum JaccardSampling: String, Sendable, Codable, CaseIterable {
    /// The toolkit's sampling: among users in the table who follow someone; a shared pair picks an
    /// account uniformly among those with two such followers, then two of its followers.
    case accounts
    /// The judge's sampling (`../shared/judge/peer_eval.py`): every row of the follow sets is a
    /// user (those missing from the table, or with a zero vector, get cosine 0); a shared pair draws
    /// a follow edge `(u, w)` uniformly among edges whose account `w` has at least two followers,
    /// then another follower `v` of `w` uniformly; random pairs are two distinct rows uniformly.
    case judge
}

/// The "follow-Jaccard" task: do users with similar embeddings follow similar accounts?
///
/// Samples user pairs, half sharing at least one followed account and half uniformly at random,
/// and reports the Spearman correlation between their embeddings' cosine similarity and the
/// Jaccard index `|A ∩ B| / |A ∪ B|` of their followed sets.
///
/// Sampling, with a seeded `Xoshiro256`:
/// - eligible users: table rows with a non-empty followed set;
/// - shared pairs: an account followed by at least two eligible users is picked uniformly among
///   such accounts, then two distinct followers of it uniformly (via the transposed adjacency,
///   built with a counting sort);
/// - random pairs: two distinct eligible users uniformly.
/// Pairs are drawn with replacement (the same pair may recur).
public enum JaccardBenchmark {
    /// Runs the benchmark.
    ///
    /// - Parameters:
    ///   - embeddings: the user table.
    ///   - followed: followed sets, one row per user.
    ///   - rowIDs: the user id of each row of `followed`; `nil` when the rows are in the table's
    ///     order (then `followed.rows` must equal the table's count). Rows whose id is not in the
    ///     table are skipped and counted.
    ///   - pairs: number of pairs, `>= 4` (half shared, rounded down; the rest random).
    ///   - seed: sampling seed.
    ///   - sampling: how pairs are drawn (``JaccardSampling``).
    /// - Throws: ``EvaluationError`` if the shapes disagree, fewer than 2 users are eligible, no
    ///   account has two eligible followers, or the correlation is undefined (e.g. all Jaccard
    ///   indices equal).
    /// - Complexity: O(rows + nonzeros) to prepare, O(pairs * (followed-set sizes + dimension)) to score.
    public static func run(embeddings: EmbeddingTable, followed: FollowSets, rowIDs: [String]? = nil,
                           pairs: Int = 20_000, seed: UInt64 = 0,
                           sampling: JaccardSampling = .accounts) throws -> JaccardResult {
        guard pairs >= 4 else { throw EvaluationError("JaccardBenchmark: needs at least 4 pairs, got \(pairs)") }
        let rows = followed.rows
        // Table row of each follow-set row (-1: not in the table).
        var tableRow = [Int](repeating: -1, count: rows)
        var missing = 0
        if let rowIDs {
            guard rowIDs.count == rows else {
                throw EvaluationError("JaccardBenchmark: \(rowIDs.count) row ids for \(rows) follow-set rows")
            }
            for (r, id) in rowIDs.enumerated() {
                if let t = embeddings.row(of: id) { tableRow[r] = t } else { missing += 1 }
            }
        } else {
            guard rows == embeddings.count else {
                throw EvaluationError("JaccardBenchmark: \(rows) follow-set rows but the table has \(embeddings.count) rows; pass rowIDs")
            }
            for r in 0..<rows { tableRow[r] = r }
        }
        // Sorted, de-duplicated followed sets of the eligible users.
        var eligible = [Int]() // follow-set rows
        var offsets: [Int] = [0]
        var columns = [Int32]()
        columns.reserveCapacity(followed.columnIndices.count)
        followed.columnIndices.withUnsafeBufferPointer { c in
            for r in 0..<rows where tableRow[r] >= 0 || sampling == .judge {
                let lo = Int(followed.rowOffsets[r]), hi = Int(followed.rowOffsets[r + 1])
                if lo == hi && sampling == .accounts { continue }
                var set = Array(c[lo..<hi])
                var sorted = true
                for k in 1..<max(1, set.count) where set[k] <= set[k - 1] { sorted = false; break }
                if !sorted {
                    set.sort()
                    var unique = [Int32]()
                    unique.reserveCapacity(set.count)
                    for v in set where unique.last != v { unique.append(v) }
                    set = unique
                }
                eligible.append(r)
                columns.append(contentsOf: set)
                offsets.append(columns.count)
            }
        }
        let users = eligible.count
        guard users >= 2 else { throw EvaluationError("JaccardBenchmark: only \(users) users in the table follow anyone") }
        // Transposed adjacency over eligible users (counting sort by account).
        let accounts = Int(columns.max() ?? -1) + 1
        var followerOffsets = [Int](repeating: 0, count: accounts + 1)
        for c in columns { followerOffsets[Int(c) + 1] += 1 }
        for a in 0..<accounts { followerOffsets[a + 1] += followerOffsets[a] }
        var followers = [Int32](repeating: 0, count: columns.count)
        var cursor = followerOffsets
        for u in 0..<users {
            for k in offsets[u]..<offsets[u + 1] {
                let a = Int(columns[k])
                followers[cursor[a]] = Int32(u)
                cursor[a] += 1
            }
        }
        let popular = (0..<accounts).filter { followerOffsets[$0 + 1] - followerOffsets[$0] >= 2 }
        guard !popular.isEmpty else {
            throw EvaluationError("JaccardBenchmark: no account is followed by two users of the table")
        }
        var rng = Xoshiro256(seed: seed)
        let shared = pairs / 2
        var first = [Int](), second = [Int]()
        first.reserveCapacity(pairs); second.reserveCapacity(pairs)
        // Judge sampling: follow edges (slots of the transposed adjacency) of accounts with >= 2 followers.
        var edgeSlots = [Int]()
        var accountOfSlot = [Int32]()
        if sampling == .judge {
            accountOfSlot = [Int32](repeating: 0, count: followers.count)
            for a in 0..<accounts {
                for slot in followerOffsets[a]..<followerOffsets[a + 1] { accountOfSlot[slot] = Int32(a) }
                if followerOffsets[a + 1] - followerOffsets[a] >= 2 { edgeSlots.append(contentsOf: followerOffsets[a]..<followerOffsets[a + 1]) }
            }
        }
        for p in 0..<pairs {
            if p < shared && sampling == .judge {
                let slot = edgeSlots[rng.nextInt(below: edgeSlots.count)]
                let a = Int(accountOfSlot[slot])
                let lo = followerOffsets[a], count = followerOffsets[a + 1] - lo
                let i = slot - lo
                let j = (i + 1 + rng.nextInt(below: count - 1)) % count
                first.append(Int(followers[slot])); second.append(Int(followers[lo + j]))
            } else if p < shared {
                let a = popular[rng.nextInt(below: popular.count)]
                let lo = followerOffsets[a], count = followerOffsets[a + 1] - lo
                let i = rng.nextInt(below: count)
                var j = rng.nextInt(below: count - 1)
                if j >= i { j += 1 }
                first.append(Int(followers[lo + i])); second.append(Int(followers[lo + j]))
            } else {
                let i = rng.nextInt(below: users)
                var j = rng.nextInt(below: users - 1)
                if j >= i { j += 1 }
                first.append(i); second.append(j)
            }
        }
        var jaccard = [Double](repeating: 0, count: pairs)
        columns.withUnsafeBufferPointer { c in
            for p in 0..<pairs {
                jaccard[p] = sortedJaccard(c, offsets[first[p]]..<offsets[first[p] + 1],
                                           offsets[second[p]]..<offsets[second[p] + 1])
            }
        }
        // Users missing from the table (judge sampling only) get cosine 0, as a zero vector does.
        let present = zip(first, second).map { tableRow[eligible[$0]] >= 0 && tableRow[eligible[$1]] >= 0 }
        var cosine = embeddings.cosineSimilarities(rowsA: first.map { Swift.max(0, tableRow[eligible[$0]]) },
                                                   rowsB: second.map { Swift.max(0, tableRow[eligible[$0]]) })
        for p in 0..<pairs where !present[p] { cosine[p] = 0 }
        let rho: Double
        do { rho = try Ranking.spearman(cosine, jaccard) } catch let error as EvaluationError {
            throw EvaluationError("JaccardBenchmark: \(error.problem)")
        }
        func mean(_ v: ArraySlice<Double>) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
        return JaccardResult(
            spearman: rho, pairs: pairs, sharedPairs: shared, randomPairs: pairs - shared,
            meanJaccardShared: mean(jaccard[..<shared]), meanJaccardRandom: mean(jaccard[shared...]),
            meanCosineShared: mean(cosine[..<shared]), meanCosineRandom: mean(cosine[shared...]),
            eligibleUsers: users, usersMissing: missing, seed: seed, sampling: sampling)
    }

    /// The Jaccard index of two sorted, duplicate-free ranges of `c`, by a sorted merge.
    /// Two empty sets have index 0.
    static func sortedJaccard(_ c: UnsafeBufferPointer<Int32>, _ a: Range<Int>, _ b: Range<Int>) -> Double {
        var i = a.lowerBound, j = b.lowerBound, common = 0
        while i < a.upperBound && j < b.upperBound {
            let x = c[i], y = c[j]
            if x == y { common += 1; i += 1; j += 1 } else if x < y { i += 1 } else { j += 1 }
        }
        let union = a.count + b.count - common
        return union > 0 ? Double(common) / Double(union) : 0
    }
}
