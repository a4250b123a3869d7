import Foundation
import Testing
@testable import FollowGraph
import LinearAlgebra
import Solvers

/// A seeded symmetric 0/1 adjacency: `groups` planted communities of `size` nodes, edge
/// probability `pIn` inside and `pOut` across, no self-loops. Node `i` is in community `i / size`.
/// Node degrees are made heterogeneous by a per-node activity in [0.3, 1.7].
func plantedCommunities(groups: Int, size: Int, pIn: Double, pOut: Double, seed: UInt64) -> Matrix<Float> {
    let n = groups * size
    var rng = Xoshiro256(seed: seed)
    let activity = (0..<n).map { _ in 0.3 + 1.4 * rng.nextUniform() }
    var a = Matrix<Float>(rows: n, columns: n)
    for i in 0..<n {
        for j in (i + 1)..<n {
            let p = (i / size == j / size ? pIn : pOut) * activity[i] * activity[j]
            if rng.nextUniform() < p { a[i, j] = 1; a[j, i] = 1 }
        }
    }
    return a
}

/// How well rows separate into the planted communities: the fraction of nodes whose most
/// cosine-similar community centroid (of unit rows, leaving the node out) is their own.
func centroidAccuracy(_ e: Matrix<Float>, groups: Int, size: Int) -> Double {
    var unit = e
    EmbeddingScaling.normalizeRows(&unit)
    let d = unit.columns
    var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: groups)
    for i in 0..<unit.rows { for j in 0..<d { sums[i / size][j] += Double(unit[i, j]) } }
    var right = 0
    for i in 0..<unit.rows {
        var best = -1, bestScore = -Double.infinity
        for g in 0..<groups {
            var centroid = sums[g]
            if g == i / size { for j in 0..<d { centroid[j] -= Double(unit[i, j]) } }
            let norm = centroid.reduce(0) { $0 + $1 * $1 }.squareRoot()
            var dot = 0.0
            for j in 0..<d { dot += centroid[j] * Double(unit[i, j]) }
            let score = norm > 0 ? dot / norm : -Double.infinity
            if score > bestScore { bestScore = score; best = g }
        }
        if best == i / size { right += 1 }
    }
    return Double(right) / Double(unit.rows)
}

@Suite struct SpectralOperatorTests {
    let dense = plantedCommunities(groups: 3, size: 20, pIn: 0.3, pOut: 0.05, seed: 4)
    var sparse: CSRMatrix<Float> { CSRMatrix(dense: dense) }
    let tolerance = Float.ulpOfOne.squareRoot() // products of O(1) entries summed over <= 60 terms

