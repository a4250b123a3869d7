// The binary on-disk CSR format of a graph: the adjacency (and its transpose) with 64-bit offsets
// and the node ids, written once from an edge list and read back by memory map, so that solvers
// can run on a matrix larger than the memory left for it (pages come from the file on demand).
import Foundation
import LinearAlgebra

/// A graph in the binary CSR format (`.csr`), memory-mapped read-only.
///
/// Layout (little-endian; every section starts at a multiple of 64 bytes, zero padding):
///
/// | bytes | content |
/// |---|---|
/// | 0..<8 | magic `EMBCSR1\n` |
/// | 8..<12 | format version (`UInt32`, 1) |
/// | 12..<16 | flags (`UInt32`): bit 0 directed, bit 1 weighted (value sections present) |
/// | 16..<24, 24..<32, 32..<40 | rows, columns, nonzeros (`UInt64`; rows = columns = nodes) |
/// | 40..<48 | bytes of the id text (`UInt64`) |
/// | 48..<56 | file size in bytes (`UInt64`) |
/// | 56..<64 | checksum (`UInt64`) of bytes 0..<56 and 64..<file size |
/// | sections | row offsets (`Int64`, rows + 1), column indices (`Int32`, nnz), [values (`Float`, nnz)], then the same three for the transpose (column offsets, row indices, values), then id offsets (`Int64`, nodes + 1) and the ids' UTF-8 text |
///
/// Rows hold strictly increasing column indices. The checksum is a four-lane 64-bit
/// multiply-rotate hash over 8-byte words (``checksum(_:count:seed:)``); it catches truncation,
/// bit flips and partial writes, not tampering.
public final class GraphCSRFile: @unchecked Sendable {
    public static let magic: [UInt8] = Array("EMBCSR1\n".utf8)
    public static let version: UInt32 = 1
    static let headerSize = 64

    /// The file's path (named in errors).
    public let path: String
    /// Nodes (the adjacency is `nodeCount x nodeCount`).
    public let nodeCount: Int
    /// Stored edges (nonzeros).
    public let edgeCount: Int
    /// Whether the graph was read as directed (an undirected graph is stored symmetrised).
    public let directed: Bool
    /// Whether edge weights are stored (otherwise every edge weighs 1).
    public let weighted: Bool
    /// The file's size in bytes.
    public let fileSize: Int

    /// Row offsets (`nodeCount + 1`), column indices and values (`nil`: all 1) of the adjacency.
    public let rowOffsets: UnsafePointer<Int64>
    public let columnIndices: UnsafePointer<Int32>
    public let values: UnsafePointer<Float>?
    /// The same for the transpose: column offsets, row indices, values.
    public let columnOffsets: UnsafePointer<Int64>
    public let rowIndices: UnsafePointer<Int32>
    public let transposeValues: UnsafePointer<Float>?
    let idOffsets: UnsafePointer<Int64>
    let idText: UnsafePointer<UInt8>
    private let base: UnsafeMutableRawPointer
    private let mappedLength: Int

    /// Section sizes and offsets for a graph of this shape.
    struct Layout {
        var rowOffsets = 0, columnIndices = 0, values = 0, columnOffsets = 0, rowIndices = 0, transposeValues = 0
        var idOffsets = 0, idText = 0, end = 0
        init(nodes n: Int, nonzeros nnz: Int, weighted: Bool, idBytes: Int) {
            func align(_ x: Int) -> Int { (x + 63) / 64 * 64 }
            var at = GraphCSRFile.headerSize
            rowOffsets = at; at = align(at + 8 * (n + 1))
            columnIndices = at; at = align(at + 4 * nnz)
            if weighted { values = at; at = align(at + 4 * nnz) }
            columnOffsets = at; at = align(at + 8 * (n + 1))
            rowIndices = at; at = align(at + 4 * nnz)
            if weighted { transposeValues = at; at = align(at + 4 * nnz) }
            idOffsets = at; at = align(at + 8 * (n + 1))
            idText = at; at = align(at + idBytes)
            end = at
        }
    }

