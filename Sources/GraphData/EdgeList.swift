import LinearAlgebra

/// Counts that describe how an ``EdgeList`` was read.
public struct EdgeListStatistics: Sendable, Equatable {
    /// Data (edge) lines in the file: the edge count as the file states it.
    public var dataLines: Int
    /// Whether a header line was skipped.
    public var headerSkipped: Bool
    /// Data lines whose source and target are the same node (shared id map only).
    public var selfLoopLines: Int
    /// Self-loops removed by ``EdgeListReader/SelfLoopPolicy/drop``.
    public var selfLoopsDropped: Int
    /// Reverse edges added by symmetrisation (undirected graphs).
    public var reverseEdgesAdded: Int
    /// Edges removed by merging duplicates (``EdgeListReader/DuplicatePolicy/sum`` or `.keepOne`).
    public var duplicatesMerged: Int
    /// Threads (text chunks) the parser used.
    public var parserThreads: Int
}

/// A graph as edge arrays over dense node indices, with the id maps that name the nodes.
///
/// Read one with ``read(path:options:)``. Edge `k` goes from `sources[k]` to `targets[k]`
/// with weight `weights?[k]` (nil when the input had no weights and duplicates were not
/// summed). Indices refer to ``sourceIDs`` and ``targetIDs``, which are one shared map
/// (``hasSharedIDMap``; `sourceIDs.sharesStorage(with: targetIDs)`) unless the reader was
/// asked for separate maps.
///
/// Undirected graphs are stored symmetrised: both (u, v) and (v, u), self-loops once. After
/// ``EdgeListReader/DuplicatePolicy/sum`` or `.keepOne` the edges are in (source, target) order
/// (``isSorted``); with `.keepAll` they are in file order.
public struct EdgeList: Sendable {
    /// Source node index of each edge (into ``sourceIDs``).
    public let sources: [Int32]
    /// Target node index of each edge (into ``targetIDs``).
    public let targets: [Int32]
    /// Edge weights, or nil for an unweighted graph.
    public let weights: [Float]?
    /// Source ids; the same storage as ``targetIDs`` when ``hasSharedIDMap``.
    public let sourceIDs: IDMap
    /// Target ids; the same storage as ``sourceIDs`` when ``hasSharedIDMap``.
    public let targetIDs: IDMap
    /// Whether sources and targets are numbered by one id map (a follow graph) rather than two
    /// (bipartite data).
    public let hasSharedIDMap: Bool
    /// Whether the graph was read as directed (false: stored symmetrised).
    public let directed: Bool
    /// Whether the edges are in increasing (source, target) order with no repeats.
    public let isSorted: Bool
    /// How the file was read.
    public let statistics: EdgeListStatistics
    /// CSR row offsets when the edges are row-sorted.
    let rowOffsets: [Int64]?

    /// Number of nodes: the shared map's size, or sources plus targets with separate maps.
    /// Counts nodes that appear in some edge line (also those whose only edges were dropped).
    public var nodeCount: Int { hasSharedIDMap ? sourceIDs.count : sourceIDs.count + targetIDs.count }
    /// Number of stored edges (after self-loop removal, symmetrisation and duplicate handling).
    public var edgeCount: Int { sources.count }
    /// Rows of the adjacency matrix: ``sourceIDs``'s size.
    public var rowCount: Int { sourceIDs.count }
    /// Columns of the adjacency matrix: ``targetIDs``'s size.
    public var columnCount: Int { targetIDs.count }

    /// Reads an edge-list file. See ``EdgeListReader`` for the format. A gzip file (known by its
    /// magic bytes, whatever its name) is inflated as it is parsed, in blocks of 8 MiB of text
    /// on one thread; errors still name its lines, and damaged gzip data is an error
    /// (``GraphDataError/Problem/damagedCompressedData(format:reason:)``).
    ///
    /// Cost: one private `mmap` (or `read(2)`) of the file, a parse linear in its size (parallel over
    /// `options.threads` chunks), then for `.sum`/`.keepOne` a counting scatter by source and
    /// per-row sorts (insertion, quicksort or radix by row length): O(m + n) plus short sorts.
    /// Memory: the file's bytes plus about 20-30 bytes per edge at the peak.
    /// - Throws: ``GraphDataError`` naming the file, line number and line text for a malformed
    ///   line (one column, too many columns, a bad weight, an empty id), or
    ///   ``GraphDataError/Problem/cannotRead(reason:)`` when the file cannot be read, or
    ///   ``GraphDataError/Problem/invalidOptions(_:)`` for undirected with separate id maps.
    public static func read(path: String, options: EdgeListReader.Options = .init()) throws(GraphDataError) -> EdgeList {
        EdgeList(try EdgeListReader.parse(TextSource.open(path: path), options), options)
    }

    /// Reads an edge list from bytes in memory; `name` stands for the file name in errors.
    /// Same format, cost and errors as ``read(path:options:)``.
    public static func read(data: some Collection<UInt8>, name: String = "<memory>",
                            options: EdgeListReader.Options = .init()) throws(GraphDataError) -> EdgeList {
        try read(TextBuffer(bytes: data, name: name), options)
    }

    /// Reads an edge list from a string (its UTF-8 bytes); `name` stands for the file name in
    /// errors. Same format, cost and errors as ``read(path:options:)``.
    public static func read(string: String, name: String = "<memory>",
                            options: EdgeListReader.Options = .init()) throws(GraphDataError) -> EdgeList {
        try read(data: Array(string.utf8), name: name, options: options)
    }

    static func read(_ buffer: TextBuffer, _ options: EdgeListReader.Options) throws(GraphDataError) -> EdgeList {
        let parsed = try EdgeListReader.parse(buffer, options)
        return EdgeList(parsed, options)
    }