    func maxDifference(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Float {
        zip(a.elements, b.elements).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    }

    @Test func randomWalkOperatorMatchesDense() throws {
        let n = dense.rows
        var loops = dense
        for i in 0..<n { loops[i, i] += 1 }
        var p = loops
        for i in 0..<n {
            let degree = (0..<n).reduce(Float(0)) { $0 + loops[i, $1] }
            for j in 0..<n { p[i, j] /= degree }
        }
        let walk = RandomWalkOperator(adjacency: sparse)
        #expect(maxDifference(walk.withLoops.toDense(), loops) == 0)
        let x = Matrix<Float>.gaussian(rows: n, columns: 5, seed: 2)
        #expect(maxDifference(walk.apply(x), p * x) < tolerance)
        #expect(maxDifference(walk.applyTranspose(x), p.transposed() * x) < tolerance)
        // A self-loop already in A is added to, not duplicated.
        var withLoop = dense
        withLoop[3, 3] = 2
        let w2 = RandomWalkOperator(adjacency: CSRMatrix(dense: withLoop))
        #expect(w2.withLoops[3, 3] == 3)
        #expect(w2.withLoops.nonzeroCount == walk.withLoops.nonzeroCount)
    }

    @Test func randomWalkFilterRowMajorPathMatchesTheGenericPathAndTheDenseFilter() throws {
        // ChebyshevBandPass on a RandomWalkOperator takes the row-major path; wrapped in
        // AnyLinearOperator it takes the generic one. Both are the same operations per element
        // (up to how OpenBLAS's saxpy rounds its tail), and both equal the dense filter of
        // L = I - P = D^-1/2 (I - S) D^1/2, i.e. D^-1/2 V g(1 - lambda) V' D^1/2 (LAPACK's eigen).
        let n = dense.rows
        let walk = RandomWalkOperator(adjacency: sparse)
        let fast = ChebyshevBandPass(walk, mu: 0.2, theta: 0.5)
        let generic = ChebyshevBandPass(AnyLinearOperator(walk), mu: 0.2, theta: 0.5)
        let roots = walk.inverseDegrees.map { Double($0).squareRoot() }
        let s = walk.withLoops.diagonallyScaled(left: walk.inverseDegrees.map { $0.squareRoot() },
                                                right: walk.inverseDegrees.map { $0.squareRoot() }).densified().converted(to: Double.self)
        let eigen = try s.symmetricEigen()
        let g = eigen.values.map { lambda in Foundation.exp(-0.5 * ((1 - lambda - 0.2) * (1 - lambda - 0.2) / 2 - 1)) }
        var left = eigen.vectors, right = eigen.vectors
        left.scaleRows(by: roots)                 // D^-1/2 V
        right.scaleRows(by: roots.map { 1 / $0 }) // D^1/2 V
        let reference = left.scaledColumnsCopy(g) * right.transposed()
        for columns in [1, 3, 7, 16] { // n * columns not a multiple of the SIMD width for most
            let x = Matrix<Float>.gaussian(rows: n, columns: columns, seed: UInt64(columns))
            let a = fast.apply(x), b = generic.apply(x)
            let expected = reference * x.converted(to: Double.self)
            let scale = Float(expected.maxAbs)
            #expect(maxDifference(a, b) <= 8 * Float.ulpOfOne * scale, "\(columns) columns: the two paths differ by \(maxDifference(a, b))")
            let error = zip(a.elements, expected.elements).reduce(0.0) { Swift.max($0, abs(Double($1.0) - $1.1)) }
            #expect(error < 1e-5 * Double(scale), "\(columns) columns: \(error) from the dense filter")
        }
        // Cut at maxTerms 3 (the default) or 4, the filter is off by the dropped terms alone:
        // P is self-adjoint in <u, v> = u' (D+I) v, so every |T_k(X)| <= 1 in that norm and each
        // column's error is at most 2 sum_(k>=terms) I_k(theta) times the column's norm.
        for terms in [3, 4] {
            let short = ChebyshevBandPass(walk, mu: 0.2, theta: 0.5, maxTerms: terms)
            #expect(short.coefficients.count == terms)
            let dropped = 2 * (terms...12).reduce(0.0) { $0 + ChebyshevBandPass<RandomWalkOperator>.besselI($1, 0.5) }
            let weights = walk.inverseDegrees.map { 1 / Double($0) }
            let x = Matrix<Float>.gaussian(rows: n, columns: 5, seed: 9)
            let expected = reference * x.converted(to: Double.self)
            let got = short.apply(x)
            for j in 0..<x.columns {
                var error = 0.0, norm = 0.0
                for i in 0..<n {
                    error += weights[i] * (Double(got[i, j]) - expected[i, j]) * (Double(got[i, j]) - expected[i, j])
                    norm += weights[i] * Double(x[i, j]) * Double(x[i, j])
                }
                #expect(error.squareRoot() <= (dropped + 1e-5) * norm.squareRoot(), "\(terms) terms, column \(j): \(error.squareRoot()) > \(dropped) x \(norm.squareRoot())")
                #expect(error.squareRoot() >= 1e-3 * dropped * norm.squareRoot(), "\(terms) terms, column \(j): the cut made no difference")
            }
        }
    }

    @Test func proximityMatrixMatchesItsFormula() throws {
        let n = dense.rows
        let m = ProximityMatrix.prone(adjacency: sparse).toDense()
        let degrees = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + Double(dense[i, $1]) } }
        var noise = (0..<n).map { j in Foundation.pow((0..<n).reduce(0.0) { $0 + Double(dense[$1, j]) / Swift.max(degrees[$1], 1) }, 0.75) }
        let total = noise.reduce(0, +)
        noise = noise.map { $0 / total }
        for i in 0..<n {
            for j in 0..<n {
                let expected = dense[i, j] > 0 ? Foundation.log(1 / degrees[i]) - Foundation.log(noise[j]) : 0
                #expect(abs(Double(m[i, j]) - expected) < 1e-4 * Swift.max(1, abs(expected)), "(\(i), \(j))")
            }
        }
    }

    @Test func bandPassFilterMatchesTheDenseSpectralFilter() throws {
        // The symmetric form S = (D+I)^-1/2 (A+I) (D+I)^-1/2 has the random walk's eigenvalues;
        // the filter of L = I - S is V g(1 - lambda) V' with g(x) = exp(-theta ((x - mu)^2 / 2 - 1)).
        let n = dense.rows
        let walk = RandomWalkOperator(adjacency: sparse)
        let roots = walk.inverseDegrees.map { $0.squareRoot() }
        let symmetric = walk.withLoops.diagonallyScaled(left: roots, right: roots)
        let filter = ChebyshevBandPass(symmetric, mu: 0.2, theta: 0.5)
        #expect(filter.coefficients.count == 6) // I_6(0.5) < 1e-6 I_0(0.5)
        let s = symmetric.densified().converted(to: Double.self)
        let eigen = try s.symmetricEigen()
        let g = eigen.values.map { lambda in Foundation.exp(-0.5 * ((1 - lambda - 0.2) * (1 - lambda - 0.2) / 2 - 1)) }
        let reference = eigen.vectors.scaledColumnsCopy(g) * eigen.vectors.transposed()
        let x = Matrix<Float>.gaussian(rows: n, columns: 4, seed: 3)
        let expected = reference * x.converted(to: Double.self)
        let got = filter.apply(x).converted(to: Double.self)
        let scale = expected.maxAbs
        #expect(zip(got.elements, expected.elements).allSatisfy { abs($0 - $1) < 1e-5 * scale })
        // The transpose is the same polynomial in S' = S.
        let gotT = filter.applyTranspose(x).converted(to: Double.self)
        #expect(zip(gotT.elements, expected.elements).allSatisfy { abs($0 - $1) < 1e-5 * scale })
        // Bessel values: I_0(0.5) and I_1(0.5) from Abramowitz and Stegun.
        #expect(abs(ChebyshevBandPass<Matrix<Float>>.besselI(0, 0.5) - 1.0634833707413236) < 1e-14)
        #expect(abs(ChebyshevBandPass<Matrix<Float>>.besselI(1, 0.5) - 0.2578943053908963) < 1e-14)
    }

    @Test func symmetricNormalizedAdjacencyMatchesDense() throws {
        let n = dense.rows
        var loops = dense
        for i in 0..<n { loops[i, i] += 1 }
        let degrees = (0..<n).map { i in (0..<n).reduce(Float(0)) { $0 + loops[i, $1] } }
        var s = loops
        for i in 0..<n { for j in 0..<n { s[i, j] /= (degrees[i] * degrees[j]).squareRoot() } }
        let op = SymmetricNormalizedAdjacency(RandomWalkOperator(adjacency: sparse))
        let x = Matrix<Float>.gaussian(rows: n, columns: 5, seed: 6)
        #expect(maxDifference(op.apply(x), s * x) < tolerance)
        #expect(maxDifference(op.applyTranspose(x), s.transposed() * x) < tolerance)
    }

    @Test func unitRMSKeepsDirections() {
        var x = Matrix<Float>.gaussian(rows: 50, columns: 8, seed: 5)
        x.scale(by: 0.01)
        let before = x
        EmbeddingScaling.unitRMS(&x)
        let rms = (x.elements.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.elements.count)).squareRoot()
        #expect(abs(rms - 1) < 1e-5)
        let ratio = x[0, 0] / before[0, 0]
        #expect(zip(x.elements, before.elements).allSatisfy { abs($0 - ratio * $1) <= 1e-5 * abs($0) + 1e-7 })
    }
}

