import Foundation
import LinearAlgebra
import Testing
@testable import Neighbors

/// Seeded clustered data: `clusters` Gaussian centres, points spread around them.
func clusteredData(rows: Int, dimension: Int, clusters: Int = 20, spread: Float = 0.35, seed: UInt64) -> Matrix<Float> {
    let centres = Matrix<Float>.gaussian(rows: clusters, columns: dimension, seed: seed)
    var x = Matrix<Float>.gaussian(rows: rows, columns: dimension, seed: seed &+ 1)
    for i in 0..<rows {
        let c = i % clusters
        for j in 0..<dimension { x[i, j] = centres[c, j] + spread * x[i, j] }
    }
    return x
}

func ids(_ n: Int, prefix: String = "v") -> [String] { (0..<n).map { "\(prefix)\($0)" } }

/// Brute force in Double: the k best rows of `x` for query row `q` of `queries` (best first).
func bruteForce(_ x: Matrix<Float>, _ queries: Matrix<Float>, _ q: Int, k: Int, metric: Metric,
                allowed: (Int) -> Bool = { _ in true }) -> [(Int, Double)] {
    let d = x.columns
    func norm(_ m: Matrix<Float>, _ i: Int) -> Double { (0..<d).reduce(0.0) { $0 + Double(m[i, $1]) * Double(m[i, $1]) }.squareRoot() }
    var scored = [(Int, Double)]()
    let qn = norm(queries, q)
    for i in 0..<x.rows where allowed(i) {
        var s = 0.0
        switch metric {
        case .innerProduct: for j in 0..<d { s += Double(x[i, j]) * Double(queries[q, j]) }
        case .cosine:
            for j in 0..<d { s += Double(x[i, j]) * Double(queries[q, j]) }
            let xn = norm(x, i)
            s = xn > 0 && qn > 0 ? s / (xn * qn) : 0
        case .l2: for j in 0..<d { let t = Double(x[i, j]) - Double(queries[q, j]); s -= t * t }
        }
        scored.append((i, s))
    }
    scored.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
    return Array(scored.prefix(k)).map { ($0.0, metric == .l2 ? -$0.1 : $0.1) }
}

func recall(_ found: [[Neighbor]], _ truth: [[String]]) -> Double {
    var hits = 0, total = 0
    for (f, t) in zip(found, truth) {
        let s = Set(t)
        hits += f.filter { s.contains($0.id) }.count
        total += t.count
    }
    return Double(hits) / Double(total)
}

func scratchFile(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("neighbors-tests-\(getpid())-\(name)")
}

@Suite struct ExactSearchTests {
    @Test(arguments: Metric.allCases)
    func matchesBruteForce(metric: Metric) throws {
        // Sizes that exercise partial tiles (1024 rows) and query blocks (64), and both the
        // query-split and base-split (few queries) paths.
        let x = clusteredData(rows: 2100, dimension: 19, seed: 3)
        let index = try ExactIndex(dimension: 19, metric: metric)
        try index.add(ids: ids(2100), vectors: x)
        for (queryCount, threads) in [(70, 2), (1, 2), (3, 1)] {
            let queries = Matrix<Float>.gaussian(rows: queryCount, columns: 19, seed: 11)
            let found = try index.search(queries, parameters: SearchParameters(k: 7, threads: threads))
            #expect(found.count == queryCount)
            for q in 0..<queryCount {
                let truth = bruteForce(x, queries, q, k: 7, metric: metric)
                #expect(found[q].count == 7)
                for (f, t) in zip(found[q], truth) {
                    // Scores agree to float rounding of a 19-term sum (relative to the operands).
                    let scale = metric == .l2 ? max(1, t.1) : 1
                    #expect(abs(Double(f.score) - t.1) <= 64 * Double(Float.ulpOfOne) * scale * 19)
                }
                // Ids agree except where two exact scores tie within rounding.
                let foundIDs = Set(found[q].map(\.id)), truthIDs = Set(truth.map { "v\($0.0)" })
                #expect(foundIDs.symmetricDifference(truthIDs).count <= 2)
            }
        }
    }

