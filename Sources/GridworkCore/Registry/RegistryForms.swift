/// One problem with one field of a form a person filled in; Chinese first.
public struct FormProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public init(field: String, reason: String) { self.field = field; self.reason = reason }
    public var description: String { "\(field):\(reason)" }
}

/// A person being added to a household by hand (出生 or 迁入), read from the
/// household page's form and checked field by field before anything is written.
public struct NewResident: Sendable, Equatable {
    public let event: LifeEvent
    public let name: String
    public let citizenID: CitizenID
    public let phone: MobilePhone?
    public let ethnicity: String
    public let relation: Relation
    /// Where the person came from (迁入), kept in the history.
    public let origin: String

    public var sex: Sex { citizenID.sex }
    public var birthDate: CivilDate { citizenID.birthDate }

    /// Reads `event` (birth | move_in), `name`, `id_number`, `phone`, `ethnicity`, `relation`, `origin`.
    public static func parse(_ form: [String: String], today: CivilDate) throws(FormProblem) -> NewResident {
        func text(_ key: String) -> String { form[key]?.trimmingWhitespace() ?? "" }
        let event: LifeEvent
        switch text("event") {
        case "birth": event = .birth
        case "move_in": event = .moveIn
        default: throw .init(field: "登记类型 (event)", reason: "应为出生或迁入 (birth or move_in)")
        }
        let name = text("name")
        guard (1...20).contains(name.count) else { throw .init(field: "姓名 (name)", reason: "请填写姓名,最多20个字 (1 to 20 characters)") }
        guard !name.contains(where: { $0.isNumber || "<>\"'&;=".contains($0) }) else {
            throw .init(field: "姓名 (name)", reason: "姓名不能包含数字或符号 (no digits or symbols)")
        }
        let id: CitizenID
        do { id = try CitizenID(text("id_number")) } catch {
            throw .init(field: "公民身份号码 (id_number)", reason: error.reason)
        }
        guard id.birthDate <= today else { throw .init(field: "公民身份号码 (id_number)", reason: "出生日期晚于今天 (the birth date is in the future)") }
        if case .birth = event, id.birthDate.adding(years: 18) <= today {
            throw .init(field: "公民身份号码 (id_number)", reason: "出生登记只用于未成年人,成年人请登记迁入 (birth registration is for minors; record a move-in)")
        }
        var phone: MobilePhone?
        if !text("phone").isEmpty {
            guard let p = MobilePhone(text("phone")) else { throw .init(field: "联系电话 (phone)", reason: "应为11位手机号 (an 11-digit mobile number)") }
            phone = p
        }
        let ethnicity = text("ethnicity").isEmpty ? "汉族" : text("ethnicity")
        guard ethnicity.count <= 10, ethnicity.hasSuffix("族") else {
            throw .init(field: "民族 (ethnicity)", reason: "应为“汉族”“瑶族”这样的民族名称 (an ethnic group such as 汉族)")
        }
        guard let relation = Relation(rawValue: text("relation")) else {
            throw .init(field: "与户主关系 (relation)", reason: "请选择与户主的关系 (choose the relationship to the head of household)")
        }
        let origin = text("origin")
        guard origin.count <= 60 else { throw .init(field: "迁出地 (origin)", reason: "最多60个字 (at most 60 characters)") }
        return NewResident(event: event, name: name, citizenID: id, phone: phone, ethnicity: ethnicity, relation: relation, origin: origin)
    }
}

extension LifeEvent {
    /// Reads a departure from a resident page's form: `event` (move_out | death), `destination`, `date`.
    public static func parseDeparture(_ form: [String: String], today: CivilDate) throws(FormProblem) -> LifeEvent {
        let text: (String) -> String = { form[$0]?.trimmingWhitespace() ?? "" }
        switch text("event") {
        case "move_out":
            let destination = text("destination")
            guard (1...60).contains(destination.count) else {
                throw .init(field: "迁往地址 (destination)", reason: "请填写迁往何处,最多60个字 (where the person went, up to 60 characters)")
            }
            return .moveOut(destination: destination)
        case "death":
            guard let date = CivilDate(iso: text("date")) else {
                throw .init(field: "死亡日期 (date)", reason: "请按 2026-01-31 的格式填写日期 (a date like 2026-01-31)")
            }
            guard date <= today else { throw .init(field: "死亡日期 (date)", reason: "不能晚于今天 (not after today)") }
            return .death(on: date)
        default:
            throw .init(field: "登记类型 (event)", reason: "应为迁出或死亡 (move_out or death)")
        }
    }
}

/// An organisation in the community (a shop, a school, an office), as registered by a grid worker.
public struct NewOrganisation: Sendable, Equatable {
    public let name: String
    public let creditCode: CreditCode
    public let kind: OrganisationKind
    public let address: String
    public let contact: String
    public let contactPhone: String

    /// Reads `name`, `credit_code`, `kind`, `address`, `contact`, `contact_phone`.
    public static func parse(_ form: [String: String]) throws(FormProblem) -> NewOrganisation {
        func text(_ key: String) -> String { form[key]?.trimmingWhitespace() ?? "" }
        let name = text("name")
        guard (2...60).contains(name.count) else { throw .init(field: "单位名称 (name)", reason: "请填写2到60个字 (2 to 60 characters)") }
        let code: CreditCode
        do { code = try CreditCode(text("credit_code")) } catch {
            throw .init(field: "统一社会信用代码 (credit_code)", reason: error.description)
        }
        guard let kind = OrganisationKind(rawValue: text("kind")) else {
            throw .init(field: "单位类型 (kind)", reason: "请选择单位类型 (choose a kind)")
        }
        let address = text("address")
        guard (2...80).contains(address.count) else { throw .init(field: "地址 (address)", reason: "请填写2到80个字 (2 to 80 characters)") }
        let contact = text("contact")
        guard (1...20).contains(contact.count) else { throw .init(field: "联系人 (contact)", reason: "请填写联系人,最多20个字 (1 to 20 characters)") }
        let phone = text("contact_phone")
        guard (7...20).contains(phone.count), phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
            throw .init(field: "联系电话 (contact_phone)", reason: "应为手机号或座机号,如 0739-8222110 (a mobile or landline number)")
        }
        return NewOrganisation(name: name, creditCode: code, kind: kind, address: address, contact: contact, contactPhone: phone)
    }
}
