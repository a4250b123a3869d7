import Testing
@testable import LinearAlgebra

/// The one triplet-to-CSR builder (moved from GraphData's EdgeSort with its tests).
@Suite struct CSRBuilderTests {
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
                if let p = b.baseAddress { CSRBuilder.introSort(p, 0, b.count, depth: 64) }
            }
            #expect(a == input.sorted())
            var shallow = input  // depth 0 goes straight to the fallback
            shallow.withUnsafeMutableBufferPointer { b in
                if let p = b.baseAddress { CSRBuilder.introSort(p, 0, b.count, depth: 1) }
            }
            #expect(shallow == input.sorted())
            guard input.allSatisfy({ $0 >= 0 }) else { continue }
            var radix = input
            var scratch = [Int32](repeating: 0, count: input.count)
            radix.withUnsafeMutableBufferPointer { b in
                scratch.withUnsafeMutableBufferPointer { s in
                    if let p = b.baseAddress { CSRBuilder.radixSort(p, b.count, s.baseAddress!) }
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
        for merge in [nil, DuplicatePolicy.keepFirst, .sum] {
            let r = rows.withUnsafeBufferPointer { rb in
                cols.withUnsafeBufferPointer { cb in
                    weights.withUnsafeBufferPointer { wb in
                        CSRBuilder.build(rowCount: n, rows: rb, columns: cb, values: wb, duplicates: merge)
                    }
                }
            }
            // Reference: stable sort of (row, column) with weights merged by the same rule.
            let order = (0..<rows.count).sorted { (rows[$0], cols[$0], $0) < (rows[$1], cols[$1], $1) }
            var want: [(Int32, Int32, Float)] = []
            for i in order {
                if merge != nil, let last = want.last, last.0 == rows[i], last.1 == cols[i] {
                    if merge == .sum { want[want.count - 1].2 += weights[i] }
                    continue
                }
                want.append((rows[i], cols[i], weights[i]))
            }
            let gotRows = CSRBuilder.rowIndices(offsets: r.offsets)
            #expect(gotRows == want.map { $0.0 })
            #expect(r.columns == want.map { $0.1 })
            #expect(r.values! == want.map { $0.2 })
            #expect(r.firstDuplicate == nil)
        }
    }

    @Test func symmetricInputDropsLoopsAndRejectReportsTheFirstRepeat() {
        // Entries (0,1), (1,1), (2,0), (0,1) again: symmetrised, loops dropped, then merged.
        let rows: [Int32] = [0, 1, 2, 0], cols: [Int32] = [1, 1, 0, 1]
        let values: [Double] = [1, 2, 3, 4]
        func build(_ policy: DuplicatePolicy?) -> CSRBuilder.Rows<Double> {
            rows.withUnsafeBufferPointer { rb in
                cols.withUnsafeBufferPointer { cb in
                    values.withUnsafeBufferPointer { vb in
                        CSRBuilder.build(rowCount: 3, rows: rb, columns: cb, values: vb, symmetric: true, dropLoops: true,
                                         duplicates: policy, threads: 1)
                    }
                }
            }
        }
        let all = build(nil)
        #expect(all.offsets == [0, 3, 5, 6])
        #expect(all.columns == [1, 1, 2, 0, 0, 0])
        #expect(all.values! == [1, 4, 3, 1, 4, 3])
        let summed = build(.sum)
        #expect(summed.offsets == [0, 2, 3, 4])
        #expect(summed.columns == [1, 2, 0, 0])
        #expect(summed.values! == [5, 3, 5, 3])
        let rejected = build(.reject)
        #expect(rejected.firstDuplicate?.row == 0 && rejected.firstDuplicate?.column == 1)
        #expect(rejected.values! == [1, 3, 1, 3])
        // No values and .sum: the repeats are counted.
        let counted = rows.withUnsafeBufferPointer { rb in
            cols.withUnsafeBufferPointer { cb in
                CSRBuilder.build(rowCount: 3, rows: rb, columns: cb, values: UnsafeBufferPointer<Float>?.none, duplicates: .sum)
            }
        }
        #expect(counted.columns == [1, 1, 0])
        #expect(counted.values! == [2, 1, 1])
    }
}
