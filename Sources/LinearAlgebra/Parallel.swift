import Dispatch
import Foundation
import Synchronization

/// Wraps a value (typically raw pointers into buffers the caller keeps alive) so it can cross
/// into `DispatchQueue.concurrentPerform`'s `@Sendable` closure. The caller guarantees that
/// concurrent tasks touch disjoint memory.
public struct UnsafeSendableBox<T>: @unchecked Sendable {
    public let value: T
    @inlinable public init(_ value: T) { self.value = value }
}

/// Thread-level parallelism for the package's own loops (SpMM row blocks, per-row solves).
///
/// The default thread count is the `EMBEDDINGS_THREADS` environment variable, else
/// `OMP_NUM_THREADS`, else the number of active processors. Inside a parallel loop, BLAS must
/// run single-threaded: see ``BLAS/withThreads(_:_:)``.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads: Int? = nil

    /// The number of threads our parallel loops use.
    public static var threads: Int {
        get {
            if let t = configuredThreads { return t }
            let env = ProcessInfo.processInfo.environment
            for key in ["EMBEDDINGS_THREADS", "OMP_NUM_THREADS"] {
                if let v = env[key], let n = Int(v), n > 0 { return n }
            }
            return max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
        set { configuredThreads = max(1, newValue) }
    }

    /// Splits `0..<count` into at most `threads` contiguous chunks of near-equal size and runs
    /// `body` on each, concurrently. With one chunk it runs on the calling thread.
    public static func forEachChunk(count: Int, threads: Int = Parallel.threads,
                                    minimumChunk: Int = 1,
                                    _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, count / max(1, minimumChunk)))
        if chunks == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks
            let hi = count * (c + 1) / chunks
            body(lo..<hi)
        }
    }

    /// Runs `body(worker, chunks)` on up to `threads` workers at once, where `chunks` hands out
    /// `0..<count` in ranges of `chunk` consecutive indices (the last may be shorter), in order,
    /// each once, to whichever worker asks next (one shared atomic counter).
    ///
    /// A worker that is slowed (harder items, another process on its core) takes fewer ranges
    /// instead of holding the loop back, as the fixed split of
    /// ``forEachChunk(count:threads:minimumChunk:_:)`` would. Each worker keeps its own state
    /// across its ranges (scratch buffers, totals indexed by `worker`, which runs from 0 to the
    /// number of workers less one); results are complete when the call returns.
    ///
    /// ```swift
    /// var totals = [Int](repeating: 0, count: 4)
    /// totals.withUnsafeMutableBufferPointer { t in
    ///     let totals = UnsafeSendableBox(t)
    ///     Parallel.forEachDynamicChunk(count: 1_000, chunk: 16, threads: 4) { worker, chunks in
    ///         for range in chunks { totals.value[worker] += range.count }
    ///     }
    /// }
    /// // totals.reduce(0, +) == 1_000
    /// ```
    ///
    /// - Parameters:
    ///   - count: the number of items; nothing runs when it is 0.
    ///   - chunk: items a worker takes at a time (at least 1).
    ///   - threads: the most workers; fewer when there are fewer chunks.
    ///   - serial: run the workers one after the other on the calling thread, in order, so the
    ///     first takes every range (for tests that a result does not depend on the schedule).
    ///     With one worker they always run on the calling thread.
    ///   - body: a worker's loop: `worker` is its index, `chunks` its ranges (`for range in chunks`).
    public static func forEachDynamicChunk(count: Int, chunk: Int = 1, threads: Int = Parallel.threads,
                                           serial: Bool = false,
                                           _ body: @Sendable (_ worker: Int, _ chunks: DynamicChunks) -> Void) {
        guard count > 0 else { return }
        let chunks = DynamicChunks(count: count, chunk: chunk)
        let workers = max(1, min(threads, (count + chunks.chunk - 1) / chunks.chunk))
        if workers == 1 || serial {
            for w in 0..<workers { body(w, chunks) }
        } else {
            DispatchQueue.concurrentPerform(iterations: workers) { w in body(w, chunks) }
        }
    }

    /// Splits `0..<count` into ranges whose `weights` (a prefix sum with `count + 1` entries,
    /// e.g. CSR row offsets) are near-equal, and runs `body(chunkIndex, range)` on each concurrently.
    public static func forEachWeightedChunk(prefix: UnsafeBufferPointer<Int64>, chunks: Int,
                                            _ body: @Sendable (Int, Range<Int>) -> Void) {
        let count = prefix.count - 1
        guard count > 0 else { return }
        let chunks = max(1, min(chunks, count))
        let total = prefix[count] - prefix[0]
        var bounds = [0]
        for c in 1..<chunks {
            let target = prefix[0] + total * Int64(c) / Int64(chunks)
            // first row whose prefix reaches the target
            var lo = bounds.last!, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                if prefix[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            bounds.append(lo)
        }
        bounds.append(count)
        if chunks == 1 { body(0, 0..<count); return }
        let b = bounds
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, b[c]..<b[c + 1])
        }
    }
}

/// The ranges of a ``Parallel/forEachDynamicChunk(count:chunk:threads:serial:_:)`` loop, shared by
/// its workers: each call of ``next()`` (or each step of `for range in chunks`) takes the next
/// untaken range, in order, from one atomic counter, and `nil` once all are taken.
public final class DynamicChunks: Sequence, IteratorProtocol, Sendable {
    /// The number of items, `0..<count`.
    public let count: Int
    /// Items a range holds (the last may hold fewer).
    public let chunk: Int
    private let taken = Atomic<Int>(0)

    init(count: Int, chunk: Int) {
        self.count = Swift.max(0, count)
        self.chunk = Swift.max(1, chunk)
    }

    /// Takes the next range, or returns `nil` when every range is taken. Relaxed ordering: the
    /// items are handed out once each, and the workers' results are read after the loop joins.
    public func next() -> Range<Int>? {
        let lo = taken.wrappingAdd(chunk, ordering: .relaxed).oldValue
        return lo < count ? lo..<Swift.min(lo + chunk, count) : nil
    }
}
