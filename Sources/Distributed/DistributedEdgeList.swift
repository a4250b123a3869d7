import Foundation
import LinearAlgebra

/// An error of the distributed readers and jobs; the message names the file and line where
/// one is involved.
public struct DistributedError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A follow graph read in parallel by every rank: node indices as a single-process read
/// numbers them (first appearance in the file, source before target), the adjacency
/// partitioned by rows over the ranks, and each rank's ids.
public struct DistributedGraph: Sendable {
    /// Distinct ids in the file.
    public let nodeCount: Int
    /// Edges after self-loop removal, symmetrisation and merging of duplicates (all ranks).
    public let edgeCount: Int
    /// Data lines (all ranks).
    public let dataLines: Int
    /// Which rank owns which nodes (rows and columns of the adjacency), an even split.
    public let nodePartition: BlockPartition
    /// The ids of this rank's nodes, in index order.
    public let localIDs: [String]
    /// The `n x n` adjacency, `a_ij` = weight of "i follows j" (both directions when undirected).
    public let adjacency: DistributedCSR<Float>
    /// Whether a header line was skipped (the same on every rank).
    public let headerSkipped: Bool
}

/// A users x items interaction list read in parallel by every rank
/// (``DistributedEdgeList/readInteractions(path:comm:options:)``).
public struct DistributedInteractions: Sendable {
    /// Distinct users (rows) and items (columns) in the file.
    public let userCount: Int, itemCount: Int
    /// Distinct (user, item) pairs, repeated pairs summed (all ranks).
    public let interactionCount: Int
    /// Data lines (all ranks).
    public let dataLines: Int
    /// The ids of this rank's users and of this rank's items, in index order.
    public let localUserIDs: [String], localItemIDs: [String]
    /// The `users x items` matrix, rows (users) and columns (items) split evenly over the ranks.
    public let matrix: DistributedCSR<Float>
    /// Whether a header line was skipped (the same on every rank).
    public let headerSkipped: Bool
}

/// Reads an edge list on every rank of a communicator, each rank its own byte range.
///
/// The format is that of GraphData's `EdgeListReader`: one edge per line, `source target [weight]`,
/// separated by tabs, runs of blanks or a comma; `#` and `%` comment lines and blank lines are
/// skipped; CRLF accepted; the first data line decides whether lines carry a weight.
///
/// 1. Byte ranges: rank `p` takes the lines that *start* in `[S p / P, S (p + 1) / P)` of the
///    `S`-byte file (each boundary moved to just after the next newline), and counts them, so
///    that errors name global line numbers.
/// 2. Ids: each rank numbers its ids in order of first appearance; the id's *owner* (FNV-1a
///    hash modulo `P`) learns, in rank order, which rank saw it first (one `MPI_Alltoallv` of the
///    id bytes, one of flags back); ranks number their first appearances after the earlier
///    ranks' (an allgather of counts), which is exactly the single-process numbering; the
///    owners relay those indices to every rank that used the id (two more exchanges).
/// 3. Edges go to the owners of their source rows (``DistributedCSR/init(comm:rowPartition:columnPartition:entries:duplicates:)``),
///    and each id string to the rank owning its node.
///
/// Each rank holds its byte range, its id table and its edges; no rank holds the whole graph.
public enum DistributedEdgeList {
    /// Reading options (the defaults of a follow graph: directed, self-loops dropped,
    /// duplicate edges kept once, header auto-detected).
    public struct Options: Sendable {
        public var directed = true
        public var keepSelfLoops = false
        /// `.keepFirst` (the first occurrence in file order; for an undirected graph the
        /// reverse edges of one rank's lines come before the next rank's lines) or `.sum`.
        public var duplicates: DuplicatePolicy = .keepFirst
        /// `true`: the first data line is a header; `false`: never; `nil`: detected as the
        /// single-process reader does (common column names, or two non-numeric ids followed by
        /// a line of numeric ones).
        public var header: Bool? = nil
        /// Accept zero and negative weights.
        public var allowNonPositiveWeights = false
        /// Sources and targets get separate id maps (bipartite user -> item data, as GraphData's
        /// `EdgeListReader.Options.separateIDMaps`): read with ``DistributedEdgeList/readInteractions(path:comm:options:)``.
        public var separateIDMaps = false
        public init() {}
    }

