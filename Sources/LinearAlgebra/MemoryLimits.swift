// Memory limits in force (RLIMIT_AS, the cgroup v2 memory.max) and a per-phase memory budget
// checked against them before a run allocates, so that a job under a limit stops with an error
// that says what it needs, what it may use and what to change, instead of aborting or hanging.
import CLinearAlgebra
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The memory limits in force for this process and what it already uses, read from the kernel.
///
/// Two kinds of limit stop a job: the address-space limit (`ulimit -v`, `RLIMIT_AS`), which
/// counts every mapping (reserved or touched), and the cgroup's `memory.max` (containers, batch
/// schedulers, `systemd-run -p MemoryMax=`), which counts resident and cached pages.
public struct MemoryLimits: Sendable, Equatable {
    /// The soft `RLIMIT_AS` in bytes, or nil when unlimited.
    public var addressSpaceLimit: Int?
    /// The process's mapped address space (`VmSize`) in bytes.
    public var addressSpaceInUse: Int
    /// The cgroup v2 `memory.max` of this process's cgroup in bytes, or nil when `max` or absent.
    public var cgroupLimit: Int?
    /// The cgroup's `memory.current` in bytes (0 when unknown).
    public var cgroupInUse: Int
    /// The cgroup directory the limit was read from, for messages.
    public var cgroupPath: String?

    public init(addressSpaceLimit: Int?, addressSpaceInUse: Int, cgroupLimit: Int?, cgroupInUse: Int,
                cgroupPath: String? = nil) {
        self.addressSpaceLimit = addressSpaceLimit
        self.addressSpaceInUse = addressSpaceInUse
        self.cgroupLimit = cgroupLimit
        self.cgroupInUse = cgroupInUse
        self.cgroupPath = cgroupPath
    }

    /// Reads the limits now: `getrlimit(RLIMIT_AS)`, `VmSize` from `/proc/self/status`, and the
    /// cgroup v2 files under `/sys/fs/cgroup` named by `/proc/self/cgroup`.
    public static func current() -> MemoryLimits {
        var limit = rlimit()
        var addressLimit: Int? = nil
        if getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0 && limit.rlim_cur != rlim_t.max {
            addressLimit = Int(clamping: limit.rlim_cur)
        }
        var inUse = 0
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmSize:") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if fields.count >= 2, let kb = Int(fields[1]) { inUse = kb * 1024 }
            }
        }
        var cgroupLimit: Int? = nil
        var cgroupInUse = 0
        var cgroupPath: String? = nil
        if let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) {
            // The nearest limit on the way up the hierarchy applies.
            var path = "/sys/fs/cgroup" + String(line.dropFirst(3))
            while path.hasPrefix("/sys/fs/cgroup") {
                if let max = readTrimmed(path + "/memory.max"), max != "max", let bytes = Int(max) {
                    cgroupLimit = bytes
                    cgroupInUse = readTrimmed(path + "/memory.current").flatMap { Int($0) } ?? 0
                    cgroupPath = path
                    break
                }
                if path == "/sys/fs/cgroup" { break }
                path = (path as NSString).deletingLastPathComponent
            }
        }
        return MemoryLimits(addressSpaceLimit: addressLimit, addressSpaceInUse: inUse,
                            cgroupLimit: cgroupLimit, cgroupInUse: cgroupInUse, cgroupPath: cgroupPath)
    }

    static func readTrimmed(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether any limit is in force.
    public var isLimited: Bool { addressSpaceLimit != nil || cgroupLimit != nil }

    /// Under an address-space limit, caps glibc's malloc arenas at two (each new arena reserves
    /// 64 MiB of address space, which would otherwise eat the headroom the budget counted on).
    /// Does nothing without such a limit. Call it early, before threads allocate.
    public static func adaptAllocatorToLimits() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which Glibc's module does not export.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mArenaMax: Int32 = -8
        if current().addressSpaceLimit != nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            _ = unsafeBitCast(symbol, to: Mallopt.self)(mArenaMax, 2)
        }
        #endif
    }

    /// Lets glibc's malloc serve blocks of up to `bytes` (default 1 GiB) from its heap and keep
    /// freed memory for the next block, instead of mapping every block over 32 MiB afresh and
    /// unmapping it when freed (`mallopt(M_MMAP_THRESHOLD, bytes)`, and `M_TRIM_THRESHOLD` -1:
    /// the heap is never trimmed, so the process keeps its peak until it exits). A solver
    /// that allocates an `n x l` block per step then reuses pages it already touched: each fresh
    /// page costs a fault and the kernel's zeroing (a 296 MiB block 0.3-0.6 s on this project's
    /// machine; 884k faults and 11.6 s of system time in one 1M / 20M `follow-graph-svd` run).
    /// The cost: freed blocks stay resident until reused, so the peak resident size can grow by
    /// the holes between blocks of different sizes. Does nothing under an address-space or
    /// cgroup limit (``isLimited``), where that headroom is not there to spend. Call it early.
    /// - Returns: whether the settings were applied.
    @discardableResult
    public static func keepFreedBlocksForReuse(upTo bytes: Int = 1 << 30) -> Bool {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3
        let value = Int32(clamping: bytes)
        guard value > 0, !current().isLimited,
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        // Trimming off: with a trim threshold below the run's peak, freeing the blocks at the
        // top of the heap gave their pages back and the next blocks faulted them in again.
        return mallopt(mMmapThreshold, value) == 1 && mallopt(mTrimThreshold, -1) == 1
        #else
        return false
        #endif
    }
}

