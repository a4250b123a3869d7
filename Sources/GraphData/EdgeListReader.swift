import Dispatch
import LinearAlgebra

/// Reads text edge lists into an ``EdgeList``: the options, and the parser behind
/// ``EdgeList/read(path:options:)``.
///
/// Format: one edge per line, `source target [weight]`, fields separated by a tab, by runs of
/// spaces and tabs, or by a comma (blanks around it allowed). Lines whose first non-blank byte
/// is `#` or `%` are comments; blank lines are skipped; CRLF line ends and a missing final
/// newline are accepted. Ids are arbitrary byte strings (no separators inside), numbered
/// densely in order of first appearance (source before target on each line).
///
/// The parser maps the whole file (or reads it with one `read(2)`), scans bytes through pointers, and
/// splits the text at line boundaries into chunks parsed concurrently (one per thread, each
/// with its own id table); the chunk tables are merged in file order, so indices follow first
/// appearance exactly as a sequential read would number them.
public enum EdgeListReader {
    /// Whether a part of the file that may or may not be there (the header line of
    /// ``Options/header``, the weight column of ``Options/weighted``) is: detected from the first
    /// data lines, or stated.
    public enum Presence: Sendable, Equatable {
        /// Detected: see ``Options/header`` and ``Options/weighted`` for the rules.
        case auto
        /// There: the first non-comment, non-blank line is a header (skipped unread); every line
        /// has a weight column.
        case present
        /// Not there: every non-comment, non-blank line is an edge; a third column is an error.
        case absent
    }

    /// What happens to edges whose source and target are the same node.
    public enum SelfLoopPolicy: Sendable, Equatable {
        /// Self-loops stay (once, also in undirected graphs).
        case keep
        /// Self-loops are removed.
        case drop
    }

    /// What happens to edges that occur more than once (after symmetrisation).
    public enum DuplicatePolicy: Sendable, Equatable {
        /// One edge per (source, target), with the weights summed; unweighted input gets
        /// ``EdgeList/weights`` holding each edge's multiplicity.
        case sum
        /// One edge per (source, target), with the weight of its first occurrence.
        case keepOne
        /// Every line is an edge, in file order (reverse edges of an undirected graph follow
        /// all file edges).
        case keepAll
    }

    /// Reader options. The defaults suit a follow graph: directed, one id map for both
    /// endpoints, self-loops kept, duplicates kept once, header and weights auto-detected.
    public struct Options: Sendable, Equatable {
        /// When false, every edge (u, v) with u != v also gets (v, u) (self-loops once).
        public var directed: Bool = true
        /// Self-loop policy; only meaningful with a shared id map.
        public var selfLoops: SelfLoopPolicy = .keep
        /// Duplicate-edge policy.
        public var duplicates: DuplicatePolicy = .keepOne
        /// Header handling. ``Presence/auto``: the first data line is a header only when that
        /// is certain: both id columns are common column names (`src dst`, `source target`,
        /// `from to`, `FromNodeId ToNodeId`, …), or both id columns are non-numeric while both
        /// ids of the next data line are numbers. (A first line whose only oddity is a
        /// non-numeric weight is an error, not a header: the same text on line 2 would be one
        /// too.) ``EdgeListStatistics/headerSkipped`` says when a line was skipped; tools say it
        /// on stderr.
        public var header: Presence = .auto
        /// Weight column handling. ``Presence/auto``: the first data line decides (three columns
        /// mean weighted, two unweighted); every later line must have the same number of columns.
        public var weighted: Presence = .auto
        /// When true, sources and targets get separate id maps (bipartite user -> item data);
        /// requires `directed == true`.
        public var separateIDMaps: Bool = false
        /// Threads for parsing and for sorting rows; nil means `Parallel.threads` (LinearAlgebra).
        /// Input under 1 MiB per thread is parsed with fewer threads. On a machine whose cores
        /// are busy with other work, 1 is faster.
        public var threads: Int? = nil
        /// When false (the default), a weight that is not a positive normal `Float` (`0`, `-1`,
        /// `1e-50`, which underflows) is an error naming the file and line; true accepts any
        /// finite weight (signed networks).
        public var allowNonPositiveWeights: Bool = false

