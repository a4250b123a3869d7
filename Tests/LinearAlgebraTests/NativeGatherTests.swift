import Foundation
import Testing
@testable import LinearAlgebra

// Issue 11: the wide Float gather runs in C with 256-bit AVX vectors where the CPU has them
// (`csk_gather_f32`). It must give the Swift kernel's bits exactly (the same products, rounded
// before each add, in the order of the nonzeros) for every width that takes a different panel
// split or tail window, with and without the fused epilogue, into row-major and strided outputs,
// on one thread and two; and it must run wherever the CPU reports AVX.
// Serialized: the cases switch a process-wide flag, so one case's Swift-only phase must not
// overlap another's native phase (that case would then compare the Swift kernel with itself).
@Suite("Native AVX gather", .serialized) struct NativeGatherTests {
    /// `body` with the native kernel allowed (`true`) or not.
    static func with<T>(native: Bool, _ body: () -> T) -> T {
        let saved = nativeGatherEnabled
        nativeGatherEnabled = native
        defer { nativeGatherEnabled = saved }
        return body()
    }

    @Test(arguments: [8, 9, 15, 16, 23, 64, 74, 80, 96, 97, 100, 138, 200])
    func nativeGatherEqualsTheSwiftKernelToTheBit(k: Int) throws {
        let n = 600
        let a = try CSRMatrix<Float>.randomUniform(rows: n, columns: n, nonzeros: 8_000, seed: 11 &+ UInt64(k))
        a.buildTransposeIndex()
        var rng = Xoshiro256(seed: 3 &+ UInt64(k))
        let x = (0..<(n * k)).map { _ in Float(2 * rng.nextUniform() - 1) }
        let z = (0..<(n * k)).map { _ in Float(2 * rng.nextUniform() - 1) }
        let xm = Matrix<Float>(rows: n, columns: k, elements: x)   // column-major: the strided-output path
        for threads in [1, 2] {
            func products() -> [[Float]] {
                var y = [Float](repeating: .nan, count: n * k), yt = y, fused = y, plainStep = y
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0, threads: threads) }
                    yt.withUnsafeMutableBufferPointer { a.multiplyTranspose(rowMajor: xp, columns: k, into: $0, threads: threads) }
                    z.withUnsafeBufferPointer { zp in
                        fused.withUnsafeMutableBufferPointer {
                            a.multiplyAdd(rowMajor: xp, columns: k, alpha: 0.75, beta: -0.25, subtracting: zp, into: $0, threads: threads)
                        }
                    }
                    plainStep.withUnsafeMutableBufferPointer {
                        a.multiplyAdd(rowMajor: xp, columns: k, alpha: 2, beta: -1, subtracting: nil, into: $0, threads: threads)
                    }
                }
                var strided = Matrix<Float>(rows: n, columns: k, repeating: .nan)
                a.apply(xm, into: &strided, threads: threads)
                return [y, yt, fused, plainStep, strided.elements]
            }
            let native = Self.with(native: true, products)
            let swift = Self.with(native: false, products)
            for (name, (p, q)) in zip(["A X", "A' X", "2 A X - X - Z (alpha 0.75)", "alpha A X + beta X", "A X column-major"], zip(native, swift)) {
                let unwritten = p.filter { $0.isNaN }.count
                let differing = zip(p, q).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(unwritten == 0, "k = \(k), \(threads) thread(s): \(name) left \(unwritten) elements unwritten")
                #expect(differing == 0, "k = \(k), \(threads) thread(s): \(name): \(differing) of \(p.count) elements differ between the AVX and the Swift kernels")
            }
        }
    }

    /// A square matrix whose rows have 0, 1, 127, 128, 129, 256, 300 and 5,000 nonzeros (then
    /// short random rows): the long rows take the segmented sum, the short ones the plain one.
    static func longRowMatrix(n: Int, seed: UInt64) throws -> CSRMatrix<Float> {
        var rng = Xoshiro256(seed: seed)
        let lengths = [0, 1, 127, 128, 129, 256, 300, 5_000] + (8..<n).map { _ in Int(rng.nextUniform() * 6) }
        var offsets: [Int64] = [0], indices: [Int32] = [], values: [Float] = []
        for length in lengths {
            var chosen = Set<Int>()
            while chosen.count < length { chosen.insert(min(n - 1, Int(rng.nextUniform() * Double(n)))) }
            let columns = chosen.sorted()
            indices += columns.map { Int32($0) }
            values += columns.map { _ in Float(2 * rng.nextUniform() - 1) }
            offsets.append(Int64(indices.count))
        }
        return try CSRMatrix(rows: n, columns: n, rowOffsets: offsets, columnIndices: indices, values: values)
    }

    @Test(arguments: [1, 3, 8, 12, 64, 74, 100])
    func longRowsGiveTheSameBitsInBothKernels(k: Int) throws {
        let n = 6_000
        let a = try Self.longRowMatrix(n: n, seed: 5 &+ UInt64(k))
        var rng = Xoshiro256(seed: 9 &+ UInt64(k))
        let x = (0..<(n * k)).map { _ in Float(2 * rng.nextUniform() - 1) }
        let z = (0..<(n * k)).map { _ in Float(2 * rng.nextUniform() - 1) }
        for threads in [1, 2] {
            func products() -> [[Float]] {
                var y = [Float](repeating: .nan, count: n * k), fused = y
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0, threads: threads) }
                    z.withUnsafeBufferPointer { zp in
                        fused.withUnsafeMutableBufferPointer {
                            a.multiplyAdd(rowMajor: xp, columns: k, alpha: 0.75, beta: -0.25, subtracting: zp, into: $0, threads: threads)
                        }
                    }
                }
                return [y, fused]
            }
            let native = Self.with(native: true, products)
            let swift = Self.with(native: false, products)
            for (name, (p, q)) in zip(["A X", "alpha A X + beta X - Z"], zip(native, swift)) {
                #expect(p.allSatisfy { !$0.isNaN }, "k = \(k): \(name) left elements unwritten")
                let differing = zip(p, q).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "k = \(k), \(threads) thread(s): \(name): \(differing) elements differ between the AVX and the Swift kernels")
            }
            // Every row against the same product in double: within the error bound of a
            // recursive float32 sum of at most 128 rounded products (then one rounding to float).
            if threads == 2 { continue }   // a row's arithmetic does not depend on the threads: one is enough
            let y = native[0], offsets = a.rowOffsets, columns = a.columnIndices, values = a.values
            let u = Double(Float.ulpOfOne) / 2
            var worst = 0.0
            for r in 0..<n {
                let lo = Int(offsets[r]), hi = Int(offsets[r + 1])
                for c in 0..<k {
                    var exact = 0.0, magnitude = 0.0
                    for p in lo..<hi {
                        let t = Double(values[p]) * Double(x[Int(columns[p]) * k + c])
                        exact += t; magnitude += abs(t)
                    }
                    let bound = Double(min(hi - lo, longRowSegment) + 2) * u * magnitude + Double(Float.leastNormalMagnitude)
                    worst = max(worst, abs(Double(y[r * k + c]) - exact) / bound)
                }
            }
            #expect(worst <= 1, "k = \(k): an element is \(worst) times its error bound off the double product")
        }
    }

    /// The failure this guards against: a hub's row of alike terms (the top eigenvector of a
    /// normalised adjacency makes every term of a row equal) summed straight in float32 drifts
    /// by about 1e-3 of its value; segmented, it stays within 129 half-ulps of the exact sum.
    @Test(arguments: [1, 74])
    func aHubRowOfAlikeTermsStaysAccurate(k: Int) throws {
        let n = 100_001, d = 100_000
        let offsets: [Int64] = [0, Int64(d)] + [Int64](repeating: Int64(d), count: n - 1)
        let a = try CSRMatrix<Float>(rows: n, columns: n, rowOffsets: offsets, columnIndices: (1...d).map { Int32($0) },
                                     values: [Float](repeating: 1 / Float(d).squareRoot(), count: d))
        let x = (0..<(n * k)).map { i in Float(0.3 + 0.001 * Double(i % k)) }
        for native in [true, false] {
            var y = [Float](repeating: .nan, count: n * k)
            Self.with(native: native) {
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0) } }
            }
            for c in 0..<k {
                let term = Double(Float(1 / Float(d).squareRoot()) * x[c])   // each product, rounded as the kernel rounds it
                let exact = Double(d) * term
                let relative = abs(Double(y[c]) - exact) / exact
                #expect(relative <= 129 * Double(Float.ulpOfOne) / 2, "k = \(k), column \(c), native \(native): the hub's row is \(relative) off (relative)")
                #expect(y[n * k - k + c] == 0, "k = \(k): an empty row is not zero")
            }
        }
    }

    @Test func theNativeKernelRunsWhereTheCPUHasAVX() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            return   // not Linux on x86: nothing to compare with
        }
        let hasAVX = flags.split(separator: " ").contains("avx")
        #expect(nativeGatherAvailable == hasAVX, "nativeGatherAvailable = \(nativeGatherAvailable) where /proc/cpuinfo \(hasAVX ? "lists" : "does not list") avx")
    }
}
