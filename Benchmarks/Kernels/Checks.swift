import Foundation
import LinearAlgebra

// Every kernel benchmark checks its kernel's answer against a plain reference before it times
// anything (as scipy's benchmarks do): an unchecked timing is meaningless. A wrong answer stops
// the run with a message naming the benchmark and the largest error.

/// Stops the benchmark run: the kernel's answer is wrong.
func failCheck(_ benchmark: String, _ problem: String) -> Never {
    FileHandle.standardError.write(Data("Kernels: \(benchmark): WRONG RESULT, not timed: \(problem)\n".utf8))
    exit(2)
}

/// `C = A B` checked at 64 seeded entries against a dot product in `Double`, within
/// `2 n ulp` of `sum |a_ik b_kj|` (the standard error bound of a length-n dot product).
func checkGEMM<S: BLASScalar>(_ name: String, a: Matrix<S>, b: Matrix<S>, c: Matrix<S>) {
    var rng = Xoshiro256(seed: 11)
    let n = a.columns
    let ulp = Double(S.ulpOfOne)
    for _ in 0..<64 {
        let i = Int(rng.next() % UInt64(a.rows)), j = Int(rng.next() % UInt64(b.columns))
        var exact = 0.0, magnitude = 0.0
        for k in 0..<n {
            let p = Double(a[i, k]) * Double(b[k, j])
            exact += p; magnitude += abs(p)
        }
        let error = abs(Double(c[i, j]) - exact)
        if !(error <= 2 * Double(n) * ulp * magnitude) {
            failCheck(name, "C[\(i), \(j)] = \(c[i, j]), reference \(exact) (error \(error), bound \(2 * Double(n) * ulp * magnitude))")
        }
    }
}

/// `Q` from the QR of `A`: orthonormal columns (`|q_i' q_j - δ_ij|`) and `A`'s first and last
/// columns inside its span (`||a - Q Q' a|| / ||a||`), both within `sqrt(m) * 64 ulp`.
func checkOrthonormalBasis(_ name: String, a: Matrix<Float>, q: Matrix<Float>) {
    let m = q.rows, k = q.columns
    guard m == a.rows, k == a.columns else { failCheck(name, "Q is \(m) x \(k) for A \(a.rows) x \(a.columns)") }
    let bound = Double(m).squareRoot() * 64 * Double(Float.ulpOfOne)
    func dot(_ x: ArraySlice<Float>, _ y: ArraySlice<Float>) -> Double {
        zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    func column(_ matrix: Matrix<Float>, _ j: Int) -> ArraySlice<Float> { matrix.elements[(j * m)..<((j + 1) * m)] }
    for (i, j) in [(0, 0), (0, 1), (k / 2, k / 2), (k - 1, 0), (k - 1, k - 1)] {
        let error = abs(dot(column(q, i), column(q, j)) - (i == j ? 1 : 0))
        if !(error <= bound) { failCheck(name, "q\(i)' q\(j) is off by \(error) (bound \(bound))") }
    }
    for j in [0, k - 1] {
        let x = column(a, j)
        let coefficients = (0..<k).map { dot(column(q, $0), x) }
        var residual = 0.0
        for r in 0..<m {
            var projected = 0.0
            for c in 0..<k { projected += Double(q.elements[r + c * m]) * coefficients[c] }
            residual += (Double(x[x.startIndex + r]) - projected) * (Double(x[x.startIndex + r]) - projected)
        }
        let relative = (residual / dot(x, x)).squareRoot()
        if !(relative <= bound) { failCheck(name, "column \(j) of A is \(relative) (relative) outside span(Q) (bound \(bound))") }
    }
}

/// `Y = A X` (transposed: `Y = A' X`) for a row-major `n x k` block `X`, checked without the
/// kernel under test. `A X`: 64 seeded rows recomputed from the CSR arrays. `A' X`: a seeded
/// probe `w`, since `w' (A' X) = (A w)' X` column by column, with `A w` from the CSR arrays.
/// Tolerance: 16 (row length) ulp of the sum of magnitudes, in float32.
func checkSparseProduct(_ name: String, a: CSRMatrix<Float>, x: [Float], k: Int, y: [Float], transposed: Bool) {
    let offsets = a.rowOffsets, indices = a.columnIndices, values = a.values
    let ulp = Double(Float.ulpOfOne)
    var rng = Xoshiro256(seed: 12)
    if !transposed {
        for _ in 0..<64 {
            let i = Int(rng.next() % UInt64(a.rows))
            let lo = Int(offsets[i]), hi = Int(offsets[i + 1])
            for c in 0..<k {
                var exact = 0.0, magnitude = 0.0
                for p in lo..<hi {
                    let t = Double(values[p]) * Double(x[Int(indices[p]) * k + c])
                    exact += t; magnitude += abs(t)
                }
                let error = abs(Double(y[i * k + c]) - exact)
                if !(error <= 16 * Double(max(hi - lo, 1)) * ulp * magnitude + 1e-30) {
                    failCheck(name, "Y[\(i), \(c)] = \(y[i * k + c]), reference \(exact) (error \(error))")
                }
            }
        }
        return
    }
    let w = (0..<a.columns).map { _ in Double(rng.nextUniform()) }
    var aw = [Double](repeating: 0, count: a.rows)
    for i in 0..<a.rows {
        for p in Int(offsets[i])..<Int(offsets[i + 1]) { aw[i] += Double(values[p]) * w[Int(indices[p])] }
    }
    for c in 0..<k {
        var probe = 0.0, reference = 0.0, magnitude = 0.0
        for j in 0..<a.columns { probe += w[j] * Double(y[j * k + c]) }
        for i in 0..<a.rows {
            let t = aw[i] * Double(x[i * k + c])
            reference += t; magnitude += abs(t)
        }
        let error = abs(probe - reference)
        if !(error <= 16 * 64 * ulp * magnitude) {
            failCheck(name, "column \(c): w'(A'X) = \(probe), (Aw)'X = \(reference) (error \(error), magnitude \(magnitude))")
        }
    }
}

/// The fused step `y = 2 A x - x - z` against the plain product followed by the same element-wise
/// arithmetic (equal to the bit by construction; allowed a few ulps of its terms).
func checkFusedStep(_ name: String, a: CSRMatrix<Float>, x: [Float], z: [Float], k: Int, y: [Float]) {
    var plain = [Float](repeating: 0, count: y.count)
    x.withUnsafeBufferPointer { xp in plain.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0) } }
    let ulp = Double(Float.ulpOfOne)
    for i in stride(from: 0, to: y.count, by: 7) {
        let expected = 2 * plain[i] + -1 * x[i] - z[i]
        let scale = abs(Double(2 * plain[i])) + abs(Double(x[i])) + abs(Double(z[i]))
        if !(abs(Double(y[i]) - Double(expected)) <= 4 * ulp * scale) {
            failCheck(name, "element \(i): fused \(y[i]), product then recurrence \(expected)")
        }
    }
}

