import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

@Suite("Chebyshev-filtered subspace iteration") struct ChebyshevEigensolverTests {
    /// The symmetrically normalised adjacency `D^-1/2 A D^-1/2` of a seeded power-law graph
    /// (undirected, no self-loops), dense: the kind of matrix the solver is for (spectrum in
    /// [-1, 1], clustered near the top).
    static func normalisedAdjacency(n: Int, seed: UInt64) -> Matrix<Double> {
        var a = Matrix<Double>(rows: n, columns: n)
        for (i, j) in TestMatrices.chungLuEdges(rows: n, columns: n, averageDegree: 6, seed: seed) where i != j {
            a[i, j] = 1; a[j, i] = 1
        }
        return normalised(a)
    }

    /// `D^-1/2 A D^-1/2` of a symmetric 0/1 adjacency without isolated nodes.
    static func normalised(_ adjacency: Matrix<Double>) -> Matrix<Double> {
        var a = adjacency
        let n = a.rows
        let d = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + a[i, $1] } }
        for i in 0..<n { for j in 0..<n where a[i, j] != 0 { a[i, j] /= (d[i] * d[j]).squareRoot() } }
        return a
    }

    /// The normalised adjacency of `components` disjoint connected graphs of 8 to 20 nodes each
    /// (a path, a triangle at its start so that no component is bipartite, and seeded random
    /// chords): eigenvalue 1 has multiplicity `components`, as on a real graph with many
    /// connected components (wiki-vote has 24).
    static func componentsAdjacency(components: Int, seed: UInt64) -> Matrix<Double> {
        var rng = Xoshiro256(seed: seed)
        let sizes = (0..<components).map { _ in 8 + Int(rng.nextUniform() * 13) }
        var a = Matrix<Double>(rows: sizes.reduce(0, +), columns: sizes.reduce(0, +))
        var start = 0
        for s in sizes {
            func link(_ i: Int, _ j: Int) { if i != j { a[start + i, start + j] = 1; a[start + j, start + i] = 1 } }
            for i in 1..<s { link(i - 1, i) }
            link(0, 2)
            for _ in 0..<s { link(Int(rng.nextUniform() * Double(s)), Int(rng.nextUniform() * Double(s))) }
            start += s
        }
        return normalised(a)
    }

    /// The test graphs: a power-law graph, and one whose top eigenvalue's multiplicity (24)
    /// exceeds the default block (16 for 8 pairs), so the run must grow its block.
    enum Graph: String, CaseIterable, Sendable { case powerLaw, manyComponents }

    @Test(arguments: ScalarKind.allCases, Graph.allCases)
    func largestEigenpairsMatchLAPACK(scalar: ScalarKind, graph: Graph) throws {
        switch (scalar, graph) {
        case (.float, .powerLaw): try powerLaw(Float.self, scalar)
        case (.double, .powerLaw): try powerLaw(Double.self, scalar)
        case (.float, .manyComponents): try manyComponents(Float.self, scalar)
        case (.double, .manyComponents): try manyComponents(Double.self, scalar)
        }
    }

    func powerLaw<S: BLASScalar>(_: S.Type, _ scalar: ScalarKind) throws {
        let n = 500, count = 12
        let dense = Self.normalisedAdjacency(n: n, seed: 4)
        let exact = Array(try dense.symmetricEigen(vectors: false).values.suffix(count))   // ascending
        let a = CSRMatrix(dense: dense.converted(to: S.self))
        let r = try ChebyshevEigensolver.largest(a, .init(count: count, seed: 2))
        Self.expectMatchesLAPACK(r, dense: dense, exact: exact, scalar)
        #expect(r.diagnostics.operatorApplications > 0 && r.diagnostics.seed == 2 && r.diagnostics.subspaceSize == 20)
    }

    /// 40 pairs: the default block is `5 count / 4` (50) once that exceeds `count + 8`, the
    /// regime of slashdot's top 64 (block 80), where the block's guard vectors are fewest.
    @Test(arguments: ScalarKind.allCases)
    func manyPairsDefaultBlockMatchLAPACK(scalar: ScalarKind) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let n = 500, count = 40
            let dense = Self.normalisedAdjacency(n: n, seed: 4)
            let exact = Array(try dense.symmetricEigen(vectors: false).values.suffix(count))
            let r = try ChebyshevEigensolver.largest(CSRMatrix(dense: dense.converted(to: S.self)), .init(count: count, seed: 3))
            Self.expectMatchesLAPACK(r, dense: dense, exact: exact, scalar)
            #expect(r.diagnostics.subspaceSize == 50)
        }
        switch scalar {
        case .float: try run(Float.self)
        case .double: try run(Double.self)
        }
    }

    /// The checks every run must pass against LAPACK's dense answer (`exact`: the `count` largest
    /// eigenvalues of `dense`, ascending): converged, ascending, each value within rounding of
    /// LAPACK's, the reported and the true residuals within 48 and 64 ulp, orthonormal vectors.
    static func expectMatchesLAPACK<S: BLASScalar>(_ r: SymmetricEigenResult<S>, dense: Matrix<Double>, exact: [Double], _ scalar: ScalarKind) {
        let n = dense.rows, count = exact.count
        let eps = Double(S.ulpOfOne)
        #expect(r.diagnostics.allConverged, "\(r.diagnostics)")
        #expect(r.values.count == count && r.vectors.rows == n && r.vectors.columns == count)
        #expect(r.values == r.values.sorted(), "values must be ascending")
        // Each Ritz value lies within its residual norm of an eigenvalue; allow rounding of A.
        let scale = exact.map { abs($0) }.max()!
        for (got, want) in zip(r.values.map(Double.init), exact) {
            #expect(abs(got - want) <= 32 * eps * scale + 1e3 * eps * scale, "\(scalar): \(got) vs \(want)")
        }
        #expect(r.diagnostics.maxRelativeResidual <= 48 * eps, "residual \(r.diagnostics.maxRelativeResidual)")
        #expect(TestMatrices.orthonormalityError(r.vectors) <= 1e3 * eps * Double(n).squareRoot())
        // The residuals the diagnostics report are the true ones: ||A x - λ x|| / max|λ|, checked in double.
        let x = r.vectors.converted(to: Double.self)
        let ax = Matrix.product(dense, .none, x, .none)
        for j in 0..<count {
            let lambda = Double(r.values[j])
            let norm = (0..<n).reduce(0.0) { let d = ax[$1, j] - lambda * x[$1, j]; return $0 + d * d }.squareRoot()
            #expect(norm / scale <= 64 * eps + 1e2 * eps, "pair \(j): true residual \(norm / scale)")
        }
    }

    /// 24 components, 8 pairs wanted: eigenvalue 1 fills the default block of 16 and more, so
    /// no filter separates the block; the run must notice the stall and grow the block.
    func manyComponents<S: BLASScalar>(_: S.Type, _ scalar: ScalarKind) throws {
        let count = 8
        let dense = Self.componentsAdjacency(components: 24, seed: 3)
        let all = try dense.symmetricEigen(vectors: false).values
        #expect(all.filter { abs($0 - 1) <= 1e-10 }.count == 24, "the test graph must have 24 components")
        let r = try ChebyshevEigensolver.largest(CSRMatrix(dense: dense.converted(to: S.self)), .init(count: count, seed: 7))
        Self.expectMatchesLAPACK(r, dense: dense, exact: Array(all.suffix(count)), scalar)
        #expect(r.diagnostics.method.contains("grown"), "\(r.diagnostics.method)")
        #expect(r.diagnostics.subspaceSize! > 24, "block \(String(describing: r.diagnostics.subspaceSize))")
    }

    @Test func repeatedTopEigenvaluesOfACycle() throws {
        // The negated cycle Laplacian: largest eigenvalues 0, then pairs -(2 - 2cos(2πk/n)).
        let n = 64, count = 7
        var dense = TestMatrices.cycleLaplacian(n)
        for i in 0..<n { for j in 0..<n { dense[i, j] = -dense[i, j] } }
        let exact = Array(TestMatrices.cycleEigenvalues(n).prefix(count).map { -$0 }.sorted())
        let r = try ChebyshevEigensolver.largest(CSRMatrix(dense: dense), .init(count: count, seed: 1))
        #expect(r.diagnostics.allConverged)
        for (got, want) in zip(r.values, exact) { #expect(abs(got - want) <= 1e-9, "\(got) vs \(want)") }
    }

    @Test func sameSeedSameBits() throws {
        let a = CSRMatrix(dense: Self.normalisedAdjacency(n: 300, seed: 9).converted(to: Float.self))
        let one = try ChebyshevEigensolver.largest(a, .init(count: 6, seed: 5))
        let two = try ChebyshevEigensolver.largest(a, .init(count: 6, seed: 5))
        #expect(one.values == two.values && one.vectors.elements == two.vectors.elements)
    }

    @Test func badConfigurationsAndInputAreClearErrors() throws {
        let a = CSRMatrix(dense: Self.normalisedAdjacency(n: 40, seed: 1))
        func expectInvalid(_ c: ChebyshevEigensolver.Configuration, _ m: CSRMatrix<Double>? = nil, _ fragment: String) {
            do {
                _ = try ChebyshevEigensolver.largest(m ?? a, c)
                Issue.record("no error for \(fragment)")
            } catch let error as SolverError {
                #expect("\(error)".contains(fragment), "\(error)")
            } catch { Issue.record("unexpected \(error)") }
        }
        expectInvalid(.init(count: 0), nil, "count must be in 1...40")
        expectInvalid(.init(count: 41), nil, "count must be in 1...40")
        expectInvalid(.init(count: 4, blockSize: 3), nil, "blockSize must be in 4...40")
        expectInvalid(.init(count: 4, degree: 0), nil, "degree")
        expectInvalid(.init(count: 4, tolerance: -1), nil, "tolerance must be positive")
        expectInvalid(.init(count: 2), CSRMatrix(dense: Matrix<Double>(rows: 5, columns: 4)), "not square")
        var bad = Self.normalisedAdjacency(n: 40, seed: 1)
        bad[3, 5] = .nan; bad[5, 3] = .nan
        expectInvalid(.init(count: 2), CSRMatrix(dense: bad), "NaN")
    }
}
