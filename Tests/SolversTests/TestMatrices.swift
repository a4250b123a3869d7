import Foundation
import LinearAlgebra
@testable import Solvers

/// The scalar types every solver test runs over.
enum ScalarKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case float, double
    var description: String { rawValue }
}

/// Machine epsilon of the kind, as a Double.
extension ScalarKind {
    var epsilon: Double { self == .float ? Double(Float.ulpOfOne) : Double.ulpOfOne }
}

enum TestMatrices {
    /// `U diag(s) V'` with `U`, `V` the Q factors of seeded Gaussian matrices: a matrix whose
    /// singular values are exactly (to rounding) `s`. Built in Double.
    static func knownSpectrum(rows m: Int, columns n: Int, singularValues s: [Double], seed: UInt64) -> Matrix<Double> {
        let r = s.count
        precondition(r <= min(m, n))
        let u = try! Matrix<Double>.gaussian(rows: m, columns: r, seed: seed).orthonormalized()
        var v = try! Matrix<Double>.gaussian(rows: n, columns: r, seed: seed &+ 1).orthonormalized()
        v.scaleColumns(by: s)
        return Matrix.product(u, .none, v, .transpose)
    }

    /// Fast decay: `s_i = exp(-i / 2)`.
    /// A `rows x columns` block whose singular values fall geometrically from 1 to `1 / condition`.
    static func graded(rows m: Int, columns n: Int, condition: Double, seed: UInt64) -> Matrix<Double> {
        knownSpectrum(rows: m, columns: n, singularValues: (0..<n).map { pow(condition, -Double($0) / Double(n - 1)) }, seed: seed)
    }

    static func fastDecay(_ count: Int) -> [Double] { (0..<count).map { exp(-Double($0) / 2) } }
    /// Slow decay: `s_i = 1 / (1 + i)^0.5`.
    static func slowDecay(_ count: Int) -> [Double] { (0..<count).map { 1 / (1 + Double($0)).squareRoot() } }

    /// A directed Chung-Lu power-law bipartite graph `rows x columns`: node weights
    /// `w_i = (i + 1)^(-1 / (gamma - 1))`, edge `(i, j)` with probability
    /// `min(1, c w_i w'_j)` scaled to `averageDegree` edges per row on average. Returns the edge list.
    static func chungLuEdges(rows m: Int, columns n: Int, averageDegree: Double, gamma: Double = 2.2, seed: UInt64) -> [(Int, Int)] {
        var rng = Xoshiro256(seed: seed)
        let wr = (0..<m).map { pow(Double($0 + 1), -1 / (gamma - 1)) }
        let wc = (0..<n).map { pow(Double($0 + 1), -1 / (gamma - 1)) }
        let sr = wr.reduce(0, +), sc = wc.reduce(0, +)
        let scale = averageDegree * Double(m) / (sr * sc)
        var edges = [(Int, Int)]()
        for i in 0..<m {
            for j in 0..<n where rng.nextUniform() < min(1, scale * wr[i] * wc[j]) {
                edges.append((i, j))
            }
        }
        return edges
    }

    /// A sparse operator over an edge list (each edge weight 1), applied by loops: a CSR-free
    /// stand-in for a graph adjacency matrix.
    static func edgeListOperator<S: BLASScalar>(rows m: Int, columns n: Int, edges: [(Int, Int)], _: S.Type) -> AnyLinearOperator<S> {
        let src = edges.map(\.0), dst = edges.map(\.1)
        return AnyLinearOperator<S>(
            rows: m, columns: n,
            apply: { x, y in
                y.fill(0)
                let b = x.columns
                for c in 0..<b {
                    for e in 0..<src.count { y.elements[src[e] + c * m] += x.elements[dst[e] + c * n] }
                }
            },
            applyTranspose: { x, y in
                y.fill(0)
                let b = x.columns
                for c in 0..<b {
                    for e in 0..<src.count { y.elements[dst[e] + c * n] += x.elements[src[e] + c * m] }
                }
            })
    }

    /// The dense matrix of an edge list.
    static func dense(rows m: Int, columns n: Int, edges: [(Int, Int)]) -> Matrix<Double> {
        var a = Matrix<Double>(rows: m, columns: n)
        for (i, j) in edges { a[i, j] += 1 }
        return a
    }

    /// Laplacian `D - A` of the path graph on `n` nodes; eigenvalues `2 - 2 cos(pi k / n)`, k = 0..<n.
    static func pathLaplacian(_ n: Int) -> Matrix<Double> {
        var l = Matrix<Double>(rows: n, columns: n)
        for i in 0..<(n - 1) { l[i, i + 1] = -1; l[i + 1, i] = -1; l[i, i] += 1; l[i + 1, i + 1] += 1 }
        return l
    }
    static func pathEigenvalues(_ n: Int) -> [Double] { (0..<n).map { 2 - 2 * cos(Double.pi * Double($0) / Double(n)) }.sorted() }

    /// Laplacian of the cycle graph on `n` nodes; eigenvalues `2 - 2 cos(2 pi k / n)`, k = 0..<n.
    static func cycleLaplacian(_ n: Int) -> Matrix<Double> {
        var l = Matrix<Double>(rows: n, columns: n)
        for i in 0..<n {
            let j = (i + 1) % n
            l[i, j] -= 1; l[j, i] -= 1; l[i, i] += 1; l[j, j] += 1
        }
        return l
    }
    static func cycleEigenvalues(_ n: Int) -> [Double] { (0..<n).map { 2 - 2 * cos(2 * Double.pi * Double($0) / Double(n)) }.sorted() }

    /// A nonsymmetric `n x n` matrix `X T X^-1` with known eigenvalues: `T` is block diagonal with
    /// the `real` eigenvalues as 1x1 blocks and each complex pair `a ± ib` as `[[a, b], [-b, a]]`;
    /// `X = I + 0.3 G / sqrt(n)` is well conditioned.
    static func nonsymmetric(n: Int, real: [Double], complex: [(Double, Double)], seed: UInt64) -> Matrix<Double> {
        precondition(real.count + 2 * complex.count == n)
        var t = Matrix<Double>(rows: n, columns: n)
        var p = 0
        for (a, b) in complex { t[p, p] = a; t[p + 1, p + 1] = a; t[p, p + 1] = b; t[p + 1, p] = -b; p += 2 }
        for r in real { t[p, p] = r; p += 1 }
        var x = Matrix<Double>.gaussian(rows: n, columns: n, seed: seed)
        x.scale(by: 0.3 / Double(n).squareRoot())
        x += Matrix.identity(n)
        let xinv = try! x.solve(Matrix.identity(n))
        return x * t * xinv
    }

    /// The largest `|a_ij - b_ij|`.
    static func maxDifference<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> Double {
        precondition(a.rows == b.rows && a.columns == b.columns)
        var d = 0.0
        for i in 0..<a.elements.count { d = max(d, abs(Double(a.elements[i]) - Double(b.elements[i]))) }
        return d
    }

    /// `||Q'Q - I||_max` for the columns of `q`.
    static func orthonormalityError<S: BLASScalar>(_ q: Matrix<S>) -> Double {
        let g = Matrix.product(q, .transpose, q).converted(to: Double.self)
        return maxDifference(g, Matrix<Double>.identity(q.columns))
    }
}
