import Foundation

/// A campaign (排查任务) is drafted, launched (split to every door at once) and closed.
public enum CampaignState: String, Codable, Sendable, CaseIterable {
    case draft, running, closed

    public var label: String {
        switch self {
        case .draft: "草稿"
        case .running: "进行中"
        case .closed: "已结束"
        }
    }
}

/// Where a visit stands: not yet visited, nobody at home (to retry), or answered.
public enum VisitState: String, Codable, Sendable, CaseIterable {
    case pending, notHome = "not_home", done

    public var label: String {
        switch self {
        case .pending: "未走访"
        case .notHome: "不在家"
        case .done: "已完成"
        }
    }
}

/// What a building head brings back from a door.
public enum VisitOutcome: String, Sendable, Equatable {
    case answered, notHome = "not_home"
}

/// The rule of a visit, as a pure value: what an outcome does to it.
public enum VisitRule {
    /// The state after `outcome`; refused while the campaign is not running, and "not at home" after an answer
    /// (an answer is corrected by answering again, never undone by a missed knock).
    public static func apply(_ outcome: VisitOutcome, to state: VisitState, campaign: CampaignState) throws(FormProblem) -> VisitState {
        guard campaign == .running else {
            throw FormProblem(field: "排查任务 (campaign)", reason: campaign == .closed
                              ? "任务已结束,不再接收结果 (the campaign is closed)" : "任务尚未发布 (the campaign has not been launched)")
        }
        switch (outcome, state) {
        case (.answered, _): return .done
        case (.notHome, .done):
            throw FormProblem(field: "走访 (visit)", reason: "该户已登记结果,如需更正请重新填写 (already answered; answer again to correct it)")
        case (.notHome, _): return .notHome
        }
    }
}

/// Counts of one place in a campaign, and the figures a dashboard shows of them.
public struct CampaignProgress: Sendable, Equatable, Codable {
    public var total: Int
    public var done: Int
    public var notHome: Int
    public var findings: Int

    public init(total: Int = 0, done: Int = 0, notHome: Int = 0, findings: Int = 0) {
        self.total = total; self.done = done; self.notHome = notHome; self.findings = findings
    }

    public static func + (a: Self, b: Self) -> Self {
        Self(total: a.total + b.total, done: a.done + b.done, notHome: a.notHome + b.notHome, findings: a.findings + b.findings)
    }

    /// Done, in whole per cent (rounded down, so 100 means every door).
    public var percent: Int { total == 0 ? 0 : done * 100 / total }

    /// When the rest will be done at the pace so far (seconds since 1970), or nil after the last door, or while there is
    /// too little to go on (fewer than five answers, or less than a minute of them). The pace is measured from the
    /// first answer, so the quiet time between launch and the first knock does not count.
    public func estimatedCompletion(firstAnswerAt: Int64?, now: Int64) -> Int64? {
        guard let first = firstAnswerAt, done >= 5, done < total, now - first >= 60 else { return nil }
        // remaining ÷ (done ÷ elapsed), in whole seconds rounded up, without floating point.
        let elapsed = now - first, remaining = Int64(total - done)
        return now + (remaining * elapsed + Int64(done) - 1) / Int64(done)
    }
}

/// What a campaign is sent to.
public enum CampaignTarget: Sendable, Equatable {
    /// Every household of a region (a grid, community, township or the county).
    case region(RegionCode)
    /// Households where someone carries one of these tags.
    case tags(RegionCode, Set<ResidentTag>)
    /// People from an uploaded list (ID numbers, phones, or names with addresses), matched against the registry.
    case list(RegionCode, [TargetLine])

    public var region: RegionCode {
        switch self {
        case .region(let r), .tags(let r, _), .list(let r, _): r
        }
    }
}

/// A campaign as its builder describes it, checked before anything is stored.
public struct CampaignDraft: Sendable, Equatable {
    public var title: String
    public var instructions: String
    public var deadline: CivilDate
    public var form: CampaignForm
    public var template: String?

    public init(title: String, instructions: String, deadline: CivilDate, form: CampaignForm, template: String? = nil) {
        self.title = title; self.instructions = instructions; self.deadline = deadline; self.form = form; self.template = template
    }

    /// How many question rows the builder shows beyond the filled ones.
    public static let spareRows = 3

    /// Reads the builder's fields: `title`, `instructions`, `deadline` and, for each row n, `label_n`, `kind_n`,
    /// `options_n` (comma-separated), `required_n`, `showif_n` ("3=是": shown when question 3 is 是) and
    /// `finding_n` ("是=0201": that answer needs action, as a matter of category 0201). Rows without a question are skipped.
    public static func parse(_ form: [String: String], today: CivilDate) throws(FormProblem) -> CampaignDraft {
        func text(_ key: String) -> String { form[key]?.trimmingWhitespace() ?? "" }
        let title = text("title")
        guard (2...60).contains(title.count) else { throw FormProblem(field: "任务名称 (title)", reason: "2到60字 (2 to 60 characters)") }
        let instructions = text("instructions")
        guard instructions.count <= 2000 else { throw FormProblem(field: "工作要求 (instructions)", reason: "最多2000字 (at most 2000 characters)") }
        guard let deadline = CivilDate(iso: text("deadline")) else {
            throw FormProblem(field: "截止日期 (deadline)", reason: "日期格式应为2026-12-31 (a date like 2026-12-31)")
        }
        guard deadline >= today else { throw FormProblem(field: "截止日期 (deadline)", reason: "不能早于今天 (not before today)") }
        let rows = (1...(CampaignForm.maxFields + spareRows)).filter { !text("label_\($0)").isEmpty }
        var fields: [CampaignField] = []
        var keyOfRow: [Int: String] = [:]
        for (i, n) in rows.enumerated() {
            let name = "第\(n)题 (question \(n))"
            guard let kind = CampaignField.Kind(rawValue: text("kind_\(n)")) else { throw FormProblem(field: name, reason: "请选择题型 (choose a kind)") }
            let options = text("options_\(n)").split(whereSeparator: { $0 == "," || $0 == "," }).map { String($0).trimmingWhitespace() }
                .filter { !$0.isEmpty }
            let key = "q\(i + 1)"
            keyOfRow[n] = key
            var showIf: CampaignField.Condition?
            if !text("showif_\(n)").isEmpty {
                let parts = text("showif_\(n)").split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
                guard parts.count == 2, let row = Int(parts[0]), let parent = keyOfRow[row], row < n else {
                    throw FormProblem(field: name, reason: "显示条件应写成“题号=答案”,如“3=是”,且只能引用前面的题 (write “3=是”, an earlier question)")
                }
                showIf = .init(field: parent, equals: parts[1])
            }
            var finding: CampaignField.Finding?
            if !text("finding_\(n)").isEmpty {
                let parts = text("finding_\(n)").split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
                guard parts.count == 2 else {
                    throw FormProblem(field: name, reason: "需处置条件应写成“答案=事项类别”,如“是=0201” (write “是=0201”)")
                }
                finding = .init(equals: parts[0], category: parts[1])
            }
            fields.append(CampaignField(key: key, label: text("label_\(n)"), kind: kind, options: kind == .yesNo ? [] : options,
                                        required: form["required_\(n)"] != nil, showIf: showIf, finding: finding))
        }
        let built = CampaignForm(fields: fields)
        if let problem = built.problems().first { throw problem }
        let template = text("template")
        return CampaignDraft(title: title, instructions: instructions, deadline: deadline, form: built,
                             template: CampaignTemplate.all.contains { $0.id == template } ? template : nil)
    }
}
