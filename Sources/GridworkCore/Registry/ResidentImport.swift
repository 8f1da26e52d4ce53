/// The columns a residents file may have, recognised by their Chinese (or English) headers.
public enum ImportColumn: String, Sendable, CaseIterable {
    case name, citizenID = "id_number", sex, ethnicity, birthDate = "birth_date", phone
    case address, registeredAddress = "registered_address", building, unit, room, relation, tags

    public var label: String {
        switch self {
        case .name: "姓名"
        case .citizenID: "公民身份号码"
        case .sex: "性别"
        case .ethnicity: "民族"
        case .birthDate: "出生日期"
        case .phone: "联系电话"
        case .address: "现住址"
        case .registeredAddress: "户籍地址"
        case .building: "楼栋"
        case .unit: "单元"
        case .room: "房号"
        case .relation: "与户主关系"
        case .tags: "人员类别"
        }
    }

    /// Headers as Excel sheets in Chinese offices spell them.
    public var aliases: [String] {
        switch self {
        case .name: ["姓名", "名字", "name"]
        case .citizenID: ["公民身份号码", "身份证号", "身份证号码", "身份证", "证件号码", "id_number", "idnumber"]
        case .sex: ["性别", "sex"]
        case .ethnicity: ["民族", "ethnicity"]
        case .birthDate: ["出生日期", "出生年月日", "birth_date", "birthdate"]
        case .phone: ["联系电话", "手机号", "手机号码", "电话", "phone"]
        case .address: ["现住址", "居住地址", "现居住地址", "address"]
        case .registeredAddress: ["户籍地址", "户籍所在地", "户籍地", "registered_address"]
        case .building: ["楼栋", "楼栋编码", "楼栋代码", "building"]
        case .unit: ["单元", "unit"]
        case .room: ["房号", "门牌号", "室", "room"]
        case .relation: ["与户主关系", "关系", "relation"]
        case .tags: ["人员类别", "类别", "标签", "tags"]
        }
    }

    public static let required: [ImportColumn] = [.name, .citizenID, .building, .room]

    /// Maps header cells to columns; `overrides` (header → column) is the mapping step for unknown headers.
    public static func map(headers: [String], overrides: [String: ImportColumn] = [:]) -> (columns: [Int: ImportColumn], unknown: [String], missing: [ImportColumn]) {
        var columns: [Int: ImportColumn] = [:]
        var unknown: [String] = []
        for (i, raw) in headers.enumerated() {
            let h = normalise(raw)
            if let c = overrides[raw] ?? overrides[h] ?? allCases.first(where: { $0.aliases.contains(h) }) {
                columns[i] = c
            } else if !h.isEmpty {
                unknown.append(raw)
            }
        }
        let found = Set(columns.values)
        return (columns, unknown, required.filter { !found.contains($0) })
    }

    static func normalise(_ header: String) -> String {
        var h = header
        if h.first == "\u{FEFF}" { h.removeFirst() }
        return h.filter { !$0.isWhitespace && $0 != "*" && $0 != ":" && $0 != ":" }.lowercased()
    }
}

/// One problem with one row: which field, and why (Chinese first).
public struct RowProblem: Sendable, Equatable {
    public let field: String
    public let reason: String
    public init(_ column: ImportColumn?, _ reason: String) { field = column?.label ?? "整行"; self.reason = reason }
}

public struct RowProblems: Error, Sendable, Equatable { public let list: [RowProblem] }

/// A row that passed every check, ready to merge.
public struct ImportedResident: Sendable, Equatable {
    public let name: String
    public let citizenID: CitizenID
    public let ethnicity: String?
    public let phone: MobilePhone?
    public let building: RegionCode
    public let room: String
    public let relation: Relation?
    public let address: String?
    public let registeredAddress: String?
    public let tags: [ResidentTag]?
}

