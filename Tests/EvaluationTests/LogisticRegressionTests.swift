import LinearAlgebra
import Testing
@testable import Evaluation

/// A seeded logistic-regression problem: `n x d` Gaussian features, labels from a noisy linear rule.
func logisticProblem(n: Int, d: Int, seed: UInt64) -> (x: Matrix<Double>, y: [Bool]) {
    var rng = Xoshiro256(seed: seed)
    let x = Matrix<Double>.gaussian(rows: n, columns: d, using: &rng)
    let truth = (0..<d).map { Double($0 % 3) - 1 + 0.5 }
    var y = [Bool]()
    for i in 0..<n {
        var z = 0.3
        for j in 0..<d { z += truth[j] * x[i, j] }
        let u = rng.nextUniform()
        y.append(u < 1 / (1 + Double.exp(-z)))
    }
    return (x, y)
}

/// The unscaled gradient of `sum log-loss + ||w||^2/(2C)` at `(w, b)`, computed directly.
func directGradient(x: Matrix<Double>, y: [Bool], C: Double, w: [Double], b: Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.columns + 1)
    for i in 0..<x.rows {
        var z = b
        for j in 0..<x.columns { z += x[i, j] * w[j] }
        let r = 1 / (1 + Double.exp(-z)) - (y[i] ? 1 : 0)
        for j in 0..<x.columns { g[j] += r * x[i, j] }
        g[x.columns] += r
    }
    for j in 0..<x.columns { g[j] += w[j] / C }
    return g
}

