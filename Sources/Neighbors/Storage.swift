import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Heap memory for index data: 64-byte aligned; from 2 MiB up, aligned to 2 MiB and advised to
/// use transparent huge pages (`MADV_HUGEPAGE`, for kernels in `madvise` mode). A graph search
/// touches rows and neighbour lists at random across the whole index, so with 4 KiB pages nearly
/// every access past a few MB also misses the TLB; 2 MiB pages cut the page walks 512-fold.
/// Release with `deallocate()`.
func largeAllocation(byteCount: Int) -> UnsafeMutableRawPointer {
    let huge = 1 << 21
    guard byteCount >= huge else { return .allocate(byteCount: max(byteCount, 1), alignment: 64) }
    let rounded = (byteCount + huge - 1) / huge * huge
    let p = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: huge)
    #if os(Linux)
    _ = madvise(p, rounded, Int32(MADV_HUGEPAGE))   // advice only: without THP it changes nothing
    #endif
    return p
}

/// Bytes that back one or more ``GrowableBuffer``s: a private, writable memory map of an index
/// file (`MAP_PRIVATE`, so writes never reach the file) or, for an eager load, a heap copy.
final class FileBytes: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let length: Int
    private let mapped: Bool

    /// Maps `path` (copy-on-write) or reads it into memory.
    init(path: String, mapped: Bool) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw NeighborIndexError.file(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw NeighborIndexError.file(path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw NeighborIndexError.file(path, "the file is empty") }
        length = size
        if mapped {
            let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
            guard let p, p != MAP_FAILED else {
                throw NeighborIndexError.file(path, "cannot map \(size) bytes: \(String(cString: strerror(errno)))")
            }
            base = p
            self.mapped = true
        } else {
            let p = largeAllocation(byteCount: size)
            var done = 0
            while done < size {
                let r = read(fd, p + done, min(size - done, 1 << 30))
                if r <= 0 {
                    p.deallocate()
                    throw NeighborIndexError.file(path, "read failed after \(done) of \(size) bytes")
                }
                done += r
            }
            base = p
            self.mapped = false
        }
    }

    deinit {
        if mapped { munmap(base, length) } else { base.deallocate() }
    }
}

/// A growable array of plain values with a stable base pointer between growths, which may start
/// out as a view into a mapped index file (pages load on first touch; a write copies the page
/// privately; growing copies the whole buffer to the heap). Not thread-safe for growth; parallel
/// code writes disjoint elements through ``pointer`` after ``reserve(_:)``.
final class GrowableBuffer<T: BitwiseCopyable>: @unchecked Sendable {
    private(set) var pointer: UnsafeMutablePointer<T>
    private(set) var count: Int
    private(set) var capacity: Int
    private var backing: FileBytes?

    init() {
        pointer = Self.allocate(1)
        count = 0
        capacity = 1
    }

    /// Heap storage on a 64-byte boundary (a cache line: a 64-float row then spans 4 lines, not 5),
    /// in transparent huge pages when large (``largeAllocation(byteCount:)``).
    private static func allocate(_ n: Int) -> UnsafeMutablePointer<T> {
        largeAllocation(byteCount: n * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: n)
    }

    private func free() { UnsafeMutableRawPointer(pointer).deallocate() }

    /// A view of `count` values at byte `offset` of `bytes`.
    init(viewing bytes: FileBytes, offset: Int, count: Int) {
        pointer = (bytes.base + offset).bindMemory(to: T.self, capacity: max(count, 1))
        self.count = count
        capacity = count
        backing = bytes
    }

    deinit { if backing == nil { free() } }

    /// Makes room for `minimumCapacity` values (doubling), copying a mapped view to the heap.
    func reserve(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity || (backing != nil && minimumCapacity > count) else { return }
        let newCapacity = max(minimumCapacity, capacity * 2, 16)
        let p = Self.allocate(newCapacity)
        if count > 0 { p.update(from: pointer, count: count) }
        if backing == nil { free() }
        backing = nil
        pointer = p
        capacity = newCapacity
    }

    /// Appends one value.
    @inline(__always) func append(_ value: T) {
        if count == capacity || backing != nil { reserve(count + 1) }
        pointer[count] = value
        count += 1
    }

    /// Appends `values`.
    func append(contentsOf values: UnsafeBufferPointer<T>) {
        guard !values.isEmpty else { return }
        reserve(count + values.count)
        (pointer + count).update(from: values.baseAddress!, count: values.count)
        count += values.count
    }

    /// Appends `n` copies of `value`.
    func append(repeating value: T, count n: Int) {
        guard n > 0 else { return }
        reserve(count + n)
        (pointer + count).initialize(repeating: value, count: n)
        count += n
    }

    /// Removes the last `n` values.
    func removeLast(_ n: Int) { count -= n }

