/// The one error type of the Solvers module: a problem with a solver's input or configuration
/// (thrown before any work is done), or a numerical failure the solver cannot recover from.
/// Every message names the solver and the offending value.
public enum SolverError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration does not fit the operator (e.g. rank larger than `min(m, n)`).
    case invalidConfiguration(String)
    /// The input matrix or vectors are unusable (e.g. an empty or negative interaction matrix,
    /// an index out of range).
    case invalidInput(String)
    /// The operator produced NaN or infinity.
    case nonFinite(String)
    /// A system that must be positive definite is not (e.g. an ALS row with zero regularisation).
    case notPositiveDefinite(String)
    /// ARPACK reported failure through `info`; `message` is ARPACK's own wording from the
    /// documentation of `routine` (with its precision letter, e.g. `"dsaupd"`); see
    /// ``ARPACK/message(_:_:)``. The ``description`` adds what to change (``ARPACK/advice(_:_:)``).
    case arpack(routine: String, info: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return "invalid solver configuration: \(m)"
        case .invalidInput(let m): return "invalid solver input: \(m)"
        case .nonFinite(let m): return "non-finite values: \(m)"
        case .notPositiveDefinite(let m): return "not positive definite: \(m)"
        case .arpack(let routine, let info, let message):
            return "ARPACK \(routine) failed (info = \(info)): \(message) What to change: \(ARPACK.advice(String(routine.dropFirst()), info))"
        }
    }
}
