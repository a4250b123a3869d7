// The Swift side of Benchmarks/store/store_vs_feast.sh: in-process lookups, publish and
// point-in-time join timings on a FeatureStore, printed as one JSON object.
//   store-bench lookup STORE NAME [SAMPLES]     single-id and 1000-id batch lookups (memory-mapped)
//   store-bench publish STORE NAME TABLE        one publish (copy + SHA-256 + register)
//   store-bench join STORE NAME ROWS OUT        one point-in-time join; max RSS reported
//   store-bench floats all|COUNT [SEED]         FloatText: write each float, read it back with
//                                               strtof, compare the bits (all 2^32 patterns, or
//                                               COUNT seeded random ones also compared with
//                                               Swift's shortest description); exit 1 on a mismatch
import FeatureStore
import Foundation
import Synchronization

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
func maxRSSMiB() -> Double { var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u); return Double(u.ru_maxrss) / 1024 }
func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    print(String(decoding: data, as: UTF8.self))
}

/// Reads `FloatText`'s text of every float in `patterns` back; returns (checked, failed, first failures).
func roundTrip(_ patterns: Range<UInt64>, compareDescription: Bool, seed: UInt64?) -> (Int, Int, [String]) {
    var buffer = [CChar](repeating: 0, count: 32)
    var failures = [String]()
    var checked = 0, failed = 0
    var state = seed ?? 0
    for k in patterns {
        let bits: UInt32
        if seed != nil {   // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bits = UInt32(truncatingIfNeeded: z ^ (z >> 31))
        } else {
            bits = UInt32(truncatingIfNeeded: k)
        }
        let x = Float(bitPattern: bits)
        guard x.isFinite else { continue }
        checked += 1
        let n = buffer.withUnsafeMutableBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: 32) { FloatText.write(x, to: $0) }
        }
        buffer[n] = 0
        let back = strtof(buffer, nil)
        func text() -> String { String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var bad = back.bitPattern != x.bitPattern
        if compareDescription && !bad {
            func digits(_ t: String) -> Int {
                let m = t.prefix { $0 != "e" && $0 != "E" }.filter(\.isNumber).drop { $0 == "0" }
                return m.reversed().drop { $0 == "0" }.count
            }
            bad = digits(text()) > digits(x.description)
        }
        if bad { failed += 1 }
        if bad && failures.count < 10 {
            failures.append("\(String(bits, radix: 16)): \(text()) reads back as \(back.debugDescription), description \(x.description)")
        }
    }
    return (checked, failed, failures)
}

let args = CommandLine.arguments
if args.count >= 3 && args[1] == "floats" {
    let all = args[2] == "all"
    let count = all ? UInt64(1) << 32 : UInt64(args[2])!
    let seed = all ? nil : UInt64(args.count > 3 ? args[3] : "1")!
    let parts = 2
    let results = Mutex<[(Int, Int, [String])]>([])
    let t0 = nowNs()
    DispatchQueue.concurrentPerform(iterations: parts) { p in
        let lo = count * UInt64(p) / UInt64(parts), hi = count * UInt64(p + 1) / UInt64(parts)
        let r = roundTrip(lo..<hi, compareDescription: !all, seed: seed.map { $0 &+ UInt64(p) << 40 })
        results.withLock { $0.append(r) }
    }
    let (checked, failed, failures) = results.withLock { r in (r.map(\.0).reduce(0, +), r.map(\.1).reduce(0, +), r.flatMap(\.2)) }
    emit(["mode": all ? "all bit patterns" : "seeded random bit patterns", "checked": checked, "failures": failed,
          "examples": failures, "seconds": Double(nowNs() - t0) / 1e9])
    exit(failed == 0 ? 0 : 1)
}
guard args.count >= 4 else {
    FileHandle.standardError.write(Data("usage: store-bench lookup|publish|join STORE NAME ...\n".utf8))
    exit(2)
}
let store = try FeatureStore(directory: URL(fileURLWithPath: args[2]))
let name = args[3]
var rng = SystemRandomNumberGenerator()
switch args[1] {
case "lookup":
    let samples = args.count > 4 ? Int(args[4])! : 100_000
    let version = try store.openOnline(name: name)
    // Seeded choice of ids (xorshift), strings built before timing.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return Int(state % UInt64(version.count)) }
    let ids = (0..<samples).map { _ in version.id(atRow: next()) }
    var out = [Float](repeating: 0, count: version.dimension)
    var times = [Double]()
    times.reserveCapacity(samples)
    var checksum: Float = 0
    for id in ids {
        let t0 = nowNs()
        if let row = version.row(of: id) {
            version.withVector(atRow: row) { v in out.withUnsafeMutableBufferPointer { o in _ = o.initialize(from: v) } }
        }
        let t1 = nowNs()
        checksum += out[0]
        times.append(Double(t1 - t0) / 1000)
    }
    times.sort()
    var batchTimes = [Double]()
    for _ in 0..<50 {
        let batch = (0..<1000).map { _ in version.id(atRow: next()) }
        let t0 = nowNs()
        let vectors = batch.map { version.vector(for: $0)! }
        batchTimes.append(Double(nowNs() - t0) / 1e6)
        checksum += vectors[0][0]
    }
    batchTimes.sort()
    emit(["version": version.record.reference, "count": version.count, "dimension": version.dimension, "samples": samples,
          "single_us": ["p50": percentile(times, 0.5), "p99": percentile(times, 0.99), "max": times.last!],
          "batch1000_ms": ["p50": percentile(batchTimes, 0.5), "p99": percentile(batchTimes, 0.99)],
          "checksum_ignore": Double(checksum)])
case "publish":
    let t0 = nowNs()
    let result = try store.publish(table: URL(fileURLWithPath: args[4]), options: PublishOptions(name: name))
    emit(["seconds": Double(nowNs() - t0) / 1e9, "created": result.created, "version": result.version.reference,
          "count": result.version.count, "dimension": result.version.dimension, "max_rss_mib": maxRSSMiB()])
case "join":
    let t0 = nowNs()
    let summary = try store.join(name: name, rows: URL(fileURLWithPath: args[4]), output: URL(fileURLWithPath: args[5]))
    emit(["seconds": Double(nowNs() - t0) / 1e9, "rows": summary.rows, "matched": summary.matched,
          "by_version": summary.rowsByVersion, "max_rss_mib": maxRSSMiB()])
default:
    FileHandle.standardError.write(Data("unknown mode \(args[1])\n".utf8))
    exit(2)
}