@Suite struct SpectralEmbeddingTests {
    @Test func propagationSeparatesPlantedCommunitiesBetterThanPlainSVD() throws {
        let groups = 4, size = 100
        let a = plantedCommunities(groups: groups, size: size, pIn: 0.06, pOut: 0.015, seed: 11)
        let sparse = CSRMatrix(dense: a)
        let plain = try RandomizedSVD.compute(sparse, .init(rank: 8, seed: 1))
        var plainEmbedding = plain.u
        plainEmbedding.scaleColumns(by: plain.s.map { $0.squareRoot() })
        var proneTable = SpectralPropagationConfiguration()
        proneTable.neighbourhoodHops = 0
        let spectral = try SpectralEmbedding.propagated(adjacency: sparse, dimension: 8, powerIterations: nil, seed: 1, settings: proneTable)
        let plainAccuracy = centroidAccuracy(plainEmbedding, groups: groups, size: size)
        let spectralAccuracy = centroidAccuracy(spectral.embedding, groups: groups, size: size)
        #expect(spectralAccuracy > plainAccuracy + 0.02, "spectral \(spectralAccuracy) vs plain SVD \(plainAccuracy)")
        #expect(spectralAccuracy > 0.8)
        // Deterministic for a seed.
        let again = try SpectralEmbedding.propagated(adjacency: sparse, dimension: 8, powerIterations: nil, seed: 1, settings: proneTable)
        #expect(again.embedding == spectral.embedding)
        // Neighbour averaging before the final SVD separates the communities at least as well.
        var settings = proneTable
        settings.smoothingSteps = 2
        let smoothed = try SpectralEmbedding.propagated(adjacency: sparse, dimension: 8, powerIterations: nil, seed: 1, settings: settings)
        let smoothedAccuracy = centroidAccuracy(smoothed.embedding, groups: groups, size: size)
        #expect(smoothedAccuracy > plainAccuracy + 0.02, "smoothed \(smoothedAccuracy) vs plain SVD \(plainAccuracy)")
        #expect(smoothedAccuracy >= spectralAccuracy, "smoothed \(smoothedAccuracy) vs unsmoothed \(spectralAccuracy)")
    }

