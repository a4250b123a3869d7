import Foundation
import LinearAlgebra
import Testing
@testable import EmbeddingServer
import FeatureStore

/// The vector endpoints' number writer: every float reads back as itself, the body is JSON, and
/// NaN and infinities (which JSON cannot hold) become null.
struct JSONBytesTests {
    func text(_ x: Float) -> String {
        var out = JSONBytes(capacity: 32)
        out.number(x)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test func everyFloatReadsBackAsItself() throws {
        var rng = Xoshiro256(seed: 7)
        var samples: [Float] = [1, -1, 0.5, 0.1, 1e-5, 9.99999e-6, 1e-6, 123456792, 1e9, 1e10, .greatestFiniteMagnitude,
                                -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 0.3, 16777216,
                                16777218, 0.099999994, Float(bitPattern: 0x0001_0000)]
        // Random bit patterns cover every exponent; random values in [-1, 1] the usual table.
        for _ in 0..<200_000 { samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for _ in 0..<200_000 { samples.append(Float(Double(rng.next() % 2_000_001) / 1_000_000 - 1)) }
        var checked = 0
        for x in samples where x.isFinite {
            let t = text(x)
            #expect(Float(t) == x, "\(x.debugDescription) written as \(t)")
            #expect(t.utf8.count <= 16)
            checked += 1
        }
        #expect(checked > 300_000)
        #expect(text(0) == "0.0" && text(-0.0) == "-0.0" && text(1) == "1.0" && text(-2.5) == "-2.5" && text(0.1) == "0.1")
        #expect(text(.nan) == "null" && text(.infinity) == "null" && text(-.infinity) == "null")
    }

    @Test func aVectorIsAJSONArrayOfTheSameFloats() throws {
        let values: [Float] = [0.25, -1e-7, 3.4028235e38, 0, 123.456, -0.0001]
        var out = JSONBytes(capacity: 128)
        values.withUnsafeBufferPointer { out.array($0) }
        let parsed = try JSONSerialization.jsonObject(with: Data(out.bytes)) as! [NSNumber]
        #expect(parsed.map(\.floatValue) == values)
    }

    @Test func batchesKeepTheRequestOrderAndNameTheMissing() async throws {
        let f = try await Fixture(label: "batch-parts")
        defer { Task { await f.stop() } }
        let version = try OnlineStore(store: f.store).version(of: "users")
        for count in [1, 7, 1000] {
            let ids = (0..<count).map { $0 % 7 == 3 ? "ghost\($0)" : "acct\(($0 * 13) % 50)" }
            let body = JSON.batch(ids: ids, from: version)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.bytes)) as? [String: Any])
            let vectors = try #require(json["vectors"] as? [[String: Any]])
            let found = ids.filter { !$0.hasPrefix("ghost") }
            #expect(vectors.map { $0["id"] as? String } == found)
            #expect(json["missing"] as? [String] == ids.filter { $0.hasPrefix("ghost") })
            for (v, id) in zip(vectors, found) {
                #expect(floats(v["vector"]) == f.tables[1].vector(at: Int(id.dropFirst(4))!))
            }
        }
    }
}
