import Foundation
import LinearAlgebra
import RealModule
import Solvers

/// L2-regularised binary logistic regression with an unregularised intercept, fitted by L-BFGS.
///
/// Minimises, like scikit-learn's `LogisticRegression(C=C, solver="lbfgs")`,
///
///     L(w, b) = sum_i log(1 + exp(-s_i (x_i'w + b))) + ||w||^2 / (2C),   s_i = ±1.
///
/// The solver works on `L / n` (so the tolerance does not depend on the sample count) and stops
/// when the largest gradient component of `L / n` is at most ``tolerance`` (scikit-learn's
/// `pgtol` criterion on the same scaled objective), or after ``maxIterations`` iterations.
/// Each loss-and-gradient evaluation is two GEMVs (`Xw` and `X'r`); the line search satisfies the
/// strong Wolfe conditions (`c1 = 1e-4`, `c2 = 0.9`, Nocedal & Wright Algorithms 3.5-3.6 with
/// safeguarded quadratic interpolation).
public struct LogisticRegression: Sendable {
    /// Inverse regularisation strength, `> 0`. Default 1 (scikit-learn's default).
    public var C: Double
    /// Stop when `max_j |grad_j (L/n)| <= tolerance`. Default `1e-6`.
    public var tolerance: Double
    /// Largest number of L-BFGS iterations. Default 1000.
    public var maxIterations: Int
    /// Number of correction pairs L-BFGS keeps. Default 10.
    public var memory: Int

    /// A configuration; see the properties for the meaning and defaults.
    public init(C: Double = 1, tolerance: Double = 1e-6, maxIterations: Int = 1000, memory: Int = 10) {
        self.C = C
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.memory = memory
    }

    /// Fits the model to the rows of `x` (`n x d`) with binary targets `y` (`n`).
    ///
    /// Cost: per iteration about 4nd flops (two GEMVs) per function evaluation, usually one
    /// evaluation per iteration; memory O(nd) for nothing beyond `x` itself plus O(memory * d).
    /// - Throws: ``EvaluationError`` if `y.count != x.rows`, `x` holds a non-finite value, `C` or
    ///   `tolerance` is not positive, or `y` has a single class (the intercept would diverge).
    public func fit(x: Matrix<Double>, y: [Bool]) throws -> LogisticRegressionModel {
        try validate(x: x)
        guard y.count == x.rows else {
            throw EvaluationError("LogisticRegression: \(y.count) targets for \(x.rows) samples")
        }
        let positives = y.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard positives > 0 && positives < y.count else {
            throw EvaluationError("LogisticRegression: targets have a single class (\(positives) positives of \(y.count))")
        }
        return fitUnchecked(x: x, y: y)
    }