/// What a run will hold, phase by phase, checked against ``MemoryLimits`` before it allocates.
///
/// Each phase's `bytes` is the memory held at that phase's peak on top of what the process
/// already uses when the budget is checked (estimated from the input's sizes; see the tool that
/// builds it). ``check(_:)`` compares the largest phase, plus OpenBLAS's work buffers still to
/// be mapped and a margin for thread stacks, with the headroom under each limit.
public struct MemoryBudget: Sendable, Equatable {
    /// One phase of a run.
    public struct Phase: Sendable, Equatable {
        /// Short name, e.g. `"read"`, `"solve"`.
        public var name: String
        /// Bytes held at the phase's peak, beyond the process's current use.
        public var bytes: Int
        /// What the estimate counts, e.g. `"2 x 905,468 x 74 float32 blocks"`.
        public var detail: String
        public init(name: String, bytes: Int, detail: String) {
            self.name = name; self.bytes = bytes; self.detail = detail
        }
    }

    /// The phases in run order.
    public var phases: [Phase]
    /// Address space OpenBLAS still has to map for its work buffers (see ``BLAS/workBufferBytes``).
    public var blasBuffers: Int
    /// What the user can change to need less, e.g. `"a smaller --dim or --max-nodes"`.
    public var advice: String

    /// Address space for thread stacks and allocator slack that no phase accounts for.
    public static let margin = 32 << 20

    public init(phases: [Phase], blasBuffers: Int = 0, advice: String) {
        self.phases = phases
        self.blasBuffers = blasBuffers
        self.advice = advice
    }

    /// The largest phase.
    public var peak: Phase { phases.max(by: { $0.bytes < $1.bytes }) ?? Phase(name: "none", bytes: 0, detail: "") }

    /// One line per phase, e.g. `memory budget: solve    412.3 MiB  (…)`.
    public var lines: [String] {
        var result = phases.map { p in
            "memory budget: \(p.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(MemoryBudget.format(p.bytes).leftPadded(10))  (\(p.detail))"
        }
        if blasBuffers > 0 {
            result.append("memory budget: \("openblas".padding(toLength: 8, withPad: " ", startingAt: 0)) \(MemoryBudget.format(blasBuffers).leftPadded(10))  (address space for OpenBLAS's per-thread work buffers)")
        }
        return result
    }

    /// Throws ``MemoryBudgetError`` when the peak phase does not fit the headroom under a limit.
    public func check(_ limits: MemoryLimits = .current()) throws(MemoryBudgetError) {
        let peak = self.peak
        if let limit = limits.addressSpaceLimit {
            let needed = limits.addressSpaceInUse + peak.bytes + blasBuffers + Self.margin
            if needed > limit {
                throw MemoryBudgetError(phase: peak.name, needed: needed, allowed: limit,
                                        limit: "address-space limit (ulimit -v, RLIMIT_AS)",
                                        detail: "\(MemoryBudget.format(limits.addressSpaceInUse)) in use + \(MemoryBudget.format(peak.bytes)) for \(peak.name) (\(peak.detail))" + (blasBuffers > 0 ? " + \(MemoryBudget.format(blasBuffers)) OpenBLAS buffers" : "") + " + \(MemoryBudget.format(Self.margin)) margin",
                                        advice: advice + ", or raise the limit (ulimit -v)")
            }
        }
        if let limit = limits.cgroupLimit {
            let needed = limits.cgroupInUse + peak.bytes
            if needed > limit {
                throw MemoryBudgetError(phase: peak.name, needed: needed, allowed: limit,
                                        limit: "cgroup memory.max" + (limits.cgroupPath.map { " (\($0))" } ?? ""),
                                        detail: "\(MemoryBudget.format(limits.cgroupInUse)) in use + \(MemoryBudget.format(peak.bytes)) for \(peak.name) (\(peak.detail))",
                                        advice: advice + ", or raise the cgroup's memory.max")
            }
        }
    }

    /// `1.5 GiB`, `12.0 MiB`, `512 KiB`.
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= Double(1 << 30) { return String(format: "%.2f GiB", b / Double(1 << 30)) }
        if b >= Double(1 << 20) { return String(format: "%.1f MiB", b / Double(1 << 20)) }
        return String(format: "%.0f KiB", b / 1024)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// A run would not fit the memory limits in force.
public struct MemoryBudgetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The phase that needs the most.
    public var phase: String
    /// Bytes needed (under the limit's accounting), and bytes allowed.
    public var needed: Int, allowed: Int
    /// Which limit, in words.
    public var limit: String
    /// How `needed` adds up.
    public var detail: String
    /// What to change.
    public var advice: String

