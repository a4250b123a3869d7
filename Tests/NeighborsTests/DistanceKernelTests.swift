import CNeighbors
import LinearAlgebra
import Testing

/// The C distance kernels of the graph search (portable and AVX2/FMA, chosen at run time) against
/// a double-precision reference, for dimensions that exercise every loop (32-float steps, 8-float
/// steps, the scalar tail) and gathered rows at scattered ids.
@Suite struct DistanceKernelTests {
    @Test(arguments: [1, 7, 8, 31, 32, 64, 100, 129])
    func batchKernelsMatchDoubleReference(d: Int) {
        var rng = Xoshiro256(seed: UInt64(d))
        let rows = 50
        let base = (0..<(rows * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        let q = (0..<d).map { _ in Float.random(in: -1...1, using: &rng) }
        let ids: [Int32] = (0..<20).map { _ in Int32.random(in: 0..<Int32(rows), using: &rng) }
        for avx2: Int32 in [0, 1] {
            var dots = [Float](repeating: .nan, count: ids.count), l2s = dots
            cnn_batch_dot_using(avx2, q, base, d, ids, ids.count, &dots)
            cnn_batch_l2_using(avx2, q, base, d, ids, ids.count, &l2s)
            for (i, id) in ids.enumerated() {
                let v = base[(Int(id) * d)..<(Int(id) * d + d)]
                var dot = 0.0, absSum = 0.0, l2 = 0.0
                for (a, b) in zip(q, v) {
                    dot += Double(a) * Double(b); absSum += abs(Double(a) * Double(b))
                    l2 += (Double(a) - Double(b)) * (Double(a) - Double(b))
                }
                // A sum of d rounded products: error below d * eps times the sum of magnitudes.
                let eps = Double(Float.ulpOfOne)
                #expect(abs(Double(dots[i]) - dot) <= Double(d + 1) * eps * absSum, "dot, d \(d), avx2 \(avx2)")
                #expect(abs(Double(l2s[i]) - l2) <= Double(d + 2) * eps * l2 + 1e-30, "l2, d \(d), avx2 \(avx2)")
                let pair = base.withUnsafeBufferPointer { cnn_dot(q, $0.baseAddress! + Int(id) * d, d) }
                #expect(abs(Double(pair) - dot) <= Double(d + 1) * eps * absSum)
            }
        }
    }

    @Test func zeroRowsGiveZero() {
        var out: [Float] = [1, 1]
        let ids: [Int32] = [0, 0]
        cnn_batch_dot([0, 0, 0], [Float](repeating: 0, count: 3), 3, ids, 2, &out)
        #expect(out == [0, 0])
        cnn_batch_l2([1, 2, 2], [Float](repeating: 0, count: 3), 3, ids, 2, &out)
        #expect(out == [9, 9])
    }
}