    @Test func neighbourhoodBlocksAreTheAveragedEmbeddingAndSeparateCommunities() throws {
        let groups = 4, size = 100, d = 8
        let a = plantedCommunities(groups: groups, size: size, pIn: 0.06, pOut: 0.015, seed: 11)
        let sparse = CSRMatrix(dense: a)
        var settings = SpectralPropagationConfiguration()
        #expect(settings.neighbourhoodHops == 2 && settings.rowNorm == 1 && settings.maxTerms == 3) // the defaults (session 12)
        #expect(FollowGraphMethod.spectral.defaultDimension(directed: false) == 128)
        #expect(FollowGraphMethod.spectral.defaultDimension(directed: true) == 64 && FollowGraphMethod.svd.defaultDimension(directed: false) == 64)
        settings.neighbourhoodHops = 0
        let base = try SpectralEmbedding.propagated(adjacency: sparse, dimension: d, powerIterations: nil, seed: 1, settings: settings).embedding
        settings.neighbourhoodHops = 2
        let table = try SpectralEmbedding.propagated(adjacency: sparse, dimension: d, powerIterations: nil, seed: 1, settings: settings).embedding
        #expect(table.rows == a.rows && table.columns == 3 * d)
        // Dense reference: block k is S^k E with unit rows, S = (D+I)^-1/2 (A+I) (D+I)^-1/2.
        let n = a.rows
        var s = a
        for i in 0..<n { s[i, i] += 1 }
        let degrees = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + Double(s[i, $1]) } }
        var sd = s.converted(to: Double.self)
        for i in 0..<n { for j in 0..<n { sd[i, j] /= (degrees[i] * degrees[j]).squareRoot() } }
        var e = base.converted(to: Double.self)
        func unitRows(_ m: Matrix<Double>) -> Matrix<Double> {
            var out = m
            for i in 0..<m.rows {
                let norm = (0..<m.columns).reduce(0.0) { $0 + m[i, $1] * m[i, $1] }.squareRoot()
                for j in 0..<m.columns { out[i, j] = norm > 0 ? m[i, j] / norm : 0 }
            }
            return out
        }
        // Every block's rows have length rowNorm (1).
        let blockNorm = 1.0
        var expectedBlocks = [unitRows(e)]
        for _ in 0..<2 { e = sd * e; expectedBlocks.append(unitRows(e)) }
        var worst = 0.0
        for (k, block) in expectedBlocks.enumerated() {
            for i in 0..<n { for j in 0..<d { worst = Swift.max(worst, abs(Double(table[i, k * d + j]) / blockNorm - block[i, j])) } }
        }
        #expect(worst < 1e-4, "largest difference from the dense blocks \(worst)") // float32 products over ~20 neighbours
        let plain = try RandomizedSVD.compute(sparse, .init(rank: d, seed: 1))
        var plainEmbedding = plain.u
        plainEmbedding.scaleColumns(by: plain.s.map { $0.squareRoot() })
        let plainAccuracy = centroidAccuracy(plainEmbedding, groups: groups, size: size)
        let tableAccuracy = centroidAccuracy(table, groups: groups, size: size)
        #expect(tableAccuracy > plainAccuracy + 0.02, "with neighbourhood blocks \(tableAccuracy) vs plain SVD \(plainAccuracy)")
    }
}