    static let headerWords: Set<String> = [
        "source", "target", "src", "dst", "dest", "destination", "from", "to", "fromnodeid", "tonodeid",
        "node", "node1", "node2", "id1", "id2", "user", "item", "follower", "followee", "head", "tail",
    ]

    /// Reads `path` collectively. Throws the same error on the rank that found it (the caller's
    /// ``Communicator/run(_:)`` then aborts every rank).
    public static func read(path: String, comm: Communicator, options: Options = .init()) throws -> DistributedGraph {
        guard !options.separateIDMaps else { throw DistributedError("\(path): separate id maps are read by readInteractions, not read") }
        let parsed = try parseRange(path: path, comm: comm, options: options)
        let global = numberIDs(parsed.ids, comm: comm)
        let n = global.nodeCount
        let partition = BlockPartition.even(count: n, parts: comm.size)
        var entries = [GlobalEntry<Float>]()
        entries.reserveCapacity(parsed.sources.count * (options.directed ? 1 : 2))
        var reverse = [GlobalEntry<Float>]()
        for e in 0 ..< parsed.sources.count {
            let s = global.index[Int(parsed.sources[e])], t = global.index[Int(parsed.targets[e])]
            if s == t && !options.keepSelfLoops { continue }
            let w: Float = parsed.weights.isEmpty ? 1 : parsed.weights[e]
            entries.append(GlobalEntry(row: s, column: t, value: w))
            if !options.directed && s != t { reverse.append(GlobalEntry(row: t, column: s, value: w)) }
        }
        entries += reverse
        let adjacency = try DistributedCSR(comm: comm, rowPartition: partition, columnPartition: partition,
                                           entries: entries, duplicates: options.duplicates)
        let ids = gatherIDs(parsed.ids, firstAppearances: global.firstAppearances, comm: comm, partition: partition)
        return DistributedGraph(nodeCount: n, edgeCount: Int(comm.sum(Int64(adjacency.localNonzeroCount))),
                                dataLines: Int(comm.sum(Int64(parsed.sources.count))), nodePartition: partition, localIDs: ids,
                                adjacency: adjacency, headerSkipped: comm.max(Int32(parsed.headerSkipped ? 1 : 0)) == 1)
    }

    /// Reads a users x items interaction list (`user item [weight]`, as `als-embed` reads it:
    /// users and items numbered separately by first appearance, repeated pairs summed) on every
    /// rank of `comm`, each rank its own byte range; users are the matrix rows, split evenly
    /// over the ranks, items its columns. Ids are numbered exactly as GraphData's
    /// `EdgeList.read` with `separateIDMaps` numbers them. Collective.
    public static func readInteractions(path: String, comm: Communicator, options: Options = .init()) throws -> DistributedInteractions {
        var options = options
        options.separateIDMaps = true
        options.directed = true
        options.keepSelfLoops = true
        let parsed = try parseRange(path: path, comm: comm, options: options)
        let users = numberIDs(parsed.ids, comm: comm), items = numberIDs(parsed.targetIDs, comm: comm)
        let userPartition = BlockPartition.even(count: users.nodeCount, parts: comm.size)
        let itemPartition = BlockPartition.even(count: items.nodeCount, parts: comm.size)
        var entries = [GlobalEntry<Float>]()
        entries.reserveCapacity(parsed.sources.count)
        for e in 0 ..< parsed.sources.count {
            entries.append(GlobalEntry(row: users.index[Int(parsed.sources[e])], column: items.index[Int(parsed.targets[e])],
                                       value: parsed.weights.isEmpty ? 1 : parsed.weights[e]))
        }
        let matrix = try DistributedCSR(comm: comm, rowPartition: userPartition, columnPartition: itemPartition,
                                        entries: entries, duplicates: .sum)
        return DistributedInteractions(
            userCount: users.nodeCount, itemCount: items.nodeCount,
            interactionCount: Int(comm.sum(Int64(matrix.localNonzeroCount))),
            dataLines: Int(comm.sum(Int64(parsed.sources.count))),
            localUserIDs: gatherIDs(parsed.ids, firstAppearances: users.firstAppearances, comm: comm, partition: userPartition),
            localItemIDs: gatherIDs(parsed.targetIDs, firstAppearances: items.firstAppearances, comm: comm, partition: itemPartition),
            matrix: matrix, headerSkipped: comm.max(Int32(parsed.headerSkipped ? 1 : 0)) == 1)
    }