    /// Fits one binary model per label ("one vs rest").
    ///
    /// `targets[l][i]` says whether sample `i` has label `l`. A label whose targets are all equal
    /// gets a constant model (zero weights, intercept the smoothed log-odds
    /// `log((p + 0.5) / (n - p + 0.5))`) instead of an error, so that multi-label folds with a
    /// rare label still score. Labels are fitted in parallel with single-threaded BLAS.
    /// Cost: `L` binary fits.
    /// - Throws: ``EvaluationError`` on shape mismatch, non-finite `x`, or bad configuration.
    public func fitOneVsRest(x: Matrix<Double>, targets: [[Bool]]) throws -> OneVsRestModel {
        try validate(x: x)
        for (l, t) in targets.enumerated() where t.count != x.rows {
            throw EvaluationError("LogisticRegression: label \(l) has \(t.count) targets for \(x.rows) samples")
        }
        var models = [LogisticRegressionModel?](repeating: nil, count: targets.count)
        let config = self
        models.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendableBox(buffer.baseAddress!)
            BLAS.withThreads(1) {
                Parallel.forEachChunk(count: targets.count) { range in
                    for l in range {
                        let y = targets[l]
                        let positives = y.reduce(0) { $0 + ($1 ? 1 : 0) }
                        if positives == 0 || positives == y.count {
                            let logOdds = Double.log((Double(positives) + 0.5) / (Double(y.count - positives) + 0.5))
                            out.value[l] = LogisticRegressionModel(
                                weights: [Double](repeating: 0, count: x.columns), intercept: logOdds,
                                diagnostics: SolverDiagnostics(method: "constant (single class)", requested: 1, converged: 1,
                                                               threads: 1),
                                constant: true)
                        } else {
                            out.value[l] = config.fitUnchecked(x: x, y: y)
                        }
                    }
                }
            }
        }
        return OneVsRestModel(models: models.map { $0! })
    }

    func validate(x: Matrix<Double>) throws {
        guard C > 0, C.isFinite else { throw EvaluationError("LogisticRegression: C must be positive and finite, got \(C)") }
        guard tolerance > 0 else { throw EvaluationError("LogisticRegression: tolerance must be positive, got \(tolerance)") }
        guard maxIterations >= 0, memory >= 1 else {
            throw EvaluationError("LogisticRegression: maxIterations \(maxIterations) and memory \(memory) must be >= 0 and >= 1")
        }
        if let bad = x.elements.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError("LogisticRegression: feature (\(bad % max(x.rows, 1)), \(bad / max(x.rows, 1))) is \(x.elements[bad])")
        }
    }

    /// The scaled objective `L / n` and its gradient at `theta = [w; b]`.
    static func objective(x: Matrix<Double>, y: [Bool], C: Double, theta: [Double],
                          z: inout [Double], residual: inout [Double], gradient: inout [Double]) -> Double {
        let n = x.rows, d = x.columns
        let w = Array(theta[0..<d])
        let b = theta[d]
        x.gemv(.none, w, into: &z)
        var loss = 0.0
        for i in 0..<n {
            let zi = z[i] + b
            // log(1 + exp(-m)) with m = s z, and r = sigma(z) - y, both without overflow.
            if y[i] {
                loss += zi > 0 ? Double.log(onePlus: Double.exp(-zi)) : -zi + Double.log(onePlus: Double.exp(zi))
                residual[i] = zi > 0 ? -Double.exp(-zi) / (1 + Double.exp(-zi)) : -1 / (1 + Double.exp(zi))
            } else {
                loss += zi > 0 ? zi + Double.log(onePlus: Double.exp(-zi)) : Double.log(onePlus: Double.exp(zi))
                residual[i] = zi > 0 ? 1 / (1 + Double.exp(-zi)) : Double.exp(zi) / (1 + Double.exp(zi))
            }
        }
        var g = [Double](repeating: 0, count: d)
        x.gemv(.transpose, residual, into: &g)
        var wSquared = 0.0
        let invN = 1 / Double(n)
        for j in 0..<d {
            wSquared += w[j] * w[j]
            gradient[j] = (g[j] + w[j] / C) * invN
        }
        gradient[d] = residual.reduce(0, +) * invN
        return (loss + wSquared / (2 * C)) * invN
    }

    func fitUnchecked(x: Matrix<Double>, y: [Bool]) -> LogisticRegressionModel {
        let n = x.rows, d = x.columns, p = d + 1
        let C = self.C
        var z = [Double](repeating: 0, count: n)
        var residual = [Double](repeating: 0, count: n)
        var evaluations = 0
        func evaluate(_ theta: [Double], _ gradient: inout [Double]) -> Double {
            evaluations += 1
            return Self.objective(x: x, y: y, C: C, theta: theta, z: &z, residual: &residual, gradient: &gradient)
        }
        let start = Date()
        var result = LBFGS.minimize(dimension: p, start: [Double](repeating: 0, count: p),
                                    tolerance: tolerance, maxIterations: maxIterations, memory: memory, evaluate)
        let intercept = result.x.removeLast()
        var diagnostics = SolverDiagnostics(
            method: "L-BFGS (m = \(memory))", requested: 1, converged: result.converged ? 1 : 0, iterations: result.iterations,
            operatorApplications: evaluations,
            relativeResiduals: [result.initialGradientNorm > 0 ? result.gradientNorm / result.initialGradientNorm : 0],
            phases: [SolverPhase(name: "L-BFGS", seconds: Date().timeIntervalSince(start))], threads: 1)
        diagnostics.objective = [result.value * Double(n)]
        return LogisticRegressionModel(weights: result.x, intercept: intercept, diagnostics: diagnostics, constant: false)
    }
}

/// A fitted binary logistic regression: `P(y = 1 | x) = sigma(x'w + b)`.
public struct LogisticRegressionModel: Sendable {
    /// The weights `w`, one per feature.
    public let weights: [Double]
    /// The intercept `b`.
    public let intercept: Double
    /// How the fit went: L-BFGS iterations, objective and gradient evaluations
    /// (`SolverDiagnostics.operatorApplications`), `converged` 1 when the gradient criterion
    /// (largest absolute component of the scaled objective's gradient `<= tolerance`) was met,
    /// the final over the initial gradient norm as the relative residual, and the final
    /// objective `L` in `SolverDiagnostics.objective`.
    public let diagnostics: SolverDiagnostics
    /// Whether this is a constant model for a label with a single class in training.
    public let constant: Bool