    @Test func filterDuringSearchAndRemoveUpdate() throws {
        let x = clusteredData(rows: 600, dimension: 8, seed: 5)
        let index = try ExactIndex(dimension: 8, metric: .cosine)
        try index.add(ids: ids(600), vectors: x)
        let q = Matrix<Float>.gaussian(rows: 4, columns: 8, seed: 9)
        // Only even rows allowed: every result is even, and they are the even rows' top 5.
        let even = try index.search(q, parameters: SearchParameters(k: 5, filter: .predicate { Int($0.dropFirst())! % 2 == 0 }))
        let allowedSet = try index.search(q, parameters: SearchParameters(k: 5, filter: .allowedIDs(Set((0..<300).map { "v\($0 * 2)" }))))
        for i in 0..<4 {
            let truth = bruteForce(x, q, i, k: 5, metric: .cosine) { $0 % 2 == 0 }.map { "v\($0.0)" }
            #expect(even[i].map(\.id) == truth)
            #expect(allowedSet[i].map(\.id) == truth)
        }
        // Remove the current best of query 0: it disappears and the count drops.
        let best = even[0][0].id
        try index.remove(ids: [best])
        #expect(index.count == 599)
        #expect(index.vector(for: best) == nil)
        let after = try index.search(q, parameters: SearchParameters(k: 5))
        #expect(!after[0].contains { $0.id == best })
        // Update v1 to equal query 1: it becomes query 1's top hit with similarity 1.
        try index.update(ids: ["v1"], vectors: Matrix(rows: [q.row(1)]))
        let top = try index.search(q, parameters: SearchParameters(k: 1))[1][0]
        #expect(top.id == "v1" && abs(top.score - 1) < 1e-5)
    }

    @Test func badInputs() throws {
        let index = try ExactIndex(dimension: 4)
        try index.add(ids: ["a", "b", "c"], vectors: .gaussian(rows: 3, columns: 4, seed: 1))
        let q = Matrix<Float>.gaussian(rows: 1, columns: 4, seed: 2)
        #expect(throws: NeighborIndexError.invalidInput("k = 4 exceeds the 3 vectors in the index")) {
            try index.search(q, parameters: SearchParameters(k: 4))
        }
        #expect(throws: NeighborIndexError.invalidInput("k must be at least 1 (got 0)")) {
            try index.search(q, parameters: SearchParameters(k: 0))
        }
        #expect(throws: NeighborIndexError.invalidInput("queries have dimension 5, the index 4")) {
            try index.search(.gaussian(rows: 1, columns: 5, seed: 2), parameters: SearchParameters(k: 1))
        }
        #expect(throws: NeighborIndexError.invalidInput("vectors have dimension 3, the index 4")) {
            try index.add(ids: ["d"], vectors: .gaussian(rows: 1, columns: 3, seed: 2))
        }
        #expect(throws: NeighborIndexError.duplicateID("a")) {
            try index.add(ids: ["a"], vectors: .gaussian(rows: 1, columns: 4, seed: 2))
        }
        #expect(throws: NeighborIndexError.unknownID("zz")) { try index.remove(ids: ["zz"]) }
        #expect(throws: NeighborIndexError.unknownID("zz")) {
            try index.update(ids: ["zz"], vectors: .gaussian(rows: 1, columns: 4, seed: 2))
        }
        #expect(throws: NeighborIndexError.unknownID("zz")) { try index.search(ids: ["zz"], parameters: SearchParameters(k: 1)) }
        var bad = Matrix<Float>.gaussian(rows: 1, columns: 4, seed: 2)
        bad[0, 2] = .nan
        #expect(throws: NeighborIndexError.self) { try index.add(ids: ["e"], vectors: bad) }
        #expect(throws: NeighborIndexError.self) { try index.add(ids: ["x\ty"], vectors: .gaussian(rows: 1, columns: 4, seed: 2)) }
        #expect(index.count == 3)
        #expect(throws: NeighborIndexError.self) { try HNSWIndex(dimension: 4, m: 1) }
        #expect(throws: NeighborIndexError.self) { try ExactIndex(dimension: 0) }
    }
}

@Suite struct ApproximateSearchTests {
    static let n = 2500, d = 24

    /// Queries: perturbed copies of stored rows; truth: exact search.
    func workload(metric: Metric) throws -> (Matrix<Float>, Matrix<Float>, [[String]]) {
        let x = clusteredData(rows: Self.n, dimension: Self.d, clusters: 40, seed: 21)
        var q = Matrix<Float>.gaussian(rows: 100, columns: Self.d, seed: 22)
        for i in 0..<100 { for j in 0..<Self.d { q[i, j] = x[i * 23, j] + 0.2 * q[i, j] } }
        let exact = try ExactIndex(dimension: Self.d, metric: metric)
        try exact.add(ids: ids(Self.n), vectors: x)
        let truth = try exact.search(q, parameters: SearchParameters(k: 10)).map { $0.map(\.id) }
        return (x, q, truth)
    }

