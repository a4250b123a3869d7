import Foundation
import LinearAlgebra
@testable import Solvers

/// Test helpers for ALS: synthetic matrices.
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
}
