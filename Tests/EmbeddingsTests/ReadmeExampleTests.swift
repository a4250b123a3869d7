import Foundation
import Testing
import Embeddings

/// The README's library example, verbatim. `readmeContainsThisExample` fails if the README's copy drifts.
func readmeExample() throws -> (singularValues: [Double], residual: Double) {
    // README-EXAMPLE-BEGIN
    // Dense: a 200 x 50 Gaussian matrix, its thin QR and SVD (LAPACK geqrf/orgqr, gesdd).
    let a = Matrix<Double>.gaussian(rows: 200, columns: 50, seed: 42)
    let qr = try a.qr()
    let svd = try a.svd()
    print("||Q'Q - I|| =", (Matrix.product(qr.q, .transpose, qr.q) - .identity(50)).frobeniusNorm)

    // Sparse: build a 200 x 50 CSR matrix from triplets (duplicates summed), multiply a block.
    var coo = COOMatrix<Double>(rows: 200, columns: 50)
    for i in 0..<200 { coo.append(row: i, column: (7 * i) % 50, value: 1); coo.append(row: i, column: i % 50, value: 2) }
    let sparse = try coo.toCSR(duplicates: .sum)
    let block = Matrix<Double>.gaussian(rows: 50, columns: 4, seed: 7)
    let spmm = sparse.apply(block)                       // A X, multithreaded SpMM
    print("SpMM error vs dense GEMM:", (spmm - sparse.toDense() * block).frobeniusNorm)

    // Operators: D1 A D2 + A without copying A, and a randomized truncated SVD of it.
    let degrees = sparse.rowSums().map { 1 / $0.squareRoot() }
    let op = SumOperator(sparse.diagonallyScaled(left: degrees, right: nil), a)
    let top = try RandomizedSVD.compute(op, .init(rank: 5, seed: 1))
    print("top singular values:", top.s, "max residual:", top.diagnostics.maxRelativeResidual)

    // The leading dense singular triplet satisfies A v = s u.
    let v = Matrix(rows: 50, columns: 1, elements: svd.vt.row(0))
    let u = Matrix(rows: 200, columns: 1, elements: svd.u.column(0))
    let residual = (a * v - svd.s[0] * u).frobeniusNorm / svd.s[0]
    print("s1 =", svd.s[0], "residual =", residual)
    // README-EXAMPLE-END
    return (svd.s, residual)
}

@Test func readmeExampleRuns() throws {
    let (s, residual) = try readmeExample()
    #expect(s.count == 50)
    #expect(residual < 100 * Double.ulpOfOne * 200)
}

@Test func readmeContainsThisExample() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let source = try String(contentsOf: here, encoding: .utf8)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let lines = source.components(separatedBy: "\n")
    let begin = lines.firstIndex { $0.contains("README-EXAMPLE-" + "BEGIN") }!
    let end = lines.firstIndex { $0.contains("README-EXAMPLE-" + "END") }!
    let example = lines[(begin + 1)..<end].map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : $0 }
    #expect(readme.contains(example.joined(separator: "\n")), "README.md's library example differs from \(here.lastPathComponent)")
}
