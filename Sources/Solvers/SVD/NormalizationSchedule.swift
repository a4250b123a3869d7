import Foundation
import LinearAlgebra

/// When ``RandomizedSVD/Normalizer/choleskyQRWhenNeeded`` orthonormalises the range finder's
/// block after an `A` product (it always does after an `A'` product: so no more than two products
/// pass between normalisations, and the growth rate is measured afresh every power iteration).
///
/// Normalising does not change the subspace a power iteration converges to, only what rounding
/// does to it: between two normalisations the block's condition number grows by about
/// `s_1 / s_l` per product (the weakest of its `l` directions shrinks against the strongest), so
/// direction `l` is resolved to about `eps` times the condition reached, and its norm grows by
/// about `s_1` per product (overflow and underflow in the scalar and in its Gram matrix). Each
/// normalisation measures both growth rates (the condition number and norm of the block it is
/// given, from the singular values of its `l x l` Cholesky factor, divided out over the products
/// since the last normalisation); the next ones are skipped while the predicted condition number
/// stays at most ``conditionLimit`` (`eps * limit`: 1.2e-5 in `Float`, 2.2e-10 in `Double`) and the
/// predicted norm inside `[1 / normLimit, normLimit]`. The first product is always normalised
/// (nothing is measured yet); a Householder fallback (an ill-conditioned block) switches the
/// schedule to normalising every product, as ``RandomizedSVD/Normalizer/choleskyQR`` does.
///
/// With the forced `A'` normalisations that is `q + 1` of the `2q` a range finder makes while
/// `s_1 / s_l` stays below about 10 (`Float`), and every one on steeper spectra.
struct NormalizationSchedule {
    /// The largest condition number the block may reach before it is normalised.
    let conditionLimit: Double
    /// The block's norm is kept in `[1 / normLimit, normLimit]` (and its smallest direction above
    /// `1 / normLimit`), so that neither it nor its Gram matrix overflows or underflows.
    let normLimit: Double
    /// The measured per-product growth of the condition number (`nil`: not measured yet).
    private(set) var conditionGrowth: Double?
    /// The measured per-product growth (or shrinking) of the norm.
    private(set) var normGrowth = 1.0
    /// The norm the block had when it was last orthonormal (the test matrix's: about `sqrt(n)`).
    private var startNorm: Double
    /// Products since the block was last orthonormal (or the test matrix).
    private(set) var products = 0
    /// Normalisations made so far.
    private(set) var normalizations = 0

    /// A schedule for blocks of `S` starting from a Gaussian test matrix with `rows` rows.
    init<S: BLASScalar>(_: S.Type, testMatrixRows rows: Int) {
        conditionLimit = S.ulpOfOne < 1e-10 ? 1e6 : 1e2
        normLimit = S.ulpOfOne < 1e-10 ? 1e100 : 1e12
        startNorm = Double(max(rows, 1)).squareRoot()
    }

    /// Records a product of the operator (or its transpose) with the block.
    mutating func recordProduct() { products += 1 }

    /// Whether the block must be normalised before it goes into the next product: always after an
    /// `A'` product (`afterTranspose`), else when the measured growth says so.
    func mustNormalize(afterTranspose: Bool) -> Bool {
        if afterTranspose { return true }
        guard let growth = conditionGrowth, growth.isFinite else { return true }
        let next = Double(products + 1)
        if pow(growth, next) > conditionLimit { return true }
        let norm = startNorm * pow(normGrowth, next)
        return !(norm <= normLimit && norm / conditionLimit >= 1 / normLimit)
    }

    /// Counts a normalisation another normaliser made (the schedule does not decide for it).
    mutating func countNormalization() { normalizations += 1 }

    /// Records a normalisation of the block and what it measured (`nil`: nothing, e.g. a
    /// Householder fallback; the schedule then normalises every product).
    mutating func recordNormalization(_ measure: BlockMeasure?) {
        normalizations += 1
        if let m = measure, products > 0, m.condition.isFinite, m.norm > 0, startNorm > 0 {
            let p = 1 / Double(products)
            conditionGrowth = pow(max(m.condition, 1), p)
            normGrowth = pow(m.norm / startNorm, p)
        } else {
            conditionGrowth = .infinity
        }
        products = 0
        startNorm = 1
    }
}
