/// A mainland China mobile number (11 digits, starting 13–19).
public struct MobilePhone: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init?(_ text: String) {
        let t = text.trimmingWhitespace()
        let digits = t.hasPrefix("+86") ? String(t.dropFirst(3)) : t
        guard digits.count == 11, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits.first == "1", let second = digits.dropFirst().first?.wholeNumberValue,
              (3...9).contains(second) else { return nil }
        value = digits
    }

    /// Masked for display: `138****2151`.
    public var masked: String { String(value.prefix(3)) + "****" + String(value.suffix(4)) }
    public var description: String { masked }
}