    /// The decision function `Xw + b` for the rows of `x` (one GEMV).
    /// - Precondition: `x.columns == weights.count`.
    public func decisionFunction(_ x: Matrix<Double>) -> [Double] {
        precondition(x.columns == weights.count, "decisionFunction: \(x.columns) features, model has \(weights.count)")
        var z = [Double](repeating: intercept, count: x.rows)
        x.gemv(.none, weights, beta: 1, into: &z)
        return z
    }

    /// `P(y = 1 | x)` for the rows of `x`.
    /// - Precondition: `x.columns == weights.count`.
    public func predictProbabilities(_ x: Matrix<Double>) -> [Double] {
        decisionFunction(x).map { $0 >= 0 ? 1 / (1 + Double.exp(-$0)) : Double.exp($0) / (1 + Double.exp($0)) }
    }
}

/// One binary logistic regression per label.
public struct OneVsRestModel: Sendable {
    /// The per-label models.
    public let models: [LogisticRegressionModel]

    /// The `n x L` decision values `XW + 1b'`, one GEMM.
    /// - Precondition: `x.columns` equals the models' feature count.
    public func decisionFunction(_ x: Matrix<Double>) -> Matrix<Double> {
        let d = models.first?.weights.count ?? x.columns
        precondition(x.columns == d, "decisionFunction: \(x.columns) features, models have \(d)")
        var w = Matrix<Double>(rows: d, columns: models.count)
        for (l, m) in models.enumerated() { w.setColumn(l, m.weights) }
        var out = Matrix<Double>(rows: x.rows, columns: models.count)
        for (l, m) in models.enumerated() {
            for i in 0..<x.rows { out.elements[i + l * x.rows] = m.intercept }
        }
        Matrix.gemm(x, .none, w, .none, beta: 1, into: &out)
        return out
    }
}

/// A limited-memory BFGS minimiser with a strong-Wolfe line search, for smooth functions.
enum LBFGS {
    struct Result {
        var x: [Double]
        var value: Double
        var gradientNorm: Double
        /// The gradient norm at the start, for the relative residual.
        var initialGradientNorm: Double
        var iterations: Int
        var converged: Bool
    }

