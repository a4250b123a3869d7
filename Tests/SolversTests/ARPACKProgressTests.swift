import Foundation
import Testing
import LinearAlgebra
@testable import Solvers

/// The ARPACK progress hook (issue 12, 6a): a long ARPACK run reports what it has done while it runs.
@Suite("ARPACK progress") struct ARPACKProgressTests {
    /// The reports of a symmetric solve that needs several restarts (the smallest eigenvalues of a
    /// path Laplacian are clustered), with a report after every operator application.
    @Test func symmetricReportsEveryApplicationWithRestartsAndConvergence() throws {
        var c = SymmetricEigensolver.Configuration(count: 6, which: .smallestAlgebraic, seed: 7)
        c.arpack.progressInterval = 0
        var reports: [ARPACKProgress] = []
        let r = try SymmetricEigensolver.compute(TestMatrices.pathLaplacian(300), c) { reports.append($0) }
        #expect(r.diagnostics.allConverged)
        // One report per application, numbered 1, 2, 3, ...: the hook saw every one of them.
        #expect(reports.map(\.operatorApplications) == Array(1...reports.count))
        #expect(reports.count == r.diagnostics.operatorApplications)
        #expect(reports.allSatisfy { $0.requested == 6 && (0...6).contains($0.converged) })
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.iterations <= $1.iterations && $0.seconds <= $1.seconds })
        // Restarts are counted as ARPACK makes them (its own count includes the last one, after
        // the final application).
        let last = try #require(reports.last)
        #expect(r.diagnostics.iterations >= 3, "the problem is meant to need restarts")
        #expect(last.iterations >= r.diagnostics.iterations - 1 && last.iterations <= r.diagnostics.iterations)
        // Nothing converged before the first Ritz values exist; some had before the end.
        #expect(reports.first!.converged == 0)
        #expect(reports.contains { $0.converged > 0 })
        #expect(last.description.hasPrefix("ARPACK: ") && last.description.contains("of 6 converged"))
    }

    @Test func longIntervalReportsNothingAndChangesNothing() throws {
        let a = TestMatrices.pathLaplacian(200)
        var c = SymmetricEigensolver.Configuration(count: 4, seed: 2)
        let quiet = try SymmetricEigensolver.compute(a, c)
        c.arpack.progressInterval = 3600
        var calls = 0
        let watched = try SymmetricEigensolver.compute(a, c) { _ in calls += 1 }
        #expect(calls == 0)
        // The hook only watches: same applications, same bits.
        #expect(watched.values == quiet.values && watched.vectors.elements == quiet.vectors.elements)
        #expect(watched.diagnostics.operatorApplications == quiet.diagnostics.operatorApplications)
    }

    @Test func svdAndGeneralSolverReportToo() throws {
        let a = TestMatrices.knownSpectrum(rows: 120, columns: 80, singularValues: TestMatrices.slowDecay(80), seed: 4)
        var svdConfiguration = ARPACKSVD.Configuration(rank: 5, seed: 1)
        svdConfiguration.arpack.progressInterval = 0
        var svdReports: [ARPACKProgress] = []
        let svd = try ARPACKSVD.compute(a, svdConfiguration) { svdReports.append($0) }
        // Each report is one application of A'A; the SVD counts A and A' separately, plus the
        // Rayleigh-Ritz pass.
        #expect(!svdReports.isEmpty && 2 * svdReports.count + 1 == svd.diagnostics.operatorApplications)
        #expect(svdReports.allSatisfy { $0.requested == 5 })

        let g = TestMatrices.nonsymmetric(n: 60, real: (0..<56).map { Double($0 + 1) }, complex: [(3.5, 2), (50.5, 1)], seed: 9)
        var generalConfiguration = GeneralEigensolver.Configuration(count: 4, seed: 3)
        generalConfiguration.arpack.progressInterval = 0
        var generalReports: [ARPACKProgress] = []
        let general = try GeneralEigensolver.compute(g, generalConfiguration) { generalReports.append($0) }
        #expect(generalReports.count == general.diagnostics.operatorApplications)
        #expect(generalReports.allSatisfy { (0...4).contains($0.converged) })
    }

    @Test func negativeIntervalIsRejected() {
        var c = SymmetricEigensolver.Configuration(count: 2)
        c.arpack.progressInterval = -1
        #expect(throws: SolverError.self) { try SymmetricEigensolver.compute(TestMatrices.pathLaplacian(20), c) }
        c.arpack.progressInterval = .nan
        #expect(throws: SolverError.self) { try SymmetricEigensolver.compute(TestMatrices.pathLaplacian(20), c) }
    }
}
