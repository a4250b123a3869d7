import Foundation
import LinearAlgebra
import Testing
@testable import EmbeddingServer
import FeatureStore
import Hummingbird

/// The vector endpoints' number writer: every float reads back as itself, the body is JSON, and
/// NaN and infinities (which JSON cannot hold) become null.
struct JSONBytesTests {
    func text(_ x: Float) -> String {
        String(buffer: .json(bound: 32) { $0.number(x) })
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
        let body = values.withUnsafeBufferPointer { v in ByteBuffer.json(bound: 128) { $0.array(v) } }
        let parsed = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [NSNumber]
        #expect(parsed.map(\.floatValue) == values)
    }

    @Test func stringsAreEscapedByteByByte() throws {
        for text in ["plain", "quote\" and \\ backslash", "tab\tnew\nline\r", "bell\u{07}nul\u{00}", "ünïcødé ✓ 𝄞", ""] {
            let body = ByteBuffer.json(bound: JSONBytes.quotedBound(text.utf8.count)) { $0.quoted(text) }
            #expect(body.readableBytes <= JSONBytes.quotedBound(text.utf8.count))
            let back = try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: .fragmentsAllowed) as? String
            #expect(back == text, "\(text.debugDescription) -> \(String(buffer: body))")
        }
    }

    @Test func reusedBodyBuffersAreNotSharedWithAResponseStillHoldingThem() {
        let pool = BodyBufferPool(keep: 2)
        var a = pool.take(capacity: 1000)
        a.writeString("first")
        pool.give(a)
        let held = a                        // a response still holding the body
        var b = pool.take(capacity: 1000)   // same storage asked for again: copied away from `held`
        b.writeString("second")
        #expect(String(buffer: held) == "first" && String(buffer: b) == "second")
        pool.give(b)
    }

    func ids(_ list: [String]) throws -> IDList {
        let body = try JSONSerialization.data(withJSONObject: ["ids": list])
        return try body.withUnsafeBytes { raw throws(IDListError) in try IDList(parsing: raw, limit: 10_000) }
    }

    @Test func batchesKeepTheRequestOrderAndNameTheMissing() async throws {
        let f = try await Fixture(label: "batch-parts")
        defer { Task { await f.stop() } }
        let version = try OnlineStore(store: f.store).version(of: "users")
        for count in [1, 7, 1000] {
            let list = (0..<count).map { $0 % 7 == 3 ? "ghost\($0)" : "acct\(($0 * 13) % 50)" }
            var body = ByteBuffer()
            JSON.batch(try ids(list), from: version, into: &body)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
            let vectors = try #require(json["vectors"] as? [[String: Any]])
            let found = list.filter { !$0.hasPrefix("ghost") }
            #expect(vectors.map { $0["id"] as? String } == found)
            #expect(json["missing"] as? [String] == list.filter { $0.hasPrefix("ghost") })
            for (v, id) in zip(vectors, found) {
                #expect(floats(v["vector"]) == f.tables[1].vector(at: Int(id.dropFirst(4))!))
            }
        }
    }
}

