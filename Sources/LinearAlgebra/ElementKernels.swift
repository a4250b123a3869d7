/// Element-wise loops that must run at full speed even when called from unspecialized generic
/// code (a generic solver in another module runs its `Matrix<Scalar>` code through protocol
/// witnesses, one call per element). Each is a `BLASScalar` requirement whose Float and Double
/// implementations are concrete, so a loop costs one witness call, not one per element.
public protocol ElementKernels {
    /// `p[0..<count] = value`.
    static func kernelFill(_ p: UnsafeMutablePointer<Self>, count: Int, value: Self)
    /// `p[i] *= alpha` for `i < count`.
    static func kernelScale(_ p: UnsafeMutablePointer<Self>, count: Int, by alpha: Self)
    /// `y[i] *= x[i]` for `i < count`.
    static func kernelMultiply(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    /// `y[i] = x[i] * d[i]` for `i < count`.
    static func kernelMultiply(_ x: UnsafePointer<Self>, _ d: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    /// Whether every `p[i]` is finite.
    static func kernelAllFinite(_ p: UnsafePointer<Self>, count: Int) -> Bool
    /// `max |p[i]|` (0 for an empty range).
    static func kernelMaxAbs(_ p: UnsafePointer<Self>, count: Int) -> Self
}

// The loops are written once, as the default implementations; the conformances of `Float` and
// `Double` take them as their witnesses, which the compiler specialises for the concrete type
// (one witness call per loop, the loop itself concrete and vectorised).
extension ElementKernels where Self: BinaryFloatingPoint {
    @inlinable
    public static func kernelFill(_ p: UnsafeMutablePointer<Self>, count: Int, value: Self) {
        if value == 0 {
            UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Self>.stride)
        } else {
            p.initialize(repeating: value, count: count)
        }
    }

    @inlinable
    public static func kernelScale(_ p: UnsafeMutablePointer<Self>, count: Int, by alpha: Self) {
        for i in 0..<count { p[i] *= alpha }
    }

    @inlinable
    public static func kernelMultiply(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { y[i] *= x[i] }
    }

    @inlinable
    public static func kernelMultiply(_ x: UnsafePointer<Self>, _ d: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { y[i] = x[i] * d[i] }
    }

    @inlinable
    public static func kernelAllFinite(_ p: UnsafePointer<Self>, count: Int) -> Bool {
        // A sum of x * 0 is NaN exactly when some x is infinite or NaN; no branch per element.
        var acc: Self = 0
        for i in 0..<count { acc += p[i] * 0 }
        return acc == 0
    }

    @inlinable
    public static func kernelMaxAbs(_ p: UnsafePointer<Self>, count: Int) -> Self {
        var m: Self = 0
        for i in 0..<count { m = Swift.max(m, Swift.abs(p[i])) }
        return m
    }
}

extension Float: ElementKernels {}
extension Double: ElementKernels {}