public enum ResidentRowValidator {
    /// Checks one row. `county` is the county this database serves; `today` bounds birth dates.
    public static func validate(_ v: [ImportColumn: String], county: RegionCode, today: CivilDate) -> Result<ImportedResident, RowProblems> {
        var problems: [RowProblem] = []
        // Trimmed once: a million rows call text(_:) many times each.
        var trimmed: [ImportColumn: String] = [:]
        for (c, value) in v {
            let t = value.trimmingWhitespace()
            trimmed[c] = t
            if SpreadsheetSafety.looksLikeFormula(t), !(c == .phone && t.hasPrefix("+86")) {
                problems.append(RowProblem(c, "内容以公式符号开头,疑似表格公式 (looks like a spreadsheet formula)"))
            }
        }
        func text(_ c: ImportColumn) -> String { trimmed[c] ?? "" }
        let name = text(.name)
        if name.isEmpty { problems.append(RowProblem(.name, "姓名不能为空 (name is required)")) }
        else if name.count > 30 { problems.append(RowProblem(.name, "姓名超过30个字 (name longer than 30 characters)")) }

        var citizenID: CitizenID?
        do { citizenID = try CitizenID(text(.citizenID)) } catch {
            problems.append(RowProblem(.citizenID, text(.citizenID).isEmpty ? "身份证号不能为空 (ID number is required)" : error.reason))
        }
        if let id = citizenID {
            if id.birthDate > today { problems.append(RowProblem(.citizenID, "出生日期\(id.birthDate)晚于今天 (birth date is in the future)")) }
            let sex = text(.sex)
            if !sex.isEmpty, sex != id.sex.label, sex.lowercased() != id.sex.rawValue {
                problems.append(RowProblem(.sex, "性别“\(sex)”与身份证号不符(应为\(id.sex.label)) (sex disagrees with the ID number)"))
            }
            let birth = text(.birthDate)
            if !birth.isEmpty, parseDate(birth) != id.birthDate {
                problems.append(RowProblem(.birthDate, "出生日期“\(birth)”与身份证号不符(应为\(id.birthDate)) (birth date disagrees with the ID number)"))
            }
        }

        var phone: MobilePhone?
        let phoneText = text(.phone)
        if !phoneText.isEmpty {
            phone = MobilePhone(phoneText)
            if phone == nil { problems.append(RowProblem(.phone, "手机号“\(phoneText.prefix(20))”无效,应为11位 (not a valid mobile number)")) }
        }

        var building: RegionCode?
        let buildingText = text(.building)
        if let code = try? RegionCode(buildingText), code.level == .building {
            if code.isWithin(county) { building = code } else {
                problems.append(RowProblem(.building, "楼栋\(code)不属于本县\(county) (building belongs to another county)"))
            }
        } else {
            problems.append(RowProblem(.building, buildingText.isEmpty ? "楼栋代码不能为空 (building code is required)"
                                                                    : "楼栋代码“\(buildingText.prefix(24))”应为18位数字 (building code must have 18 digits)"))
        }

        let room = roomText(unit: text(.unit), room: text(.room))
        if room.isEmpty { problems.append(RowProblem(.room, "房号不能为空 (room is required)")) }

        var relation: Relation?
        let relationText = text(.relation)
        if !relationText.isEmpty {
            relation = Relation.allCases.first { $0.label == relationText || $0.rawValue == relationText.lowercased() }
                ?? ["子": .son, "女": .daughter, "本人": .head, "妻": .spouse, "夫": .spouse, "妻子": .spouse, "丈夫": .spouse][relationText]
            if relation == nil { problems.append(RowProblem(.relation, "与户主关系“\(relationText.prefix(10))”无法识别 (unknown relation)")) }
        }

        var tags: [ResidentTag]?
        if v[.tags] != nil {
            var list: [ResidentTag] = []
            for part in text(.tags).split(whereSeparator: { ",,、;;/ ".contains($0) }) where !part.isEmpty {
                if let tag = ResidentTag.allCases.first(where: { $0.label == part || $0.rawValue == part }) { list.append(tag) }
                else { problems.append(RowProblem(.tags, "人员类别“\(part.prefix(12))”无法识别 (unknown group)")) }
            }
            tags = list
        }

        guard problems.isEmpty, let citizenID, let building else { return .failure(RowProblems(list: problems)) }
        func optional(_ c: ImportColumn) -> String? { let t = text(c); return t.isEmpty ? nil : String(t.prefix(200)) }
        return .success(ImportedResident(name: name, citizenID: citizenID, ethnicity: optional(.ethnicity), phone: phone,
                                         building: building, room: room, relation: relation, address: optional(.address),
                                         registeredAddress: optional(.registeredAddress), tags: tags))
    }

    /// `1` + `302` → `1单元302室`; a full room text is kept.
    static func roomText(unit: String, room: String) -> String {
        guard !room.isEmpty else { return "" }
        if !unit.isEmpty, room.allSatisfy(\.isNumber) {
            let u = unit.hasSuffix("单元") ? String(unit.dropLast(2)) : unit
            return "\(u)单元\(room)室"
        }
        return room
    }

    /// Dates as offices write them: 1990-05-01, 1990/5/1, 19900501, 1990年5月1日.
    static func parseDate(_ text: String) -> CivilDate? {
        if let d = CivilDate(compact: text) { return d }
        let parts = text.split(whereSeparator: { "-/.年月日".contains($0) }).compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return CivilDate(year: parts[0], month: parts[1], day: parts[2])
    }
}
