import FeatureStore
import Foundation
import Synchronization

/// HTML escaping for text and attribute values.
func esc(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// Percent-encoding for a query value or path segment.
func urlEncode(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
}

/// Inline SVG pictures for the embedding page.
enum Charts {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    /// Versions as bars on a time axis: each version's window `[valid_from, valid_to)` (open
    /// windows run to the right edge); deprecated versions drawn hollow.
    static func timeline(_ versions: [VersionRecord], now: Double = Timestamp.now()) -> String {
        guard !versions.isEmpty else { return "<p>No versions yet.</p>" }
        let start = versions.map(\.validFrom).min()!
        let end = max(versions.map { $0.validTo ?? $0.validFrom }.max()!, start + 1, min(now, start + 3 * 365 * 86400))
        let width = 720.0, left = 90.0, right = 20.0, rowHeight = 22.0
        let height = Double(versions.count) * rowHeight + 40
        func x(_ t: Double) -> Double { left + (t - start) / (end - start) * (width - left - right) }
        var svg = "<svg class=\"timeline\" role=\"img\" aria-label=\"versions on a timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        for (i, v) in versions.enumerated() {
            let y = 10 + Double(i) * rowHeight
            let x0 = x(v.validFrom), x1 = max(x(v.validTo ?? end), x0 + 3)
            let fill = v.status == .active ? palette[0] : "none"
            svg += "<text x=\"\(Int(left - 8))\" y=\"\(y + 14)\" text-anchor=\"end\" font-size=\"12\">\(esc(v.version))</text>"
            svg += "<rect class=\"version-bar\" data-version=\"\(esc(v.version))\" x=\"\(f(x0))\" y=\"\(f(y + 3))\" width=\"\(f(x1 - x0))\" height=\"14\" fill=\"\(fill)\" stroke=\"\(palette[0])\"><title>\(esc(v.version)): \(Timestamp.format(v.validFrom)) .. \(v.validTo.map(Timestamp.format) ?? "open") (\(v.status.rawValue))</title></rect>"
        }
        let axisY = 10 + Double(versions.count) * rowHeight + 4
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(axisY))\" x2=\"\(f(width - right))\" y2=\"\(f(axisY))\" stroke=\"#555\"/>"
        svg += "<text x=\"\(f(left))\" y=\"\(f(axisY + 16))\" font-size=\"11\">\(String(Timestamp.format(start).prefix(10)))</text>"
        svg += "<text x=\"\(f(width - right))\" y=\"\(f(axisY + 16))\" font-size=\"11\" text-anchor=\"end\">\(String(Timestamp.format(end).prefix(10)))</text>"
        return svg + "</svg>"
    }

    /// Each benchmark score across versions (x: versions in publish order), one line per score.
    static func scores(_ versions: [VersionRecord]) -> String {
        let names = Set(versions.flatMap { $0.scores.keys }).sorted()
        guard !names.isEmpty else { return "<p>No benchmark scores recorded.</p>" }
        let values = versions.flatMap { $0.scores.values }
        var lo = values.min()!, hi = values.max()!
        if hi - lo < 1e-9 { lo -= 0.05; hi += 0.05 }
        let pad = (hi - lo) * 0.1
        lo -= pad; hi += pad
        let width = 720.0, height = 240.0, left = 60.0, right = 20.0, top = 14.0, bottom = 40.0
        func x(_ i: Int) -> Double { versions.count == 1 ? (left + width - right) / 2 : left + Double(i) / Double(versions.count - 1) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (height - top - bottom) }
        var svg = "<svg class=\"scores\" role=\"img\" aria-label=\"benchmark scores across versions\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + 18.0 * Double(names.count)))\" viewBox=\"0 0 \(Int(width)) \(Int(height + 18.0 * Double(names.count)))\">"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"#555\"/>"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - right))\" y2=\"\(f(height - bottom))\" stroke=\"#555\"/>"
        for t in 0...4 {
            let v = lo + (hi - lo) * Double(t) / 4
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" font-size=\"11\" text-anchor=\"end\">\(String(format: "%.3f", v))</text>"
        }
        for (i, v) in versions.enumerated() {
            svg += "<text x=\"\(f(x(i)))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(esc(v.version))</text>"
        }
        for (n, name) in names.enumerated() {
            let color = palette[n % palette.count]
            let points = versions.enumerated().compactMap { i, v in v.scores[name].map { (x(i), y($0), $0) } }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>"
            for p in points {
                svg += "<circle class=\"score-point\" cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"3.5\" fill=\"\(color)\"><title>\(esc(name)) = \(String(format: "%.4f", p.2))</title></circle>"
            }
            let ly = height + 18.0 * Double(n)
            svg += "<rect x=\"\(f(left))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(f(left + 16))\" y=\"\(f(ly))\" font-size=\"12\">\(esc(name))</text>"
        }
        return svg + "</svg>"
    }

    /// A 2-D map of up to 3,000 rows (evenly spaced) projected on their top two principal axes
    /// (power iteration with deflation, fixed start, so the picture is reproducible).
    static func map(_ version: OnlineVersion) -> String {
        let n = version.count, d = version.dimension
        let sample = n <= 3000 ? Array(0..<n) : (0..<3000).map { $0 * n / 3000 }
        var mean = [Double](repeating: 0, count: d)
        var rows = [[Double]]()
        for r in sample {
            let v = version.withVector(atRow: r) { $0.map(Double.init) }
            rows.append(v)
            for j in 0..<d { mean[j] += v[j] / Double(sample.count) }
        }
        for i in rows.indices { for j in 0..<d { rows[i][j] -= mean[j] } }
        var cov = [Double](repeating: 0, count: d * d)
        for row in rows { for a in 0..<d where row[a] != 0 { for b in 0..<d { cov[a * d + b] += row[a] * row[b] } } }
        var axes = [[Double]]()
        for axis in 0..<min(2, d) {
            var v = (0..<d).map { 1.0 + Double(($0 + axis) % 7) / 7 }
            for _ in 0..<200 {
                var w = [Double](repeating: 0, count: d)
                for a in 0..<d { for b in 0..<d { w[a] += cov[a * d + b] * v[b] } }
                for u in axes { let p = zip(w, u).reduce(0) { $0 + $1.0 * $1.1 }; for j in 0..<d { w[j] -= p * u[j] } }
                let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm == 0 { break }
                v = w.map { $0 / norm }
            }
            axes.append(v)
        }
        let points = rows.map { row in axes.map { u in zip(row, u).reduce(0) { $0 + $1.0 * $1.1 } } + [0, 0] }
        let xs = points.map { $0[0] }, ys = points.map { $0[1] }
        let (x0, x1, y0, y1) = (xs.min() ?? 0, xs.max() ?? 1, ys.min() ?? 0, ys.max() ?? 1)
        let size = 360.0
        func sx(_ v: Double) -> Double { 10 + (v - x0) / max(x1 - x0, 1e-12) * (size - 20) }
        func sy(_ v: Double) -> Double { size - 10 - (v - y0) / max(y1 - y0, 1e-12) * (size - 20) }
        var svg = "<svg class=\"map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size))\" height=\"\(Int(size))\" viewBox=\"0 0 \(Int(size)) \(Int(size))\" role=\"img\" aria-label=\"2-D map of \(sample.count) rows\"><rect width=\"100%\" height=\"100%\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
        for p in points { svg += "<circle cx=\"\(f(sx(p[0])))\" cy=\"\(f(sy(p[1])))\" r=\"1.6\" fill=\"#1f77b4\" fill-opacity=\"0.55\"/>" }
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// 2-D maps by version, computed once each.
final class MapCache: Sendable {
    private let maps = Mutex<[String: String]>([:])

    func svg(for version: OnlineVersion) -> String {
        let key = version.record.reference + version.record.vectorsChecksum
        if let cached = maps.withLock({ $0[key] }) { return cached }
        let svg = Charts.map(version)
        maps.withLock { $0[key] = svg }
        return svg
    }
}
