/// Element-wise loops that must run at full speed even when called from unspecialized generic
/// code (a generic solver in another module runs its `Matrix<Scalar>` code through protocol
/// witnesses, one call per element). Each is a `BLASScalar` requirement whose Float and Double
/// implementations are concrete, so a loop costs one witness call, not one per element.
public protocol ElementKernels {
    /// `p[0..<count] = value`.
    static func kernelFill(_ p: UnsafeMutablePointer<Self>, count: Int, value: Self)
    /// `y[i] *= x[i]` for `i < count`.
    static func kernelMultiply(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    /// `y[i] = x[i] * d[i]` for `i < count`.
    static func kernelMultiply(_ x: UnsafePointer<Self>, _ d: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    /// Whether every `p[i]` is finite.
    static func kernelAllFinite(_ p: UnsafePointer<Self>, count: Int) -> Bool
    /// `max |p[i]|` (0 for an empty range).
    static func kernelMaxAbs(_ p: UnsafePointer<Self>, count: Int) -> Self
}

@inline(__always) @usableFromInline
func fillLoop<T: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>, _ count: Int, _ value: T) {
    if value == 0 {
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<T>.stride)
    } else {
        p.initialize(repeating: value, count: count)
    }
}

@inline(__always) @usableFromInline
func multiplyLoop<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int) {
    for i in 0..<count { y[i] *= x[i] }
}

@inline(__always) @usableFromInline
func multiplyLoop<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, _ d: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int) {
    for i in 0..<count { y[i] = x[i] * d[i] }
}

@inline(__always) @usableFromInline
func allFiniteLoop<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>, _ count: Int) -> Bool {
    // A sum of x * 0 is NaN exactly when some x is infinite or NaN; no branch per element.
    var acc: T = 0
    for i in 0..<count { acc += p[i] * 0 }
    return acc == 0
}

@inline(__always) @usableFromInline
func maxAbsLoop<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>, _ count: Int) -> T {
    var m: T = 0
    for i in 0..<count { m = Swift.max(m, Swift.abs(p[i])) }
    return m
}

extension Float: ElementKernels {
    public static func kernelFill(_ p: UnsafeMutablePointer<Float>, count: Int, value: Float) { fillLoop(p, count, value) }
    public static func kernelMultiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { multiplyLoop(x, y, count) }
    public static func kernelMultiply(_ x: UnsafePointer<Float>, _ d: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { multiplyLoop(x, d, y, count) }
    public static func kernelAllFinite(_ p: UnsafePointer<Float>, count: Int) -> Bool { allFiniteLoop(p, count) }
    public static func kernelMaxAbs(_ p: UnsafePointer<Float>, count: Int) -> Float { maxAbsLoop(p, count) }
}

extension Double: ElementKernels {
    public static func kernelFill(_ p: UnsafeMutablePointer<Double>, count: Int, value: Double) { fillLoop(p, count, value) }
    public static func kernelMultiply(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) { multiplyLoop(x, y, count) }
    public static func kernelMultiply(_ x: UnsafePointer<Double>, _ d: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) { multiplyLoop(x, d, y, count) }
    public static func kernelAllFinite(_ p: UnsafePointer<Double>, count: Int) -> Bool { allFiniteLoop(p, count) }
    public static func kernelMaxAbs(_ p: UnsafePointer<Double>, count: Int) -> Double { maxAbsLoop(p, count) }
}
