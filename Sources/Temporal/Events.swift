// Temporal: embeddings over time. Timestamped event lists, time windows (sliding, tumbling,
// cumulative, exponentially decayed), one follow-graph SVD per window, Procrustes alignment,
// drift reports, fold-in of new accounts, and temporal link prediction.
import Foundation
import GraphData

/// An error reading events or running a temporal job. Errors about one line of input name the
/// file, the 1-based line and its text, like a compiler diagnostic:
///
///     events.tsv:17: bad time "17o0": expected an integer number of seconds: "a\tb\t17o0"
public struct TemporalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or the name given for in-memory input); `nil` for errors not about a file.
    public let file: String?
    /// The 1-based line, when the problem is on one line.
    public let line: Int?
    /// The line's text (truncated to 200 bytes).
    public let lineText: String?
    /// What went wrong, in words.
    public let problem: String

    public init(file: String? = nil, line: Int? = nil, lineText: String? = nil, _ problem: String) {
        self.file = file; self.line = line; self.lineText = lineText; self.problem = problem
    }

    public var description: String {
        var s = ""
        if let file { s += file + (line.map { ":\($0)" } ?? "") + ": " }
        s += problem
        if let lineText { s += ": \"\(lineText)\"" }
        return s
    }
}

/// Timestamped interactions `src -> dst` at `time` (seconds since the epoch) with an optional
/// weight, over one id map, in time order.
///
/// Read with ``read(path:)``: one event per line, `src<TAB>dst<TAB>unix_time[<TAB>weight]`
/// (fields may also be separated by runs of spaces or by a comma), `#` and `%` comment lines and
/// blank lines skipped, CRLF line ends and a missing final newline accepted. The first data line
/// decides whether there is a weight column; every other line must agree. Input out of time order
/// is sorted (stably, so ties keep file order) and counted in ``outOfOrderLines``. Repeated pairs
/// are kept: each line is one event.
public struct TemporalEvents: Sendable {
    /// Source node of event `k` (into ``ids``).
    public let sources: [Int32]
    /// Target node of event `k`.
    public let targets: [Int32]
    /// Time of event `k`, seconds since the epoch; non-decreasing.
    public let times: [Int64]
    /// Weight of event `k`, or `nil` when the input has no weight column (every event weighs 1).
    public let weights: [Float]?
    /// Node ids, numbered in order of first appearance in the file.
    public let ids: IDMap
    /// Where the events came from (a path, or the name given for in-memory input).
    public let source: String
    /// Lines whose time was earlier than the line before them (0 for sorted input).
    public let outOfOrderLines: Int

    /// Number of events.
    public var count: Int { times.count }
    /// Number of nodes.
    public var nodeCount: Int { ids.count }
    /// The first and last event times, or `nil` without events.
    public var timeRange: ClosedRange<Int64>? { times.isEmpty ? nil : times[0]...times[times.count - 1] }

    /// Events from arrays (e.g. built in memory); sorts them by time, stably.
    /// - Precondition: equal lengths; indices inside `ids`.
    public init(ids: IDMap, sources: [Int32], targets: [Int32], times: [Int64], weights: [Float]? = nil,
                source: String = "<memory>") {
        precondition(sources.count == targets.count && targets.count == times.count
                     && (weights?.count ?? times.count) == times.count, "TemporalEvents: arrays of different lengths")
        var inversions = 0
        for k in times.indices.dropFirst() where times[k] < times[k - 1] { inversions += 1 }
        self.ids = ids
        self.source = source
        self.outOfOrderLines = inversions
        if inversions == 0 {
            self.sources = sources; self.targets = targets; self.times = times; self.weights = weights
        } else {
            let order = times.indices.sorted { times[$0] != times[$1] ? times[$0] < times[$1] : $0 < $1 }
            self.sources = order.map { sources[$0] }
            self.targets = order.map { targets[$0] }
            self.times = order.map { times[$0] }
            self.weights = weights.map { w in order.map { w[$0] } }
        }
    }

    /// The events with `start <= time < end`, as a range of event indices (binary search).
    public func eventRange(from start: Int64, to end: Int64) -> Range<Int> {
        let lo = firstIndex(atOrAfter: start)
        return lo..<max(lo, firstIndex(atOrAfter: end))
    }

    /// The first event index whose time is `>= t` (`count` when none is).
    public func firstIndex(atOrAfter t: Int64) -> Int {
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Reads an event file. Cost: one read of the file and a pass over its bytes, O(events) memory
    /// (plus a sort when the input is out of order).
    /// - Throws: ``TemporalError`` naming the file, line and text of a malformed line (too few or
    ///   too many columns, an empty id, a time that is not an integer, a weight that is not a
    ///   finite number), or why the file cannot be read.
    public static func read(path: String) throws -> TemporalEvents {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw TemporalError(file: path, !exists ? "cannot read file (no such file)"
                                : isDirectory.boolValue ? "cannot read file (is a directory)"
                                : "cannot read file (\(error.localizedDescription))")
        }
        return try data.withUnsafeBytes { try parse($0.bindMemory(to: UInt8.self), name: path) }
    }

