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

@Suite struct EdgeSortTests {
    @Test func introSortSortsRandomSortedReversedAndConstantRanges() {
        var rng = Xoshiro256(seed: 3)
        let inputs: [[Int32]] = [
            (0..<5000).map { _ in Int32(truncatingIfNeeded: rng.next() % 1000) },
            (0..<5000).map { _ in Int32(truncatingIfNeeded: rng.next()) },
            (0..<5000).map { _ in Int32(truncatingIfNeeded: rng.next() >> 33) },
            Array(0..<3000), Array((0..<3000).reversed()), [Int32](repeating: 7, count: 2000),
            (0..<4000).map { Int32($0 % 2) }, [5, 3], [1], [],
        ]
        for input in inputs {
            var a = input
            a.withUnsafeMutableBufferPointer { b in
                if let p = b.baseAddress { EdgeSort.introSort(p, 0, b.count, depth: 64) }
            }
            #expect(a == input.sorted())
            var shallow = input  // depth 0 goes straight to the fallback
            shallow.withUnsafeMutableBufferPointer { b in
                if let p = b.baseAddress { EdgeSort.introSort(p, 0, b.count, depth: 1) }
            }
            #expect(shallow == input.sorted())
            guard input.allSatisfy({ $0 >= 0 }) else { continue }
            var radix = input
            var scratch = [Int32](repeating: 0, count: input.count)
            radix.withUnsafeMutableBufferPointer { b in
                scratch.withUnsafeMutableBufferPointer { s in
                    if let p = b.baseAddress { EdgeSort.radixSort(p, b.count, s.baseAddress!) }
                }
            }
            #expect(radix == input.sorted())
        }
    }

    @Test func rowsWithLongRowsMatchAReferenceSort() {
        // A power-law-like row distribution: a few rows hold thousands of entries.
        var rng = Xoshiro256(seed: 5)
        let n = 200
        var rows: [Int32] = [], cols: [Int32] = [], weights: [Float] = []
        for i in 0..<60_000 {
            let u = rng.nextUniform() as Double
            rows.append(Int32(Double(n) * u * u * u))
            cols.append(Int32(truncatingIfNeeded: rng.next() % UInt64(n)))
            weights.append(Float(i))
        }
        for merge in [EdgeSort.Merge.none, .keepFirst, .sum] {
            let r = rows.withUnsafeBufferPointer { rb in
                cols.withUnsafeBufferPointer { cb in
                    weights.withUnsafeBufferPointer { wb in
                        EdgeSort.rows(rowCount: n, rb, cb, wb, symmetric: false, dropLoops: false, merge: merge)
                    }
                }
            }
            // Reference: stable sort of (row, column) with weights merged by the same rule.
            let order = (0..<rows.count).sorted { (rows[$0], cols[$0], $0) < (rows[$1], cols[$1], $1) }
            var want: [(Int32, Int32, Float)] = []
            for i in order {
                if merge != .none, let last = want.last, last.0 == rows[i], last.1 == cols[i] {
                    if merge == .sum { want[want.count - 1].2 += weights[i] }
                    continue
                }
                want.append((rows[i], cols[i], weights[i]))
            }
            let gotRows = EdgeSort.expandRows(r.offsets)
            #expect(gotRows == want.map { $0.0 })
            #expect(r.columns == want.map { $0.1 })
            #expect(r.weights! == want.map { $0.2 })
        }
    }
}
