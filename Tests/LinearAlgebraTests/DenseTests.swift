import Testing
@testable import LinearAlgebra

@Suite struct DenseSmokeTests {
    @Test func gemmMatchesHandComputed() {
        let a = Matrix<Double>(rows: [[1, 2], [3, 4]])
        let b = a * a
        #expect(b == Matrix(rows: [[7, 10], [15, 22]]))
    }
}
