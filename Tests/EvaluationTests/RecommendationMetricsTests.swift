import Foundation
import GraphData
import LinearAlgebra
import Solvers
import Testing
@testable import Evaluation

/// A users x items implicit matrix of `blocks` diagonal blocks: user u (in block u % blocks)
/// interacts with each item of its block with probability `density`, and nowhere else.
private func blockMatrix(users: Int, items: Int, blocks: Int, density: Double, seed: UInt64) throws -> CSRMatrix<Float> {
    var rng = Xoshiro256(seed: seed)
    var coo = COOMatrix<Float>(rows: users, columns: items)
    for u in 0..<users {
        let b = u % blocks
        for i in 0..<items where i % blocks == b && rng.nextUniform() < density {
            coo.append(row: u, column: i, value: 1)
        }
    }
    return try coo.toCSR()
}

private let slashdotPath = "../shared/data/slashdot/edges.txt"

@Suite("Recommendation metrics") struct RecommendationMetricsTests {
    @Test func holdoutSplitAndRankingMetrics() throws {
        let m = try blockMatrix(users: 300, items: 200, blocks: 5, density: 0.3, seed: 12)
        let (train, test) = try ALSHoldout.split(m, fraction: 0.2, seed: 4)
        #expect(train.nonzeroCount + test.nonzeroCount == m.nonzeroCount)
        #expect(train.toDense() + test.toDense() == m.toDense())
        let share = Double(test.nonzeroCount) / Double(m.nonzeroCount)
        #expect(abs(share - 0.2) < 0.02)
        #expect(train.rowNonzeroCounts().enumerated().allSatisfy { $0.element > 0 || m.rowNonzeroCounts()[$0.offset] == 0 })
        let again = try ALSHoldout.split(m, fraction: 0.2, seed: 4)
        #expect(again.test == test)

        let model = try ALS.fit(train, configuration: .init(factors: 8, regularization: 0.05, alpha: 5, iterations: 8, seed: 1))
        let metrics = try model.rankingMetrics(test: test, k: 10)
        #expect(metrics.users == test.rowNonzeroCounts().filter { $0 > 0 }.count)
        // Recommendations stay inside the user's block, where 30% of items were liked and a
        // fifth of those held out: hits are far above the 1-in-5 random-block chance.
        #expect(metrics.precision > 0.1 && metrics.ndcg > 0.1 && metrics.map > 0.05)

        // The definitions, checked by hand on one user.
        let user = (0..<m.rows).first { test.rowOffsets[$0 + 1] > test.rowOffsets[$0] }!
        let single = try model.rankingMetrics(test: test, k: 10, users: [user])
        let top = try model.recommend(user: user, count: 10).map(\.index)
        let liked = Set((Int(test.rowOffsets[user])..<Int(test.rowOffsets[user + 1])).map { Int(test.columnIndices[$0]) })
        var hits = 0, dcg = 0.0, ap = 0.0
        for (r, i) in top.enumerated() where liked.contains(i) { hits += 1; dcg += 1 / log2(Double(r + 2)); ap += Double(hits) / Double(r + 1) }
        let cap = min(10, liked.count)
        let idcg = (0..<cap).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
        #expect(single.users == 1)
        #expect(abs(single.precision - Double(hits) / Double(cap)) < 1e-12)
        #expect(abs(single.ndcg - dcg / idcg) < 1e-12)
        #expect(abs(single.map - ap / Double(cap)) < 1e-12)
    }

    @Test func badArgumentsAreClearErrors() throws {
        let m = try blockMatrix(users: 20, items: 10, blocks: 2, density: 0.5, seed: 1)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch let e as EvaluationError { return e.description } catch { return "other: \(error)" }
        }
        #expect(message { _ = try ALSHoldout.split(m, fraction: 1, seed: 0) }.contains("[0, 1)"))
        let model = try ALS.fit(m, configuration: .init(factors: 2, iterations: 1))
        #expect(message { _ = try model.rankingMetrics(test: m, k: 0) }.contains("k must be >= 1"))
        #expect(message { _ = try model.rankingMetrics(test: m, users: [20]) }.contains("user 20 is out of range"))
        let wrong = CSRMatrix<Float>(zeros: 3, columns: 3)
        #expect(message { _ = try model.rankingMetrics(test: wrong) }.contains("3 x 3"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: slashdotPath) && ProcessInfo.processInfo.environment["ALS_SKIP_SLOW"] != "1",
                   "needs ../shared/data/slashdot/edges.txt (set ALS_SKIP_SLOW=1 to skip it)"))
    func slashdotFollowGraph() throws {
        let edges = try EdgeList.read(path: slashdotPath, options: .init(separateIDMaps: true))
        let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
        let m = try CSRMatrix(rows: edges.rowCount, columns: edges.columnCount, rowOffsets: csr.rowOffsets,
                              columnIndices: csr.columnIndices, values: csr.values)
        #expect(m.nonzeroCount == 948_464)
        let (train, test) = try ALSHoldout.split(m, fraction: 0.2, seed: 1)
        let model = try ALS.fit(train, configuration: .init(factors: 16, regularization: 0.01, alpha: 1, iterations: 3,
                                                             seed: 1, computeLoss: true))
        let losses = try #require(model.diagnostics.objective)
        for t in 1..<losses.count { #expect(losses[t] < losses[t - 1]) }
        // Evaluate 2,000 users: popular accounts are followed by many, so P@10 is well above chance.
        let users = (0..<m.rows).filter { test.rowOffsets[$0 + 1] > test.rowOffsets[$0] }.prefix(2000)
        let metrics = try model.rankingMetrics(test: test, k: 10, users: Array(users))
        #expect(metrics.precision > 0.02, "P@10 \(metrics.precision)")
    }
}
