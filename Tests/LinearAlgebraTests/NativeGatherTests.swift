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

    @Test func theNativeKernelRunsWhereTheCPUHasAVX() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            return   // not Linux on x86: nothing to compare with
        }
        let hasAVX = flags.split(separator: " ").contains("avx")
        #expect(nativeGatherAvailable == hasAVX, "nativeGatherAvailable = \(nativeGatherAvailable) where /proc/cpuinfo \(hasAVX ? "lists" : "does not list") avx")
    }
}