    /// Whether the file at `path` starts with the binary CSR magic (false when it cannot be read).
    public static func isCSRFile(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: magic.count)) ?? Data()
        return Array(head) == magic
    }

    /// Maps and checks a binary CSR file.
    ///
    /// Always checked: magic, version, flags, the sizes in the header against each other and the
    /// file's length (a truncated file is named as such), the offsets (start at 0, never
    /// decrease, end at the edge count) and every index (below the node count). With
    /// `verifyChecksum` (default) the checksum too: one sequential read of the whole file.
    /// - Throws: ``GraphDataError`` naming the file and the problem.
    public init(path: String, verifyChecksum: Bool = true) throws(GraphDataError) {
        func bad(_ why: String) -> GraphDataError {
            GraphDataError(file: path, line: nil, lineText: nil, problem: .cannotRead(reason: why))
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw bad(String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw bad("stat: \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size >= Self.headerSize else {
            throw bad("not a binary CSR file: \(size) bytes, shorter than the \(Self.headerSize)-byte header")
        }
        guard let m = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), m != MAP_FAILED else {
            throw bad("mmap: \(String(cString: strerror(errno)))")
        }
        var keep = false
        defer { if !keep { munmap(m, size) } }
        let raw = UnsafeRawPointer(m)
        guard Array(UnsafeRawBufferPointer(start: raw, count: 8)) == Self.magic else {
            throw bad("not a binary CSR file (no EMBCSR1 magic); write one with follow-graph-svd --write-csr")
        }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let version = u32(8), flags = u32(12)
        guard version == Self.version else { throw bad("binary CSR format version \(version); this build reads version \(Self.version)") }
        guard flags & ~3 == 0 else { throw bad("unknown flags 0x\(String(flags, radix: 16)) in the header") }
        let rows = u64(16), columns = u64(24), nnz = u64(32), idBytes = u64(40), declared = u64(48), stored = u64(56)
        guard rows == columns else { throw bad("header says \(rows) rows but \(columns) columns; a graph's adjacency is square") }
        guard rows <= UInt64(Int32.max), nnz <= UInt64(1) << 40, idBytes <= UInt64(1) << 44 else {
            throw bad("header counts out of range (\(rows) nodes, \(nnz) edges, \(idBytes) id bytes): corrupt header")
        }
        let layout = Layout(nodes: Int(rows), nonzeros: Int(nnz), weighted: flags & 2 != 0, idBytes: Int(idBytes))
        guard declared == UInt64(layout.end) else {
            throw bad("header says the file is \(declared) bytes but its counts (\(rows) nodes, \(nnz) edges) make \(layout.end): corrupt header")
        }
        guard size >= layout.end else {
            throw bad("truncated: \(size) bytes, the header says \(layout.end) (\(rows) nodes, \(nnz) edges)")
        }
        guard size == layout.end else { throw bad("\(size - layout.end) bytes after the end the header states (\(layout.end))") }
        if verifyChecksum {
            var h = Self.checksum(raw, count: 56, seed: 0)
            h = Self.checksum(raw + Self.headerSize, count: layout.end - Self.headerSize, seed: h)
            guard h == stored else {
                throw bad("checksum mismatch (stored \(String(stored, radix: 16)), computed \(String(h, radix: 16))): the file is corrupt or was partly written")
            }
        }
        let n = Int(rows), count = Int(nnz)
        func pointer<T>(_ at: Int, _: T.Type) -> UnsafePointer<T> { (raw + at).assumingMemoryBound(to: T.self) }
        let ro = pointer(layout.rowOffsets, Int64.self), co = pointer(layout.columnOffsets, Int64.self)
        let ci = pointer(layout.columnIndices, Int32.self), ri = pointer(layout.rowIndices, Int32.self)
        let io = pointer(layout.idOffsets, Int64.self)
        if let problem = Self.checkOffsets(ro, n, end: Int64(count), what: "row offsets")
            ?? Self.checkOffsets(co, n, end: Int64(count), what: "column offsets")
            ?? Self.checkOffsets(io, n, end: Int64(idBytes), what: "id offsets")
            ?? Self.checkIndices(ci, count, bound: n, what: "column index")
            ?? Self.checkIndices(ri, count, bound: n, what: "row index") {
            throw bad(problem)
        }
        keep = true
        self.path = path
        self.base = m
        self.mappedLength = size
        self.fileSize = size
        self.nodeCount = n
        self.edgeCount = count
        let isWeighted = flags & 2 != 0
        self.directed = flags & 1 != 0
        self.weighted = isWeighted
        self.rowOffsets = ro; self.columnIndices = ci
        self.values = isWeighted ? pointer(layout.values, Float.self) : nil
        self.columnOffsets = co; self.rowIndices = ri
        self.transposeValues = isWeighted ? pointer(layout.transposeValues, Float.self) : nil
        self.idOffsets = io
        self.idText = pointer(layout.idText, UInt8.self)
    }

    deinit { munmap(base, mappedLength) }

    static func checkOffsets(_ o: UnsafePointer<Int64>, _ n: Int, end: Int64, what: String) -> String? {
        guard o[0] == 0 else { return "\(what) start at \(o[0]), not 0: corrupt file" }
        for i in 0..<n where o[i + 1] < o[i] { return "\(what) decrease at entry \(i + 1) (\(o[i]) > \(o[i + 1])): corrupt file" }
        guard o[n] == end else { return "\(what) end at \(o[n]), expected \(end): corrupt file" }
        return nil
    }

    static func checkIndices(_ p: UnsafePointer<Int32>, _ count: Int, bound: Int, what: String) -> String? {
        var low: Int32 = 0, high: Int32 = 0
        for i in 0..<count { low = min(low, p[i]); high = max(high, p[i]) }
        guard low >= 0 && Int(high) < max(bound, 1) || count == 0 else {
            let at = (0..<count).first { p[$0] < 0 || Int(p[$0]) >= bound }!
            return "\(what) \(p[at]) at entry \(at) is outside 0..<\(bound): corrupt file"
        }
        return nil
    }

    /// The id of node `i`.
    public func id(_ i: Int) -> String {
        precondition(i >= 0 && i < nodeCount, "GraphCSRFile.id: node \(i) out of 0..<\(nodeCount)")
        let lo = Int(idOffsets[i]), hi = Int(idOffsets[i + 1])
        return String(decoding: UnsafeBufferPointer(start: idText + lo, count: hi - lo), as: UTF8.self)
    }

    /// The node ids as an id map (memory: about that of an edge list's map).
    public func idMap() -> IDMap { IDMap((0..<nodeCount).lazy.map { self.id($0) }) }

    /// The adjacency copied into memory (for methods that need a `CSRMatrix` (LinearAlgebra)).
    public func csrMatrix() -> CSRMatrix<Float> {
        let n = nodeCount, nnz = edgeCount
        let offsets = Array(UnsafeBufferPointer(start: rowOffsets, count: n + 1))
        let indices = Array(UnsafeBufferPointer(start: columnIndices, count: nnz))
        let vals = values.map { Array(UnsafeBufferPointer(start: $0, count: nnz)) } ?? [Float](repeating: 1, count: nnz)
        return CSRMatrix(uncheckedRows: n, columns: n, rowOffsets: offsets, columnIndices: indices, values: vals)
    }

    /// Tells the kernel the mapping is read front to back (read-ahead) or at random.
    public func adviseSequential(_ sequential: Bool) {
        _ = madvise(base, mappedLength, sequential ? MADV_SEQUENTIAL : MADV_NORMAL)
    }

    // MARK: - Checksum

    /// Four-lane 64-bit multiply-rotate hash of `count` bytes (a multiple of 8 except at the very
    /// end, where the tail is zero-padded), continuing from `seed`.
    public static func checksum(_ p: UnsafeRawPointer, count: Int, seed: UInt64) -> UInt64 {
        var state = ChecksumState(seed: seed)
        state.add(p, count: count)
        return state.value
    }

    struct ChecksumState {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64
        static let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        init(seed: UInt64) { a = seed ^ Self.p1; b = seed &+ Self.p2; c = ~seed; d = seed &* Self.p1 }
        @inline(__always) static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
            let x = h ^ (w &* p2)
            return ((x << 31) | (x >> 33)) &* p1
        }
        /// Adds bytes; all but the last call must pass a multiple of 32 bytes.
        mutating func add(_ p: UnsafeRawPointer, count: Int) {
            var i = 0
            while i + 32 <= count {
                a = Self.mix(a, p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                b = Self.mix(b, p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                c = Self.mix(c, p.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                d = Self.mix(d, p.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                i += 32
            }
            while i < count {
                var w: UInt64 = 0
                withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p + i, count: min(8, count - i))) }
                a = Self.mix(a, w)
                swap(&a, &b); swap(&b, &c); swap(&c, &d)
                i += 8
            }
        }
        var value: UInt64 {
            var h = a ^ ((b << 17) | (b >> 47)) ^ ((c << 31) | (c >> 33)) ^ ((d << 47) | (d >> 17))
            h ^= h >> 33; h = h &* Self.p2; h ^= h >> 29
            return h
        }
    }

    // MARK: - Writing

    /// Writes `edges` (a graph read with one shared id map) as a binary CSR file at `path`,
    /// through a temporary sibling that is flushed and renamed into place (a failed write leaves
    /// any previous file at `path` as it was, and no partial file).
    ///
    /// Memory: the adjacency's arrays (as ``EdgeList/adjacencyCSR()``) and its transpose, about
    /// 16 bytes an edge (12 unweighted) plus 16 a node, beside the edge list.
    /// - Throws: ``GraphDataError`` when the file cannot be written, or for an edge list read with
    ///   separate id maps (not a graph).
    public static func write(_ edges: EdgeList, to path: String) throws(GraphDataError) {
        guard edges.hasSharedIDMap else {
            throw GraphDataError(file: path, line: nil, lineText: nil,
                                 problem: .invalidOptions("a binary CSR file holds a graph: read the edge list with one shared id map"))
        }
        let n = edges.nodeCount
        let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
        let weighted = edges.weights != nil
        let t = transposed(n: n, csr.rowOffsets, csr.columnIndices, weighted ? csr.values : nil)
        let ids = edges.sourceIDs
        var idOffsets = [Int64](repeating: 0, count: n + 1)
        for i in 0..<n { idOffsets[i + 1] = idOffsets[i] + Int64(ids.idBytes(at: i).count) }
        let layout = Layout(nodes: n, nonzeros: csr.columnIndices.count, weighted: weighted, idBytes: Int(idOffsets[n]))
        func failure(_ what: String) -> GraphDataError {
            GraphDataError(file: path, line: nil, lineText: nil, problem: .cannotRead(reason: "cannot write: \(what)"))
        }
        var header = [UInt8](repeating: 0, count: headerSize)
        func put(_ v: UInt64, _ at: Int) { withUnsafeBytes(of: v.littleEndian) { for k in 0..<8 { header[at + k] = $0[k] } } }
        for k in 0..<8 { header[k] = magic[k] }
        withUnsafeBytes(of: version.littleEndian) { for k in 0..<4 { header[8 + k] = $0[k] } }
        let flags: UInt32 = (edges.directed ? 1 : 0) | (weighted ? 2 : 0)
        withUnsafeBytes(of: flags.littleEndian) { for k in 0..<4 { header[12 + k] = $0[k] } }
        put(UInt64(n), 16); put(UInt64(n), 24); put(UInt64(csr.columnIndices.count), 32)
        put(UInt64(idOffsets[n]), 40); put(UInt64(layout.end), 48)
        var hash = ChecksumState(seed: 0)
        header.withUnsafeBytes { hash.add($0.baseAddress!, count: 56) }
        let headerHash = hash.value
        // The header's checksum field is filled after the body; reserve it now.
        do {
            try AtomicFile.write(to: path) { out in
                var writer = SectionWriter(out)
                try writer.raw(header)
                writer.hash = ChecksumState(seed: headerHash)
                try writer.section(csr.rowOffsets)
                try writer.section(csr.columnIndices)
                if weighted { try writer.section(csr.values) }
                try writer.section(t.offsets)
                try writer.section(t.indices)
                if let tv = t.values { try writer.section(tv) }
                try writer.section(idOffsets)
                var text = [UInt8]()
                text.reserveCapacity(1 << 20)
                for i in 0..<n {
                    text.append(contentsOf: ids.idBytes(at: i))
                    if text.count >= 1 << 20 { try writer.bytes(text); text.removeAll(keepingCapacity: true) }
                }
                try writer.bytes(text)
                try writer.pad()
                try writer.flush()
                guard writer.written == layout.end else { throw failure("size \(writer.written) != \(layout.end)") }
                put(writer.hash.value, 56)
                try header.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[56..<64]), at: 56) }
            }
        } catch let error as GraphDataError {
            throw error
        } catch let error as AtomicFileError {
            throw failure(error.problem)
        } catch {
            throw failure("\(error)")
        }
    }

    /// Counting-sort transpose of CSR arrays (columns sorted within each transposed row).
    static func transposed(n: Int, _ offsets: [Int64], _ indices: [Int32], _ values: [Float]?)
        -> (offsets: [Int64], indices: [Int32], values: [Float]?) {
        let nnz = indices.count
        var to = [Int64](repeating: 0, count: n + 1)
        for c in indices { to[Int(c) + 1] += 1 }
        for j in 0..<n { to[j + 1] += to[j] }
        var next = Array(to[0..<n])
        var ti = [Int32](repeating: 0, count: nnz)
        var tv: [Float]? = values == nil ? nil : [Float](repeating: 0, count: nnz)
        indices.withUnsafeBufferPointer { idx in
            ti.withUnsafeMutableBufferPointer { ti in
                for r in 0..<n {
                    for p in Int(offsets[r])..<Int(offsets[r + 1]) {
                        let j = Int(idx[p]), q = Int(next[j])
                        next[j] += 1
                        ti[q] = Int32(r)
                        if let values { tv![q] = values[p] }
                    }
                }
            }
        }
        return (to, ti, tv)
    }
}

