import LinearAlgebra

/// Options for reading a label file into a ``LabelTable``.
public enum LabelReader {
    /// What to do with a line whose node is not in the node id map given to the reader.
    public enum UnknownNodePolicy: Sendable, Equatable {
        /// Throw ``GraphDataError/Problem/unknownNode(_:)`` naming the file, line and text.
        case error
        /// Skip the line; ``LabelTableStatistics/skippedLines`` counts such lines.
        case skip
        /// Add the node to (a copy of) the map, after the existing ids: isolated labelled nodes.
        case insert
    }

    /// Reader options.
    public struct Options: Sendable, Equatable {
        /// Header handling. `.auto` treats the first data line as a header when both its
        /// columns are common column names (`node label`, `id,class`, …).
        public var header: EdgeListReader.Presence = .auto
        /// What to do with nodes missing from the given node map (ignored without one).
        public var unknownNodes: UnknownNodePolicy = .error

        /// Options with these values.
        public init(header: EdgeListReader.Presence = .auto, unknownNodes: UnknownNodePolicy = .error) {
            self.header = header
            self.unknownNodes = unknownNodes
        }
    }

    static let headerWords: Set<String> = [
        "node", "nodes", "id", "node_id", "nodeid", "user", "item", "vertex", "label", "labels",
        "class", "group", "category", "target", "tag", "page_type", "gender",
    ]
}

/// Counts that describe how a ``LabelTable`` was read.
public struct LabelTableStatistics: Sendable, Equatable {
    /// Data lines (node, label) in the file.
    public var dataLines: Int
    /// Whether a header line was skipped.
    public var headerSkipped: Bool
    /// Lines skipped because their node was unknown (``LabelReader/UnknownNodePolicy/skip``).
    public var skippedLines: Int
    /// Distinct unknown nodes among the skipped lines.
    public var skippedNodes: Int
    /// Lines that repeated a (node, label) pair already read.
    public var repeatedPairs: Int
}

/// Labels of nodes, multi-label: a sparse nodes x labels indicator in compressed-row form.
///
/// Node `i` (an index into ``nodeIDs``, usually the graph's id map) has the labels
/// `labelIndices[rowOffsets[i]..<rowOffsets[i+1]]`, increasing, each an index into
/// ``labelNames`` (label names in order of first appearance in the file). Nodes without a
/// line in the file have no labels.
public struct LabelTable: Sendable {
    /// The node ids the rows refer to (the map given to the reader, possibly extended).
    public let nodeIDs: IDMap
    /// Label names; label index `j` is `labelNames[j]`.
    public let labelNames: IDMap
    /// Row offsets, `nodeCount + 1` entries.
    public let rowOffsets: [Int]
    /// Label indices of all rows, increasing within each row.
    public let labelIndices: [Int32]
    /// How the file was read.
    public let statistics: LabelTableStatistics

    /// Number of rows (nodes of ``nodeIDs``).
    public var nodeCount: Int { rowOffsets.count - 1 }
    /// Number of distinct labels.
    public var labelCount: Int { labelNames.count }
    /// Number of nodes with at least one label.
    public var labeledNodeCount: Int {
        var n = 0
        for i in 0..<nodeCount where rowOffsets[i + 1] > rowOffsets[i] { n += 1 }
        return n
    }

    /// The labels of node `node`, increasing.
    /// - Precondition: `0 <= node < nodeCount`.
    public func labels(of node: Int) -> ArraySlice<Int32> {
        labelIndices[rowOffsets[node]..<rowOffsets[node + 1]]
    }

    /// The labels of every node, one array per node (empty for unlabelled nodes).
    /// Cost: O(nodes + pairs).
    public var labelsPerNode: [[Int32]] { (0..<nodeCount).map { Array(labels(of: $0)) } }

    /// The dense `nodeCount x labelCount` indicator: entry (i, j) is 1 when node i has label j,
    /// else 0. Cost: O(nodes x labels) memory.
    public func indicatorMatrix<Scalar: BLASScalar>() -> Matrix<Scalar> {
        var m = Matrix<Scalar>(rows: nodeCount, columns: labelCount)
        for i in 0..<nodeCount {
            for j in labels(of: i) { m.elements[i + Int(j) * nodeCount] = 1 }
        }
        return m
    }

    /// Reads a label file: one `node label` pair per line (tab, spaces or comma), several lines
    /// per node for multi-label data, `#`/`%` comments and blank lines skipped.
    ///
    /// - Parameters:
    ///   - path: the label file, plain text or gzip.
    ///   - nodes: the node id map to index rows by (e.g. ``EdgeList/sourceIDs``); nil builds a
    ///     map from the file, in order of first appearance.
    ///   - options: header and unknown-node handling.
    /// - Cost: one read of the file and a parse linear in its size, O(nodes + pairs) to build rows.
    ///   A gzip file is inflated as it is parsed (as ``EdgeList/read(path:options:)`` does).
    /// - Throws: ``GraphDataError`` naming the file, line and text for a line without exactly
    ///   two columns, an empty node or label, or an unknown node (with `.error`); or
    ///   ``GraphDataError/Problem/cannotRead(reason:)``.
    public static func read(path: String, nodes: IDMap? = nil,
                            options: LabelReader.Options = .init()) throws(GraphDataError) -> LabelTable {
        try read(TextSource.open(path: path), nodes, options)
    }

