// Failures reported by LAPACK routines.

/// A LAPACK routine returned a non-zero `info`.
public struct LAPACKError: Error, CustomStringConvertible, Equatable {
    public let routine: String
    public let info: Int

    public var description: String {
        info < 0 ? "\(routine): argument \(-info) was invalid"
                 : "\(routine): the algorithm did not converge (info \(info))"
    }
}
