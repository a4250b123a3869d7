import Dispatch
import Foundation

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