    /// Reads label text from memory; `name` stands for the file name in errors. Same format,
    /// cost and errors as ``read(path:nodes:options:)``.
    public static func read(data: some Collection<UInt8>, name: String = "<memory>", nodes: IDMap? = nil,
                            options: LabelReader.Options = .init()) throws(GraphDataError) -> LabelTable {
        try read(.whole(TextBuffer(bytes: data, name: name)), nodes, options)
    }

    /// Reads label text from a string; `name` stands for the file name in errors.
    public static func read(string: String, name: String = "<memory>", nodes: IDMap? = nil,
                            options: LabelReader.Options = .init()) throws(GraphDataError) -> LabelTable {
        try read(data: Array(string.utf8), name: name, nodes: nodes, options: options)
    }

    static func read(_ source: TextSource, _ nodes: IDMap?, _ options: LabelReader.Options) throws(GraphDataError) -> LabelTable {
        let building = nodes == nil
        let nodeTable: IDTable = nodes.map { options.unknownNodes == .insert ? $0.table.copy() : $0.table }
            ?? IDTable(expectedCount: 1024)
        let inserting = building || options.unknownNodes == .insert
        let labelTable = IDTable()
        let unknownTable = IDTable()
        var rows = [Int32](), cols = [Int32]()
        var dataLines = 0, skipped = 0
        var headerSkipped = false
        var firstBlock = true
        let names = "(node, label)"
        try source.forEachBlock { (buf: TextBuffer) throws(GraphDataError) in
            var dataStart = 0
            if firstBlock {
                firstBlock = false
                try buf.prepareText()
                if let first = EdgeListReader.nextDataLine(buf, from: 0) {
                    let f = first.fields
                    let skip: Bool
                    switch options.header {
                    case .absent: skip = false
                    case .present: skip = true
                    case .auto:
                        skip = f.count == 2
                            && LabelReader.headerWords.contains(EdgeListReader.fieldString(f.p0, f.l0).lowercased())
                            && LabelReader.headerWords.contains(EdgeListReader.fieldString(f.p1, f.l1).lowercased())
                    }
                    if skip { dataStart = first.next; headerSkipped = true }
                }
            }
            let base = UnsafePointer(buf.base)
            var p = base + dataStart
            let end = base + buf.count
            var f = LineFields(p)
            while p < end {
                let lineStart = p
                LineScanner.scan(&p, &f)
                if f.count == 0 { continue }
                let problem: GraphDataError.Problem?
                if f.count == -1 { problem = .emptyID }
                else if f.count == 1 { problem = .tooFewColumns(found: 1, expected: 2, names: names) }
                else if f.count > 2 { problem = .tooManyColumns(found: f.count, expected: 2, names: names) }
                else if max(f.l0, f.l1) > GraphDataError.maximumIDLength { problem = .idTooLong(length: max(f.l0, f.l1)) }
                else { problem = nil }
                if let problem { throw buf.error(atLineStart: lineStart - base, problem) }
                dataLines += 1
                let node = inserting ? nodeTable.findOrInsert(f.p0, f.l0) : nodeTable.find(f.p0, f.l0)
                if node < 0 && !inserting {
                    if options.unknownNodes == .skip {
                        skipped += 1
                        _ = unknownTable.findOrInsert(f.p0, f.l0)
                        continue
                    }
                    throw buf.error(atLineStart: lineStart - base,
                                    .unknownNode(EdgeListReader.fieldString(f.p0, f.l0)))
                }
                let label = labelTable.findOrInsert(f.p1, f.l1)
                if node < 0 || label < 0 { throw buf.error(atLineStart: lineStart - base, .tooManyIDs) }
                rows.append(node)
                cols.append(label)
            }
        }
        let sorted = rows.withUnsafeBufferPointer { r in
            cols.withUnsafeBufferPointer { c in
                CSRBuilder.build(rowCount: nodeTable.count, rows: r, columns: c, values: UnsafeBufferPointer<Float>?.none,
                                 duplicates: .keepFirst)
            }
        }
        let offsets = sorted.offsets.map { Int($0) }
        let labels = sorted.columns
        let nodeIDs = (nodes != nil && nodeTable === nodes!.table) ? nodes! : IDMap(table: nodeTable)
        return LabelTable(
            nodeIDs: nodeIDs, labelNames: IDMap(table: labelTable), rowOffsets: offsets,
            labelIndices: labels,
            statistics: LabelTableStatistics(dataLines: dataLines, headerSkipped: headerSkipped,
                                             skippedLines: skipped, skippedNodes: unknownTable.count,
                                             repeatedPairs: rows.count - labels.count))
    }
}

extension LabelTable {
    /// Each labelled node's id with the names of its labels, the form the prediction benchmark takes.
    public var labelNamesByNode: [String: [String]] {
        var result = [String: [String]](minimumCapacity: nodeCount)
        for node in 0..<nodeCount {
            let labels = self.labels(of: node)
            if labels.isEmpty { continue }
            result[nodeIDs[node]] = labels.map { labelNames[Int($0)] }
        }
        return result
    }
}