@Suite struct LogisticRegressionTests {
    @Test(arguments: [0.01, 1.0, 100.0])
    func agreesWithNewtonSolvedByLAPACK(C: Double) throws {
        let (x, y) = logisticProblem(n: 300, d: 5, seed: 42)
        let model = try LogisticRegression(C: C, tolerance: 1e-11).fit(x: x, y: y)
        #expect(model.diagnostics.allConverged)

        // Newton's method on the augmented design [X 1], Hessian X'DX + diag(1/C, ..., 1/C, 0),
        // each step solved with LAPACK gesv.
        let n = x.rows, d = x.columns, p = d + 1
        var a = Matrix<Double>(rows: n, columns: p, repeating: 1)
        a.setColumns(startingAt: 0, from: x)
        var theta = [Double](repeating: 0, count: p)
        for _ in 0..<50 {
            let g = directGradient(x: x, y: y, C: C, w: Array(theta[0..<d]), b: theta[d])
            let z = a.multiply(theta)
            var weighted = a
            weighted.scaleRows(by: z.map { let s = 1 / (1 + Double.exp(-$0)); return s * (1 - s) })
            var hessian = Matrix.product(a, .transpose, weighted)
            for j in 0..<d { hessian[j, j] += 1 / C }
            let step = try hessian.solve(Matrix(rows: p, columns: 1, elements: g))
            for j in 0..<p { theta[j] -= step.elements[j] }
        }
        let newtonGradient = directGradient(x: x, y: y, C: C, w: Array(theta[0..<d]), b: theta[d])
        #expect(newtonGradient.map { abs($0) }.max()! <= 1e-9 * Double(n))

        // Both solutions: ||delta theta|| <= ||H^-1|| ||grad||, far below 1e-6 at these tolerances.
        for j in 0..<d { #expect(abs(model.weights[j] - theta[j]) <= 1e-6 * max(1, abs(theta[j]))) }
        #expect(abs(model.intercept - theta[d]) <= 1e-6 * max(1, abs(theta[d])))
        let gradient = directGradient(x: x, y: y, C: C, w: model.weights, b: model.intercept)
        #expect(gradient.map { abs($0) }.max()! / Double(n) <= 1e-10)
        #expect(model.diagnostics.maxRelativeResidual <= 1e-8 && model.diagnostics.operatorApplications >= model.diagnostics.iterations)
    }

    @Test func separableDataStaysFiniteBecauseOfTheRegulariser() throws {
        let x = Matrix<Double>(rows: [[-2], [-1], [-0.5], [0.5], [1], [2]])
        let y = [false, false, false, true, true, true]
        let model = try LogisticRegression(C: 1e4, tolerance: 1e-8).fit(x: x, y: y)
        #expect(model.diagnostics.allConverged)
        #expect(model.weights[0].isFinite && model.weights[0] > 5)
        let p = model.predictProbabilities(x)
        #expect(p[0] < 0.01 && p[5] > 0.99)
        #expect(p.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func badInputThrows() {
        let x = Matrix<Double>(rows: [[1], [2], [3]])
        #expect(throws: EvaluationError.self) { try LogisticRegression().fit(x: x, y: [true, true, true]) }
        #expect(throws: EvaluationError.self) { try LogisticRegression().fit(x: x, y: [true, false]) }
        #expect(throws: EvaluationError.self) { try LogisticRegression(C: 0).fit(x: x, y: [true, false, true]) }
        var nan = x
        nan[1, 0] = .nan
        #expect(throws: EvaluationError.self) { try LogisticRegression().fit(x: nan, y: [true, false, true]) }
    }

    @Test func oneVsRestMatchesSeparateFitsAndHandlesConstantLabels() throws {
        let (x, y) = logisticProblem(n: 200, d: 4, seed: 7)
        let (_, y2) = logisticProblem(n: 200, d: 4, seed: 8)
        let allFalse = [Bool](repeating: false, count: 200)
        let ovr = try LogisticRegression(tolerance: 1e-10).fitOneVsRest(x: x, targets: [y, y2, allFalse])
        let single = try LogisticRegression(tolerance: 1e-10).fit(x: x, y: y)
        for j in 0..<4 { #expect(abs(ovr.models[0].weights[j] - single.weights[j]) <= 1e-12) }
        #expect(ovr.models[2].constant)
        #expect(ovr.models[2].intercept < -5)
        let scores = ovr.decisionFunction(x)
        for l in 0..<3 {
            let direct = ovr.models[l].decisionFunction(x)
            for i in 0..<200 { #expect(abs(scores[i, l] - direct[i]) <= 1e-12 * max(1, abs(direct[i]))) }
        }
    }
}

@Suite struct RankingAndAUCTests {
    @Test func averageRanksHandleTies() throws {
        #expect(try Ranking.averageRanks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
        #expect(try Ranking.averageRanks([1, 1, 1]) == [2, 2, 2])
        #expect(try Ranking.averageRanks([]) == [])
        #expect(throws: EvaluationError.self) { try Ranking.averageRanks([1, .nan]) }
    }

    @Test func spearmanEdgeCases() throws {
        #expect(try Ranking.spearman([1, 2, 3, 4], [10, 100, 1000, 10000]) == 1)
        #expect(try Ranking.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        #expect(throws: EvaluationError.self) { try Ranking.spearman([1, 2, 3], [5, 5, 5]) }
        #expect(throws: EvaluationError.self) { try Ranking.spearman([1, 2], [1]) }
    }

    @Test func aucMatchesPairCountingWithTies() throws {
        var rng = Xoshiro256(seed: 99)
        let scores = (0..<200).map { _ in Double(rng.nextInt(below: 10)) }
        let labels = (0..<200).map { i in rng.nextUniform() < 0.3 + scores[i] / 30 }
        var wins = 0.0, total = 0.0
        for i in 0..<200 where labels[i] {
            for j in 0..<200 where !labels[j] {
                total += 1
                wins += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
            }
        }
        #expect(abs(try ROCAUC.score(scores, labels: labels) - wins / total) <= 1e-12)
        #expect(try ROCAUC.score([1, 2, 3, 4], labels: [false, false, true, true]) == 1)
        #expect(try ROCAUC.score([4, 3, 2, 1], labels: [false, false, true, true]) == 0)
        #expect(try ROCAUC.score([7, 7, 7, 7], labels: [false, true, true, false]) == 0.5)
        #expect(throws: EvaluationError.self) { try ROCAUC.score([1, 2], labels: [true, true]) }
        #expect(throws: EvaluationError.self) { try ROCAUC.score([1, 2], labels: [true]) }
    }

    @Test func macroSkipsSingleClassLabels() throws {
        let scores = Matrix<Double>(rows: [[0.9, 0.1, 0.5], [0.2, 0.8, 0.5], [0.7, 0.3, 0.5], [0.1, 0.6, 0.5]])
        let truth = [[true, false, true, false], [false, true, false, false], [false, false, false, false]]
        let result = try ROCAUC.multiLabel(scores: scores, truth: truth)
        #expect(result.perLabel[0] == 1)
        #expect(result.perLabel[1] == 1)
        #expect(result.perLabel[2] == nil)
        #expect(result.macro == 1)
        #expect(throws: EvaluationError.self) {
            try ROCAUC.multiLabel(scores: scores, truth: [[true, true, true, true], [false, false, false, false], [true, true, true, true]])
        }
    }
}
