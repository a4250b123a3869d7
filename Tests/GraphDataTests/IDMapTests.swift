import Testing
import LinearAlgebra
@testable import GraphData

@Suite struct IDMapTests {
    @Test func mapsBothWaysInInsertionOrder() {
        var map = IDMap()
        let ids = ["42", "alice", "", "a-very-long-identifier-of-many-bytes", "bob", "ünïcødé", "42"]
        var indices: [Int32] = []
        for id in ids { indices.append(map.insert(id).index) }
        #expect(indices == [0, 1, 2, 3, 4, 5, 0])
        #expect(map.count == 6)
        #expect(map.ids == ["42", "alice", "", "a-very-long-identifier-of-many-bytes", "bob", "ünïcødé"])
        for (i, id) in map.enumerated() { #expect(map.index(ofID: id) == Int32(i)) }
        #expect(map.index(ofID: "carol") == nil)
        #expect(map.index(ofID: "a-very-long-identifier-of-many-bytez") == nil)
        #expect(map.idBytes(at: 5) == Array("ünïcødé".utf8))
        #expect(map.insert("bob") == (index: 4, inserted: false))
    }

    @Test func growsAndKeepsEveryIndex() {
        // Many ids of lengths on both sides of 8 bytes, forcing several table growths.
        var map = IDMap()
        let n = 50_000
        for i in 0..<n {
            let id = i % 3 == 0 ? "user_\(i)_with_a_long_suffix" : "\(i)"
            #expect(map.insert(id) == (index: Int32(i), inserted: true))
        }
        #expect(map.count == n)
        for i in stride(from: 0, to: n, by: 7) {
            let id = i % 3 == 0 ? "user_\(i)_with_a_long_suffix" : "\(i)"
            #expect(map.index(ofID: id) == Int32(i))
            #expect(map[i] == id)
        }
    }

    @Test func copyOnWriteKeepsCopiesIndependent() {
        var a = IDMap(["x", "y"])
        let b = a
        #expect(a.sharesStorage(with: b))
        a.insert("z")
        #expect(!a.sharesStorage(with: b))
        #expect(b.count == 2 && a.count == 3)
        #expect(b.index(ofID: "z") == nil)
        #expect(IDMap(["x", "y"]) == b)
        #expect(IDMap(["y", "x"]) != b)
    }

    @Test func floatParserIsExactAndStrict() {
        func parse(_ s: String) -> Float? {
            var bytes = Array(s.utf8)
            let n = bytes.count
            bytes += [UInt8](repeating: 0, count: 8)
            return bytes.withUnsafeBufferPointer { LineScanner.parseFloat($0.baseAddress!, n) }
        }
        #expect(parse("1") == 1)
        #expect(parse("-2.5") == -2.5)
        #expect(parse("+0.1") == Float(0.1))
        #expect(parse("3.14159") == Float("3.14159"))
        #expect(parse("1e-3") == Float("1e-3"))
        #expect(parse("6.02214076e23") == Float("6.02214076e23"))
        #expect(parse("0.000000000000000000000000000000000000001") == Float("1e-39"))
        #expect(parse(".5") == 0.5)
        #expect(parse("5.") == 5)
        #expect(parse("123456789012345678901234567890") == Float("123456789012345678901234567890"))
        for bad in ["", "-", ".", "e5", "1e", "1.2.3", "abc", "1x", "nan", "inf", "1e39", "--1"] {
            #expect(parse(bad) == nil, "\(bad) should not parse")
        }
    }
}