/// The batch body parser: what JSON allows (escapes, spacing, other keys) is read as
/// `JSONDecoder` would; anything else is refused with the reason and the byte offset.
struct IDListTests {
    func parse(_ text: String, limit: Int = 100) -> Result<[String], IDListError> {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            do throws(IDListError) {
                let list = try IDList(parsing: UnsafeRawBufferPointer(raw), limit: limit)
                return .success((0..<list.count).map { i in list.withID(i) { String(decoding: $0, as: UTF8.self) } })
            } catch {
                return .failure(error)
            }
        }
    }

    @Test func validBodiesGiveTheirIdsInOrder() throws {
        let cases: [(String, [String])] = [
            (#"{"ids":["a","b","c"]}"#, ["a", "b", "c"]),
            (" \n{ \"ids\" : [ \"x\" ,\t\"y\" ] }\r\n", ["x", "y"]),
            (#"{"ids":[]}"#, []),
            (#"{"k":1,"ids":["a"],"other":{"n":[1,-2.5e3,true,false,null,"s\"t"]}}"#, ["a"]),
            (#"{"ids":["q\"uote","back\\slash","sl\/ash","\u00e9\u4e2d","\ud834\udd1e","é"]}"#, ["q\"uote", "back\\slash", "sl/ash", "é中", "𝄞", "é"]),
        ]
        for (text, expected) in cases {
            #expect((try? parse(text).get()) == expected, "\(text)")
        }
        // The same as JSONDecoder on random ids, escaped by JSONSerialization.
        var rng = Xoshiro256(seed: 3)
        let alphabet = Array("ab9_-./\\\"é中🙂 ")
        let random = (0..<200).map { _ in String((0..<(1 + Int(rng.next() % 12))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }) }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["ids": random]), as: UTF8.self)
        #expect(try parse(body, limit: 1000).get() == random)
    }

    @Test func badBodiesAreRefusedWithAReasonAndWhere() {
        let cases: [(String, String)] = [
            ("", "the body must be a JSON object"),
            ("{not json", "expected a key in quotes, found 'n' at byte 1"),
            (#"["a"]"#, "the body must be a JSON object"),
            (#"{"ids":"a"}"#, "\"ids\" must be an array of strings"),
            (#"{"ids":["a",2]}"#, "ids[1] must be a string"),
            (#"{"ids":["a""b"]}"#, "expected ',' or ']'"),
            (#"{"ids":["a"]"#, "expected ',' or '}'"),
            (#"{"ids":["a"]} x"#, "unexpected text after the JSON object, found 'x' at byte 14"),
            (#"{"other":1}"#, "the body needs \"ids\""),
            (#"{"ids":["a"],"ids":["b"]}"#, "\"ids\" appears twice"),
            (#"{"ids":["a\qb"]}"#, "unknown escape \\q"),
            (#"{"ids":["a\u12"]}"#, "\\u needs four hex digits"),
            (#"{"ids":["\ud834x"]}"#, "without its low surrogate"),
            ("{\"ids\":[\"a\tb\"]}", "control character in a string"),
            (#"{"ids":["a\tb"]}"#, "without tab or line break"),
            (#"{"ids":[""]}"#, "must be 1 to 1024 bytes"),
            (#"{"ids":["unclosed]}"#, "a string is not closed"),
            (#"{"n":[[[[]]],"ids":[]}"#, "expected ',' or ']'"),
            (#"{"n":01x,"ids":[]}"#, "expected ',' or '}'"),
            (#"{"n":tru,"ids":[]}"#, "expected a value"),
        ]
        for (text, reason) in cases {
            switch parse(text) {
            case .success(let ids): Issue.record("\(text) was accepted as \(ids)")
            case .failure(let error):
                #expect(error.status == .badRequest && error.reason.contains(reason), "\(text): \(error.reason)")
            }
        }
        let deep = "{\"n\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + ",\"ids\":[]}"
        #expect((try? parse(deep).get()) == nil)
        let invalidUTF8: [UInt8] = Array(#"{"ids":[""#.utf8) + [0xC3, 0x28] + Array(#""]}"#.utf8)
        let refused = invalidUTF8.withUnsafeBytes { raw in Result { () throws(IDListError) in try IDList(parsing: raw, limit: 10) } }
        #expect(throws: IDListError.self) { try refused.get() }
        let tooMany = "{\"ids\":[" + (0..<11).map { "\"a\($0)\"" }.joined(separator: ",") + "]}"
        if case .failure(let error) = parse(tooMany, limit: 10) {
            #expect(error.status == .contentTooLarge && error.reason.contains("at most 10"))
        } else {
            Issue.record("11 ids passed a limit of 10")
        }
    }
}
