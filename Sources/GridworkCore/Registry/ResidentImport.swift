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
    /// From the ID number, worked out once.
    public let birthDate: CivilDate
    public let sex: Sex
}

/// Which cell of a row holds each column: built once per file, so rows need no dictionary each.
public struct ImportColumnIndex: Sendable {
    /// Cell index by `ImportColumn.ordinal`; -1 where the file has no such column.
    let cells: [Int]

    public init(_ columns: [Int: ImportColumn]) {
        var cells = [Int](repeating: -1, count: ImportColumn.allCases.count)
        for (i, c) in columns { cells[c.ordinal] = i }
        self.cells = cells
    }
}

extension ImportColumn {
    /// Position in `allCases`.
    var ordinal: Int {
        switch self {
        case .name: 0
        case .citizenID: 1
        case .sex: 2
        case .ethnicity: 3
        case .birthDate: 4
        case .phone: 5
        case .address: 6
        case .registeredAddress: 7
        case .building: 8
        case .unit: 9
        case .room: 10
        case .relation: 11
        case .tags: 12
        }
    }
}

public enum ResidentRowValidator {
    /// Checks one row. `county` is the county this database serves; `today` bounds birth dates.
    public static func validate(_ v: [ImportColumn: String], county: RegionCode, today: CivilDate) -> Result<ImportedResident, RowProblems> {
        var values = [String?](repeating: nil, count: ImportColumn.allCases.count)
        for (c, value) in v { values[c.ordinal] = value }
        var memo = Memo()
        return validate(values: values, county: county, today: today, memo: &memo)
    }

    /// What consecutive rows share (files list a building's people together): the last building code parsed.
    public struct Memo: Sendable {
        var buildingText = ""
        var building: RegionCode?
        public init() {}
    }

    /// Checks one row as read from a file: `cells` in file order, `index` from the header
    /// (cells missing at the end of a short row count as absent, as in the dictionary form).
    public static func validate(cells: [String], index: ImportColumnIndex, county: RegionCode, today: CivilDate,
                                memo: inout Memo) -> Result<ImportedResident, RowProblems> {
        var values = [String?](repeating: nil, count: index.cells.count)
        for (o, i) in index.cells.enumerated() where i >= 0 && i < cells.count { values[o] = cells[i] }
        return validate(values: values, county: county, today: today, memo: &memo)
    }