@Suite struct SpectralTableScaleTests {
    @Test func rowNormGivesEveryBlockRowThatLengthAndKeepsDirections() throws {
        let d = 8
        let a = plantedCommunities(groups: 4, size: 50, pIn: 0.1, pOut: 0.02, seed: 12)
        let sparse = CSRMatrix(dense: a)
        for hops in [0, 2] {
            var settings = SpectralPropagationConfiguration()
            settings.neighbourhoodHops = hops
            settings.rowNorm = nil
            let rms = try SpectralEmbedding.propagated(adjacency: sparse, dimension: d, powerIterations: nil, seed: 2, settings: settings).embedding
            settings.rowNorm = 0.5
            let table = try SpectralEmbedding.propagated(adjacency: sparse, dimension: d, powerIterations: nil, seed: 2, settings: settings).embedding
            #expect(table.columns == (1 + hops) * d)
            var worst: Float = 0, ratio: Float? = nil, zeroRows = 0
            for i in 0..<table.rows {
                for b in 0...hops {
                    let norm = (0..<d).reduce(Float(0)) { $0 + table[i, b * d + $1] * table[i, b * d + $1] }.squareRoot()
                    if norm == 0 { zeroRows += 1 } else { worst = Swift.max(worst, abs(norm - 0.5)) }   // isolated nodes
                }
                for j in 0..<table.columns where abs(rms[i, j]) > 1e-3 {
                    let r = table[i, j] / rms[i, j]
                    if let ratio { worst = Swift.max(worst, abs(r - ratio) / ratio) } else { ratio = r }
                }
            }
            // Unit-length rows times 0.5, and the unit-RMS table times one factor (float32 rounding).
            #expect(worst < 1e-4, "hops \(hops): largest deviation \(worst)")
            #expect(zeroRows < table.rows / 20, "hops \(hops): \(zeroRows) zero rows")
        }
    }
}

extension Matrix where Scalar == Double {
    func scaledColumnsCopy(_ d: [Double]) -> Matrix<Double> { var m = self; m.scaleColumns(by: d); return m }
}