    static func maxAbs(_ v: [Double]) -> Double { v.reduce(0) { max($0, abs($1)) } }
    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    /// Minimises `f` from `start`; `evaluate(x, &g)` returns `f(x)` and writes the gradient.
    static func minimize(dimension p: Int, start: [Double], tolerance: Double, maxIterations: Int, memory: Int,
                         _ evaluate: ([Double], inout [Double]) -> Double) -> Result {
        var x = start
        var g = [Double](repeating: 0, count: p)
        var f = evaluate(x, &g)
        var sList = [[Double]](), yList = [[Double]](), rhoList = [Double]()
        var iteration = 0
        var gNorm = maxAbs(g)
        let initialNorm = gNorm
        var newG = [Double](repeating: 0, count: p)
        var stalled = 0
        while gNorm > tolerance && iteration < maxIterations {
            // Two-loop recursion: direction = -H g.
            var q = g
            var alphas = [Double](repeating: 0, count: sList.count)
            for k in stride(from: sList.count - 1, through: 0, by: -1) {
                alphas[k] = rhoList[k] * dot(sList[k], q)
                for i in 0..<p { q[i] -= alphas[k] * yList[k][i] }
            }
            if let s = sList.last, let y = yList.last {
                let gamma = dot(s, y) / dot(y, y)
                for i in 0..<p { q[i] *= gamma }
            }
            for k in 0..<sList.count {
                let beta = rhoList[k] * dot(yList[k], q)
                for i in 0..<p { q[i] += (alphas[k] - beta) * sList[k][i] }
            }
            var direction = q.map { -$0 }
            var slope = dot(g, direction)
            if !(slope < 0) { // not a descent direction: restart with steepest descent
                sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                direction = g.map { -$0 }
                slope = dot(g, direction)
            }
            let initialStep = sList.isEmpty ? min(1, 1 / max(maxAbs(g), 1e-300)) : 1
            guard let (step, newF) = lineSearch(x: x, f: f, slope: slope, direction: direction,
                                                initialStep: initialStep, gradient: &newG, evaluate) else {
                break // no acceptable step: at the limit of floating-point precision
            }
            var s = [Double](repeating: 0, count: p), y = [Double](repeating: 0, count: p)
            for i in 0..<p {
                s[i] = step * direction[i]
                x[i] += s[i]
                y[i] = newG[i] - g[i]
            }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {
                if sList.count == memory { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
                sList.append(s); yList.append(y); rhoList.append(1 / sy)
            }
            let decrease = f - newF
            f = newF
            g = newG
            gNorm = maxAbs(g)
            iteration += 1
            // At the limit of precision the objective stops decreasing before the gradient is small.
            stalled = decrease <= 0 ? stalled + 1 : 0
            if stalled >= 10 { break }
        }
        return Result(x: x, value: f, gradientNorm: gNorm, initialGradientNorm: initialNorm, iterations: iteration,
                      converged: gNorm <= tolerance)
    }

    /// Strong-Wolfe line search along `direction`; returns the step and the new value, with the
    /// new gradient in `gradient`, or `nil` if none was found.
    ///
    /// Near the optimum, differences of the objective drown in rounding long before the gradient
    /// is small. Where `|phi(alpha) - f|` is within `1e-12 |f|` ("flat"), sufficient decrease is
    /// therefore judged by the approximate Wolfe condition of Hager and Zhang
    /// (`phi'(alpha) <= (2 c1 - 1) phi'(0)`) and the bracket is narrowed by the sign of the
    /// derivative, which stays accurate.
    static func lineSearch(x: [Double], f: Double, slope: Double, direction: [Double], initialStep: Double,
                           gradient: inout [Double], _ evaluate: ([Double], inout [Double]) -> Double)
        -> (Double, Double)? {
        let c1 = 1e-4, c2 = 0.9
        let flatness = 1e-12 * max(abs(f), 1e-300)
        let p = x.count
        var trial = [Double](repeating: 0, count: p)
        var trialGradient = [Double](repeating: 0, count: p)
        func phi(_ alpha: Double) -> (Double, Double) {
            for i in 0..<p { trial[i] = x[i] + alpha * direction[i] }
            let value = evaluate(trial, &trialGradient)
            return (value, dot(trialGradient, direction))
        }
        func flat(_ value: Double) -> Bool { abs(value - f) <= flatness }
        func decreases(_ alpha: Double, _ value: Double, _ derivative: Double) -> Bool {
            guard value.isFinite else { return false }
            if value <= f + c1 * alpha * slope { return true }
            return flat(value) && derivative <= (2 * c1 - 1) * slope
        }
        // "Not lower than the bracket's low end": by values, or by the derivative's sign when flat.
        func notLower(_ value: Double, _ derivative: Double, than lo: (Double, Double, Double)) -> Bool {
            flat(value) && flat(lo.1) ? derivative > 0 : value >= lo.1
        }
        func zoom(_ lo0: (Double, Double, Double), _ hi0: (Double, Double, Double)) -> (Double, Double)? {
            var lo = lo0, hi = hi0 // (alpha, phi, dphi)
            for _ in 0..<60 {
                let width = hi.0 - lo.0
                // Quadratic through phi(lo), phi'(lo), phi(hi), kept inside the middle 80%; else bisect.
                let denominator = 2 * (hi.1 - lo.1 - lo.2 * width)
                var alpha = denominator != 0 ? lo.0 - lo.2 * width * width / denominator : lo.0 + width / 2
                let a = min(lo.0, hi.0) + 0.1 * abs(width), b = max(lo.0, hi.0) - 0.1 * abs(width)
                if !(alpha >= a && alpha <= b) || flat(hi.1) { alpha = lo.0 + width / 2 }
                let (value, derivative) = phi(alpha)
                if !decreases(alpha, value, derivative) || notLower(value, derivative, than: lo) {
                    hi = (alpha, value, derivative)
                } else {
                    if abs(derivative) <= -c2 * slope { gradient = trialGradient; return (alpha, value) }
                    if derivative * width >= 0 { hi = lo }
                    lo = (alpha, value, derivative)
                }
                if abs(hi.0 - lo.0) <= 1e-16 * max(1, abs(lo.0)) { break }
            }
            // Accept the low end if it is an acceptable step at all.
            if lo.0 > 0 && decreases(lo.0, lo.1, lo.2) {
                _ = phi(lo.0)
                gradient = trialGradient
                return (lo.0, lo.1)
            }
            return nil
        }
        var previous = (0.0, f, slope)
        var alpha = initialStep
        for i in 0..<60 {
            let (value, derivative) = phi(alpha)
            if !decreases(alpha, value, derivative) || (i > 0 && notLower(value, derivative, than: previous)) {
                return zoom(previous, (alpha, value, derivative))
            }
            if abs(derivative) <= -c2 * slope { gradient = trialGradient; return (alpha, value) }
            if derivative >= 0 { return zoom((alpha, value, derivative), previous) }
            previous = (alpha, value, derivative)
            alpha *= 2
        }
        return nil
    }
}