/// Appends 64-byte-aligned sections to a file through a 4 MiB buffer, hashing what it writes.
struct SectionWriter {
    let out: AtomicFile.Output
    var buffer = [UInt8]()
    var written = 0
    var hash = GraphCSRFile.ChecksumState(seed: 0)
    var hashing = false
    init(_ out: AtomicFile.Output) { self.out = out; buffer.reserveCapacity(4 << 20) }

    mutating func raw(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0, hashed: false) }
        hashing = true
    }
    mutating func section<T>(_ array: [T]) throws {
        try array.withUnsafeBytes { try bytes($0) }
        try pad()
    }
    mutating func bytes(_ array: [UInt8]) throws { try array.withUnsafeBytes { try bytes($0) } }
    mutating func bytes(_ p: UnsafeRawBufferPointer) throws {
        var at = 0
        while at < p.count {
            let take = min(p.count - at, (4 << 20) - buffer.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[at..<(at + take)]))
            at += take
            if buffer.count == 4 << 20 { try flush() }
        }
    }
    mutating func pad() throws {
        let total = written + buffer.count
        let padding = (64 - total % 64) % 64
        if padding > 0 { try bytes([UInt8](repeating: 0, count: padding)) }
    }
    mutating func flush() throws {
        let b = buffer
        try b.withUnsafeBytes { try write($0, hashed: hashing) }
        buffer.removeAll(keepingCapacity: true)
    }
    private mutating func write(_ p: UnsafeRawBufferPointer, hashed: Bool) throws {
        if hashed { hash.add(p.baseAddress!, count: p.count) }
        try out.write(p)
        written += p.count
    }
}
