// Module Distributed: the package's operators and solvers over row-partitioned matrices on
// MPI (Open MPI through CMPI), one process ("rank") per partition. It is the only code that
// imports MPI; the single-process path never calls into it.
import CMPI
import Foundation
import LinearAlgebra

/// Scalars MPI reduces natively.
public protocol MPIScalar: BitwiseCopyable, Sendable {
    /// The matching `MPI_Datatype`.
    static var mpiType: MPI_Datatype { get }
}
extension Float: MPIScalar { public static var mpiType: MPI_Datatype { cmpi_float() } }
extension Double: MPIScalar { public static var mpiType: MPI_Datatype { cmpi_double() } }
extension Int32: MPIScalar { public static var mpiType: MPI_Datatype { cmpi_int32() } }
extension Int64: MPIScalar { public static var mpiType: MPI_Datatype { cmpi_int64() } }
extension UInt64: MPIScalar { public static var mpiType: MPI_Datatype { cmpi_uint64() } }
extension UInt8: MPIScalar { public static var mpiType: MPI_Datatype { cmpi_byte() } }

/// Bytes a rank sent to and received from other ranks (its own share of a collective is not
/// counted), and the collective calls that moved them.
public struct TrafficCount: Sendable, Equatable, Codable {
    public var sentBytes: Int = 0
    public var receivedBytes: Int = 0
    public var calls: Int = 0
    public init() {}
    public static func + (a: TrafficCount, b: TrafficCount) -> TrafficCount {
        var c = a; c.sentBytes += b.sentBytes; c.receivedBytes += b.receivedBytes; c.calls += b.calls; return c
    }
    public static func - (a: TrafficCount, b: TrafficCount) -> TrafficCount {
        var c = a; c.sentBytes -= b.sentBytes; c.receivedBytes -= b.receivedBytes; c.calls -= b.calls; return c
    }
}

/// An MPI communicator (`MPI_COMM_WORLD`) with typed collectives and per-rank traffic counters.
///
/// Counting rules (per rank): `alltoallv` and `allgatherv` count the exact bytes exchanged with
/// other ranks; `allreduce` of `b` bytes counts `2 (P - 1) / P * b` each way, the volume of the
/// bandwidth-optimal ring algorithm (Open MPI uses recursive doubling, `log2 P * b`, for small
/// messages; the Gram matrices here are small, so this undercounts them slightly).
/// ``traffic`` is the running total; ``trafficByLabel`` sums what ran inside ``counting(_:_:)``.
///
/// Failure: a rank that throws out of ``run(_:)`` prints the error with its rank and calls
/// `MPI_Abort`, which makes `mpirun` terminate every rank with a nonzero status (no rank is
/// left waiting in a collective).
public final class Communicator: @unchecked Sendable {
    /// This process's rank, `0 ..< size`.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    let comm: MPI_Comm
    /// Bytes and calls so far.
    public private(set) var traffic = TrafficCount()
    /// Traffic inside ``counting(_:_:)`` blocks, by label.
    public private(set) var trafficByLabel: [String: TrafficCount] = [:]
    /// Passes recorded by ``counting(_:_:)``, by label.
    public private(set) var passesByLabel: [String: Int] = [:]
    private var labelStack: [String] = []

    nonisolated(unsafe) private static var shared: Communicator?

