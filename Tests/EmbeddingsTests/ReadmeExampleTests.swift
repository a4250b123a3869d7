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

    // Operators: D1 A D2 without copying A, applied to a block of 4 vectors (GEMM inside).
    let scaled = a.diagonallyScaled(left: [Double](repeating: 0.5, count: 200), right: nil)
    let y = scaled.apply(Matrix<Double>.gaussian(rows: 50, columns: 4, seed: 7))

    // The leading singular triplet satisfies A v = s u.
    let v = Matrix(rows: 50, columns: 1, elements: svd.vt.row(0))
    let u = Matrix(rows: 200, columns: 1, elements: svd.u.column(0))
    let residual = (a * v - svd.s[0] * u).frobeniusNorm / svd.s[0]
    print("s1 =", svd.s[0], "residual =", residual, "block:", y.rows, "x", y.columns)
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