        /// Options with the defaults above, any of which may be overridden here.
        public init(directed: Bool = true, selfLoops: SelfLoopPolicy = .keep,
                    duplicates: DuplicatePolicy = .keepOne, header: Presence = .auto,
                    weighted: Presence = .auto, separateIDMaps: Bool = false,
                    threads: Int? = nil, allowNonPositiveWeights: Bool = false) {
            self.allowNonPositiveWeights = allowNonPositiveWeights
            self.directed = directed
            self.selfLoops = selfLoops
            self.duplicates = duplicates
            self.header = header
            self.weighted = weighted
            self.separateIDMaps = separateIDMaps
            self.threads = threads
        }
    }

    // MARK: - Parsing

    static let headerWords: Set<String> = [
        "source", "target", "src", "dst", "dest", "destination", "trg", "tgt", "from", "to",
        "fromnodeid", "tonodeid", "node", "node1", "node2", "node_1", "node_2", "id1", "id2",
        "id_1", "id_2", "user", "item", "follower", "followee", "head", "tail", "weight",
    ]

    static func fieldString(_ p: UnsafePointer<UInt8>, _ n: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    static func isNumber(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        LineScanner.parseFloat(p, n) != nil
    }

    /// The next non-blank, non-comment line at or after `offset`: its start, fields and the
    /// offset of the following line.
    static func nextDataLine(_ buf: TextBuffer, from offset: Int)
        -> (start: Int, fields: LineFields, next: Int)? {
        var p = UnsafePointer(buf.base + offset)
        let end = UnsafePointer(buf.base + buf.count)
        var f = LineFields(p)
        while p < end {
            let start = p
            LineScanner.scan(&p, &f)
            if f.count != 0 { return (start - UnsafePointer(buf.base), f, p - UnsafePointer(buf.base)) }
        }
        return nil
    }

    static func isHeader(_ buf: TextBuffer, _ first: (start: Int, fields: LineFields, next: Int)) -> Bool {
        let f = first.fields
        if f.count < 2 { return false }
        if headerWords.contains(fieldString(f.p0, f.l0).lowercased())
            && headerWords.contains(fieldString(f.p1, f.l1).lowercased()) { return true }
        if !isNumber(f.p0, f.l0) && !isNumber(f.p1, f.l1),
           let second = nextDataLine(buf, from: first.next), second.fields.count >= 2,
           isNumber(second.fields.p0, second.fields.l0), isNumber(second.fields.p1, second.fields.l1) {
            return true
        }
        return false
    }

    static func problem(for f: LineFields, columns: Int) -> GraphDataError.Problem {
        let names = columns == 3 ? "(source, target, weight)" : "(source, target)"
        if f.count == -1 {
            return f.emptyIndex < 2 ? .emptyID : .badWeight("")
        }
        if f.count < columns { return .tooFewColumns(found: f.count, expected: columns, names: names) }
        return .tooManyColumns(found: f.count, expected: columns, names: names)
    }

    struct ChunkOutcome {
        var edges = 0
        var errorOffset = -1
        var problem: GraphDataError.Problem? = nil
    }

    /// Parses the lines in `range` (line-aligned) into `src`/`dst`/`w`, numbering ids with the
    /// given tables (the same object when the map is shared). Stops at the first bad line.
    static func parseChunk(_ buf: TextBuffer, _ range: Range<Int>, columns: Int, allowAnyWeight: Bool,
                           _ src: UnsafeMutablePointer<Int32>, _ dst: UnsafeMutablePointer<Int32>,
                           _ w: UnsafeMutablePointer<Float>?,
                           _ srcTable: IDTable, _ dstTable: IDTable) -> ChunkOutcome {
        let base = UnsafePointer(buf.base)
        var p = base + range.lowerBound
        let end = base + range.upperBound
        var f = LineFields(p)
        var n = 0
        let maxLength = GraphDataError.maximumIDLength
        var out = ChunkOutcome()
        // Lines are handled in batches: tokenize and parse weights, then look up all ids of the
        // batch with independent loads first (see IDTable.peek), then resolve them in order.
        let batchSize = 256
        let probes = UnsafeMutablePointer<IDTable.Probe>.allocate(capacity: 2 * batchSize)
        let lineStarts = UnsafeMutablePointer<Int>.allocate(capacity: batchSize)
        defer { probes.deallocate(); lineStarts.deallocate() }
        while p < end && out.problem == nil {
            var k = 0
            while k < batchSize && p < end {
                let lineStart = p
                LineScanner.scan(&p, &f)
                if f.count == 0 { continue }
                if f.count != columns {
                    out.errorOffset = lineStart - base
                    out.problem = problem(for: f, columns: columns)
                    break
                }
                if f.l0 > maxLength || f.l1 > maxLength {
                    out.errorOffset = lineStart - base
                    out.problem = .idTooLong(length: max(f.l0, f.l1))
                    break
                }
                if let w {
                    guard let x = LineScanner.parseFloat(f.p2, f.l2) else {
                        out.errorOffset = lineStart - base
                        out.problem = .badWeight(fieldString(f.p2, f.l2))
                        break
                    }
                    if !allowAnyWeight && !(x >= Float.leastNormalMagnitude) {
                        out.errorOffset = lineStart - base
                        out.problem = .nonPositiveWeight(fieldString(f.p2, f.l2))
                        break
                    }
                    w[n + k] = x
                }
                (probes + 2 * k).initialize(to: IDTable.prepare(f.p0, f.l0))
                (probes + 2 * k + 1).initialize(to: IDTable.prepare(f.p1, f.l1))
                lineStarts[k] = lineStart - base
                k += 1
            }
            for j in 0..<k {
                srcTable.peek(&probes[2 * j])
                dstTable.peek(&probes[2 * j + 1])
            }
            for j in 0..<k {
                let a = srcTable.resolve(probes[2 * j])
                let b = dstTable.resolve(probes[2 * j + 1])
                if a < 0 || b < 0 {
                    out.errorOffset = lineStarts[j]
                    out.problem = .tooManyIDs
                    n += j
                    out.edges = n
                    return out
                }
                src[n + j] = a
                dst[n + j] = b
            }
            n += k
        }
        out.edges = n
        return out
    }

    /// Raw parse result: edges in file order with indices into the final (merged) tables.
    struct Parsed {
        var sources: [Int32]
        var targets: [Int32]
        var weights: [Float]?
        var sourceTable: IDTable
        var targetTable: IDTable
        var headerSkipped: Bool
        var threads: Int
    }

    /// Parses a file's text: a plain file in parallel chunks, a gzip file block by block.
    static func parse(_ source: TextSource, _ options: Options) throws(GraphDataError) -> Parsed {
        switch source {
        case .whole(let buffer): return try parse(buffer, options)
        case .gzip(let stream): return try parse(stream, options)
        }
    }

    /// Where the data starts and how many columns it has, from the first one or two data lines
    /// of the text's first block (after the BOM check and the options check).
    static func layout(_ buf: TextBuffer, _ options: Options) throws(GraphDataError) -> (dataStart: Int, headerSkipped: Bool, columns: Int) {
        if !options.directed && options.separateIDMaps {
            throw GraphDataError(file: buf.name, line: nil, lineText: nil, problem: .invalidOptions(
                "an undirected graph needs one id map shared by sources and targets (separateIDMaps = false)"))
        }
        try buf.prepareText()
        var dataStart = 0
        var headerSkipped = false
        if let first = nextDataLine(buf, from: 0) {
            let skip: Bool
            switch options.header {
            case .absent: skip = false
            case .present: skip = true
            case .auto: skip = isHeader(buf, first)
            }
            if skip { dataStart = first.next; headerSkipped = true }
        }
        let columns: Int
        switch options.weighted {
        case .present: columns = 3
        case .absent: columns = 2
        case .auto: columns = nextDataLine(buf, from: dataStart)?.fields.count == 3 ? 3 : 2
        }
        return (dataStart, headerSkipped, columns)
    }

    /// Parses a gzip file's text block by block as it is inflated, into arrays that grow as
    /// needed, numbering ids with one table (or two) for the whole file: one thread, never the
    /// whole text in memory.
    static func parse(_ stream: GzipTextStream, _ options: Options) throws(GraphDataError) -> Parsed {
        var sources: [Int32] = [], targets: [Int32] = [], weights: [Float]? = nil
        var layout: (dataStart: Int, headerSkipped: Bool, columns: Int)? = nil
        let srcTable = IDTable(expectedCount: 1 << 16)
        let dstTable = options.separateIDMaps ? IDTable(expectedCount: 1 << 16) : srcTable
        try TextSource.gzip(stream).forEachBlock { (buf: TextBuffer) throws(GraphDataError) in
            let start: Int
            if layout == nil {
                layout = try EdgeListReader.layout(buf, options)
                if layout!.columns == 3 { weights = [] }
                start = layout!.dataStart
            } else {
                start = 0
            }
            let lines = buf.newlineCount(in: start..<buf.count)
            let n = sources.count
            sources.append(contentsOf: repeatElement(0, count: lines))
            targets.append(contentsOf: repeatElement(0, count: lines))
            weights?.append(contentsOf: repeatElement(0, count: lines))
            let outcome = sources.withUnsafeMutableBufferPointer { s in
                targets.withUnsafeMutableBufferPointer { d in
                    weights.withUnsafeMutableBufferPointerIfPresent { w in
                        parseChunk(buf, start..<buf.count, columns: layout!.columns,
                                   allowAnyWeight: options.allowNonPositiveWeights,
                                   s.baseAddress! + n, d.baseAddress! + n, w.map { $0.baseAddress! + n },
                                   srcTable, dstTable)
                    }
                }
            }
            if let problem = outcome.problem { throw buf.error(atLineStart: outcome.errorOffset, problem) }
            let unused = lines - outcome.edges
            sources.removeLast(unused); targets.removeLast(unused); weights?.removeLast(unused)
        }
        // The arrays grew by doubling: copy them to their size so that no slack is held for the run.
        func tight<T>(_ a: [T]) -> [T] {
            guard a.capacity > a.count + a.count / 8 else { return a }
            return [T](unsafeUninitializedCapacity: a.count) { buffer, count in
                a.withUnsafeBufferPointer { if let p = $0.baseAddress { buffer.baseAddress!.initialize(from: p, count: a.count) } }
                count = a.count
            }
        }
        sources = tight(sources); targets = tight(targets); weights = weights.map(tight)
        return Parsed(sources: sources, targets: targets, weights: weights, sourceTable: srcTable,
                      targetTable: dstTable, headerSkipped: layout?.headerSkipped ?? false, threads: 1)
    }

    static func parse(_ buf: TextBuffer, _ options: Options) throws(GraphDataError) -> Parsed {
        // Header and weight detection look at the first one or two data lines.
        let (dataStart, headerSkipped, columns) = try layout(buf, options)
        let weighted = columns == 3

        // Split into line-aligned chunks.
        let length = buf.count - dataStart
        let requested = max(1, options.threads ?? Parallel.threads)
        let threads = max(1, min(requested, length / (1 << 20)))
        var bounds = [dataStart]
        for k in 1..<max(threads, 1) {
            let target = dataStart + length * k / threads
            bounds.append(max(bounds[k - 1], buf.nextLineStart(after: max(target - 1, bounds[k - 1]))))
        }
        bounds.append(buf.count)
        let chunks = bounds.count - 1

        // Phase 1: line counts bound each chunk's edges; phase 2 parses into place.
        var lineCounts = [Int](repeating: 0, count: chunks)
        if chunks == 1 {
            lineCounts[0] = buf.newlineCount(in: dataStart..<buf.count)
        } else {
            lineCounts.withUnsafeMutableBufferPointer { lc in
                let box = UnsafeSendableBox((lc.baseAddress!, bounds, buf))
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let (counts, b, text) = box.value
                    counts[c] = text.newlineCount(in: b[c]..<b[c + 1])
                }
            }
        }
        var starts = [0]
        for c in 0..<chunks { starts.append(starts[c] + lineCounts[c]) }
        let capacity = max(starts[chunks], 1)
        let shared = !options.separateIDMaps
        let expected = min(capacity, 1 << 16)
        var srcTables: [IDTable] = []
        var dstTables: [IDTable] = []
        for _ in 0..<chunks {
            let s = IDTable(expectedCount: expected)
            srcTables.append(s)
            dstTables.append(shared ? s : IDTable(expectedCount: expected))
        }

        // Parses every chunk into place, merges the chunk tables in file order and compacts the
        // chunks' edges; returns the edge count.
        func fill(_ src: UnsafeMutablePointer<Int32>, _ dst: UnsafeMutablePointer<Int32>,
                  _ w: UnsafeMutablePointer<Float>?) throws(GraphDataError) -> Int {
            var outcomes = [ChunkOutcome](repeating: ChunkOutcome(), count: chunks)
            if chunks == 1 {
                outcomes[0] = parseChunk(buf, dataStart..<buf.count, columns: columns, allowAnyWeight: options.allowNonPositiveWeights, src, dst, w,
                                         srcTables[0], dstTables[0])
            } else {
                let allowAny = options.allowNonPositiveWeights
                outcomes.withUnsafeMutableBufferPointer { oc in
                    let box = UnsafeSendableBox((oc.baseAddress!, bounds, starts, buf, src, dst, w,
                                                 srcTables, dstTables))
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        let (out, b, s, text, sp, dp, wp, st, dt) = box.value
                        out[c] = parseChunk(text, b[c]..<b[c + 1], columns: columns, allowAnyWeight: allowAny,
                                            sp + s[c], dp + s[c], wp.map { $0 + s[c] }, st[c], dt[c])
                    }
                }
            }
            if let bad = outcomes.first(where: { $0.problem != nil }) {
                throw buf.error(atLineStart: bad.errorOffset, bad.problem!)
            }
            var total = outcomes[0].edges
            for c in 1..<max(chunks, 1) {
                let srcMap = try translation(from: srcTables[c], into: srcTables[0], buf)
                let dstMap = shared ? srcMap : try translation(from: dstTables[c], into: dstTables[0], buf)
                let from = starts[c]
                let n = outcomes[c].edges
                srcMap.withUnsafeBufferPointer { sm in
                    dstMap.withUnsafeBufferPointer { dm in
                        for i in 0..<n {
                            src[total + i] = sm[Int(src[from + i])]
                            dst[total + i] = dm[Int(dst[from + i])]
                        }
                    }
                }
                if let w, total != from { (w + total).update(from: w + from, count: n) }
                total += n
            }
            return total
        }