    private init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided)
        comm = cmpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r); size = Int(s)
    }

    /// The world communicator, initialising MPI on first use. Unless `EMBEDDINGS_THREADS` is
    /// set, each rank then runs its loops and BLAS on one thread (ranks are the parallelism).
    public static func world() -> Communicator {
        if let c = shared { return c }
        let c = Communicator()
        shared = c
        if ProcessInfo.processInfo.environment["EMBEDDINGS_THREADS"] == nil {
            Parallel.threads = 1
            BLAS.threads = 1
        }
        return c
    }

    /// Whether the process was started by an MPI launcher (`mpirun` sets `OMPI_COMM_WORLD_SIZE`,
    /// PMI-based launchers `PMI_SIZE`).
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMI_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// Runs `body` on every rank, then finalises MPI. A thrown error is printed (prefixed with
    /// the rank) and aborts the whole job with status 1. Returns only on success.
    public static func run(_ body: (Communicator) throws -> Void) {
        let c = world()
        do {
            try body(c)
        } catch {
            c.abort("\(error)")
        }
        c.finalize()
    }

    /// Prints `message` on stderr, prefixed with the rank, and terminates every rank of the job
    /// (`MPI_Abort` with status `code`).
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(size): error: \(message)\n".utf8))
        MPI_Abort(comm, code)
        exit(code)
    }

    /// Ends MPI use in this process (call once, at the end).
    public func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Waits for every rank.
    public func barrier() { MPI_Barrier(comm) }

    /// Runs `body`, adding the traffic it causes to ``trafficByLabel``[`label`] and one to
    /// ``passesByLabel``[`label`]. Nested blocks count in every enclosing label.
    public func counting<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
        labelStack.append(label)
        defer { labelStack.removeLast(); passesByLabel[label, default: 0] += 1 }
        return try body()
    }

    /// Clears the per-label counters (the running total stays).
    public func resetLabels() { trafficByLabel = [:]; passesByLabel = [:] }

    private func record(sent: Int, received: Int) {
        traffic.sentBytes += sent; traffic.receivedBytes += received; traffic.calls += 1
        for label in Set(labelStack) {
            trafficByLabel[label, default: TrafficCount()].sentBytes += sent
            trafficByLabel[label, default: TrafficCount()].receivedBytes += received
            trafficByLabel[label, default: TrafficCount()].calls += 1
        }
    }

    // MARK: Collectives

    /// Element-wise sum over ranks, in place on every rank.
    public func allreduceSum<T: MPIScalar>(_ values: inout [T]) { allreduce(&values, cmpi_sum()) }
    /// Element-wise maximum over ranks, in place on every rank.
    public func allreduceMax<T: MPIScalar>(_ values: inout [T]) { allreduce(&values, cmpi_max()) }
    /// Element-wise minimum over ranks, in place on every rank.
    public func allreduceMin<T: MPIScalar>(_ values: inout [T]) { allreduce(&values, cmpi_min()) }

    /// The sum over ranks of one value.
    public func sum<T: MPIScalar>(_ value: T) -> T { var v = [value]; allreduceSum(&v); return v[0] }
    /// The maximum over ranks of one value.
    public func max<T: MPIScalar>(_ value: T) -> T { var v = [value]; allreduceMax(&v); return v[0] }

    /// `Matrix` elements summed over ranks, in place (Gram matrices and other small blocks).
    public func allreduceSum<S: BLASScalar & MPIScalar>(_ m: inout Matrix<S>) { allreduceSum(&m.elements) }

    private func allreduce<T: MPIScalar>(_ values: inout [T], _ op: MPI_Op) {
        guard !values.isEmpty else { return }
        precondition(values.count <= Int(Int32.max), "allreduce: \(values.count) elements exceed MPI's 32-bit count")
        let count = values.count
        values.withUnsafeMutableBytes { p in
            _ = MPI_Allreduce(cmpi_in_place(), p.baseAddress, Int32(count), T.mpiType, op, comm)
        }
        let bytes = size > 1 ? 2 * (size - 1) * count * MemoryLayout<T>.stride / size : 0
        record(sent: bytes, received: bytes)
    }

    /// Every rank's `value`, in rank order.
    public func allgather<T: MPIScalar>(_ value: T) -> [T] {
        var send = value
        var out = [T](repeating: value, count: size)
        withUnsafeBytes(of: &send) { s in
            out.withUnsafeMutableBytes { r in
                _ = MPI_Allgather(s.baseAddress, Int32(MemoryLayout<T>.stride), cmpi_byte(), r.baseAddress,
                                  Int32(MemoryLayout<T>.stride), cmpi_byte(), comm)
            }
        }
        let bytes = (size - 1) * MemoryLayout<T>.stride
        record(sent: bytes, received: bytes)
        return out
    }

    /// The concatenation of every rank's `values`, in rank order, and where each rank's part starts.
    public func allgatherv<T: BitwiseCopyable>(_ values: [T]) -> (values: [T], offsets: [Int]) {
        let counts = allgather(Int64(values.count)).map { Int($0) }
        var offsets = [0]
        for c in counts { offsets.append(offsets.last! + c) }
        let stride = MemoryLayout<T>.stride
        precondition(offsets.last! * stride <= Int(Int32.max), "allgatherv: \(offsets.last! * stride) bytes exceed MPI's 32-bit count")
        let byteCounts = counts.map { Int32($0 * stride) }, byteOffsets = offsets.dropLast().map { Int32($0 * stride) }
        let total = offsets.last!
        let out = [T](unsafeUninitializedCapacity: total) { buffer, initialized in
            values.withUnsafeBytes { s in
                _ = MPI_Allgatherv(s.baseAddress, Int32(values.count * stride), cmpi_byte(),
                                   UnsafeMutableRawPointer(buffer.baseAddress), byteCounts, Array(byteOffsets), cmpi_byte(), comm)
            }
            initialized = total
        }
        record(sent: (size - 1) * values.count * stride, received: (total - values.count) * stride)
        return (out, offsets)
    }

    /// Personalised all-to-all: `send` holds the elements for rank 0, then rank 1, ...
    /// (`sendCounts[p]` each); returns what every rank sent to this one, in rank order, and the
    /// counts. Elements travel as bytes, so any trivial type works.
    /// - Precondition: `sendCounts.count == size`, `sendCounts` sums to `send.count`, and each
    ///   rank's part is under 2 GiB (MPI's 32-bit counts).
    public func alltoallv<T: BitwiseCopyable>(_ send: UnsafeBufferPointer<T>, sendCounts: [Int]) -> (values: [T], counts: [Int]) {
        precondition(sendCounts.count == size && sendCounts.reduce(0, +) == send.count, "alltoallv: counts do not match the buffer")
        var sc = sendCounts.map { Int32(truncatingIfNeeded: $0) }
        var rc = [Int32](repeating: 0, count: size)
        MPI_Alltoall(&sc, 1, cmpi_int32(), &rc, 1, cmpi_int32(), comm)
        record(sent: 4 * (size - 1), received: 4 * (size - 1))
        let receiveCounts = rc.map { Int($0) }
        let total = receiveCounts.reduce(0, +)
        let out = [T](unsafeUninitializedCapacity: total) { buffer, initialized in
            alltoallvInto(send, sendCounts: sendCounts, receive: buffer, receiveCounts: receiveCounts)
            initialized = total
        }
        return (out, receiveCounts)
    }

    /// ``alltoallv(_:sendCounts:)`` from arrays.
    public func alltoallv<T: BitwiseCopyable>(_ send: [T], sendCounts: [Int]) -> (values: [T], counts: [Int]) {
        send.withUnsafeBufferPointer { alltoallv($0, sendCounts: sendCounts) }
    }

    /// Personalised all-to-all into a caller's buffer when both sides know the counts (the ghost
    /// exchanges of ``DistributedCSR``, whose pattern is fixed at construction).
    public func alltoallvInto<T: BitwiseCopyable>(_ send: UnsafeBufferPointer<T>, sendCounts: [Int],
                                                  receive: UnsafeMutableBufferPointer<T>, receiveCounts: [Int]) {
        let stride = MemoryLayout<T>.stride
        func displacements(_ counts: [Int]) -> [Int32] {
            var d = [Int32](), at = 0
            for c in counts {
                precondition(at * stride <= Int(Int32.max) && c * stride <= Int(Int32.max),
                             "alltoallv: a message of \(c * stride) bytes at offset \(at * stride) exceeds MPI's 32-bit counts")
                d.append(Int32(at * stride)); at += c
            }
            return d
        }
        let sd = displacements(sendCounts), rd = displacements(receiveCounts)
        let sb = sendCounts.map { Int32($0 * stride) }, rb = receiveCounts.map { Int32($0 * stride) }
        _ = MPI_Alltoallv(UnsafeRawPointer(send.baseAddress), sb, sd, cmpi_byte(),
                          UnsafeMutableRawPointer(receive.baseAddress), rb, rd, cmpi_byte(), comm)
        let sent = (sendCounts.reduce(0, +) - sendCounts[rank]) * stride
        let received = (receiveCounts.reduce(0, +) - receiveCounts[rank]) * stride
        record(sent: sent, received: received)
    }

    /// Where each rank's share starts in a global numbering where rank `p` holds `count` items:
    /// the exclusive prefix sums of every rank's `count`, plus the total at the end.
    public func prefixOffsets(_ count: Int) -> [Int] {
        var offsets = [0]
        for c in allgather(Int64(count)) { offsets.append(offsets.last! + Int(c)) }
        return offsets
    }
}