    /// This rank's lines parsed, with global line numbers in errors and the weight column
    /// decided by the first data line of the file. Collective.
    static func parseRange(path: String, comm: Communicator, options: Options) throws -> Parsed {
        let bytes = try readRange(path: path, comm: comm)
        // Global line numbers: lines before this rank's range.
        let newlines = bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        let lineOffsets = comm.prefixOffsets(newlines)
        var parsed = try parse(bytes, path: path, firstLine: lineOffsets[comm.rank] + 1, isFirstRank: comm.rank == 0, options: options)
        // The first data line in the file decides whether lines carry a weight.
        let firstWidth = Int(comm.allgather(Int32(parsed.firstWidth)).first(where: { $0 != 0 }) ?? 2)
        if let bad = parsed.firstLineWithWidth[firstWidth == 3 ? 2 : 3] {
            throw DistributedError("\(path):\(bad): \(firstWidth == 3 ? 2 : 3) columns, but the first data line has \(firstWidth) (source target\(firstWidth == 3 ? " weight" : ""))")
        }
        if firstWidth == 2 { parsed.weights = [] }
        return parsed
    }

    // MARK: Byte ranges

    /// This rank's lines: the bytes from the first line starting at or after `S r / P` to the
    /// first line starting at or after `S (r + 1) / P`.
    static func readRange(path: String, comm: Communicator) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DistributedError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DistributedError("\(path): cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        func lineStart(atOrAfter b: Int) throws -> Int {
            if b <= 0 { return 0 }
            if b >= size { return size }
            var position = b - 1
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while position < size {
                let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
                guard got > 0 else { throw DistributedError("\(path): read failed at byte \(position)") }
                if let i = buffer[0 ..< got].firstIndex(of: 10) { return position + i + 1 }
                position += got
            }
            return size
        }
        let start = try lineStart(atOrAfter: size * comm.rank / comm.size)
        let end = try lineStart(atOrAfter: size * (comm.rank + 1) / comm.size)
        var bytes = [UInt8](repeating: 0, count: max(0, end - start))
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start + done)) }
            guard got > 0 else { throw DistributedError("\(path): read failed at byte \(start + done)") }
            done += got
        }
        return bytes
    }

    // MARK: Parsing

    struct Parsed {
        var ids: [String] = []                 // local ids, first appearance order
        var targetIDs: [String] = []           // with separate id maps: the targets' local ids
        var sources: [Int32] = [], targets: [Int32] = []
        var weights: [Float] = []
        var firstWidth = 0
        var firstLineWithWidth: [Int: Int] = [:]
        var headerSkipped = false
    }

    static func parse(_ bytes: [UInt8], path: String, firstLine: Int, isFirstRank: Bool, options: Options) throws -> Parsed {
        var out = Parsed()
        var table = [String: Int32](), targetTable = [String: Int32]()
        func local(_ id: String) -> Int32 {
            if let i = table[id] { return i }
            let i = Int32(out.ids.count)
            table[id] = i; out.ids.append(id)
            return i
        }
        func localTarget(_ id: String) -> Int32 {
            guard options.separateIDMaps else { return local(id) }
            if let i = targetTable[id] { return i }
            let i = Int32(out.targetIDs.count)
            targetTable[id] = i; out.targetIDs.append(id)
            return i
        }
        func add(_ fields: [Substring], _ line: Int) throws {
            guard fields.count >= 2 else { throw DistributedError("\(path):\(line): 1 column, expected source target [weight]") }
            guard fields.count <= 3 else { throw DistributedError("\(path):\(line): \(fields.count) columns, expected source target [weight]") }
            if out.firstWidth == 0 { out.firstWidth = fields.count }
            if out.firstLineWithWidth[fields.count] == nil { out.firstLineWithWidth[fields.count] = line }
            out.sources.append(local(String(fields[0])))
            out.targets.append(localTarget(String(fields[1])))
            if fields.count == 3 {
                guard let w = Float(fields[2]), w.isFinite else { throw DistributedError("\(path):\(line): weight '\(fields[2])' is not a finite number") }
                if !options.allowNonPositiveWeights && !(w > 0 && w.isNormal) {
                    throw DistributedError("\(path):\(line): weight \(fields[2]) is not a positive normal Float (allowNonPositiveWeights accepts it)")
                }
                out.weights.append(w)
            } else {
                out.weights.append(1)
            }
        }
        var lines = [([Substring], Int)]()   // the first two data lines of rank 0, for header detection
        var lineNumber = firstLine - 1
        var pendingHeader: Bool? = isFirstRank ? options.header : false
        // Lines split on bytes: in Swift's String, "\r\n" is one Character.
        for raw in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(decoding: raw.last == 13 ? raw.dropLast() : raw, as: UTF8.self)[...]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.first == "#" || trimmed.first == "%" { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            if pendingHeader == nil {
                lines.append((fields, lineNumber))
                if lines.count < 2 { continue }
                let first = lines[0].0
                let named = first.count >= 2 && headerWords.contains(first[0].lowercased()) && headerWords.contains(first[1].lowercased())
                let numeric = { (f: [Substring]) in f.count >= 2 && Double(f[0]) != nil && Double(f[1]) != nil }
                let isHeader = named || (first.count >= 2 && Double(first[0]) == nil && Double(first[1]) == nil && numeric(lines[1].0))
                pendingHeader = false
                out.headerSkipped = isHeader
                if !isHeader { try add(first, lines[0].1) }
                try add(lines[1].0, lines[1].1)
                continue
            }
            if pendingHeader == true { pendingHeader = false; out.headerSkipped = true; continue }
            try add(fields, lineNumber)
        }
        if pendingHeader == nil, let only = lines.first {   // a one-line range: not a header unless named
            let named = only.0.count >= 2 && headerWords.contains(only.0[0].lowercased()) && headerWords.contains(only.0[1].lowercased())
            if named { out.headerSkipped = true } else { try add(only.0, only.1) }
        }

        return out
    }

    // MARK: Global numbering

    static func owner(of id: String, parts: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(parts))
    }

    /// Packs strings as (UInt32 length, bytes) records.
    static func pack(_ strings: [String]) -> [UInt8] {
        var out = [UInt8]()
        for s in strings {
            let u = Array(s.utf8)
            withUnsafeBytes(of: UInt32(u.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: u)
        }
        return out
    }

    static func unpack(_ bytes: ArraySlice<UInt8>) -> [String] {
        var out = [String](), i = bytes.startIndex
        while i < bytes.endIndex {
            let n = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
            out.append(String(decoding: bytes[(i + 4) ..< (i + 4 + n)], as: UTF8.self))
            i += 4 + n
        }
        return out
    }

    /// Global indices of this rank's local ids, the node count, and which local ids appear
    /// first on this rank (with their global indices).
    static func numberIDs(_ ids: [String], comm: Communicator) -> (index: [Int64], nodeCount: Int, firstAppearances: [(local: Int, global: Int64)]) {
        let p = comm.size
        // Requests grouped by owner, in local order within each owner.
        let owners = ids.map { owner(of: $0, parts: p) }
        var byOwner = [[Int]](repeating: [], count: p)
        for (i, o) in owners.enumerated() { byOwner[o].append(i) }
        var sendBytes = [UInt8](), byteCounts = [Int]()
        for o in 0 ..< p {
            let packed = pack(byOwner[o].map { ids[$0] })
            sendBytes += packed; byteCounts.append(packed.count)
        }
        let received = comm.counting("read: id numbering") { comm.alltoallv(sendBytes, sendCounts: byteCounts) }
        // Owner: the first rank (in rank order) to send an id saw it first.
        var slotOf = [String: Int](), flags = [UInt8](), requestSlot = [Int](), requestCounts = [Int]()
        var at = 0
        for source in 0 ..< p {
            let strings = unpack(received.values[at ..< at + received.counts[source]])
            at += received.counts[source]
            requestCounts.append(strings.count)
            for s in strings {
                if let slot = slotOf[s] { flags.append(0); requestSlot.append(slot) } else {
                    slotOf[s] = slotOf.count; flags.append(1); requestSlot.append(slotOf.count - 1)
                }
            }
        }
        let firstFlags = comm.counting("read: id numbering") { comm.alltoallv(flags, sendCounts: requestCounts).values }
        // firstFlags is grouped by owner in the order of byOwner.
        var isFirst = [Bool](repeating: false, count: ids.count)
        var k = 0
        for o in 0 ..< p { for i in byOwner[o] { isFirst[i] = firstFlags[k] == 1; k += 1 } }
        let firstCount = isFirst.filter { $0 }.count
        let offsets = comm.prefixOffsets(firstCount)
        var index = [Int64](repeating: -1, count: ids.count)
        var next = Int64(offsets[comm.rank])
        var firsts = [(local: Int, global: Int64)]()
        for i in 0 ..< ids.count where isFirst[i] { index[i] = next; firsts.append((i, next)); next += 1 }
        // Tell the owners the indices of first appearances, then ask them for all others.
        var announce = [Int64]()
        for o in 0 ..< p { for i in byOwner[o] { announce.append(index[i]) } }
        let announced = comm.counting("read: id numbering") { comm.alltoallv(announce, sendCounts: byOwner.map(\.count)).values }
        var globalOfSlot = [Int64](repeating: -1, count: slotOf.count)
        for (r, g) in announced.enumerated() where g >= 0 { globalOfSlot[requestSlot[r]] = g }
        let answers = comm.counting("read: id numbering") {
            comm.alltoallv(requestSlot.map { globalOfSlot[$0] }, sendCounts: requestCounts).values
        }
        k = 0
        for o in 0 ..< p { for i in byOwner[o] { index[i] = answers[k]; k += 1 } }
        return (index, offsets.last!, firsts)
    }

    /// The id strings of the nodes this rank owns, in index order: each rank sends the ids it
    /// saw first to their owners (first appearances are numbered in rank order, so they arrive
    /// in index order).
    static func gatherIDs(_ ids: [String], firstAppearances: [(local: Int, global: Int64)], comm: Communicator,
                          partition: BlockPartition) -> [String] {
        var byOwner = [[String]](repeating: [], count: comm.size)
        for f in firstAppearances { byOwner[partition.owner(of: Int(f.global))].append(ids[f.local]) }
        var send = [UInt8](), counts = [Int]()
        for o in 0 ..< comm.size { let b = pack(byOwner[o]); send += b; counts.append(b.count) }
        let received = comm.counting("read: ids to owners") { comm.alltoallv(send, sendCounts: counts) }
        return unpack(received.values[...])
    }
}
