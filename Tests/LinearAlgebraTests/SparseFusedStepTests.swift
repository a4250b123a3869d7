import Testing
@testable import LinearAlgebra

// The fused gather (`multiplyAdd(rowMajor:)`: `Y = alpha A X + beta X - Z` in one pass, the
// Chebyshev filter's three-term step, issue 11) against the unfused product followed by the
// element-wise pass, for widths that take each path of the kernel (whole 4-vector panels, single
// vectors, the overlapping tail window, a lane-by-lane tail, one column), with and without `Z`,
// on one and two threads, in Float and Double: equal within a few ulps of the terms (the same
// operations in the same order, so in practice to the bit).
@Suite("Sparse fused Chebyshev step") struct SparseFusedStepTests {
    static func check<S: BLASScalar & BinaryFloatingPoint>(_: S.Type, k: Int, withZ: Bool, threads: Int) throws {
        let a = try CSRMatrix<S>.randomUniform(rows: 600, columns: 600, nonzeros: 12_000, seed: 11)
        let n = a.rows
        var rng = Xoshiro256(seed: 21)
        let x = (0..<(n * k)).map { _ in S(2 * rng.nextUniform() - 1) }
        let z = (0..<(n * k)).map { _ in S(2 * rng.nextUniform() - 1) }
        let alpha = S(2 / 0.37), beta = S(-2 * 0.21 / 0.37)
        var product = [S](repeating: .nan, count: n * k), fused = product
        x.withUnsafeBufferPointer { xp in
            product.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0, threads: threads) }
            z.withUnsafeBufferPointer { zp in
                fused.withUnsafeMutableBufferPointer {
                    a.multiplyAdd(rowMajor: xp, columns: k, alpha: alpha, beta: beta, subtracting: withZ ? zp : nil,
                                  into: $0, threads: threads)
                }
            }
        }
        var worst = 0.0
        for i in 0..<(n * k) {
            var unfused = alpha * product[i] + beta * x[i]
            if withZ { unfused -= z[i] }
            let scale = abs(Double(alpha * product[i])) + abs(Double(beta * x[i])) + (withZ ? abs(Double(z[i])) : 0)
            let error = abs(Double(fused[i]) - Double(unfused))
            #expect(fused[i].isFinite)
            #expect(error <= 4 * Double(S.ulpOfOne) * scale + Double(S.leastNormalMagnitude),
                    "k = \(k), element \(i): fused \(fused[i]) against unfused \(unfused)")
            worst = max(worst, error / max(scale, Double(S.leastNormalMagnitude)))
        }
        #expect(worst <= 4 * Double(S.ulpOfOne))
    }

    @Test(arguments: [1, 3, 16, 17, 64, 74, 96])
    func fusedStepEqualsProductThenRecurrenceFloat(k: Int) throws {
        for threads in [1, 2] {
            try Self.check(Float.self, k: k, withZ: true, threads: threads)
            try Self.check(Float.self, k: k, withZ: false, threads: threads)
        }
    }

    @Test(arguments: [1, 5, 8, 33, 96])
    func fusedStepEqualsProductThenRecurrenceDouble(k: Int) throws {
        try Self.check(Double.self, k: k, withZ: true, threads: 2)
        try Self.check(Double.self, k: k, withZ: false, threads: 1)
    }

    /// `alpha = 0, beta = 1` and no `Z` copy the block (the epilogue reads row `r` of `X` for
    /// row `r` of `Y`, not a gathered row).
    @Test func alphaZeroBetaOneCopiesTheBlock() throws {
        let a = try CSRMatrix<Float>.randomUniform(rows: 40, columns: 40, nonzeros: 200, seed: 1)
        let x = [Float](repeating: 1, count: 40 * 2)
        var y = [Float](repeating: .nan, count: 40 * 2)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { a.multiplyAdd(rowMajor: xp, columns: 2, alpha: 0, beta: 1, subtracting: nil, into: $0) }
        }
        #expect(y == x, "alpha 0, beta 1, no Z: Y = X")
    }
}
