/// A level of the net (一张网). Households and residents hang below buildings.
public enum RegionLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case county, township, community, grid, building

    public var label: String {
        switch self {
        case .county: "县"
        case .township: "乡镇/街道"
        case .community: "社区/村"
        case .grid: "网格"
        case .building: "楼栋"
        }
    }

    /// How many digits this level adds to its parent's code.
    public var localDigits: Int { self == .county ? 6 : 3 }
    /// The length of a full code at this level.
    public var codeLength: Int {
        switch self {
        case .county: 6
        case .township: 9
        case .community: 12
        case .grid: 15
        case .building: 18
        }
    }

    public var child: RegionLevel? {
        switch self {
        case .county: .township
        case .township: .community
        case .community: .grid
        case .grid: .building
        case .building: nil
        }
    }

    public static func < (a: RegionLevel, b: RegionLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The kind of a township-level division, fixed by its code range (GB/T 2260 practice).
public enum TownshipKind: String, Codable, Sendable {
    case subdistrict, town, township

    public var label: String {
        switch self {
        case .subdistrict: "街道"
        case .town: "镇"
        case .township: "乡"
        }
    }

    public var codeRange: ClosedRange<Int> {
        switch self {
        case .subdistrict: 1...99
        case .town: 100...199
        case .township: 200...399
        }
    }

    public init?(code: Int) {
        switch code {
        case 1...99: self = .subdistrict
        case 100...199: self = .town
        case 200...399: self = .township
        default: return nil
        }
    }
}

/// The full code of a node of the net: the county's 6 digits, then 3 digits
/// per level (township, community, grid, building). Any node's code is its
/// parent's code plus its own local number, so it is derivable and unique.
public struct RegionCode: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    public enum Invalid: Error, Equatable, Sendable {
        case length(Int)
        case notDigits
        case zeroPart(RegionLevel)
        case townshipRange(Int)

        public var reason: String {
            switch self {
            case .length(let n): "区划代码应为6、9、12、15或18位数字,实际\(n)位 (code must have 6, 9, 12, 15 or 18 digits, got \(n))"
            case .notDigits: "区划代码只能包含数字 (code must contain digits only)"
            case .zeroPart(let level): "\(level.label)编号不能为000 (\(level.rawValue) number must not be 000)"
            case .townshipRange(let n): "乡镇编号\(n)不在001–399之内 (township number \(n) is outside 001–399)"
            }
        }
    }

    public init(_ text: String) throws(Invalid) {
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .notDigits }
        guard RegionLevel.allCases.contains(where: { $0.codeLength == text.count }) else { throw .length(text.count) }
        value = text
        for level in RegionLevel.allCases.dropFirst() where level <= self.level {
            let n = localNumber(at: level)!
            if n == 0 { throw .zeroPart(level) }
            if level == .township, TownshipKind(code: n) == nil { throw .townshipRange(n) }
        }
    }

    private init(unchecked: String) { value = unchecked }

    /// The code of `local` under `self`, e.g. township 1 under 430524 is 430524001.
    public func child(_ local: Int) -> RegionCode {
        precondition((1...999).contains(local) && level != .building)
        return RegionCode(unchecked: value + String(local).leftPadded(to: 3))
    }

    public static func county(_ code: String) -> RegionCode {
        precondition(code.utf8.count == 6 && code.allSatisfy { $0.isASCII && $0.isNumber })
        return RegionCode(unchecked: code)
    }

    /// (A code is ASCII digits, so its length in bytes is its length: `utf8.count` is O(1), `count` walks it.)
    public var level: RegionLevel { RegionLevel.allCases.first { $0.codeLength == value.utf8.count }! }

    public var parent: RegionCode? {
        level == .county ? nil : RegionCode(unchecked: String(value.dropLast(3)))
    }

    /// This node's own number at `level` (nil above the county or below self).
    public func localNumber(at level: RegionLevel) -> Int? {
        guard level != .county, level <= self.level else { return nil }
        let end = level.codeLength
        return Int(value.dropFirst(end - 3).prefix(3))
    }

    public var localNumber: Int? { localNumber(at: level) }

    /// True when `self` is `other` or lies below it.
    public func isWithin(_ other: RegionCode) -> Bool { value.hasPrefix(other.value) }

    public var description: String { value }
    public static func < (a: RegionCode, b: RegionCode) -> Bool { a.value < b.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try RegionCode(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}