    init(_ parsed: EdgeListReader.Parsed, _ options: EdgeListReader.Options) {
        var src = parsed.sources
        var dst = parsed.targets
        var w = parsed.weights
        let shared = !options.separateIDMaps
        let dataLines = src.count
        var selfLoopLines = 0
        if shared {
            src.withUnsafeBufferPointer { s in
                dst.withUnsafeBufferPointer { d in
                    for i in 0..<s.count where s[i] == d[i] { selfLoopLines += 1 }
                }
            }
        }
        let dropLoops = shared && options.selfLoops == .drop
        var dropped = 0
        var added = 0
        var merged = 0
        var offsets: [Int64]? = nil
        if options.duplicates == .keepAll {
            // File order: filter self-loops in place, then append the reverse edges.
            if dropLoops && selfLoopLines > 0 {
                var n = 0
                src.withUnsafeMutableBufferPointer { s in
                    dst.withUnsafeMutableBufferPointer { d in
                        for i in 0..<s.count where s[i] != d[i] {
                            s[n] = s[i]; d[n] = d[i]
                            if w != nil { w![n] = w![i] }
                            n += 1
                        }
                    }
                }
                dropped = src.count - n
                src.removeLast(dropped); dst.removeLast(dropped); w?.removeLast(dropped)
            }
            if !options.directed {
                let m = src.count
                added = m - (dropLoops ? 0 : selfLoopLines)
                src.reserveCapacity(m + added); dst.reserveCapacity(m + added)
                w?.reserveCapacity(m + added)
                for i in 0..<m where src[i] != dst[i] {
                    src.append(dst[i]); dst.append(src[i])
                    if w != nil { w!.append(w![i]) }
                }
            }
        } else {
            // Row-sorted: scatter by source (adding reverse edges, dropping loops), sort rows, merge.
            let rows = src.withUnsafeBufferPointer { s in
                dst.withUnsafeBufferPointer { d in
                    w.withUnsafeBufferPointerIfPresent { wp in
                        CSRBuilder.build(rowCount: parsed.sourceTable.count, rows: s, columns: d, values: wp,
                                         symmetric: !options.directed, dropLoops: dropLoops,
                                         duplicates: options.duplicates == .sum ? .sum : .keepFirst,
                                         threads: options.threads ?? Parallel.threads)
                    }
                }
            }
            dropped = dropLoops ? selfLoopLines : 0
            added = options.directed ? 0 : dataLines - selfLoopLines
            merged = dataLines - dropped + added - rows.columns.count
            src = CSRBuilder.rowIndices(offsets: rows.offsets)
            dst = rows.columns
            w = rows.values
            offsets = rows.offsets
        }
        let sourceIDs = IDMap(table: parsed.sourceTable)
        self.sources = src
        self.targets = dst
        self.weights = w
        self.sourceIDs = sourceIDs
        self.targetIDs = shared ? sourceIDs : IDMap(table: parsed.targetTable)
        self.hasSharedIDMap = shared
        self.directed = options.directed
        self.isSorted = offsets != nil
        self.rowOffsets = offsets
        self.statistics = EdgeListStatistics(
            dataLines: dataLines, headerSkipped: parsed.headerSkipped, selfLoopLines: selfLoopLines,
            selfLoopsDropped: dropped, reverseEdgesAdded: added, duplicatesMerged: merged,
            parserThreads: parsed.threads)
    }

    /// The adjacency matrix in compressed sparse row form: row `i` (source `i`) holds its
    /// targets in increasing order in `columnIndices[rowOffsets[i]..<rowOffsets[i+1]]`, with
    /// the edge weights (1 for an unweighted graph) in `values`. Duplicate edges appear as the
    /// reader's ``EdgeListReader/DuplicatePolicy`` left them (repeated entries under `.keepAll`).
    /// The shape is ``rowCount`` x ``columnCount``.
    ///
    /// Cost: O(m + n) (a counting sort unless ``isSorted``); memory for the three arrays.
    public func adjacencyCSR<Scalar: BLASScalar>() -> (rowOffsets: [Int64], columnIndices: [Int32], values: [Scalar]) {
        if let rowOffsets {
            let values = weights.map { $0.map { Scalar($0) } } ?? [Scalar](repeating: 1, count: edgeCount)
            return (rowOffsets, targets, values)
        }
        let rows = sources.withUnsafeBufferPointer { s in
            targets.withUnsafeBufferPointer { d in
                weights.withUnsafeBufferPointerIfPresent { wp in
                    CSRBuilder.build(rowCount: rowCount, rows: s, columns: d, values: wp, duplicates: nil)
                }
            }
        }
        let values = rows.values.map { $0.map { Scalar($0) } } ?? [Scalar](repeating: 1, count: rows.columns.count)
        return (rows.offsets, rows.columns, values)
    }

    /// The ids of edge `k`'s endpoints.
    /// - Precondition: `0 <= k < edgeCount`.
    public func edgeIDs(_ k: Int) -> (source: String, target: String) {
        (sourceIDs[Int(sources[k])], targetIDs[Int(targets[k])])
    }
}

extension Optional {
    mutating func withUnsafeMutableBufferPointerIfPresent<E, R>(_ body: (UnsafeMutableBufferPointer<E>?) -> R) -> R where Wrapped == [E] {
        switch self {
        case .some(var array):
            self = nil
            defer { self = array }
            return array.withUnsafeMutableBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }

    func withUnsafeBufferPointerIfPresent<E, R>(_ body: (UnsafeBufferPointer<E>?) -> R) -> R where Wrapped == [E] {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }
}
