import Foundation

/// The scratch buffers of the sparse products (the row-major copy of a column-major dense
/// block, the row-major accumulator of `A' X`), kept between calls.
///
/// An iterative solver applies the same operator hundreds of times; allocating a fresh
/// `n x k` buffer each time costs a page fault per 4 KiB (about a quarter of the product's
/// time at 1M x 64 Float). The pool keeps at most ``maximumCachedBuffers`` freed buffers for
/// reuse; ``purge()`` returns them to the system. Thread-safe.
public enum SparseWorkspace {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    nonisolated(unsafe) private static var limit = 2

    /// How many freed buffers are kept for reuse (default 2; 0 disables caching).
    public static var maximumCachedBuffers: Int {
        get { lock.lock(); defer { lock.unlock() }; return limit }
        set {
            lock.lock()
            limit = max(0, newValue)
            let excess = cached.count > limit ? Array(cached[limit...]) : []
            cached.removeLast(excess.count)
            lock.unlock()
            for b in excess { b.pointer.deallocate() }
        }
    }

    /// Bytes currently held by cached buffers.
    public static var cachedBytes: Int {
        lock.lock(); defer { lock.unlock() }
        return cached.reduce(0) { $0 + $1.bytes }
    }

    /// Frees every cached buffer.
    public static func purge() {
        lock.lock()
        let all = cached
        cached.removeAll()
        lock.unlock()
        for b in all { b.pointer.deallocate() }
    }

    /// A buffer of at least `count` elements of `T` (contents unspecified), to be handed back
    /// with ``release(_:)``. Reuses the smallest cached buffer that is large enough.
    static func acquire<T>(_: T.Type, count: Int) -> (pointer: UnsafeMutablePointer<T>, bytes: Int) {
        let bytes = max(64, count * MemoryLayout<T>.stride)
        lock.lock()
        var best: Int? = nil
        for (i, b) in cached.enumerated() where b.bytes >= bytes {
            if best == nil || b.bytes < cached[best!].bytes { best = i }
        }
        let taken = best.map { cached.remove(at: $0) }
        lock.unlock()
        let buffer = taken ?? (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
        return (buffer.pointer.bindMemory(to: T.self, capacity: buffer.bytes / MemoryLayout<T>.stride), buffer.bytes)
    }

    /// Hands back a buffer from ``acquire(_:count:)``: kept (replacing the smallest cached one
    /// if the pool is full and this one is larger) or freed.
    static func release<T>(_ buffer: (pointer: UnsafeMutablePointer<T>, bytes: Int)) {
        let raw = UnsafeMutableRawPointer(buffer.pointer)
        lock.lock()
        var toFree: UnsafeMutableRawPointer? = raw
        if cached.count < limit {
            cached.append((raw, buffer.bytes)); toFree = nil
        } else if let smallest = cached.indices.min(by: { cached[$0].bytes < cached[$1].bytes }),
                  cached[smallest].bytes < buffer.bytes {
            toFree = cached[smallest].pointer
            cached[smallest] = (raw, buffer.bytes)
        }
        lock.unlock()
        toFree?.deallocate()
    }
}