    @Test(arguments: Metric.allCases)
    func hnswRecallFloor(metric: Metric) throws {
        let (x, q, truth) = try workload(metric: metric)
        let index = try HNSWIndex(dimension: Self.d, metric: metric, m: 12, efConstruction: 60, seed: 1)
        try index.add(ids: ids(Self.n), vectors: x, threads: 2)
        let r64 = recall(try index.search(q, parameters: SearchParameters(k: 10, threads: 2, ef: 64)), truth)
        let r16 = recall(try index.search(q, parameters: SearchParameters(k: 10, threads: 1, ef: 16)), truth)
        #expect(r64 >= 0.95, "HNSW recall@10 at ef 64: \(r64)")
        #expect(r16 >= 0.7, "HNSW recall@10 at ef 16: \(r16)")
        #expect(r64 >= r16)
    }

    @Test(arguments: Metric.allCases)
    func ivfRecallFloor(metric: Metric) throws {
        let (x, q, truth) = try workload(metric: metric)
        let index = try IVFIndex(dimension: Self.d, metric: metric, lists: 32, seed: 1)
        try index.add(ids: ids(Self.n), vectors: x)
        #expect(index.lists == 32)
        let r8 = recall(try index.search(q, parameters: SearchParameters(k: 10, threads: 2, probes: 8)), truth)
        let all = recall(try index.search(q, parameters: SearchParameters(k: 10, threads: 1, probes: 32)), truth)
        #expect(r8 >= 0.9, "IVF recall@10 at 8 of 32 probes: \(r8)")
        #expect(all >= 0.999, "IVF with every list probed must be exact: \(all)")
    }

    @Test func sameSeedOneThreadSameIndex() throws {
        let x = clusteredData(rows: 1500, dimension: 16, seed: 8)
        func graph() throws -> ([Int32], [Int32], [Int32], Int32) {
            let index = try HNSWIndex(dimension: 16, m: 8, efConstruction: 50, seed: 42)
            try index.add(ids: ids(1500), vectors: x, threads: 1)
            return (Array(index.levels.buffer), Array(index.links0.buffer), Array(index.upperLinks.buffer), index.entryPoint)
        }
        func lists() throws -> ([Float], [[Int32]]) {
            let index = try IVFIndex(dimension: 16, lists: 12, seed: 42)
            try index.add(ids: ids(1500), vectors: x, threads: 1)
            return (Array(index.centroids.buffer), index.listSlots.map { Array($0.buffer) })
        }
        let a = try graph(), b = try graph()
        #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3)
        #expect(a.0.contains { $0 > 0 }, "some vectors should live above level 0")
        let c = try lists(), e = try lists()
        #expect(c.0 == e.0 && c.1 == e.1)
        // A different seed gives a different graph.
        let other = try HNSWIndex(dimension: 16, m: 8, efConstruction: 50, seed: 43)
        try other.add(ids: ids(1500), vectors: x, threads: 1)
        #expect(Array(other.levels.buffer) != a.0)
    }

    @Test func hnswFilterRemoveUpdateAndGrowth() throws {
        let x = clusteredData(rows: 1500, dimension: 12, seed: 30)
        let index = try HNSWIndex(dimension: 12, metric: .l2, m: 10, efConstruction: 80, seed: 3)
        // Growth in several batches, no capacity given.
        for b in 0..<3 {
            let rows = (b * 500)..<((b + 1) * 500)
            var part = Matrix<Float>(rows: 500, columns: 12)
            for (r, i) in rows.enumerated() { for j in 0..<12 { part[r, j] = x[i, j] } }
            try index.add(ids: rows.map { "v\($0)" }, vectors: part, threads: 2)
        }
        #expect(index.count == 1500)
        let q = Matrix<Float>.gaussian(rows: 20, columns: 12, seed: 31)
        let filtered = try index.search(q, parameters: SearchParameters(k: 10, filter: .predicate { $0.hasSuffix("7") }, ef: 100))
        var hits = 0
        for i in 0..<20 {
            #expect(filtered[i].count == 10)
            #expect(filtered[i].allSatisfy { $0.id.hasSuffix("7") })
            let truth = Set(bruteForce(x, q, i, k: 10, metric: .l2) { $0 % 10 == 7 }.map { "v\($0.0)" })
            hits += filtered[i].filter { truth.contains($0.id) }.count
        }
        #expect(Double(hits) / 200 >= 0.9, "filtered recall \(Double(hits) / 200)")
        // Remove a third; none of them comes back, recall on the rest stays high.
        let removed = (0..<500).map { "v\($0 * 3)" }
        try index.remove(ids: removed)
        #expect(index.count == 1000)
        let after = try index.search(q, parameters: SearchParameters(k: 10, ef: 100))
        let gone = Set(removed)
        #expect(after.allSatisfy { $0.allSatisfy { !gone.contains($0.id) } })
        // Update: v1 moves onto query 0 and becomes its nearest, at distance ~0.
        try index.update(ids: ["v1"], vectors: Matrix(rows: [q.row(0)]))
        let top = try index.search(q, parameters: SearchParameters(k: 1, ef: 64))[0][0]
        #expect(top.id == "v1" && top.score < 1e-4)
        #expect(index.count == 1000)
    }

