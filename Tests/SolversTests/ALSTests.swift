import Foundation
import LinearAlgebra
import Testing
@testable import Solvers

/// Dense Double reference for one row system: returns x solving
/// (shared + d I + sum a_k y_k y_k') x = sum b_k y_k, built and solved with LAPACK (dgesv).
private func denseRowSolution(items: [Float], factors f: Int, entries: [(Int, Float)], configuration c: ALSConfiguration) throws -> [Double] {
    let y = Matrix<Double>(rows: f, columns: items.count / f, elements: items.map(Double.init))
    var a = Matrix<Double>(rows: f, columns: f)
    var b = Matrix<Double>(rows: f, columns: 1)
    if c.feedback == .implicit {
        a = Matrix.product(y, .none, y, .transpose)
        for k in 0..<f { a[k, k] += Double(c.regularization) }
    } else {
        for k in 0..<f { a[k, k] += Double(c.regularization) * Double(entries.count) }
    }
    for (i, v) in entries {
        let (wa, wb): (Double, Double) = c.feedback == .implicit
            ? (Double(c.alpha) * Double(v), v > 0 ? 1 + Double(c.alpha) * Double(v) : 0) : (1, Double(v))
        for p in 0..<f {
            b[p, 0] += wb * y[p, i]
            for q in 0..<f { a[p, q] += wa * y[p, i] * y[q, i] }
        }
    }
    return try a.solve(b).elements
}

private func relativeError(_ x: [Float], _ ref: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for k in 0..<x.count { num += (Double(x[k]) - ref[k]) * (Double(x[k]) - ref[k]); den += ref[k] * ref[k] }
    return (num / max(den, .leastNormalMagnitude)).squareRoot()
}

@Suite("ALS") struct ALSTests {
    @Test("Loss decreases every iteration", arguments: [
        (ALSConfiguration.Feedback.implicit, ALSConfiguration.Solver.conjugateGradient),
        (.implicit, .cholesky), (.explicit, .conjugateGradient), (.explicit, .cholesky),
    ])
    func lossDecreases(feedback: ALSConfiguration.Feedback, solver: ALSConfiguration.Solver) throws {
        let m = try ALSTestData.randomImplicit(users: 300, items: 200, perUser: 12, seed: 1)
        let c = ALSConfiguration(factors: 8, regularization: 0.1, alpha: 2, iterations: 12, feedback: feedback,
                                 solver: solver, seed: 5, computeLoss: true, threads: 2)
        let model = try ALS.fit(m, configuration: c)
        let losses = try #require(model.diagnostics.objective)
        #expect(losses.count == 12)
        #expect(model.diagnostics.iterationSeconds?.count == 12 && model.diagnostics.phases.count == 12)
        #expect(model.diagnostics.iterations == 12 && model.diagnostics.seed == 5 && model.diagnostics.threads == 2)
        // Each half-sweep minimises (Cholesky) or decreases (CG from the previous point) the
        // objective exactly; allow only float rounding of the Double-accumulated objective.
        let slack = Double(Float.ulpOfOne) * 64
        for t in 1..<losses.count {
            #expect(losses[t] <= losses[t - 1] * (1 + slack), "iteration \(t): \(losses[t]) > \(losses[t - 1])")
        }
        #expect(losses.last! < losses.first!)
        #expect(abs(model.loss() - losses.last!) <= 1e-9 * losses.last!)
    }

    @Test("CG and Cholesky reach the same loss", arguments: [ALSConfiguration.Feedback.implicit, .explicit])
    func cgMatchesCholesky(feedback: ALSConfiguration.Feedback) throws {
        let m = try ALSTestData.randomImplicit(users: 400, items: 300, perUser: 15, seed: 2)
        var c = ALSConfiguration(factors: 10, regularization: 0.1, alpha: 3, iterations: 25, feedback: feedback,
                                 solver: .cholesky, seed: 9, computeLoss: true, threads: 2)
        let exact = try ALS.fit(m, configuration: c)
        c.solver = .conjugateGradient
        let cg = try ALS.fit(m, configuration: c)
        let a = exact.diagnostics.objective!.last!, b = cg.diagnostics.objective!.last!
        #expect(abs(a - b) <= 5e-3 * a, "Cholesky \(a), CG \(b)")
    }

