import Foundation
import Testing
@testable import FollowGraph
import LinearAlgebra
import Solvers

/// The undirected spectral embedding keeps its blocks row-major (held as their transposes) from
/// the proximity SVD to the table, and orthogonalises by Cholesky QR: each piece against the
/// column-major operators it replaces and against LAPACK's dense answer.
@Suite struct SpectralRowMajorTests {
    let dense = plantedCommunities(groups: 3, size: 20, pIn: 0.3, pOut: 0.05, seed: 4)

    func bitsEqual(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Bool {
        a.rows == b.rows && a.columns == b.columns && zip(a.elements, b.elements).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test func rowMajorFilterAndPowersAreTheColumnMajorOnesTransposed() throws {
        let walk = RandomWalkOperator(adjacency: CSRMatrix(dense: dense))
        let filter = ChebyshevBandPass(walk, mu: 0.2, theta: 0.5, maxTerms: 4)
        let averaging = SymmetricNormalizedAdjacency(walk)
        for columns in [1, 5, 16, 19] {
            let x = Matrix<Float>.gaussian(rows: dense.rows, columns: columns, seed: UInt64(columns))
            #expect(bitsEqual(filter.filter(walk, rowMajor: x.transposed()), filter.apply(x).transposed()))
            let columnMajor = averaging.unitRowPowers(of: x, count: 2)
            let rowMajor = averaging.unitRowPowers(ofRowMajor: x.transposed(), count: 2)
            #expect(rowMajor.count == 2 && zip(rowMajor, columnMajor).allSatisfy { bitsEqual($0, $1.transposed()) })
            // A power is not the input: the check above compares something.
            #expect(!bitsEqual(rowMajor[0], x.transposed()))
        }
    }

    /// `U S U'` of a tall `n x k` Float block from LAPACK's SVD in Double: the sign-free quantity
    /// both ways of computing `U S^1/2` must reproduce.
    func reference(_ p: Matrix<Float>) throws -> Matrix<Double> {
        let svd = try p.converted(to: Double.self).svd()
        var us = svd.u
        us.scaleColumns(by: svd.s)
        return Matrix.product(us, .none, svd.u, .transpose)
    }

    func gram(_ et: Matrix<Float>) -> Matrix<Double> {   // E E' for E held transposed
        let e = et.converted(to: Double.self)
        return Matrix.product(e, .transpose, e, .none)
    }

    @Test func choleskyQRGivesLAPACKsRootScaledSingularVectors() throws {
        let n = 300, k = 12
        var p = Matrix<Float>.gaussian(rows: n, columns: k, seed: 3)
        p.scaleColumns(by: (0..<k).map { Float(Foundation.pow(10, -1.5 * Double($0) / Double(k - 1))) })  // condition about 30
        let (et, byCholesky) = try SpectralEmbedding.rootScaledLeftSingularVectors(transposed: p.transposed())
        #expect(byCholesky)
        #expect(et.rows == k && et.columns == n)
        let expected = try reference(p)
        let largest = try p.converted(to: Double.self).singularValues()[0]
        let error = zip(gram(et).elements, expected.elements).reduce(0.0) { Swift.max($0, abs($1.0 - $1.1)) }
        // CholQR2's backward error is a small multiple of k eps ||P|| (Yamamoto et al. 2015).
        let bound = 16 * Double(k) * Double(Float.ulpOfOne) * largest
        #expect(error <= bound, "E E' differs from U S U' by \(error) (bound \(bound))")
        // Sign flips aside, each column is LAPACK's U S^1/2 column.
        let svd = try p.converted(to: Double.self).svd()
        for c in 0..<k {
            var dot = 0.0
            for i in 0..<n { dot += Double(et[c, i]) * svd.u[i, c] }
            #expect(abs(abs(dot) - svd.s[c].squareRoot()) <= 1e-4 * svd.s[c].squareRoot(), "column \(c): \(abs(dot)) vs \(svd.s[c].squareRoot())")
        }
    }

    @Test func anIllConditionedBlockFallsBackToHouseholder() throws {
        let n = 200, k = 8
        var p = Matrix<Float>.gaussian(rows: n, columns: k, seed: 5)
        p.scaleColumns(by: [1, 1, 1, 1, 1, 1, 1, 1e-5])   // condition 1e5: past Cholesky QR's reach in Float
        let (et, byCholesky) = try SpectralEmbedding.rootScaledLeftSingularVectors(transposed: p.transposed())
        #expect(!byCholesky)
        let thin = try p.svd()
        var expected = thin.u
        expected.scaleColumns(by: thin.s.map { $0.squareRoot() })
        #expect(bitsEqual(et, expected.transposed()))
        // Too short a block (n < 2k) also takes LAPACK's path.
        #expect(try !SpectralEmbedding.rootScaledLeftSingularVectors(transposed: Matrix<Float>.gaussian(rows: 8, columns: 10, seed: 1)).byCholesky)
    }

    @Test func theProximitySVDIsRecomputedWithNormalisationOnlyForSteepSpectra() {
        // q = 3: eps r^7 > 0.25 from r = 7.8 on.
        #expect(!SpectralEmbedding.proximityNeedsNormalization([143.7, 100, 56.76], powerIterations: 3))   // deezer-europe, r = 2.5
        #expect(!SpectralEmbedding.proximityNeedsNormalization([489.9, 70.64], powerIterations: 3))         // blogcatalog, r = 6.9
        #expect(SpectralEmbedding.proximityNeedsNormalization([100, 12], powerIterations: 3))               // r = 8.3
        #expect(SpectralEmbedding.proximityNeedsNormalization([100, 40], powerIterations: 9))               // r = 2.5, but 19 products
        #expect(SpectralEmbedding.proximityNeedsNormalization([1, 0], powerIterations: 1))
        #expect(!SpectralEmbedding.proximityNeedsNormalization([], powerIterations: 3))
    }

    @Test func theRowMajorPipelineIsTheDocumentedOne() throws {
        // propagated() against the steps of its documentation on column-major blocks with
        // LAPACK's SVD: the same table up to column signs, so the same row Gram matrices.
        let groups = 4, size = 50, d = 8
        let a = CSRMatrix(dense: plantedCommunities(groups: groups, size: size, pIn: 0.1, pOut: 0.02, seed: 12))
        let settings = SpectralPropagationConfiguration()
        let table = try SpectralEmbedding.propagated(adjacency: a, dimension: d, powerIterations: nil, seed: 3, settings: settings).embedding
        // The reference normalises after every product (the library default); the pipeline only
        // its final basis: the same subspace to rounding on this flat spectrum.
        let svd = try RandomizedSVD.compute(ProximityMatrix.prone(adjacency: a),
                                            .init(rank: d, oversamples: 10, powerIterations: settings.proximityPowerIterations, seed: 3, computeResiduals: false))
        var initial = svd.u
        initial.scaleColumns(by: svd.s.map { Swift.max($0, 0).squareRoot() })
        EmbeddingScaling.normalizeRows(&initial)
        let walk = RandomWalkOperator(adjacency: a)
        var difference = initial
        difference.axpy(-1, ChebyshevBandPass(walk, mu: settings.mu, theta: settings.theta, maxTerms: settings.maxTerms).apply(initial))
        let thin = try walk.withLoops.apply(difference).svd()
        var e = thin.u
        e.scaleColumns(by: thin.s.map { $0.squareRoot() })
        EmbeddingScaling.normalizeRows(&e)
        let blocks = [e] + SymmetricNormalizedAdjacency(walk).unitRowPowers(of: e, count: settings.neighbourhoodHops)
        #expect(table.rows == a.rows && table.columns == blocks.count * d)
        var worst = 0.0
        for (b, block) in blocks.enumerated() {
            for i in 0..<table.rows {
                for j in 0..<table.rows where j % 7 == i % 7 {
                    var ours = 0.0, theirs = 0.0
                    for c in 0..<d {
                        ours += Double(table[i, b * d + c]) * Double(table[j, b * d + c])
                        theirs += Double(block[i, c]) * Double(block[j, c])
                    }
                    worst = Swift.max(worst, abs(ours - theirs))
                }
            }
        }
        // Cosines of unit rows: float32 rounding through a dozen products and two QRs.
        #expect(worst < 1e-4, "largest cosine difference \(worst)")
    }
}
