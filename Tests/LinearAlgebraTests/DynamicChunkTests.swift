import Foundation
import Testing
@testable import LinearAlgebra

/// The dynamic-chunk loop: every index once, in ranges of `chunk`, each worker's ranges in order.
@Suite struct DynamicChunkTests {
    /// Runs the loop and returns each worker's ranges.
    func ranges(count: Int, chunk: Int, threads: Int, serial: Bool = false) -> [[Range<Int>]] {
        let lock = NSLock()
        let seen = UnsafeSendableBox(UnsafeMutablePointer<[[Range<Int>]]>.allocate(capacity: 1))
        seen.value.initialize(to: Array(repeating: [], count: threads))
        defer { seen.value.deinitialize(count: 1); seen.value.deallocate() }
        Parallel.forEachDynamicChunk(count: count, chunk: chunk, threads: threads, serial: serial) { worker, chunks in
            for range in chunks {
                lock.lock(); seen.value.pointee[worker].append(range); lock.unlock()
            }
        }
        return seen.value.pointee
    }

    /// `shape`: count, chunk, threads.
    @Test(arguments: [[0, 16, 2], [1, 16, 4], [100, 1, 3], [1_000, 16, 4], [1_001, 7, 2], [5, 16, 8]])
    func everyIndexOnceInOrderedChunks(shape: [Int]) {
        let (count, chunk, threads) = (shape[0], shape[1], shape[2])
        let perWorker = ranges(count: count, chunk: chunk, threads: threads)
        let all = perWorker.flatMap { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(all.flatMap { Array($0) } == Array(0..<count))           // a tiling: each index once
        #expect(all.dropLast().allSatisfy { $0.count == chunk })
        #expect(all.last.map { $0.count >= 1 && $0.count <= chunk } ?? (count == 0))
        for mine in perWorker {                                           // taken in increasing order
            #expect(zip(mine, mine.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound })
        }
        // No more workers than chunks: a worker index past them never runs.
        let chunks = (count + chunk - 1) / chunk
        #expect(perWorker.indices.allSatisfy { $0 < max(1, min(threads, chunks)) || perWorker[$0].isEmpty })
    }

    @Test func serialWorkersRunInTurnAndTheFirstTakesEverything() {
        let perWorker = ranges(count: 100, chunk: 8, threads: 3, serial: true)
        #expect(perWorker[0] == stride(from: 0, to: 100, by: 8).map { $0..<min($0 + 8, 100) })
        #expect(perWorker[1].isEmpty && perWorker[2].isEmpty)
    }

    @Test func rangesAreNilOnceTakenAndChunkIsAtLeastOne() {
        let chunks = DynamicChunks(count: 3, chunk: 0)
        #expect(chunks.chunk == 1)
        #expect(Array(chunks) == [0..<1, 1..<2, 2..<3])
        #expect(chunks.next() == nil && chunks.next() == nil)
    }
}