    @Test("Row solvers agree with a dense LAPACK solve", arguments: [ALSConfiguration.Feedback.implicit, .explicit])
    func rowSolversMatchDense(feedback: ALSConfiguration.Feedback) throws {
        let f = 6
        let m = try ALSTestData.randomImplicit(users: 40, items: 30, perUser: 7, seed: 3)
        let c = ALSConfiguration(factors: f, regularization: 0.5, alpha: 1.5, feedback: feedback, solver: .cholesky, cgSteps: 4 * f, threads: 2)
        let items = ALS.initialFactors(count: m.columns, factors: f, seed: 11, stream: 1).map { $0 * 100 - 0.4 }
        var exact = ALS.initialFactors(count: m.rows, factors: f, seed: 11, stream: 0)
        var cg = exact
        try ALSEngine.solveAll(rows: m, target: &exact, fixed: items, configuration: c, threads: 2)
        var cgConfiguration = c
        cgConfiguration.solver = .conjugateGradient
        try ALSEngine.solveAll(rows: m, target: &cg, fixed: items, configuration: cgConfiguration, threads: 2)
        // Single-precision solves of systems with condition numbers up to ~1e3.
        let tolerance = 1e4 * Double(Float.ulpOfOne)
        for u in 0..<m.rows {
            let lo = Int(m.rowOffsets[u]), hi = Int(m.rowOffsets[u + 1])
            let entries = (lo..<hi).map { (Int(m.columnIndices[$0]), m.values[$0]) }
            let ref = try denseRowSolution(items: items, factors: f, entries: entries, configuration: c)
            #expect(relativeError(Array(exact[(u * f)..<((u + 1) * f)]), ref) <= tolerance, "Cholesky row \(u)")
            #expect(relativeError(Array(cg[(u * f)..<((u + 1) * f)]), ref) <= tolerance, "CG row \(u)")
        }
    }

    @Test("Long rows (GEMV and ungathered paths) agree with a dense solve", arguments: [ALSConfiguration.Feedback.implicit, .explicit])
    func longRowsMatchDense(feedback: ALSConfiguration.Feedback) throws {
        let f = 5, items = 1500
        var rng = Xoshiro256(seed: 31)
        var coo = COOMatrix<Float>(rows: 4, columns: items)
        // Row 0 exceeds the gather limit, row 1 takes the GEMV path, rows 2-3 the SIMD path.
        for (row, count) in [(0, ALSEngine.gatherLimit + 100), (1, ALSEngine.gemvThreshold + 9), (2, 5), (3, 1)] {
            for i in stride(from: row, to: items, by: items / count).prefix(count) {
                coo.append(row: row, column: i, value: Float(1 + rng.next() % 4))
            }
        }
        let m = try coo.toCSR()
        #expect(m.rowNonzeroCounts()[0] > ALSEngine.gatherLimit && m.rowNonzeroCounts()[1] >= ALSEngine.gemvThreshold)
        let c = ALSConfiguration(factors: f, regularization: 2, alpha: 0.5, feedback: feedback, solver: .conjugateGradient,
                                 cgSteps: 6 * f, threads: 2)
        let fixed = ALS.initialFactors(count: items, factors: f, seed: 12, stream: 1).map { $0 * 100 - 0.5 }
        var x = ALS.initialFactors(count: m.rows, factors: f, seed: 12, stream: 0)
        try ALSEngine.solveAll(rows: m, target: &x, fixed: fixed, configuration: c, threads: 2)
        for u in 0..<m.rows {
            let lo = Int(m.rowOffsets[u]), hi = Int(m.rowOffsets[u + 1])
            let ref = try denseRowSolution(items: fixed, factors: f, entries: (lo..<hi).map { (Int(m.columnIndices[$0]), m.values[$0]) },
                                           configuration: c)
            #expect(relativeError(Array(x[(u * f)..<((u + 1) * f)]), ref) <= 1e4 * Double(Float.ulpOfOne), "row \(u)")
        }
    }