    @Test func ivfRemoveUpdate() throws {
        let x = clusteredData(rows: 1000, dimension: 10, seed: 40)
        let index = try IVFIndex(dimension: 10, metric: .innerProduct, lists: 10, seed: 2)
        try index.add(ids: ids(1000), vectors: x)
        try index.remove(ids: (0..<500).map { "v\($0 * 2)" })
        #expect(index.count == 500)
        let q = Matrix<Float>.gaussian(rows: 5, columns: 10, seed: 41)
        let found = try index.search(q, parameters: SearchParameters(k: 10, probes: 10))
        for i in 0..<5 {
            let truth = bruteForce(x, q, i, k: 10, metric: .innerProduct) { $0 % 2 == 1 }.map { "v\($0.0)" }
            #expect(found[i].map(\.id) == truth)
        }
        var far = q.row(3)
        for j in 0..<10 { far[j] *= 100 }
        try index.update(ids: ["v5"], vectors: Matrix(rows: [far]))
        #expect(try index.search(q, parameters: SearchParameters(k: 1, probes: 10))[3][0].id == "v5")
        #expect(index.vector(for: "v5") == far)
    }
}

@Suite struct IndexFileTests {
    @Test(arguments: NeighborIndexKind.allCases)
    func saveLoadRoundTrip(kind: NeighborIndexKind) throws {
        let x = clusteredData(rows: 1200, dimension: 16, seed: 50)
        let index = try NeighborIndexes.make(kind: kind, dimension: 16, metric: .cosine, m: 8, efConstruction: 60, lists: 16, seed: 5)
        try index.add(ids: ids(1200), vectors: x, threads: 2)
        try index.remove(ids: ["v3", "v77"])
        let url = scratchFile("roundtrip-\(kind.rawValue)")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let q = Matrix<Float>.gaussian(rows: 30, columns: 16, seed: 51)
        let p = SearchParameters(k: 10, threads: 1, ef: 40, probes: 4)
        let before = try index.search(q, parameters: p)
        for mapped in [true, false] {
            let loaded = try NeighborIndexes.load(from: url, mapped: mapped)
            #expect(loaded.kind == kind && loaded.count == 1198 && loaded.dimension == 16 && loaded.metric == .cosine)
            #expect(try loaded.search(q, parameters: p) == before)
            #expect(loaded.vector(for: "v10") == index.vector(for: "v10"))
            #expect(loaded.vector(for: "v3") == nil)
            // A loaded (mapped) index keeps growing and changing without touching the file.
            try loaded.add(ids: ["new"], vectors: Matrix(rows: [q.row(0)]))
            try loaded.remove(ids: ["v10"])
            #expect(loaded.count == 1198)
            #expect(try loaded.search(q, parameters: SearchParameters(k: 1, ef: 40, probes: 16))[0][0].id == "new")
        }
        // The file is unchanged by the mutations of the mapped copy.
        let again = try NeighborIndexes.load(from: url)
        #expect(again.count == 1198 && again.vector(for: "v10") != nil)
    }

    @Test func mappedLoadIsLazy() throws {
        // 60k x 32 vectors: opening maps the file, it does not read it; the mapped index holds
        // almost no heap memory until it is changed.
        let n = 60_000, d = 32
        let index = try ExactIndex(dimension: d, metric: .innerProduct)
        try index.add(ids: ids(n), vectors: .gaussian(rows: n, columns: d, seed: 60))
        let url = scratchFile("mapped")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let loaded = try NeighborIndexes.load(from: url, mapped: true)
        #expect(loaded.memoryBytes < 4096, "a mapped index copied \(loaded.memoryBytes) bytes to the heap")
        let eager = try NeighborIndexes.load(from: url, mapped: false)
        #expect(eager.count == n)
        let q = Matrix<Float>.gaussian(rows: 3, columns: d, seed: 61)
        #expect(try loaded.search(q, parameters: SearchParameters(k: 5)) == index.search(q, parameters: SearchParameters(k: 5)))
    }

