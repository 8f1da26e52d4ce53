/// A citizen identity number (公民身份号码) as defined by GB 11643-1999.
///
/// 18 characters: a 6-digit address code (GB/T 2260), an 8-digit birth date
/// (YYYYMMDD), a 3-digit sequence whose last digit is odd for men and even
/// for women, and an ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
public struct CitizenID: Hashable, Sendable, CustomStringConvertible {
    /// The normalised 18 characters (a lowercase `x` is stored as `X`).
    public let value: String

    public enum Invalid: Error, Equatable, Sendable {
        case length(Int)
        case character(position: Int)
        case birthDate(String)
        case checkCharacter(expected: Character, found: Character)
    }

    /// Validates `text`; surrounding whitespace is ignored.
    public init(_ text: String) throws(Invalid) {
        // Nearly every number in a file is already 18 ASCII characters and valid: check those bytes
        // directly. Anything else (and every error) takes the character-by-character path below.
        if Self.isValidNormalised(text) { value = text; return }
        let chars = Array(text.trimmingWhitespace().uppercased())
        guard chars.count == 18 else { throw .length(chars.count) }
        var digits = [Int]()
        digits.reserveCapacity(17)
        for (i, c) in chars.prefix(17).enumerated() {
            guard let d = c.wholeNumberValue, c.isASCII else { throw .character(position: i + 1) }
            digits.append(d)
        }
        let last = chars[17]
        guard last == "X" || (last.isASCII && last.isNumber) else { throw .character(position: 18) }
        let birth = String(chars[6..<14])
        guard CivilDate(compact: birth) != nil else { throw .birthDate(birth) }
        let expected = Self.checkCharacter(for: digits)
        guard expected == last else { throw .checkCharacter(expected: expected, found: last) }
        value = String(chars)
    }

    /// Builds a valid number from its parts, computing the check character.
    /// `sequence` is 0...999; its parity must agree with `sex`.
    public init(region: String, birth: CivilDate, sequence: Int, sex: Sex) {
        precondition(region.count == 6 && (0...999).contains(sequence))
        precondition((sequence % 2 == 1) == (sex == .male), "sequence parity encodes sex")
        let body = region + birth.compact + String(sequence).leftPadded(to: 3)
        let digits = body.map { $0.wholeNumberValue! }
        value = body + String(Self.checkCharacter(for: digits))
    }

    /// Weights are 2^(17-i) mod 11 for positions i = 0...16.
    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checks: [UInt8] = Array("10X98765432".utf8)

    /// True when `text` is exactly 18 ASCII bytes (17 digits, then a digit or `X`), with a real birth date
    /// and the right check character — a valid number needing no trimming or case change.
    static func isValidNormalised(_ text: String) -> Bool {
        let u = text.utf8
        guard u.count == 18 else { return false }
        var sum = 0, date = 0, i = 0, last: UInt8 = 0
        for b in u {
            if i == 17 { last = b; break }
            let d = Int(b) &- 0x30
            guard d >= 0 && d <= 9 else { return false }
            sum += d * weights[i]
            if i >= 6 && i < 14 { date = date * 10 + d }
            i += 1
        }
        guard (last >= 0x30 && last <= 0x39) || last == UInt8(ascii: "X") else { return false }
        guard CivilDate(year: date / 10000, month: date / 100 % 100, day: date % 100) != nil else { return false }
        return checks[sum % 11] == last
    }

    /// ISO 7064 MOD 11-2 over the first 17 digits.
    public static func checkCharacter(for digits: [Int]) -> Character {
        // Weights are 2^(17-i) mod 11 for positions i = 0...16.
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        var sum = 0
        for i in 0..<17 { sum += digits[i] * weights[i] }
        let checks: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]
        return checks[sum % 11]
    }

    public var regionCode: String { String(value.prefix(6)) }
    // `value` is always 18 ASCII characters: the accessors below read its bytes.
    public var birthDate: CivilDate {
        var n = 0
        for b in value.utf8.dropFirst(6).prefix(8) { n = n * 10 + Int(b - 0x30) }
        return CivilDate(year: n / 10000, month: n / 100 % 100, day: n % 100)!
    }
    /// The 17th character: odd for men, even for women.
    public var sex: Sex {
        let d = value.utf8[value.utf8.index(value.utf8.startIndex, offsetBy: 16)] - 0x30
        return d % 2 == 1 ? .male : .female
    }
    /// Masked for display: `430524********123X`.
    public var masked: String {
        let u = value.utf8
        return String(unsafeUninitializedCapacity: 18) { out in
            var i = 0
            for b in u.prefix(6) { out[i] = b; i += 1 }
            for _ in 0..<8 { out[i] = UInt8(ascii: "*"); i += 1 }
            for b in u.suffix(4) { out[i] = b; i += 1 }
            return i
        }
    }
    public var description: String { masked }
}

extension CitizenID.Invalid {
    /// A one-line reason, Chinese first.
    public var reason: String {
        switch self {
        case .length(let n): "身份证号应为18位,实际\(n)位 (must be 18 characters, got \(n))"
        case .character(let p): "身份证号第\(p)位不是有效字符 (character \(p) is not allowed)"
        case .birthDate(let d): "身份证号中的出生日期\(d)不存在 (birth date \(d) does not exist)"
        case .checkCharacter(let e, let f): "身份证号校验码应为\(e),实际为\(f) (check character should be \(e), is \(f))"
        }
    }
}

public enum Sex: String, Codable, Sendable, CaseIterable {
    case male, female
    public var label: String { self == .male ? "男" : "女" }
}
