import Foundation
import Testing
import LinearAlgebra

/// `MemoryLimits.keepFreedBlocksForReuse()` (session 12): a freed block larger than glibc's
/// 32 MiB mmap ceiling is served again from the heap (the main arena's, or a thread arena's
/// 64 MiB heap), without faulting in fresh pages.
@Suite(.serialized) struct AllocatorReuseTests {
    /// Minor page faults of this thread while `body` runs (`/proc/thread-self/stat`, field 10:
    /// the tests that run beside this one on other threads do not count).
    static func threadMinorFaults(_ body: () -> Void) throws -> Int {
        func read() throws -> Int {
            let stat = try String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8)
            // Fields after the command name (which is in parentheses and may hold spaces).
            let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
            return try #require(Int(fields[7]))                       // field 10 overall: minflt
        }
        let before = try read()
        body()
        return try read() - before
    }

    @Test func aFreedLargeBlockIsReusedWithoutFreshPageFaults() throws {
        #if canImport(Glibc)
        if MemoryLimits.current().isLimited {
            #expect(!MemoryLimits.keepFreedBlocksForReuse())    // declines under a limit
            return
        }
        #expect(MemoryLimits.keepFreedBlocksForReuse())
        // 40 MiB of Float (10,240 pages): above glibc's 32 MiB mmap ceiling, and below the 64 MiB
        // heaps of the arenas that serve threads other than the main one (the tests' threads).
        let count = 10 << 20
        var sums: [Float] = []
        func allocateAndTouch() { let block = [Float](repeating: 1, count: count); sums.append(block[count - 1] + block[count / 2]) }
        _ = try Self.threadMinorFaults(allocateAndTouch)               // the heap grows once
        let again = try Self.threadMinorFaults(allocateAndTouch)
        // Without the setting every allocation maps the block afresh: about 10,240 faults.
        #expect(again < 10_240 / 10, "\(again) minor faults for a reused 40 MiB block")
        #expect(sums == [2, 2])
        #endif
    }
}