/// The machine's stream-triad bandwidth in bytes per second, measured once per run (best of 5):
/// `a[i] = b[i] + 3 c[i]` over three arrays of 16M doubles (384 MB, far beyond the caches) on
/// `threads` threads, counting 24 bytes an element as STREAM does. The memory-bound kernels
/// quote their rates as a share of it.
func measureStreamTriad(threads: Int) -> Double {
    let count = 16 << 20
    let a = UnsafeMutablePointer<Double>.allocate(capacity: count)
    let b = UnsafeMutablePointer<Double>.allocate(capacity: count)
    let c = UnsafeMutablePointer<Double>.allocate(capacity: count)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    let arrays = UnsafeSendableTriad(a: a, b: b, c: c)
    // First touch on the threads that will use the pages.
    Parallel.forEachChunk(count: count, threads: threads) { range in
        for i in range { arrays.a[i] = 0; arrays.b[i] = Double(i & 1023); arrays.c[i] = 1 }
    }
    var best = 0.0
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        Parallel.forEachChunk(count: count, threads: threads) { range in
            for i in range { arrays.a[i] = arrays.b[i] + 3 * arrays.c[i] }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = max(best, Double(24 * count) / seconds)
    }
    // The triad's own answer is checked too.
    for i in stride(from: 0, to: count, by: 4099) where a[i] != Double(i & 1023) + 3 {
        failCheck("stream triad", "a[\(i)] = \(a[i]), expected \(Double(i & 1023) + 3)")
    }
    return best
}

struct UnsafeSendableTriad: @unchecked Sendable {
    let a: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>, c: UnsafeMutablePointer<Double>
}

/// The triad figure of this run, by thread count (measured on first use).
final class StreamTriad: @unchecked Sendable {
    static let shared = StreamTriad()
    private var measured = [Int: Double]()
    private let lock = NSLock()

    func bytesPerSecond(threads: Int) -> Double {
        lock.lock(); defer { lock.unlock() }
        if let value = measured[threads] { return value }
        let value = measureStreamTriad(threads: threads)
        FileHandle.standardError.write(Data(String(format: "Kernels: stream triad on %d thread(s): %.1f GB/s (measured)\n", threads, value / 1e9).utf8))
        measured[threads] = value
        return value
    }
}

/// Which benchmarks have had their answer checked in this process (each closure runs once per
/// iteration; the check runs on the first).
final class CheckedBenchmarks: @unchecked Sendable {
    static let shared = CheckedBenchmarks()
    private var names = Set<String>()
    private let lock = NSLock()

    /// True the first time it is asked about `name`.
    func first(_ name: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return names.insert(name).inserted
    }
}