    /// Reads events from a string; `name` stands for the file name in errors.
    public static func read(string: String, name: String = "<memory>") throws -> TemporalEvents {
        var s = string
        return try s.withUTF8 { try parse($0, name: name) }
    }

    static func parse(_ text: UnsafeBufferPointer<UInt8>, name: String) throws -> TemporalEvents {
        var ids = IDMap()
        var sources = [Int32](), targets = [Int32](), times = [Int64](), weights = [Float]()
        var columns = 0  // 3 or 4 once the first data line is seen
        var lineNumber = 0
        var position = 0
        let n = text.count
        var fields = [Range<Int>]()
        fields.reserveCapacity(5)
        while position < n {
            lineNumber += 1
            var end = position
            while end < n && text[end] != 10 { end += 1 }
            let lineRange = position..<end
            position = end + 1
            func failure(_ problem: String) -> TemporalError {
                var stop = lineRange.upperBound
                if stop > lineRange.lowerBound && text[stop - 1] == 13 { stop -= 1 }
                let length = min(stop - lineRange.lowerBound, 200)
                let shown = String(decoding: UnsafeBufferPointer(rebasing: text[lineRange.lowerBound..<(lineRange.lowerBound + length)]), as: UTF8.self)
                return TemporalError(file: name, line: lineNumber, lineText: shown, problem)
            }
            // Split into fields: a comma, or a run of blanks (space, tab, CR) separates.
            var i = lineRange.lowerBound
            func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 }
            while i < end && isBlank(text[i]) { i += 1 }
            if i == end || text[i] == 35 || text[i] == 37 { continue }  // blank, # or % comment
            fields.removeAll(keepingCapacity: true)
            while i < end {
                let start = i
                while i < end && !isBlank(text[i]) && text[i] != 44 { i += 1 }
                fields.append(start..<i)
                while i < end && isBlank(text[i]) { i += 1 }
                if i < end && text[i] == 44 {
                    i += 1
                    while i < end && isBlank(text[i]) { i += 1 }
                    if i == end { fields.append(end..<end) }
                }
            }
            if columns == 0 {
                guard fields.count == 3 || fields.count == 4 else {
                    throw failure("expected 3 columns (src, dst, unix_time) or 4 (src, dst, unix_time, weight), found \(fields.count)")
                }
                columns = fields.count
            } else if fields.count != columns {
                let names = columns == 3 ? "(src, dst, unix_time)" : "(src, dst, unix_time, weight)"
                throw failure("expected \(columns) columns \(names) as on the first data line, found \(fields.count)")
            }
            if fields.contains(where: \.isEmpty) { throw failure("empty field") }
            if fields[0].count > GraphDataError.maximumIDLength || fields[1].count > GraphDataError.maximumIDLength {
                throw failure("id longer than \(GraphDataError.maximumIDLength) bytes")
            }
            let fieldText = { (r: Range<Int>) in String(decoding: UnsafeBufferPointer(rebasing: text[r]), as: UTF8.self) }
            guard let t = parseTime(UnsafeBufferPointer(rebasing: text[fields[2]])) else {
                throw failure("bad time \"\(fieldText(fields[2]))\": expected an integer number of seconds since the epoch")
            }
            if columns == 4 {
                guard let w = Float(fieldText(fields[3])), w.isFinite else {
                    throw failure("bad weight \"\(fieldText(fields[3]))\": not a finite number")
                }
                weights.append(w)
            }
            func index(_ r: Range<Int>) -> Int32 {
                if let k = ids.index(ofIDBytes: UnsafeBufferPointer(rebasing: text[r])) { return k }
                return ids.insert(fieldText(r)).index
            }
            sources.append(index(fields[0]))
            targets.append(index(fields[1]))
            times.append(t)
        }
        return TemporalEvents(ids: ids, sources: sources, targets: targets, times: times,
                              weights: columns == 4 ? weights : nil, source: name)
    }

    /// An integer (optionally signed; a fractional part is accepted and truncated towards minus
    /// infinity), or `nil`.
    static func parseTime(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if i < bytes.count && (bytes[i] == 45 || bytes[i] == 43) { negative = bytes[i] == 45; i += 1 }
        guard i < bytes.count else { return nil }
        var value: Int64 = 0
        var digits = 0
        while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 48))
            if o1 || o2 { return nil }
            value = a; digits += 1; i += 1
        }
        guard digits > 0 else { return nil }
        var fraction = false
        if i < bytes.count && bytes[i] == 46 {
            i += 1
            while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
                if bytes[i] != 48 { fraction = true }
                i += 1
            }
        }
        guard i == bytes.count else { return nil }
        return negative ? -value - (fraction ? 1 : 0) : value
    }
}
