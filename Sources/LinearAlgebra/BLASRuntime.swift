import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension BLAS {
    /// Whether the CPU advertises the AVX-512 subsets OpenBLAS's SkylakeX kernels use
    /// (`avx512f`, `avx512bw`, `avx512vl`, `avx512dq`), read from `/proc/cpuinfo`.
    public static var cpuSupportsAVX512: Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains)
    }

    /// The spin time, as OpenBLAS's `OPENBLAS_THREAD_TIMEOUT` (log2 of CPU cycles), that the
    /// tools give OpenBLAS's idle worker threads: 2^18 cycles, about 0.1 ms. OpenBLAS's own
    /// default (2^28 cycles, about 0.1 s) keeps its workers spinning long after each call, and
    /// they then take the cores from this library's own threads (the sparse products run on
    /// Dispatch threads between BLAS calls). Measured on slashdot, 2 threads, top-64 `eigsh`
    /// through ARPACK: 15.2 s with the default, 11.2 s with 18 (the products alone 4.1 s -> 2.6 s).
    public static let workerSpinTimeout = 18

    /// Re-executes the current program once, before any BLAS call, with the OpenBLAS settings
    /// that OpenBLAS reads only when it loads:
    /// - `OPENBLAS_THREAD_TIMEOUT` = ``workerSpinTimeout`` unless already set;
    /// - `OPENBLAS_CORETYPE=SkylakeX` when OpenBLAS did not recognise an AVX-512 CPU and fell
    ///   back to its AVX2 kernels (as it does on AMD EPYC Zen 4): the AVX-512 kernels run GEMM
    ///   about twice as fast there. Not on a CPU without AVX-512 (those kernels would crash), nor
    ///   when OpenBLAS already uses AVX-512 kernels, nor when the variable is set (a user's
    ///   choice wins).
    /// Does nothing when neither variable needs setting (so the re-exec happens at most once) or
    /// when `EMBEDDINGS_NO_BLAS_REEXEC` is set. Call it first thing in `main`.
    public static func useAVX512KernelsIfAvailable() {
        let env = ProcessInfo.processInfo.environment
        guard env["EMBEDDINGS_NO_BLAS_REEXEC"] == nil else { return }
        var changed: [String] = []
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", String(workerSpinTimeout), 1)
            changed.append("OPENBLAS_THREAD_TIMEOUT")
        }
        if env["OPENBLAS_CORETYPE"] == nil {
            let core = coreName.lowercased()
            if !core.contains("skylakex") && !core.contains("cooperlake") && !core.contains("sapphire") && cpuSupportsAVX512 {
                setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
                changed.append("OPENBLAS_CORETYPE")
            }
        }
        guard !changed.isEmpty else { return }
        let arguments = CommandLine.arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArguments.append(nil)
        execv("/proc/self/exe", &cArguments)
        // execv returns only on failure: carry on with what OpenBLAS already has.
        for name in changed { unsetenv(name) }
    }
}
