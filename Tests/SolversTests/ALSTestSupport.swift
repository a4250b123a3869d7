import Foundation
import LinearAlgebra
@testable import Solvers

/// Test helpers for ALS: synthetic matrices and a minimal SNAP edge-list parser.
enum ALSTestData {
    /// A users x items implicit matrix of `blocks` diagonal blocks: user u (in block u % blocks)
    /// interacts with each item of its block with probability `density`, and nowhere else.
    static func blockMatrix(users: Int, items: Int, blocks: Int, density: Double, seed: UInt64) throws -> CSRMatrix<Float> {
        var rng = Xoshiro256(seed: seed)
        var coo = COOMatrix<Float>(rows: users, columns: items)
        for u in 0..<users {
            let b = u % blocks
            for i in 0..<items where i % blocks == b && rng.nextUniform() < density {
                coo.append(row: u, column: i, value: 1)
            }
        }
        return try coo.toCSR()
    }

    /// A random implicit matrix with about `perUser` entries per user and values 1...5.
    static func randomImplicit(users: Int, items: Int, perUser: Int, seed: UInt64) throws -> CSRMatrix<Float> {
        var rng = Xoshiro256(seed: seed)
        var coo = COOMatrix<Float>(rows: users, columns: items)
        for u in 0..<users {
            for _ in 0..<perUser {
                // Skewed item popularity: squares of uniforms favour low indices.
                let x = rng.nextUniform()
                coo.append(row: u, column: Int(x * x * Double(items)), value: Float(1 + rng.next() % 5))
            }
        }
        return try coo.toCSR(duplicates: .keepFirst)
    }

    /// SNAP format (`#` comments, `src<TAB>dst`) as a CSR users x items matrix of ones, with
    /// dense re-indexing of sources and targets separately.
    static func readSNAP(_ path: String) throws -> CSRMatrix<Float> {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var userIndex: [Int: Int] = [:], itemIndex: [Int: Int] = [:]
        var rows: [Int32] = [], cols: [Int32] = []
        var p = 0
        while p < bytes.count {
            var end = p
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            if bytes[p] != UInt8(ascii: "#") {
                // Two decimal fields separated by tabs or spaces; a trailing \r is ignored.
                var fields: [Int] = [], value = 0, inNumber = false
                for q in p..<end {
                    let b = bytes[q]
                    if b >= 48 && b <= 57 { value = value * 10 + Int(b - 48); inNumber = true }
                    else if inNumber { fields.append(value); value = 0; inNumber = false }
                }
                if inNumber { fields.append(value) }
                if fields.count >= 2 {
                    let u = userIndex[fields[0]] ?? { let n = userIndex.count; userIndex[fields[0]] = n; return n }()
                    let i = itemIndex[fields[1]] ?? { let n = itemIndex.count; itemIndex[fields[1]] = n; return n }()
                    rows.append(Int32(u)); cols.append(Int32(i))
                }
            }
            p = end + 1
        }
        let coo = try COOMatrix<Float>(rows: userIndex.count, columns: itemIndex.count, rowIndices: rows,
                                       columnIndices: cols, values: [Float](repeating: 1, count: rows.count))
        return try coo.toCSR(duplicates: .keepFirst)
    }

    static let slashdotPath = "../shared/data/slashdot/edges.txt"
    static var hasSlashdot: Bool { FileManager.default.fileExists(atPath: slashdotPath) }
}

extension ALSTestData {
    /// Set `ALS_SKIP_SLOW=1` to skip the real-data test (about a minute in a debug build).
    static var skipSlow: Bool { ProcessInfo.processInfo.environment["ALS_SKIP_SLOW"] == "1" }
}
