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

    /// Re-executes the current program with `OPENBLAS_CORETYPE=SkylakeX` when OpenBLAS did not
    /// recognise an AVX-512 CPU and fell back to its AVX2 kernels (as it does on AMD EPYC Zen 4):
    /// the AVX-512 kernels run GEMM about twice as fast there. OpenBLAS reads the variable only
    /// when it loads, hence the re-exec. Does nothing when the variable is already set (so a
    /// user's choice wins and the re-exec happens at most once), when
    /// `EMBEDDINGS_NO_BLAS_REEXEC` is set, on a CPU without AVX-512 (where those kernels would
    /// crash), or when OpenBLAS already uses AVX-512 kernels. Call it first thing in `main`.
    public static func useAVX512KernelsIfAvailable() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["EMBEDDINGS_NO_BLAS_REEXEC"] == nil else { return }
        let core = coreName.lowercased()
        guard !core.contains("skylakex") && !core.contains("cooperlake") && !core.contains("sapphire") else { return }
        guard cpuSupportsAVX512 else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        let arguments = CommandLine.arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArguments.append(nil)
        execv("/proc/self/exe", &cArguments)
        // execv returns only on failure: carry on with the default kernels.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
