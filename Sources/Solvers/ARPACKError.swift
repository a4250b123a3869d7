import LinearAlgebra

/// ARPACK reported failure through its `info` argument. The message is ARPACK's own wording from
/// the documentation of the routine (arpack-ng `dsaupd.f`, `dseupd.f`, `dnaupd.f`, `dneupd.f`).
public struct ARPACKError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The routine, with its precision letter, e.g. `"dsaupd"`.
    public let routine: String
    /// ARPACK's `info` value.
    public let info: Int32
    /// ARPACK's explanation of `info`.
    public let message: String

    /// Creates the value from its fields.
    public init(routine: String, info: Int32, message: String) {
        self.routine = routine; self.info = info; self.message = message
    }

    /// The error for `info` returned by `routine` (`"saupd"`, `"seupd"`, `"naupd"` or `"neupd"`;
    /// the precision letter is added from `Scalar`).
    public static func from<Scalar: BLASScalar>(_ routine: String, info: Int32, scalar _: Scalar.Type) -> ARPACKError {
        let name = (Scalar.self == Float.self ? "s" : "d") + routine
        return ARPACKError(routine: name, info: info, message: message(routine, info))
    }

    public var description: String { "ARPACK \(routine) failed (info = \(info)): \(message)" }

    /// ARPACK's words for `info` from `routine` (without precision letter).
    static func message(_ routine: String, _ info: Int32) -> String {
        let symmetric = routine.hasPrefix("s")
        switch (routine, info) {
        case (_, 1) where routine.hasSuffix("aupd"):
            return "Maximum number of iterations taken. All possible eigenvalues of OP has been found. IPARAM(5) returns the number of wanted converged Ritz values."
        case ("neupd", 1):
            return "The Schur form computed by LAPACK routine dlahqr could not be reordered by LAPACK routine dtrsen. Re-enter subroutine dneupd with IPARAM(5)=NCV and increase the size of the arrays DR and DI to have dimension at least dimension NCV and allocate at least NCV columns for Z."
        case (_, 2) where routine.hasSuffix("aupd"):
            return "No longer an informational error. Deprecated starting with release 2 of ARPACK."
        case (_, 3) where routine.hasSuffix("aupd"):
            return "No shifts could be applied during a cycle of the Implicitly restarted Arnoldi iteration. One possibility is to increase the size of NCV relative to NEV."
        case (_, -1): return "N must be positive."
        case (_, -2): return "NEV must be positive."
        case (_, -3):
            return symmetric ? "NCV must be greater than NEV and less than or equal to N."
                             : "NCV-NEV >= 2 and less than or equal to N."
        case (_, -4) where routine.hasSuffix("aupd"):
            return "The maximum number of Arnoldi update iterations allowed must be greater than zero."
        case (_, -5):
            return symmetric ? "WHICH must be one of 'LM', 'SM', 'LA', 'SA' or 'BE'."
                             : "WHICH must be one of 'LM', 'SM', 'LR', 'SR', 'LI', 'SI'."
        case (_, -6): return "BMAT must be one of 'I' or 'G'."
        case (_, -7): return "Length of private work array WORKL is not sufficient."
        case ("saupd", -8), ("seupd", -8):
            return "Error return from trid. eigenvalue calculation; Informational error from LAPACK routine dsteqr."
        case ("naupd", -8): return "Error return from LAPACK eigenvalue calculation."
        case ("neupd", -8):
            return "Error return from calculation of a real Schur form. Informational error from LAPACK routine dlahqr."
        case ("neupd", -9):
            return "Error return from calculation of eigenvectors. Informational error from LAPACK routine dtrevc."
        case (_, -9): return "Starting vector is zero."
        case (_, -10): return symmetric ? "IPARAM(7) must be 1,2,3,4,5." : "IPARAM(7) must be 1,2,3,4."
        case (_, -11): return "IPARAM(7) = 1 and BMAT = 'G' are incompatible."
        case ("saupd", -12), ("naupd", -12): return "IPARAM(1) must be equal to 0 or 1."
        case ("seupd", -12): return "NEV and WHICH = 'BE' are incompatible."
        case ("neupd", -12): return "HOWMNY = 'S' not yet implemented."
        case ("saupd", -13): return "NEV and WHICH = 'BE' are incompatible."
        case ("neupd", -13): return "HOWMNY must be one of 'A' or 'P' if RVEC = .true."
        case ("seupd", -14), ("neupd", -14):
            return "\(symmetric ? "DSAUPD" : "DNAUPD") did not find any eigenvalues to sufficient accuracy."
        case ("seupd", -15): return "HOWMNY must be one of 'A' or 'S' if RVEC = .true."
        case ("seupd", -16): return "HOWMNY = 'S' not yet implemented."
        case ("seupd", -17), ("neupd", -15):
            let r = symmetric ? "DSEUPD" : "DNEUPD", a = symmetric ? "DSAUPD" : "DNAUPD"
            return "\(r) got a different count of the number of converged Ritz values than \(a) got. This indicates the user probably made an error in passing data from \(a) to \(r) or that the data was modified before entering \(r)."
        case (_, -9999):
            return "Could not build an Arnoldi factorization. IPARAM(5) returns the size of the current Arnoldi factorization. The user is advised to check that enough workspace and array storage has been allocated."
        default:
            return "Unknown ARPACK error (info = \(info))."
        }
    }
}
