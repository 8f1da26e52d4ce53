import Foundation
import GridworkCore
import Testing

@Suite struct CampaignTests {
    static let today = CivilDate(year: 2026, month: 11, day: 29)!

    /// The builder's fields for the fire template, as the page sends them back.
    static func builder(_ extra: [String: String] = [:]) -> [String: String] {
        var f: [String: String] = ["title": "消防隐患排查", "deadline": "2026-12-06", "instructions": "入户检查",
                                   "label_1": "电动车是否在室内或楼道充电", "kind_1": "yes_no", "required_1": "on", "finding_1": "是=0202",
                                   "label_2": "楼道或安全出口是否堵塞", "kind_2": "yes_no", "required_2": "on",
                                   "label_3": "隐患照片", "kind_3": "photo", "showif_3": "2=是",
                                   "label_5": "燃气和电线情况", "kind_5": "single", "options_5": "正常,燃气管老化, 电线老化", "finding_5": "燃气管老化=0204"]
        f.merge(extra) { $1 }
        return f
    }

    @Test func theBuilderReadsRowsInOrderSkipsEmptyOnesAndLinksConditionsByRow() throws {
        let draft = try CampaignDraft.parse(Self.builder(), today: Self.today)
        #expect(draft.form.fields.map(\.key) == ["q1", "q2", "q3", "q4"])
        #expect(draft.form.fields.map(\.kind) == [.yesNo, .yesNo, .photo, .single])
        #expect(draft.form.fields[2].showIf == .init(field: "q2", equals: "是"))
        #expect(draft.form.fields[3].options == ["正常", "燃气管老化", "电线老化"])
        #expect(draft.form.fields[0].finding == .init(equals: "是", category: "0202") && draft.form.fields[0].required)
        #expect(!draft.form.fields[2].required && draft.deadline == CivilDate(year: 2026, month: 12, day: 6))
    }

    @Test func theBuilderRefusesWhatCannotBeAsked() {
        func problem(_ extra: [String: String]) -> String? {
            do { _ = try CampaignDraft.parse(Self.builder(extra), today: Self.today); return nil } catch { return error.field + error.reason }
        }
        #expect(problem(["title": "x"])?.contains("任务名称") == true)
        #expect(problem(["deadline": "2026-11-28"])?.contains("不能早于今天") == true)
        #expect(problem(["deadline": "明天"])?.contains("截止日期") == true)
        #expect(problem(["kind_1": "essay"])?.contains("题型") == true)
        #expect(problem(["options_5": "只有一个"])?.contains("2到20个") == true)
        #expect(problem(["showif_3": "5=是"])?.contains("前面的题") == true)
        #expect(problem(["showif_3": "2=也许"])?.contains("不是第2题的选项") == true)
        #expect(problem(["finding_1": "是"])?.contains("答案=事项类别") == true)
        #expect(problem(["finding_5": "漏气=0204"])?.contains("不是本题的选项") == true)
        #expect(problem(["label_1": "", "label_2": "", "label_3": "", "label_5": ""])?.contains("至少需要一个问题") == true)
        #expect(problem([:]) == nil)
    }

    @Test func answersAreCheckedAgainstTheFormAndHiddenQuestionsAreDropped() throws {
        let form = try CampaignDraft.parse(Self.builder(), today: Self.today).form
        // q3 (photo) is asked only when q2 is 是: an answer to it with q2 = 否 is not kept.
        let a = try form.answers(from: ["q1": ["否"], "q2": ["否"], "q3": ["photo"], "q4": ["燃气管老化"]])
        #expect(a == ["q1": "否", "q2": "否", "q4": "燃气管老化"])
        #expect(form.findings(in: a).map(\.category) == ["0204"])
        #expect(form.summary(a) == "电动车是否在室内或楼道充电:否;楼道或安全出口是否堵塞:否;燃气和电线情况:燃气管老化")
        let b = try form.answers(from: ["q1": ["是"], "q2": ["是"], "q3": ["photo"]])
        #expect(b["q3"] == "photo" && form.findings(in: b).map(\.category) == ["0202"])
        #expect(throws: FormProblem.self) { try form.answers(from: ["q1": ["是"]]) }            // q2 required
        #expect(throws: FormProblem.self) { try form.answers(from: ["q1": ["可能"], "q2": ["否"]]) }  // not an option
        #expect(throws: FormProblem.self) { try form.answers(from: ["q1": ["是", "否"], "q2": ["否"]]) }
    }

    @Test func everyKindOfAnswerIsNormalised() throws {
        let form = CampaignForm(fields: [
            CampaignField(key: "a", label: "情况", kind: .multiple, options: ["甲", "乙", "丙"]),
            CampaignField(key: "b", label: "人数", kind: .number),
            CampaignField(key: "c", label: "日期", kind: .date),
            CampaignField(key: "d", label: "说明", kind: .text),
            CampaignField(key: "e", label: "追问", kind: .text, required: true, showIf: .init(field: "a", equals: "乙")),
        ])
        #expect(form.problems().isEmpty)
        // Multiple choices come back in the form's order, whatever order the phone sent.
        #expect(try form.answers(from: ["a": ["丙", "甲"], "b": [" 3 "], "c": ["2026-11-29"], "d": ["  "]]) == ["a": "甲、丙", "b": "3", "c": "2026-11-29"])
        #expect(throws: FormProblem.self) { try form.answers(from: ["a": ["乙"]]) }   // shown now, and required
        #expect(try form.answers(from: ["a": ["乙"], "e": ["楼上"]])["e"] == "楼上")
        #expect(throws: FormProblem.self) { try form.answers(from: ["b": ["三"]]) }
        #expect(throws: FormProblem.self) { try form.answers(from: ["b": ["inf"]]) }
        #expect(throws: FormProblem.self) { try form.answers(from: ["c": ["2026-02-30"]]) }
        #expect(throws: FormProblem.self) { try form.answers(from: ["d": [String(repeating: "字", count: 1001)]]) }
        #expect(throws: FormProblem.self) { try form.answers(from: ["a": ["丁"]]) }
    }