    /// The values as a buffer.
    var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: pointer, count: count) }

    @inline(__always) subscript(i: Int) -> T {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// Heap bytes held (0 for an untouched mapped view).
    var heapBytes: Int { backing == nil ? capacity * MemoryLayout<T>.stride : 0 }
}

/// Entity ids by slot, tombstones, and a lazily built id -> slot map (so a mapped index opens
/// without touching its ids). A slot is a row of the index; removed slots stay as tombstones.
final class IDTable: @unchecked Sendable {
    let offsets: GrowableBuffer<Int64>   // slotCount + 1 byte offsets into `bytes`
    let bytes: GrowableBuffer<UInt8>
    let deleted: GrowableBuffer<UInt8>   // 1 = removed
    private(set) var liveCount: Int
    private var map: [String: Int32]? = nil
    private let lock = NSLock()

    init() {
        offsets = GrowableBuffer()
        offsets.append(0)
        bytes = GrowableBuffer()
        deleted = GrowableBuffer()
        liveCount = 0
    }

    init(offsets: GrowableBuffer<Int64>, bytes: GrowableBuffer<UInt8>, deleted: GrowableBuffer<UInt8>, path: String) throws {
        let slots = deleted.count
        guard offsets.count == slots + 1, offsets[0] == 0, Int(offsets[slots]) == bytes.count else {
            throw NeighborIndexError.file(path, "id table is inconsistent (\(offsets.count) offsets for \(slots) slots, \(bytes.count) id bytes)")
        }
        for s in 0..<slots where offsets[s + 1] < offsets[s] {
            throw NeighborIndexError.file(path, "id offsets decrease at slot \(s)")
        }
        self.offsets = offsets
        self.bytes = bytes
        self.deleted = deleted
        var live = 0
        for s in 0..<slots where deleted[s] == 0 { live += 1 }
        liveCount = live
    }

    /// Number of slots, removed ones included.
    var slotCount: Int { deleted.count }

    /// The id of `slot`.
    func id(_ slot: Int32) -> String {
        let s = Int(slot)
        let start = Int(offsets[s]), end = Int(offsets[s + 1])
        return String(decoding: UnsafeBufferPointer(start: bytes.pointer + start, count: end - start), as: UTF8.self)
    }

    private func withMap<R>(_ body: (inout [String: Int32]) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        if map == nil {
            var m = [String: Int32](minimumCapacity: liveCount)
            for s in 0..<slotCount where deleted[s] == 0 { m[id(Int32(s))] = Int32(s) }
            map = m
        }
        return body(&map!)
    }

    /// The live slot of `id`, or nil.
    func slot(of id: String) -> Int32? { withMap { $0[id] } }

    /// Appends a live slot for `id` (which must not be live) and returns it.
    @discardableResult
    func append(_ id: String) -> Int32 {
        let slot = Int32(slotCount)
        var utf8 = Array(id.utf8)
        utf8.withUnsafeMutableBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer($0)) }
        offsets.append(Int64(bytes.count))
        deleted.append(0)
        liveCount += 1
        withMap { $0[id] = slot }
        return slot
    }

    /// Marks `slot` removed.
    func remove(_ slot: Int32) {
        let name = id(slot)
        deleted[Int(slot)] = 1
        liveCount -= 1
        withMap { _ = $0.removeValue(forKey: name) }
    }

    /// The live slots in slot order.
    var liveSlots: [Int32] { (0..<slotCount).compactMap { deleted[$0] == 0 ? Int32($0) : nil } }

    var heapBytes: Int { offsets.heapBytes + bytes.heapBytes + deleted.heapBytes }
}

/// Checks a new id: non-empty, no tab or line break (the tool's output is line-based).
func validateID(_ id: String) throws {
    if id.isEmpty || id.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
        throw NeighborIndexError.invalidInput("id \(id.debugDescription) is empty or contains a tab or line break")
    }
}

/// A striped set of mutexes for the parallel HNSW build (slot `s` uses stripe `s mod count`, a
/// mask since `count` is a power of two).
final class LockStripes: @unchecked Sendable {
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    let count: Int
    private let mask: Int

    init(count: Int) {
        precondition(count > 0 && count & (count - 1) == 0, "the stripe count must be a power of two")
        self.count = count
        mask = count - 1
        locks = .allocate(capacity: count)
        for i in 0..<count { pthread_mutex_init(locks + i, nil) }
    }

    deinit {
        for i in 0..<count { pthread_mutex_destroy(locks + i) }
        locks.deallocate()
    }

    @inline(__always) func lock(_ slot: Int32) { pthread_mutex_lock(locks + (Int(slot) & mask)) }
    @inline(__always) func unlock(_ slot: Int32) { pthread_mutex_unlock(locks + (Int(slot) & mask)) }
}
