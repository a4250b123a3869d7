import Testing
import LinearAlgebra
@testable import Solvers

/// ``ChebyshevEigensolver`` in the shared solver checks (SharedSolverChecks.swift): the same
/// diagnostics invariants as the ARPACK eigensolvers, the SVD back-ends and ALS, and the same
/// clear error for a non-finite operator.
extension SharedSolverChecks {
    @Test func chebyshevEigensolverCarriesTheSameDiagnostics() throws {
        let laplacian = CSRMatrix(dense: TestMatrices.pathLaplacian(50))
        let r = try ChebyshevEigensolver.largest(laplacian, .init(count: 4, seed: 9))
        try checkDiagnostics(r.diagnostics, seed: 9, residuals: true, "ChebyshevEigensolver")
        #expect(r.diagnostics.subspaceSize == 12 && r.diagnostics.tolerance != nil, "\(r.diagnostics)")
    }

    @Test func chebyshevEigensolverRefusesNonFiniteOperators() {
        for bad in [Double.nan, .infinity] {
            var a = TestMatrices.pathLaplacian(30)
            a[4, 4] = bad
            #expect("\(bad)") {
                _ = try ChebyshevEigensolver.largest(CSRMatrix(dense: a), .init(count: 3))
            } throws: { error in
                guard case .nonFinite? = error as? SolverError else { return false }
                return true
            }
        }
    }
}