    @Test func everyTemplateIsAUsableForm() {
        #expect(CampaignTemplate.all.map(\.id) == ["epidemic", "fire", "population"])
        for t in CampaignTemplate.all {
            #expect(t.form.problems().isEmpty, "\(t.id)")
            #expect(!t.title.isEmpty && !t.instructions.isEmpty && t.days > 0)
        }
        #expect(CampaignTemplate.named("fire")?.form.fields.contains { $0.finding?.category == "0202" } == true)
    }

    @Test func aVisitFollowsItsRule() throws {
        #expect(try VisitRule.apply(.answered, to: .pending, campaign: .running) == .done)
        #expect(try VisitRule.apply(.notHome, to: .pending, campaign: .running) == .notHome)
        #expect(try VisitRule.apply(.notHome, to: .notHome, campaign: .running) == .notHome)
        #expect(try VisitRule.apply(.answered, to: .notHome, campaign: .running) == .done)
        #expect(try VisitRule.apply(.answered, to: .done, campaign: .running) == .done)  // a correction
        #expect(throws: FormProblem.self) { try VisitRule.apply(.notHome, to: .done, campaign: .running) }
        #expect(throws: FormProblem.self) { try VisitRule.apply(.answered, to: .pending, campaign: .closed) }
        #expect(throws: FormProblem.self) { try VisitRule.apply(.answered, to: .pending, campaign: .draft) }
    }

    @Test func theEstimateUsesThePaceSinceTheFirstAnswer() {
        let p = CampaignProgress(total: 1000, done: 250)
        #expect(p.percent == 25)
        // 250 doors in an hour: the other 750 take three more.
        let eta: Int64? = p.estimatedCompletion(firstAnswerAt: 10_000, now: 13_600)
        #expect(eta == Int64(13_600 + 3 * 3600))
        #expect(p.estimatedCompletion(firstAnswerAt: nil, now: 13_600) == nil)
        #expect(CampaignProgress(total: 10, done: 10).estimatedCompletion(firstAnswerAt: 0, now: 100) == nil)
        #expect(CampaignProgress(total: 100, done: 4).estimatedCompletion(firstAnswerAt: 0, now: 600) == nil)   // too few to go on
        #expect(CampaignProgress(total: 100, done: 50).estimatedCompletion(firstAnswerAt: 0, now: 30) == nil)   // too soon
        #expect(CampaignProgress(total: 3, done: 2).percent == 66 && CampaignProgress().percent == 0)
        #expect(CampaignProgress(total: 2, done: 1, notHome: 1, findings: 0) + CampaignProgress(total: 1, done: 0, notHome: 0, findings: 1)
                == CampaignProgress(total: 3, done: 1, notHome: 1, findings: 1))
    }

    @Test func aTargetListReadsIDsPhonesAndNamesAndExplainsBadLines() throws {
        let text = """
            身份证号,备注
            11010519491231002X
            110105194912310021
            13807391234

            张三,江湾社区步步高小区3栋
            李四 丽都花园8栋
            12345
            ,,

            """
        let parsed = try TargetList.parse(Array(text.utf8))
        // Line numbers are the file's (and Excel's), the blank line counted.
        #expect(parsed.entries.map(\.line) == [2, 4, 6, 7])
        #expect(parsed.entries[0].entry == .citizenID(try CitizenID("11010519491231002X")))
        #expect(parsed.entries[1].entry == .phone(MobilePhone("13807391234")!))
        #expect(parsed.entries[2].entry == .nameAndAddress(name: "张三", address: "江湾社区步步高小区3栋"))
        #expect(parsed.entries[3].entry == .nameAndAddress(name: "李四", address: "丽都花园8栋"))
        #expect(parsed.problems.map(\.line) == [3, 8])
        #expect(parsed.problems[0].reason.contains("校验码") && !parsed.problems[0].shown.contains("19491231"))
        #expect(parsed.entries[0].entry.masked == "身份证 110105********002X")
        // A header after blank lines is still a header, and the lines after it keep their numbers.
        let late = try TargetList.parse(Array("\n\n姓名,住址\n张三,江湾社区步步高小区3栋\n".utf8))
        #expect(late.entries.map(\.line) == [4] && late.problems.isEmpty)
    }

    @Test func aTargetListInGBKIsReadAndOtherEncodingsAreRefused() throws {
        let gbk = "王五,桃花坪街道江湾社区\r\n".data(using: TextEncodingGuess.gb18030)!
        #expect(try TargetList.parse([UInt8](gbk)).entries.first?.entry == .nameAndAddress(name: "王五", address: "桃花坪街道江湾社区"))
        let utf16 = [UInt8]("13807391234\n".data(using: .utf16LittleEndian)!)
        #expect(throws: FormProblem.self) { try TargetList.parse(utf16) }
        #expect(throws: FormProblem.self) { try TargetList.parse([]) }
        #expect(throws: FormProblem.self) { try TargetList.parse([0x50, 0x4B, 0x03, 0x04, 0, 0]) }   // a workbook
        #expect(throws: FormProblem.self) { try TargetList.parse([UInt8](repeating: 0x31, count: TargetList.maxBytes + 1)) }
        #expect(throws: FormProblem.self) { try TargetList.parse(Array("\"unterminated\n".utf8)) }
    }
}
