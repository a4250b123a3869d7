@testable import LinearAlgebra

/// A random sparse test matrix with its dense twin: every 5th row and every 7th column empty,
/// other entries present with probability `density`, values uniform in [-1, 1).
struct SparseFixture<S: BLASScalar> {
    let coo: COOMatrix<S>
    let dense: Matrix<S>
    let maxRowLength: Int
    let maxColumnLength: Int

    init(rows m: Int, columns n: Int, density: Double, seed: UInt64, shuffled: Bool = true) {
        var rng = Xoshiro256(seed: seed)
        var dense = Matrix<S>(rows: m, columns: n)
        var entries = [(Int, Int, S)]()
        for i in 0..<m where i % 5 != 3 {
            for j in 0..<n where j % 7 != 2 && rng.nextUniform() < density {
                let v = S(2 * rng.nextUniform() - 1)
                entries.append((i, j, v))
                dense[i, j] = v
            }
        }
        if shuffled { entries.shuffle(using: &rng) }
        var coo = COOMatrix<S>(rows: m, columns: n)
        coo.reserveCapacity(entries.count)
        for (i, j, v) in entries { coo.append(row: i, column: j, value: v) }
        self.coo = coo
        self.dense = dense
        var rowLengths = [Int](repeating: 0, count: m), columnLengths = [Int](repeating: 0, count: n)
        for (i, j, _) in entries { rowLengths[i] += 1; columnLengths[j] += 1 }
        maxRowLength = rowLengths.max() ?? 0
        maxColumnLength = columnLengths.max() ?? 0
    }
}

extension Matrix {
    /// Elementwise absolute values.
    func absolute() -> Matrix { Matrix(rows: rows, columns: columns, elements: elements.map { Swift.abs($0) }) }
}

/// Whether `computed` matches `reference` elementwise within `(terms + 2) * ulp * bound[i, j]`,
/// the forward-error bound of a dot product of `terms` terms with absolute sum `bound[i, j]`
/// (`bound` = |A| |X|), for two independently rounded computations.
func withinSumBound<S: BLASScalar>(_ computed: Matrix<S>, _ reference: Matrix<S>, bound: Matrix<S>, terms: Int) -> Bool {
    guard computed.rows == reference.rows, computed.columns == reference.columns else { return false }
    let factor = S(2 * (terms + 2)) * S.ulpOfOne
    for e in 0..<computed.elements.count {
        let diff = Swift.abs(computed.elements[e] - reference.elements[e])
        if diff > factor * bound.elements[e] + S.leastNormalMagnitude { return false }
    }
    return true
}
