/// A search of the registry, as a person types it into the search page:
/// every criterion optional, all of them combined. Built from untrusted
/// text, so each field is checked here and a bad one is named.
public struct ResidentQuery: Sendable, Equatable {
    /// How the ID number box is matched.
    public enum IDMatch: Sendable, Equatable {
        /// A whole, valid number: found through the blind index, never by decrypting.
        case exact(CitizenID)
        /// As the registry shows it masked (`430524********1234`), or its first six and last four.
        case masked(prefix: String, suffix: String)
    }

    /// How the phone box is matched.
    public enum PhoneMatch: Sendable, Equatable {
        case exact(MobilePhone)
        /// The last four digits, as printed on the masked number.
        case lastFour(String)
    }

    public var name: String?
    public var id: IDMatch?
    public var phone: PhoneMatch?
    public var address: String?
    public var tag: ResidentTag?
    public var minAge: Int?
    public var maxAge: Int?
    /// Include people who moved out or died (their history stays searchable).
    public var includeFormer = false

    public init() {}

    public var isEmpty: Bool { name == nil && id == nil && phone == nil && address == nil && tag == nil && minAge == nil && maxAge == nil }

    /// Reads the form's fields (`name`, `id`, `phone`, `address`, `tag`, `min_age`, `max_age`, `former`).
    public static func parse(_ form: [String: String]) throws(FormProblem) -> ResidentQuery {
        func text(_ key: String) -> String? {
            guard let t = form[key]?.trimmingWhitespace(), !t.isEmpty else { return nil }
            return t
        }
        var q = ResidentQuery()
        if let name = text("name") {
            guard name.count <= 20 else { throw FormProblem(field: "姓名 (name)", reason: "最多20个字 (at most 20 characters)") }
            q.name = name
        }
        if let id = text("id")?.uppercased() {
            if let full = try? CitizenID(id) {
                q.id = .exact(full)
            } else {
                let chars = Array(id)
                let head = String(chars.prefix(6)), tail = String(chars.suffix(4))
                let middleMasked = chars.count == 18 && chars[6..<14].allSatisfy { $0 == "*" }
                let digits: (String) -> Bool = { $0.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "X") } }
                guard (middleMasked || chars.count == 10), digits(head), digits(tail) else {
                    throw FormProblem(field: "身份证号 (ID number)",
                                  reason: "请输入完整的18位号码,或前6位加后4位(如 430524********1234) (a whole valid number, or its first six and last four)")
                }
                q.id = .masked(prefix: head, suffix: tail)
            }
        }
        if let phone = text("phone") {
            if let full = MobilePhone(phone) {
                q.phone = .exact(full)
            } else if phone.count == 4, phone.allSatisfy({ $0.isASCII && $0.isNumber }) {
                q.phone = .lastFour(phone)
            } else {
                throw FormProblem(field: "电话 (phone)", reason: "请输入11位手机号或后4位 (an 11-digit mobile number or its last four digits)")
            }
        }
        if let address = text("address") {
            guard address.count <= 60 else { throw FormProblem(field: "地址 (address)", reason: "最多60个字 (at most 60 characters)") }
            q.address = address
        }
        if let tag = text("tag") {
            guard let t = ResidentTag(rawValue: tag) else { throw FormProblem(field: "人员类别 (tag)", reason: "未知的类别“\(tag.prefix(20))” (unknown tag)") }
            q.tag = t
        }
        func age(_ key: String, _ label: String) throws(FormProblem) -> Int? {
            guard let t = text(key) else { return nil }
            guard let n = Int(t), (0...150).contains(n) else {
                throw FormProblem(field: "\(label) (\(key))", reason: "应为0到150之间的整数 (a whole number from 0 to 150)")
            }
            return n
        }
        q.minAge = try age("min_age", "最小年龄")
        q.maxAge = try age("max_age", "最大年龄")
        if let lo = q.minAge, let hi = q.maxAge, lo > hi {
            throw FormProblem(field: "年龄 (age)", reason: "最小年龄不能大于最大年龄 (the lower age is above the upper one)")
        }
        q.includeFormer = form["former"] == "on" || form["former"] == "1"
        return q
    }

    /// Birth dates that make someone between `minAge` and `maxAge` on `today`, inclusive:
    /// born strictly after `bornAfter` and on or before `bornOnOrBefore`.
    public func birthRange(today: CivilDate) -> (bornAfter: CivilDate?, bornOnOrBefore: CivilDate?) {
        // At least n years old: born on or before today minus n years; at most n: born after today minus n+1 years.
        (maxAge.map { today.adding(years: -($0 + 1)) }, minAge.map { today.adding(years: -$0) })
    }
}
