/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18
/// characters — registering authority, organisation category, the six-digit
/// division code, the nine-character organisation code (GB 11714) and a
/// check character over the first seventeen.
public struct CreditCode: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    /// The 31 characters the code uses: digits and capitals without I, O, S, V and Z.
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case length(Int)
        case character(position: Int, found: Character)
        case checkCharacter(expected: Character, found: Character)

        public var description: String {
            switch self {
            case .length(let n): "统一社会信用代码应为18位,实际\(n)位 (a credit code has 18 characters, got \(n))"
            case .character(let p, let c): "第\(p)位“\(c)”不是有效字符(不含I、O、S、V、Z) (character \(p) is not allowed)"
            case .checkCharacter(let e, let f): "校验位应为\(e),实际为\(f),请核对代码 (check character should be \(e), is \(f))"
            }
        }
    }

    /// Validates `text` (spaces trimmed, lower case accepted) including its check character.
    public init(_ text: String) throws(Problem) {
        let chars = Array(text.trimmingWhitespace().uppercased())
        guard chars.count == 18 else { throw .length(chars.count) }
        var sum = 0
        for (i, c) in chars.enumerated() {
            guard let v = Self.alphabet.firstIndex(of: c) else { throw .character(position: i + 1, found: c) }
            if i < 17 { sum += v * Self.weights[i] }
        }
        let expected = Self.alphabet[(31 - sum % 31) % 31]
        guard chars[17] == expected else { throw .checkCharacter(expected: expected, found: chars[17]) }
        value = String(chars)
    }

    /// Completes seventeen characters with their check character; nil if one is not in the alphabet.
    public static func completing(_ first17: String) -> CreditCode? {
        let chars = Array(first17)
        guard chars.count == 17 else { return nil }
        var sum = 0
        for (i, c) in chars.enumerated() {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            sum += v * weights[i]
        }
        return try? CreditCode(first17 + String(alphabet[(31 - sum % 31) % 31]))
    }

    /// The administrative division the registering office belongs to (characters 3–8).
    public var division: String { String(value.dropFirst(2).prefix(6)) }
    public var description: String { value }
}

/// What kind of organisation sits in the community.
public enum OrganisationKind: String, Codable, Sendable, CaseIterable {
    case company, soleTrader = "sole_trader", socialOrganisation = "social_organisation", publicInstitution = "public_institution",
         school, other

    public var label: String {
        switch self {
        case .company: "企业"
        case .soleTrader: "个体工商户"
        case .socialOrganisation: "社会组织"
        case .publicInstitution: "机关事业单位"
        case .school: "学校"
        case .other: "其他"
        }
    }
}

/// How a dwelling is used (房屋使用情况).
public enum Occupancy: String, Codable, Sendable, CaseIterable {
    case ownerOccupied = "owner_occupied", rented, vacant

    public var label: String {
        switch self {
        case .ownerOccupied: "自住"
        case .rented: "出租"
        case .vacant: "空置"
        }
    }
}
