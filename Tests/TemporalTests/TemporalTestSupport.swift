import Foundation
import GraphData
import LinearAlgebra
@testable import Temporal

let day: Int64 = 86_400

/// Synthetic interactions among `groups` communities of `size` accounts (`g<group>-<i>`), one event
/// per draw at a uniform time in `[start, start + span)`; a draw stays inside the community with
/// probability `1 - mixing`. `membership` overrides an account's community.
func plantedEvents(groups: Int = 3, size: Int = 40, events: Int = 6000, start: Int64 = 1_000 * day, span: Int64 = 100 * day,
                   mixing: Double = 0.05, membership: [String: Int] = [:], seed: UInt64 = 1) -> [(String, String, Int64)] {
    var rng = Xoshiro256(seed: seed)
    let names = (0..<groups).flatMap { g in (0..<size).map { "g\(g)-\($0)" } }
    var members = [[String]](repeating: [], count: groups)
    for (k, name) in names.enumerated() { members[membership[name] ?? k / size].append(name) }
    var out = [(String, String, Int64)]()
    for _ in 0..<events {
        let a = names[Int(rng.next() % UInt64(names.count))]
        let home = membership[a] ?? names.firstIndex(of: a)! / size
        let g = rng.nextUniform() < mixing ? Int(rng.next() % UInt64(groups)) : home
        let b = members[g][Int(rng.next() % UInt64(members[g].count))]
        if a == b { continue }
        out.append((a, b, start + Int64(rng.next() % UInt64(span))))
    }
    return out
}

func eventText(_ events: [(String, String, Int64)]) -> String {
    events.map { "\($0.0)\t\($0.1)\t\($0.2)" }.joined(separator: "\n") + "\n"
}

/// `../shared/data` beside the package root (or `EMBEDDINGS_DATA`), when present.
enum TemporalTestData {
    static var root: String {
        if let env = ProcessInfo.processInfo.environment["EMBEDDINGS_DATA"] { return env }
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardizedFileURL.path
    }
    static func path(_ dataset: String) -> String { root + "/" + dataset + "/events.tsv" }
    static func has(_ dataset: String) -> Bool { FileManager.default.fileExists(atPath: path(dataset)) }
}
