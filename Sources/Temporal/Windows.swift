import Foundation

/// A length of time written as a number and a unit: `90d`, `12h`, `30m`, `45s`, `2w`, `1y`
/// (365 days); a bare number is seconds.
public struct TimeSpan: Sendable, Equatable, Hashable, CustomStringConvertible, Codable {
    /// The span in seconds (positive).
    public let seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    /// Parses `text`; `nil` when it is not a positive span with a known unit.
    public init?(_ text: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000]
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var unit: Int64 = 1
        if let last = body.last, let u = units[last] { unit = u; body = body.dropLast() }
        guard let value = Double(body), value > 0, value.isFinite, value * Double(unit) < 9e18 else { return nil }
        seconds = Int64((value * Double(unit)).rounded())
        guard seconds > 0 else { return nil }
    }

    /// Days when whole (`180d`), else hours, minutes or seconds.
    public var description: String {
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}

/// How events are grouped into windows over time.
public enum WindowKind: Sendable, Equatable, CustomStringConvertible {
    /// Windows `[start, start + width)` whose starts are `step` apart: tumbling when
    /// `width == step`, overlapping when `width > step`, with gaps when `width < step`.
    case sliding(width: TimeSpan, step: TimeSpan)
    /// Every event since the origin up to each window's end (`step` apart): the growing graph a
    /// static embedding refit every `step` would see.
    case cumulative(step: TimeSpan)
    /// Every event since the origin up to each window's end, weighted `2^(-(end - t) / halfLife)`:
    /// recent interactions count most, old ones fade but never vanish.
    case decayed(step: TimeSpan, halfLife: TimeSpan)

    /// The kind a user names (`sliding`, `cumulative` or `decayed`), with the spans that kind
    /// uses; `nil` for any other name.
    public init?(named name: String, width: TimeSpan, step: TimeSpan, halfLife: TimeSpan) {
        switch name {
        case "sliding": self = .sliding(width: width, step: step)
        case "cumulative": self = .cumulative(step: step)
        case "decayed": self = .decayed(step: step, halfLife: halfLife)
        default: return nil
        }
    }

    /// Tumbling windows: `sliding(width: width, step: width)`.
    public static func tumbling(_ width: TimeSpan) -> WindowKind { .sliding(width: width, step: width) }

    /// The distance between consecutive window ends.
    public var step: TimeSpan {
        switch self {
        case .sliding(_, let step), .cumulative(let step), .decayed(let step, _): return step
        }
    }

    public var description: String {
        switch self {
        case .sliding(let w, let s): return w == s ? "tumbling \(w)" : "sliding \(w) every \(s)"
        case .cumulative(let s): return "cumulative every \(s)"
        case .decayed(let s, let h): return "decayed (half-life \(h)) every \(s)"
        }
    }

    /// A short name for reports: `window`, `cumulative` or `decayed`.
    public var name: String {
        switch self {
        case .sliding: return "window"
        case .cumulative: return "cumulative"
        case .decayed: return "decayed"
        }
    }
}

/// One window: the events with `start <= time < end` (for cumulative and decayed windows,
/// `start` is the origin), with their index range in the ``TemporalEvents``.
public struct TimeWindow: Sendable, Equatable, Codable {
    /// Position in the sequence, from 0.
    public let index: Int
    /// First second inside the window.
    public let start: Int64
    /// First second after the window (half-open: an event exactly at `end` belongs to the next window).
    public let end: Int64
    /// Events inside, as indices into the time-sorted events.
    public let firstEvent: Int, endEvent: Int

    /// Number of events inside.
    public var eventCount: Int { endEvent - firstEvent }

    /// `2016-03-06`-style UTC dates of `start` and of the last second inside.
    public var label: String { "\(TimeWindow.date(start))..\(TimeWindow.date(end - 1))" }

    /// The UTC date of `t` as `yyyy-MM-dd`.
    public static func date(_ t: Int64) -> String { isoDate(t, time: false) }

    /// The UTC date and time of `t` as `yyyy-MM-ddTHH:mm:ssZ`.
    public static func timestamp(_ t: Int64) -> String { isoDate(t, time: true) }

    /// Parses `yyyy-MM-dd` (UTC midnight) or an integer number of seconds since the epoch.
    public static func parseTime(_ text: String) -> Int64? {
        if let t = Int64(text) { return t }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }

    static func isoDate(_ t: Int64, time: Bool) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = time ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}

/// Cuts a time-sorted event list into windows.
public struct Windowing: Sendable, Equatable {
    /// The grouping.
    public var kind: WindowKind
    /// The start of the first window; `nil`: UTC midnight of the day of the first event.
    public var origin: Int64?

    public init(kind: WindowKind, origin: Int64? = nil) { self.kind = kind; self.origin = origin }

    /// The windows covering the events, in time order.
    ///
    /// Window `i` ends at `origin + width + i * step` (sliding; `width = step` for cumulative and
    /// decayed); windows are generated until one ends after the last event, so every event lies in
    /// some window. Windows may be empty (``TimeWindow/eventCount`` 0): callers decide what to do with
    /// them. Cost: O(windows log events).
    public func windows(of events: TemporalEvents) -> [TimeWindow] {
        guard let range = events.timeRange else { return [] }
        let origin = self.origin ?? Windowing.midnight(range.lowerBound)
        let width: Int64, step = kind.step.seconds
        switch kind {
        case .sliding(let w, _): width = w.seconds
        case .cumulative, .decayed: width = step
        }
        var result = [TimeWindow]()
        var i: Int64 = 0
        while true {
            let end = origin + width + i * step
            let start: Int64
            switch kind {
            case .sliding: start = end - width
            case .cumulative, .decayed: start = origin
            }
            let r = events.eventRange(from: start, to: end)
            result.append(TimeWindow(index: Int(i), start: start, end: end, firstEvent: r.lowerBound, endEvent: r.upperBound))
            if end > range.upperBound { break }
            i += 1
        }
        return result
    }

    /// The UTC midnight at or before `t`.
    public static func midnight(_ t: Int64) -> Int64 {
        let day: Int64 = 86_400
        return t >= 0 ? t / day * day : -((-t + day - 1) / day) * day
    }
}
