import Foundation

/// A value shared between tasks and threads, read and changed only under its lock.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    // `value` is touched only while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