        // The parser writes straight into the result arrays' storage.
        var result: Result<Int, GraphDataError> = .success(0)
        var targets: [Int32] = []
        var weights: [Float]? = nil
        func count() -> Int { (try? result.get()) ?? 0 }
        let sources = [Int32](unsafeUninitializedCapacity: capacity) { sb, sc in
            targets = [Int32](unsafeUninitializedCapacity: capacity) { db, dc in
                if weighted {
                    weights = [Float](unsafeUninitializedCapacity: capacity) { wb, wc in
                        result = Result { () throws(GraphDataError) in
                            try fill(sb.baseAddress!, db.baseAddress!, wb.baseAddress!)
                        }
                        wc = count()
                    }
                } else {
                    result = Result { () throws(GraphDataError) in try fill(sb.baseAddress!, db.baseAddress!, nil) }
                }
                dc = count()
            }
            sc = count()
        }
        _ = try result.get()
        return Parsed(sources: sources, targets: targets, weights: weights,
                      sourceTable: srcTables[0], targetTable: dstTables[0],
                      headerSkipped: headerSkipped, threads: chunks)
    }

    /// Inserts `local`'s ids, in its index order, into `global`; returns local -> global indices.
    static func translation(from local: IDTable, into global: IDTable,
                            _ buf: TextBuffer) throws(GraphDataError) -> [Int32] {
        var map = [Int32](repeating: 0, count: local.count)
        var failed = false
        map.withUnsafeMutableBufferPointer { m in
            for i in 0..<local.count {
                let b = local.bytes(i)
                let g = global.findOrInsert(b.baseAddress!, b.count)
                if g < 0 { failed = true; return }
                m[i] = g
            }
        }
        if failed {
            throw GraphDataError(file: buf.name, line: nil, lineText: nil, problem: .tooManyIDs)
        }
        return map
    }
}
