import Foundation

/// One question of a campaign's form, as the county builds it in the UI.
public struct CampaignField: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case yesNo = "yes_no", single, multiple, text, number, date, photo

        public var label: String {
            switch self {
            case .yesNo: "是/否"
            case .single: "单选"
            case .multiple: "多选"
            case .text: "文字"
            case .number: "数字"
            case .date: "日期"
            case .photo: "照片"
            }
        }
    }

    /// Shown only when another (earlier) field has the given answer.
    public struct Condition: Codable, Sendable, Equatable {
        public var field: String
        public var equals: String
        public init(field: String, equals: String) { self.field = field; self.equals = equals }
    }

    /// An answer that needs action: it marks the visit as a finding, to be turned into a matter of that category.
    public struct Finding: Codable, Sendable, Equatable {
        public var equals: String
        public var category: String
        public init(equals: String, category: String) { self.equals = equals; self.category = category }
    }

    public var key: String
    public var label: String
    public var kind: Kind
    public var options: [String]
    public var required: Bool
    public var showIf: Condition?
    public var finding: Finding?

    public init(key: String, label: String, kind: Kind, options: [String] = [], required: Bool = false,
                showIf: Condition? = nil, finding: Finding? = nil) {
        self.key = key; self.label = label; self.kind = kind; self.options = options; self.required = required
        self.showIf = showIf; self.finding = finding
    }

    /// The choices a person picks from: yes/no has two, choice fields their own.
    public var choices: [String] { kind == .yesNo ? ["是", "否"] : options }
}

/// The answers of one visit: field key → value (several values of a multiple choice joined by "、").
public typealias CampaignAnswers = [String: String]

/// A campaign's form: its fields in order. Checked when it is built and applied to each visit's answers.
public struct CampaignForm: Codable, Sendable, Equatable {
    public var fields: [CampaignField]

    public init(fields: [CampaignField]) { self.fields = fields }

    public static let maxFields = 40

    /// Why this form cannot be used, field by field (Chinese first); empty when it is good.
    public func problems() -> [FormProblem] {
        var out: [FormProblem] = []
        if fields.isEmpty { out.append(FormProblem(field: "表单 (form)", reason: "至少需要一个问题 (add at least one question)")) }
        if fields.count > Self.maxFields {
            out.append(FormProblem(field: "表单 (form)", reason: "最多\(Self.maxFields)个问题 (at most \(Self.maxFields) questions)"))
        }
        var seen: [String: CampaignField] = [:]
        for (i, f) in fields.enumerated() {
            let name = "第\(i + 1)题 (question \(i + 1))"
            if f.label.trimmingWhitespace().isEmpty || f.label.count > 200 {
                out.append(FormProblem(field: name, reason: "请填写题目,最多200字 (a question of 1–200 characters)"))
            }
            if (f.kind == .single || f.kind == .multiple) {
                let options = f.options.filter { !$0.isEmpty }
                if options.count < 2 || options.count > 20 || Set(options).count != options.count {
                    out.append(FormProblem(field: name, reason: "单选和多选需要2到20个不重复的选项,用逗号分开 (2–20 distinct options, comma-separated)"))
                }
                if options.contains(where: { $0.count > 60 || $0.contains("、") }) {
                    out.append(FormProblem(field: name, reason: "选项最多60字,且不能含“、” (options up to 60 characters, without 、)"))
                }
            }
            if let c = f.showIf {
                if let other = seen[c.field] {
                    if !other.choices.isEmpty, !other.choices.contains(c.equals) {
                        out.append(FormProblem(field: name, reason: "显示条件的答案“\(c.equals)”不是第\(fields.firstIndex(of: other)! + 1)题的选项 (the condition's answer is not an option of that question)"))
                    }
                } else {
                    out.append(FormProblem(field: name, reason: "显示条件只能引用前面的题目 (a condition may refer only to an earlier question)"))
                }
            }
            if let finding = f.finding {
                if !f.choices.isEmpty, !f.choices.contains(finding.equals) {
                    out.append(FormProblem(field: name, reason: "需处置的答案“\(finding.equals)”不是本题的选项 (the finding's answer is not an option)"))
                }
                if finding.category.count != 4 || !finding.category.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    out.append(FormProblem(field: name, reason: "事项类别应为4位编号 (a 4-digit category)"))
                }
            }
            seen[f.key] = f
        }
        if Set(fields.map(\.key)).count != fields.count {
            out.append(FormProblem(field: "表单 (form)", reason: "题目编号重复 (duplicate question keys)"))
        }
        return out
    }

    /// True when `field` is shown, given the answers so far (a field hidden by its condition is neither asked nor kept).
    public func isShown(_ field: CampaignField, answers: CampaignAnswers) -> Bool {
        guard let c = field.showIf else { return true }
        guard let parent = fields.first(where: { $0.key == c.field }), isShown(parent, answers: answers) else { return false }
        let value = answers[c.field] ?? ""
        return parent.kind == .multiple ? value.components(separatedBy: "、").contains(c.equals) : value == c.equals
    }

    /// Checks raw form values (each field's values by key; photos arrive as a placeholder value) and returns
    /// the answers to keep: trimmed, in canonical form, hidden fields dropped. Throws the first problem.
    public func answers(from raw: [String: [String]]) throws(FormProblem) -> CampaignAnswers {
        var out: CampaignAnswers = [:]
        for f in fields {
            guard isShown(f, answers: out) else { continue }
            let values = (raw[f.key] ?? []).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            let name = f.label.count > 20 ? String(f.label.prefix(20)) + "…" : f.label
            if values.isEmpty {
                if f.required { throw FormProblem(field: name, reason: "此题必答 (required)") }
                continue
            }
            let value: String
            switch f.kind {
            case .yesNo, .single:
                guard values.count == 1, f.choices.contains(values[0]) else {
                    throw FormProblem(field: name, reason: "请从选项中选择一个 (choose one of the options)")
                }
                value = values[0]
            case .multiple:
                guard values.allSatisfy(f.choices.contains) else { throw FormProblem(field: name, reason: "有不在选项中的答案 (an answer is not an option)") }
                value = f.choices.filter(values.contains).joined(separator: "、")
            case .text:
                guard values.count == 1, values[0].count <= 1000 else { throw FormProblem(field: name, reason: "最多1000字 (at most 1000 characters)") }
                value = values[0]
            case .number:
                guard values.count == 1, let n = Double(values[0]), n.isFinite, abs(n) < 1e12 else {
                    throw FormProblem(field: name, reason: "请填写数字 (a number)")
                }
                value = values[0]
            case .date:
                guard values.count == 1, CivilDate(iso: values[0]) != nil else {
                    throw FormProblem(field: name, reason: "日期格式应为2026-11-29 (a date like 2026-11-29)")
                }
                value = values[0]
            case .photo:
                value = values[0]
            }
            out[f.key] = value
        }
        return out
    }

    /// The fields whose answer needs action, with the category of the matter it would become.
    public func findings(in answers: CampaignAnswers) -> [(field: CampaignField, category: String)] {
        fields.compactMap { f in
            guard let finding = f.finding, let value = answers[f.key] else { return nil }
            let hit = f.kind == .multiple ? value.components(separatedBy: "、").contains(finding.equals) : value == finding.equals
            return hit ? (f, finding.category) : nil
        }
    }

    /// The answers in the form's order as "题目:答案" lines, for a matter's description and exports.
    public func summary(_ answers: CampaignAnswers) -> String {
        fields.compactMap { f in answers[f.key].map { "\(f.label):\(f.kind == .photo ? "有照片" : $0)" } }.joined(separator: ";")
    }
}