    @Test func corruptFilesGiveClearErrors() throws {
        let index = try HNSWIndex(dimension: 8, m: 4, efConstruction: 20)
        try index.add(ids: ids(300), vectors: clusteredData(rows: 300, dimension: 8, seed: 70))
        let url = scratchFile("corrupt")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let good = try Data(contentsOf: url)
        func expectError(_ data: Data, mentioning: String) throws {
            try data.write(to: url)
            do {
                _ = try NeighborIndexes.load(from: url)
                Issue.record("loading a corrupt file (\(mentioning)) succeeded")
            } catch let error as NeighborIndexError {
                let text = error.description
                #expect(text.contains(url.path), "error does not name the file: \(text)")
                #expect(text.contains(mentioning), "error \(text) does not mention \(mentioning)")
            }
        }
        try expectError(good.prefix(good.count / 2), mentioning: "truncated")
        try expectError(Data("hello world, not an index at all".utf8), mentioning: "NBRINDEX")
        try expectError(Data(), mentioning: "empty")
        var badLevel = good
        // Overwrite the levels section with a huge level for every slot.
        let file = try IndexFile(url: { try! good.write(to: url); return url }(), mapped: false)
        let at = try file.offset(of: "levels")
        for i in 0..<300 { badLevel.replaceSubrange((at + 4 * i)..<(at + 4 * i + 4), with: [0x7f, 0, 0, 0]) }
        try expectError(badLevel, mentioning: "corrupt graph")
        let missing = scratchFile("does-not-exist")
        #expect(throws: NeighborIndexError.file(missing.path, "no such file")) { try NeighborIndexes.load(from: missing) }
    }
}

/// embedding-neighbors build checks this budget before it builds.
@Suite struct NeighborIndexMemoryBudgetTests {
    @Test func theBudgetCountsVectorsAndLinksAndRefusesWhatCannotFit() {
        let hnsw = NeighborIndexes.memoryBudget(kind: .hnsw, count: 1_000_000, dimension: 64, m: 16, threads: 2)
        let exact = NeighborIndexes.memoryBudget(kind: .exact, count: 1_000_000, dimension: 64)
        // 256 MB of vectors, and HNSW's 32 level-0 links (128 MB) on top.
        #expect(exact.peak.bytes >= 256_000_000)
        #expect(hnsw.peak.bytes >= exact.peak.bytes + 128_000_000)
        let tight = MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 0, cgroupLimit: 512 << 20, cgroupInUse: 100 << 20)
        #expect {
            try hnsw.check(tight)
        } throws: { error in
            (error as? MemoryBudgetError)?.description.contains("--m (now 16)") == true
        }
        let roomy = MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 0, cgroupLimit: 8 << 30, cgroupInUse: 100 << 20)
        #expect(throws: Never.self) { try hnsw.check(roomy) }
    }
}

/// The evaluation's tie-aware recall: among identical vectors any returned copy counts.
struct TieAwareRecallTests {
    @Test func identicalVectorsCountInTheTieAwareRecallOnly() throws {
        // 12 copies of one vector, then 188 distinct ones; every query is a row of the index.
        let n = 200, d = 8
        var x = Matrix<Float>.gaussian(rows: n, columns: d, seed: 9)
        for i in 1..<12 { for j in 0..<d { x[i, j] = x[0, j] } }
        let index = try HNSWIndex(dimension: d, metric: .cosine, m: 8, efConstruction: 40, seed: 3)
        try index.add(ids: (0..<n).map { "v\($0)" }, vectors: x, threads: 1)
        let report = try NeighborEvaluation.run(index: index, queries: n, k: 10, settings: [("ef=64", SearchParameters(k: 10, ef: 64))],
                                                threads: [1], repeats: 1, seed: 0)
        let row = try #require(report.rows.first)
        #expect(row.recallAtKTies >= row.recallAtK)
        #expect(row.recallAtKTies > 0.95, "tie-aware recall \(row.recallAtKTies)")
        let exact = try ExactIndex(dimension: d, metric: .cosine)
        try exact.add(ids: (0..<n).map { "v\($0)" }, vectors: x)
        let self_ = try NeighborEvaluation.run(index: exact, queries: 50, k: 10, settings: [("exact", SearchParameters(k: 10))], threads: [1], repeats: 1)
        #expect(self_.rows[0].recallAtK == 1 && self_.rows[0].recallAtKTies == 1)
    }
}
