/// A mainland China mobile number (11 digits, starting 13–19).
public struct MobilePhone: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init?(_ text: String) {
        // The usual cell, 11 ASCII digits and nothing else, is checked on its bytes (an import checks a million).
        if Self.isPlain(text) { value = text; return }
        let t = text.trimmingWhitespace()
        let digits = t.hasPrefix("+86") ? String(t.dropFirst(3)) : t
        guard digits.count == 11, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits.first == "1", let second = digits.dropFirst().first?.wholeNumberValue,
              (3...9).contains(second) else { return nil }
        value = digits
    }

    /// `1[3-9]` and nine more ASCII digits.
    static func isPlain(_ text: String) -> Bool {
        let u = text.utf8
        guard u.count == 11 else { return false }
        var i = 0
        for b in u {
            guard b >= 0x30, b <= 0x39, i != 0 || b == 0x31, i != 1 || b >= 0x33 else { return false }
            i += 1
        }
        return true
    }

    /// Masked for display: `138****2151` (the value is always 11 ASCII digits).
    public var masked: String {
        var value = value
        return value.withUTF8 { u in
            String(unsafeUninitializedCapacity: 11) { out in
                for i in 0..<11 { out[i] = i < 3 || i >= 7 ? u[i] : UInt8(ascii: "*") }
                return 11
            }
        }
    }
    public var description: String { masked }
}
