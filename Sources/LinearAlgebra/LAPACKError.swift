/// A LAPACK routine reported failure (`info != 0`). (ARPACK failures are Solvers' `SolverError.arpack`.)
public struct LAPACKError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The routine, e.g. `"dpotrf"`.
    public let routine: String
    /// LAPACK's `info` value.
    public let info: Int32
    /// What went wrong, in words.
    public let message: String

    public init(routine: String, info: Int32, message: String) {
        self.routine = routine
        self.info = info
        self.message = message
    }

    public var description: String { "\(routine) failed (info = \(info)): \(message)" }

    /// The error for `info` returned by `routine` (generic name such as "potrf"; the precision
    /// letter is added from `Scalar`). Negative values name the offending argument.
    static func from<Scalar: BLASScalar>(_ routine: String, _ info: Int32, _: Scalar.Type) -> LAPACKError {
        let name = (Scalar.self == Float.self ? "s" : "d") + routine
        let message: String
        if info < 0 {
            message = info == -1011 ? "LAPACKE could not allocate its work array"
                : "argument \(-info) had an illegal value (a NaN or infinite input also causes this)"
        } else {
            switch routine {
            case "potrf": message = "the leading minor of order \(info) is not positive definite, so the matrix is not symmetric positive definite"
            case "potrs": message = "unexpected failure"
            case "getrf", "gesv": message = "U(\(info),\(info)) is exactly zero: the matrix is singular"
            case "gesdd": message = "the divide-and-conquer SVD did not converge (updating process failed)"
            case "syevd": message = "the eigenvalue algorithm failed to converge (\(info) off-diagonal elements did not converge to zero)"
            case "gels": message = "diagonal element \(info) of the triangular factor is zero: the matrix does not have full rank"
            case "geqrf", "orgqr": message = "unexpected failure"
            default: message = "info = \(info)"
            }
        }
        return LAPACKError(routine: name, info: info, message: message)
    }
}

@inline(__always)
func checkLAPACK<Scalar: BLASScalar>(_ routine: String, _ info: Int32, _ type: Scalar.Type) throws {
    if info != 0 { throw LAPACKError.from(routine, info, type) }
}