    @Test func explicitRecoversPlantedLowRank() throws {
        // R = U V' with rank 3; 50% of entries observed; unobserved ones must be predicted.
        let users = 80, items = 60, rank = 3
        var rng = Xoshiro256(seed: 21)
        let u = (0..<(users * rank)).map { _ in Float(rng.nextGaussian()) }
        let v = (0..<(items * rank)).map { _ in Float(rng.nextGaussian()) }
        func rating(_ a: Int, _ b: Int) -> Float { (0..<rank).reduce(0) { $0 + u[a * rank + $1] * v[b * rank + $1] } }
        var coo = COOMatrix<Float>(rows: users, columns: items)
        var hidden: [(Int, Int)] = []
        for a in 0..<users { for b in 0..<items {
            if rng.nextUniform() < 0.5 { coo.append(row: a, column: b, value: rating(a, b)) } else { hidden.append((a, b)) }
        } }
        let model = try ALS.fit(try coo.toCSR(), configuration: .init(factors: rank, regularization: 1e-4, iterations: 60,
                                                                       feedback: .explicit, solver: .cholesky, seed: 4))
        var se = 0.0, total = 0.0
        for (a, b) in hidden {
            let predicted = zip(model.userVector(a), model.itemVector(b)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            se += Double((predicted - rating(a, b)) * (predicted - rating(a, b)))
            total += Double(rating(a, b) * rating(a, b))
        }
        #expect((se / total).squareRoot() < 1e-2, "relative RMSE on hidden entries \((se / total).squareRoot())")
    }

    @Test func recommendSkipsSeenAndFindsPlantedBlock() throws {
        let blocks = 4
        let m = try ALSTestData.blockMatrix(users: 200, items: 120, blocks: blocks, density: 0.5, seed: 6)
        let model = try ALS.fit(m, configuration: .init(factors: blocks, regularization: 1, alpha: 5, iterations: 30, solver: .cholesky, seed: 1))
        for user in 0..<m.rows {
            let seen = Set((Int(m.rowOffsets[user])..<Int(m.rowOffsets[user + 1])).map { Int(m.columnIndices[$0]) })
            let unseenInBlock = (0..<m.columns).filter { $0 % blocks == user % blocks && !seen.contains($0) }
            let top = try model.recommend(user: user, count: 5)
            #expect(top.count == 5)
            #expect(top.allSatisfy { !seen.contains($0.index) }, "user \(user) got a seen item")
            #expect(top.allSatisfy { $0.index % blocks == user % blocks }, "user \(user) got an item outside its block")
            #expect(zip(top, top.dropFirst()).allSatisfy { $0.score >= $1.score })
            // With one factor per block, asking for everything returns exactly the unseen
            // items, the block's first.
            let all = try model.recommend(user: user, count: m.columns)
            #expect(all.count == m.columns - seen.count)
            #expect(Set(all.map(\.index)) == Set(0..<m.columns).subtracting(seen))
            #expect(Set(all.prefix(unseenInBlock.count).map(\.index)) == Set(unseenInBlock))
        }
        let withSeen = try model.recommend(user: 0, count: m.columns, excludingSeen: false)
        #expect(withSeen.count == m.columns)
        let similar = try model.similarItems(to: 3, count: 10)
        #expect(similar.count == 10 && similar.allSatisfy { $0.index % blocks == 3 % blocks && $0.index != 3 })
        #expect(similar.allSatisfy { $0.score <= 1 + 1e-5 && $0.score > 0.5 })
    }

    @Test("Folding in a training user reproduces the fitted factors", arguments: [ALSConfiguration.Feedback.implicit, .explicit])
    func foldInReproducesTrainingUser(feedback: ALSConfiguration.Feedback) throws {
        let m = try ALSTestData.randomImplicit(users: 150, items: 100, perUser: 10, seed: 7)
        let model = try ALS.fit(m, configuration: .init(factors: 6, regularization: 0.2, alpha: 2, iterations: 80,
                                                         feedback: feedback, solver: .cholesky, seed: 3))
        for user in [0, 17, 149] {
            let lo = Int(m.rowOffsets[user]), hi = Int(m.rowOffsets[user + 1])
            let items = (lo..<hi).map { Int(m.columnIndices[$0]) }
            let values = Array(m.values[lo..<hi])
            let folded = try model.foldIn(items: items.reversed(), values: values.reversed())
            let fitted = model.userVector(user)
            #expect(relativeError(folded, fitted.map(Double.init)) < 1e-2, "user \(user)")
            // Recommending from the folded-in vector gives the user's own list.
            let a = try model.recommend(vector: folded, count: 5, excluding: items).map(\.index)
            let b = try model.recommend(user: user, count: 5).map(\.index)
            #expect(Set(a).intersection(b).count >= 4)
        }
    }

    @Test func refitUsersAndItems() throws {
        let m = try ALSTestData.randomImplicit(users: 120, items: 80, perUser: 8, seed: 8)
        var model = try ALS.fit(m, configuration: .init(factors: 6, iterations: 5, solver: .cholesky, seed: 2))
        // Give user 5 the items of user 6 and refit only user 5.
        var coo = COOMatrix<Float>(rows: m.rows, columns: m.columns)
        for u in 0..<m.rows {
            let src = u == 5 ? 6 : u
            for p in Int(m.rowOffsets[src])..<Int(m.rowOffsets[src + 1]) {
                coo.append(row: u, column: Int(m.columnIndices[p]), value: m.values[p])
            }
        }
        let changed = try coo.toCSR()
        let before = model.userFactors
        let expected = try model.foldIn(items: (Int(m.rowOffsets[6])..<Int(m.rowOffsets[7])).map { Int(m.columnIndices[$0]) },
                                        values: Array(m.values[Int(m.rowOffsets[6])..<Int(m.rowOffsets[7])]))
        try model.refit(users: [5], interactions: changed)
        #expect(relativeError(model.userVector(5), expected.map(Double.init)) < 1e-4)
        for u in [0, 4, 6, 119] { #expect(model.userVector(u) == Array(before.elements[(u * 6)..<((u + 1) * 6)])) }
        #expect(model.interactions == changed)
        // Refitting items moves them toward the exact solution: the loss does not increase.
        let lossBefore = model.loss()
        try model.refit(items: Array(0..<m.columns))
        #expect(model.loss() <= lossBefore * (1 + 1e-6))
        #expect(throws: SolverError.self) { try model.refit(users: [5, 5]) }
        #expect(throws: SolverError.self) { try model.refit(items: [80]) }
    }

    @Test func badInputIsAClearError() throws {
        let good = try ALSTestData.randomImplicit(users: 10, items: 10, perUser: 3, seed: 1)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch let e as SolverError { return e.description } catch { return "other: \(error)" }
        }
        var negative = COOMatrix<Float>(rows: 3, columns: 3)
        negative.append(row: 0, column: 1, value: 1)
        negative.append(row: 2, column: 1, value: -2)
        let n = try negative.toCSR()
        #expect(message { _ = try ALS.fit(n) }.contains("non-negative values, but (row 2, column 1) is -2.0"))
        // Negative ratings are fine for explicit feedback.
        #expect(message { _ = try ALS.fit(n, configuration: .init(factors: 2, iterations: 1, feedback: .explicit)) } == "")
        #expect(message { _ = try ALS.fit(CSRMatrix<Float>(zeros: 0, columns: 0)) }.contains("empty"))
        #expect(message { _ = try ALS.fit(CSRMatrix<Float>(zeros: 4, columns: 5)) }.contains("no stored entries"))
        #expect(message { _ = try ALS.fit(good, configuration: .init(factors: 0)) }.contains("factors must be positive"))
        #expect(message { _ = try ALS.fit(good, configuration: .init(regularization: -1)) }.contains("regularization"))
        #expect(message { _ = try ALS.fit(good, configuration: .init(alpha: .nan)) }.contains("alpha"))
        #expect(message { _ = try ALS.fit(good, configuration: .init(cgSteps: 0)) }.contains("cgSteps"))
        var nan = COOMatrix<Float>(rows: 2, columns: 2)
        nan.append(row: 1, column: 0, value: .infinity)
        let nanMatrix = try nan.toCSR()
        #expect(message { _ = try ALS.fit(nanMatrix) }.contains("(row 1, column 0) is inf"))
        // A singular system with zero regularisation is reported, not a crash.
        var single = COOMatrix<Float>(rows: 2, columns: 2)
        single.append(row: 0, column: 0, value: 1)
        single.append(row: 1, column: 0, value: 1)
        let s = try single.toCSR()
        #expect(message { _ = try ALS.fit(s, configuration: .init(factors: 3, regularization: 0, feedback: .explicit, solver: .cholesky)) }
            .contains("not positive definite"))
        let model = try ALS.fit(good, configuration: .init(factors: 4, iterations: 2))
        #expect(message { _ = try model.recommend(user: 10, count: 3) }.contains("user 10 is out of range"))
        #expect(message { _ = try model.recommend(user: 0, count: -1) }.contains("count"))
        #expect(message { _ = try model.similarItems(to: -1, count: 3) }.contains("item -1"))
        #expect(message { _ = try model.foldIn(items: [1, 1]) }.contains("listed twice"))
        #expect(message { _ = try model.foldIn(items: [1], values: [-1]) }.contains("non-negative"))
        #expect(message { _ = try model.foldIn(items: [1, 2], values: [1]) }.contains("2 items but 1 values"))
        #expect(message { _ = try model.recommend(vector: [1, 2], count: 3) }.contains("2 components"))
    }

    @Test("Results do not depend on the thread count") func threadIndependence() throws {
        let m = try ALSTestData.randomImplicit(users: 500, items: 300, perUser: 10, seed: 13)
        var c = ALSConfiguration(factors: 8, iterations: 3, seed: 1, threads: 1)
        let one = try ALS.fit(m, configuration: c)
        c.threads = 3
        let three = try ALS.fit(m, configuration: c)
        #expect(one.userFactors == three.userFactors && one.itemFactors == three.itemFactors)
    }
}
