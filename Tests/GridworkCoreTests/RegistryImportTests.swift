import Testing
@testable import GridworkCore

@Suite struct CSVParserTests {
    @Test func quotedFieldsCommasNewlinesAndDoubledQuotes() throws {
        var p = CSVParser()
        var records = p.feed("姓名,地址\r\n\"王, 伟\",\"一单元\n二楼\"\r\n")
        records += p.feed("\"说\"\"好\"\"\",x\n\n")
        if let last = try p.finish() { records.append(last) }
        // The blank line is a record of one empty cell, as it is a row to Excel.
        #expect(records == [["姓名", "地址"], ["王, 伟", "一单元\n二楼"], ["说\"好\"", "x"], [""]])
    }

    @Test func aQuotedFieldMaySpanPieces() throws {
        var p = CSVParser()
        var records = p.feed("a,\"b")
        #expect(records.isEmpty)
        records += p.feed("c\nd\",e\nf,g")
        if let last = try p.finish() { records.append(last) }
        #expect(records == [["a", "bc\nd", "e"], ["f", "g"]])
    }

    /// Fields are taken straight from a piece when they can be: the records must not depend on where pieces end,
    /// even inside a character, a quote or a CR LF.
    @Test func recordsDoNotDependOnWherePiecesEnd() throws {
        let text = "姓名,地址,备注\r\n王伟,\"一单元\r\n二楼\",a\"b\r\n\"说\"\"好\"\"\",x\ry,\n\n李,,\"\"\r\n张三丰,湖南省邵阳市,末行"
        let expected: [[String]] = [["姓名", "地址", "备注"], ["王伟", "一单元\r\n二楼", "a\"b"], ["说\"好\"", "xy", ""], [""], ["李", "", ""],
                                    ["张三丰", "湖南省邵阳市", "末行"]]
        let bytes = Array(text.utf8)
        func parse(_ pieces: [ArraySlice<UInt8>]) throws -> [[String]] {
            var p = CSVParser()
            var records: [[String]] = []
            for piece in pieces { records += Array(piece).withUnsafeBufferPointer { p.feed(bytes: $0) } }
            if let last = try p.finish() { records.append(last) }
            return records
        }
        #expect(try parse([bytes[...]]) == expected)
        for cut in 0...bytes.count {
            #expect(try parse([bytes[..<cut], bytes[cut...]]) == expected, "cut at byte \(cut)")
        }
        #expect(try parse(bytes.indices.map { bytes[$0...$0] }) == expected)
    }

    @Test func anOpenQuoteAtTheEndIsAnError() {
        var p = CSVParser()
        _ = p.feed("h\n\"never closed,1\n")
        #expect(throws: CSVParser.Unterminated(record: 2)) { _ = try p.finish() }
    }

    @Test func exportCellsAreNeutralisedAndQuoted() {
        #expect(SpreadsheetSafety.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(SpreadsheetSafety.csvField("@SUM(A1)") == "'@SUM(A1)")
        #expect(SpreadsheetSafety.csvField("王伟") == "王伟")
        #expect(SpreadsheetSafety.csvField("a,b") == "\"a,b\"")
    }
}

@Suite struct ResidentRowTests {
    static let county = RegionCode.county("430524")
    static let today = CivilDate(year: 2026, month: 11, day: 29)!

    func row(_ pairs: [ImportColumn: String]) -> [ImportColumn: String] {
        var base: [ImportColumn: String] = [.name: "王伟", .citizenID: "430524199001010016", .building: "430524001001001001", .room: "1单元101室"]
        for (k, v) in pairs { base[k] = v }
        return base
    }

    func problems(_ pairs: [ImportColumn: String]) -> [RowProblem] {
        if case .failure(let p) = ResidentRowValidator.validate(row(pairs), county: Self.county, today: Self.today) { return p.list }
        return []
    }

    @Test func headersAreRecognisedInChinese() {
        let map = ImportColumn.map(headers: ["\u{FEFF}姓名", "身份证号", "手机号码", "楼栋", "单元", "房号", "备注"])
        #expect(map.columns[0] == .name && map.columns[1] == .citizenID && map.columns[2] == .phone)
        #expect(map.unknown == ["备注"])
        #expect(map.missing.isEmpty)
        let mapped = ImportColumn.map(headers: ["名字X", "身份证号", "楼栋", "房号"], overrides: ["名字X": .name])
        #expect(mapped.missing.isEmpty)
        #expect(ImportColumn.map(headers: ["姓名"]).missing == [.citizenID, .building, .room])
    }