    /// Values by `ImportColumn.ordinal`; nil where the row has no such column.
    static func validate(values raw: [String?], county: RegionCode, today: CivilDate, memo: inout Memo) -> Result<ImportedResident, RowProblems> {
        var problems: [RowProblem] = []
        // Trimmed once: a million rows call text(_:) many times each.
        var trimmed = raw
        for (o, value) in raw.enumerated() {
            guard let value else { continue }
            let t = fastTrimmed(value)
            trimmed[o] = t
            let c = ImportColumn.allCases[o]
            if fastLooksLikeFormula(t), !(c == .phone && t.hasPrefix("+86")) {
                problems.append(RowProblem(c, "内容以公式符号开头,疑似表格公式 (looks like a spreadsheet formula)"))
            }
        }
        func text(_ c: ImportColumn) -> String { trimmed[c.ordinal] ?? "" }
        let name = text(.name)
        if name.isEmpty { problems.append(RowProblem(.name, "姓名不能为空 (name is required)")) }
        // At most 30 bytes of UTF-8 are at most 30 characters: counting characters is the slow path.
        else if name.utf8.count > 30, name.count > 30 { problems.append(RowProblem(.name, "姓名超过30个字 (name longer than 30 characters)")) }

        var citizenID: CitizenID?
        do { citizenID = try CitizenID(text(.citizenID)) } catch {
            problems.append(RowProblem(.citizenID, text(.citizenID).isEmpty ? "身份证号不能为空 (ID number is required)" : error.reason))
        }
        var birthDate: CivilDate?
        var idSex: Sex?
        if let id = citizenID {
            let born = id.birthDate, sexOfID = id.sex
            birthDate = born; idSex = sexOfID
            if born > today { problems.append(RowProblem(.citizenID, "出生日期\(born)晚于今天 (birth date is in the future)")) }
            let sex = text(.sex)
            if !sex.isEmpty, sex != sexOfID.label, sex != sexOfID.rawValue, sex.lowercased() != sexOfID.rawValue {
                problems.append(RowProblem(.sex, "性别“\(sex)”与身份证号不符(应为\(sexOfID.label)) (sex disagrees with the ID number)"))
            }
            let birth = text(.birthDate)
            if !birth.isEmpty, parseDate(birth) != born {
                problems.append(RowProblem(.birthDate, "出生日期“\(birth)”与身份证号不符(应为\(born)) (birth date disagrees with the ID number)"))
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
        let parsed: RegionCode?
        if !buildingText.isEmpty, buildingText == memo.buildingText { parsed = memo.building } else {
            parsed = try? RegionCode(buildingText)
            memo.buildingText = buildingText; memo.building = parsed
        }
        if let code = parsed, code.level == .building {
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
            relation = relationsByText[relationText] ?? relationsByText[relationText.lowercased()]
            if relation == nil { problems.append(RowProblem(.relation, "与户主关系“\(relationText.prefix(10))”无法识别 (unknown relation)")) }
        }

        var tags: [ResidentTag]?
        if raw[ImportColumn.tags.ordinal] != nil {
            var list: [ResidentTag] = []
            let tagText = text(.tags)
            if !tagText.isEmpty {
                for part in tagText.split(whereSeparator: { ",,、;;/ ".contains($0) }) where !part.isEmpty {
                    if let tag = ResidentTag.allCases.first(where: { $0.label == part || $0.rawValue == part }) { list.append(tag) }
                    else { problems.append(RowProblem(.tags, "人员类别“\(part.prefix(12))”无法识别 (unknown group)")) }
                }
            }
            tags = list
        }

        guard problems.isEmpty, let citizenID, let building, let birthDate, let idSex else { return .failure(RowProblems(list: problems)) }
        func optional(_ c: ImportColumn) -> String? {
            let t = text(c)
            // At most 200 bytes are at most 200 characters.
            return t.isEmpty ? nil : t.utf8.count <= 200 ? t : String(t.prefix(200))
        }
        return .success(ImportedResident(name: name, citizenID: citizenID, ethnicity: optional(.ethnicity), phone: phone,
                                         building: building, room: room, relation: relation, address: optional(.address),
                                         registeredAddress: optional(.registeredAddress), tags: tags, birthDate: birthDate, sex: idSex))
    }

    /// Labels, raw values (lower case) and office shorthand → relation.
    static let relationsByText: [String: Relation] = {
        var map: [String: Relation] = ["子": .son, "女": .daughter, "本人": .head, "妻": .spouse, "夫": .spouse, "妻子": .spouse, "丈夫": .spouse]
        for r in Relation.allCases.reversed() { map[r.rawValue] = r }
        for r in Relation.allCases.reversed() { map[r.label] = r }
        return map
    }()

    /// `trimmingWhitespace()` without walking characters when the ends are plainly not whitespace, told from
    /// their bytes: a visible ASCII byte, or a CJK ideograph U+4000–U+9FFF (lead byte E4–E9). Neither is
    /// whitespace, and neither ever extends the character before it, so the last one is a whole character.
    static func fastTrimmed(_ s: String) -> String {
        let u = s.utf8
        guard let first = u.first, let last = u.last else { return s }
        let plainStart = (first > 0x20 && first < 0x7F) || (first >= 0xE4 && first <= 0xE9)
        var plainEnd = last > 0x20 && last < 0x7F
        if !plainEnd, u.count >= 3, last & 0xC0 == 0x80 {
            let lead = u[u.index(u.endIndex, offsetBy: -3)], middle = u[u.index(u.endIndex, offsetBy: -2)]
            plainEnd = lead >= 0xE4 && lead <= 0xE9 && middle & 0xC0 == 0x80
        }
        return plainStart && plainEnd ? s : s.trimmingWhitespace()
    }

    /// `SpreadsheetSafety.looksLikeFormula` with a byte check first.
    static func fastLooksLikeFormula(_ s: String) -> Bool {
        guard let b = s.utf8.first else { return false }
        switch b {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: return SpreadsheetSafety.looksLikeFormula(s)
        default: return false
        }
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
        // The common `1990-05-01` (or with / or .) without splitting characters.
        let u = text.utf8
        if u.count == 10 {
            var digits: [Int] = []
            digits.reserveCapacity(8)
            var seps = 0, ok = true
            for (i, b) in u.enumerated() {
                if i == 4 || i == 7 {
                    if b == UInt8(ascii: "-") || b == UInt8(ascii: "/") || b == UInt8(ascii: ".") { seps += 1 } else { ok = false; break }
                } else if b >= 0x30 && b <= 0x39 { digits.append(Int(b - 0x30)) } else { ok = false; break }
            }
            if ok && seps == 2 {
                return CivilDate(year: digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3],
                                 month: digits[4] * 10 + digits[5], day: digits[6] * 10 + digits[7])
            }
        }
        if let d = CivilDate(compact: text) { return d }
        let parts = text.split(whereSeparator: { "-/.年月日".contains($0) }).compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return CivilDate(year: parts[0], month: parts[1], day: parts[2])
    }
}
