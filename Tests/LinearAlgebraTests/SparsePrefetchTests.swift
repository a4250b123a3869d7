import Testing
@testable import LinearAlgebra

// The gather kernel's software prefetch (every line of the row's panel and tail window, issue 11)
// is a hint: with it and without it the products must be the same to the bit, for widths that
// take each path of the kernel (whole 4-vector panels, single vectors, the overlapping tail
// window, a lane-by-lane tail, one column), and equal to a Double reference within rounding.
@Suite("Sparse gather prefetch") struct SparsePrefetchTests {
    @Test(arguments: [1, 3, 16, 17, 64, 74, 75, 138])
    func prefetchingGatherEqualsThePlainOneToTheBit(k: Int) throws {
        let a = try CSRMatrix<Float>.randomUniform(rows: 2000, columns: 3000, nonzeros: 40_000, seed: 5)
        var rng = Xoshiro256(seed: 9)
        let x = (0..<(a.columns * k)).map { _ in Float(2 * rng.nextUniform() - 1) }
        func product(prefetch: Int) -> [Float] {
            let saved = gatherPrefetchDistance
            gatherPrefetchDistance = prefetch
            defer { gatherPrefetchDistance = saved }
            var y = [Float](repeating: .nan, count: a.rows * k)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0, threads: 2) } }
            return y
        }
        let plain = product(prefetch: 0), prefetched = product(prefetch: 8), far = product(prefetch: 64)
        #expect(plain == prefetched, "k = \(k): prefetch distance 8 changed the result")
        #expect(plain == far, "k = \(k): prefetch distance 64 changed the result")
        // And right: a few rows against a Double sum, within the summation's rounding bound.
        for i in stride(from: 0, to: a.rows, by: 97) {
            for c in Set([0, k / 2, k - 1]) {
                var ref = 0.0, bound = 0.0
                for p in Int(a.rowOffsets[i])..<Int(a.rowOffsets[i + 1]) {
                    let t = Double(a.values[p]) * Double(x[Int(a.columnIndices[p]) * k + c])
                    ref += t; bound += abs(t)
                }
                let terms = Double(a.rowOffsets[i + 1] - a.rowOffsets[i])
                #expect(abs(Double(plain[i * k + c]) - ref) <= (terms + 2) * Double(Float.ulpOfOne) * bound + 1e-30)
            }
        }
    }
}