    /// Prints `Error: <description>` on stderr and ends the process with status 1 at once,
    /// without the exit handlers: an OpenBLAS worker thread whose buffer could not be mapped
    /// spins forever, and OpenBLAS's exit handler would wait for it.
    public func exitImmediately() -> Never {
        fflush(nil)
        FileHandle.standardError.write(Data("Error: \(description)\n".utf8))
        _exit(1)
    }

    public var description: String {
        "not enough memory: the \(phase) phase needs \(MemoryBudget.format(needed)) but the \(limit) allows \(MemoryBudget.format(allowed)) (\(detail)); use \(advice)"
    }
}

extension BLAS {
    /// Address space one OpenBLAS work buffer takes: OpenBLAS 0.3.x maps `BUFFER_SIZE`
    /// (128 MiB on x86_64 and arm64) per thread that runs a level-3 or LAPACK routine, and keeps
    /// it for the life of the process.
    public static let workBufferBytes = (128 << 20) + (8 << 10)

    nonisolated(unsafe) private static var reservedBuffers = 0
    private static let reserveLock = NSLock()

    /// Maps OpenBLAS's work buffers for the calling thread and OpenBLAS's worker threads now,
    /// after checking that the address-space limit leaves room for them.
    ///
    /// Why: when OpenBLAS 0.3.21 cannot map a work buffer (`blas_memory_alloc` in
    /// `driver/others/memory.c`), it retries the failed `mmap` in an endless loop, so under a
    /// tight `ulimit -v` the first level-3 or LAPACK call (e.g. `spotrf` in a Cholesky-QR) spins
    /// forever. Each worker thread maps its buffer when the library loads; the calling thread
    /// maps its own at its first level-3 call. Call this first thing, from the thread that will
    /// call BLAS: it counts the buffers already mapped (anonymous read-write mappings of 128 MiB
    /// or more in `/proc/self/maps`), checks that the missing ones fit under the limit, and maps
    /// them with one small GEMM on `threads` threads; OpenBLAS reuses them afterwards. Without
    /// an address-space limit it maps nothing up front.
    ///
    /// - Throws: ``MemoryBudgetError`` when the limit leaves no room for the buffers.
    public static func reserveWorkBuffers(threads: Int = BLAS.threads) throws(MemoryBudgetError) {
        reserveLock.lock()
        defer { reserveLock.unlock() }
        let wanted = max(1, threads)
        if reservedBuffers >= wanted { return }
        let limits = MemoryLimits.current()
        guard let limit = limits.addressSpaceLimit else { return }
        let mapped = min(mappedBufferCount(), wanted - 1)
        let missing = wanted - mapped
        let margin = 16 << 20
        let needed = limits.addressSpaceInUse + missing * workBufferBytes + margin
        if needed > limit {
            throw MemoryBudgetError(
                phase: "BLAS setup", needed: needed, allowed: limit,
                limit: "address-space limit (ulimit -v, RLIMIT_AS)",
                detail: "\(MemoryBudget.format(limits.addressSpaceInUse)) in use + \(missing) OpenBLAS work buffer(s) of \(MemoryBudget.format(workBufferBytes)) + \(MemoryBudget.format(margin)) margin; OpenBLAS maps one per thread",
                advice: "OPENBLAS_NUM_THREADS=1 in the environment (one buffer, none for worker threads)" + (wanted > 1 ? " and --threads 1" : ""))
        }
        // A GEMM large enough for OpenBLAS to split across `wanted` threads maps each one's buffer.
        let n = wanted > 1 ? 256 : 1
        let a = [Float](repeating: 0, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        withThreads(wanted) {
            cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        a, Int32(n), a, Int32(n), 0, &c, Int32(n))
        }
        reservedBuffers = wanted
    }

    /// Anonymous read-write mappings of `/proc/self/maps`, counted in whole 128 MiB units: the
    /// OpenBLAS work buffers mapped so far (adjacent ones may share one mapping). Meant for
    /// start-up, before the program's own data reaches that size.
    static func mappedBufferCount() -> Int {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        var count = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 5, fields[1] == "rw-p" else { continue }  // no path: anonymous
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { continue }
            count += Int(hi - lo) / (128 << 20)
        }
        return count
    }

    /// Address space OpenBLAS still has to map for `threads` threads' work buffers
    /// (0 after ``reserveWorkBuffers(threads:)`` with at least as many).
    public static func unreservedBufferBytes(threads: Int) -> Int {
        reserveLock.lock()
        defer { reserveLock.unlock() }
        return max(0, threads - reservedBuffers) * workBufferBytes
    }
}