    @Test func aGoodRowPasses() throws {
        let result = ResidentRowValidator.validate(row([.sex: "男", .birthDate: "1990/1/1", .phone: "13812342151", .unit: "1", .room: "101",
                                                        .tags: "低保户、残疾人", .relation: "户主"]),
                                                   county: Self.county, today: Self.today)
        let person = try result.get()
        #expect(person.room == "1单元101室")
        #expect(person.tags == [.lowIncome, .disability])
        #expect(person.relation == .head)
    }

    @Test func everyBadFieldGetsItsReason() {
        #expect(problems([.citizenID: "430524199001010012"]).first?.reason.contains("校验码") == true)
        #expect(problems([.citizenID: "430524203001010015"]).first?.reason.contains("晚于今天") == true)
        #expect(problems([.sex: "女"]).first?.field == "性别")
        #expect(problems([.birthDate: "1990-01-02"]).first?.field == "出生日期")
        #expect(problems([.phone: "1234"]).first?.field == "联系电话")
        #expect(problems([.building: "110105001001001001"]).first?.reason.contains("不属于本县") == true)
        #expect(problems([.building: "12"]).first?.field == "楼栋")
        #expect(problems([.name: ""]).first?.field == "姓名")
        #expect(problems([.name: "=HYPERLINK(\"x\")"]).first?.reason.contains("公式") == true)
        #expect(problems([.tags: "外星人"]).first?.field == "人员类别")
        #expect(problems([.room: ""]).first?.field == "房号")
    }
}

@Suite struct ResidentRowFastPathTests {
    static let county = RegionCode.county("430524")
    static let today = CivilDate(year: 2026, month: 11, day: 29)!

    /// The per-file column index gives the same answers as the dictionary form, row after row (with the building memo).
    @Test func cellsWithAColumnIndexMatchTheDictionaryForm() {
        let header = ["姓名", "身份证号", "性别", "出生日期", "手机号码", "楼栋", "单元", "房号", "与户主关系", "人员类别", "现住址"]
        let map = ImportColumn.map(headers: header)
        let index = ImportColumnIndex(map.columns)
        let rows: [[String]] = [
            [" 王伟 ", "430524199001010016", "男", "1990-01-01", "13812342151", "430524001001001001", "1", "101", "户主", "低保户", "某地1号"],
            ["王伟", "430524199001010016", "女", "1990/1/2", "1234", "430524001001001001", "", "1单元101室", "外星", "外星人", ""],
            ["=SUM(A1)", "430524199001010012", "", "", "", "110105001001001001", "", "", "", "", ""],
            ["\u{3000}李四\u{3000}", "430524199001010016", "male", "19900101", "+8613812342151", "12", "", "101", "wife", "", ""],
            ["张三", "430524199001010016", "", "1990.01.01", "", "430524001001001001"], // a short row
        ]
        var memo = ResidentRowValidator.Memo()
        for cells in rows {
            var dict: [ImportColumn: String] = [:]
            for (i, c) in map.columns where i < cells.count { dict[c] = cells[i] }
            let slow = ResidentRowValidator.validate(dict, county: Self.county, today: Self.today)
            let fast = ResidentRowValidator.validate(cells: cells, index: index, county: Self.county, today: Self.today, memo: &memo)
            #expect(slow == fast, "\(cells)")
        }
    }

    @Test func fastTrimAndDatesAgreeWithTheSlowPaths() {
        for s in ["王伟", " 王伟", "王伟\u{3000}", "\u{3000}王伟", "a", "a\u{301}", "伟\u{301}", " ", "", "\tx\t", "1单元101室", "é ",
                  "abc\u{A0}", "\u{A0}abc", "鿿", "一\n", "x\u{200B}", "\u{2028}x"] {
            #expect(ResidentRowValidator.fastTrimmed(s) == s.trimmingWhitespace(), "\(s.debugDescription)")
        }
        #expect(ResidentRowValidator.parseDate("1990-05-01") == CivilDate(year: 1990, month: 5, day: 1))
        #expect(ResidentRowValidator.parseDate("1990/05/01") == CivilDate(year: 1990, month: 5, day: 1))
        #expect(ResidentRowValidator.parseDate("1990-02-30") == nil)
        #expect(ResidentRowValidator.parseDate("1990年5月1日") == CivilDate(year: 1990, month: 5, day: 1))
        #expect(ResidentRowValidator.fastLooksLikeFormula("=1") && ResidentRowValidator.fastLooksLikeFormula("-x"))
        #expect(!ResidentRowValidator.fastLooksLikeFormula("王") && !ResidentRowValidator.fastLooksLikeFormula(""))
    }
}
