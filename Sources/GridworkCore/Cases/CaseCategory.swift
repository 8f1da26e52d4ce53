/// A time allowed for one stage of a matter.
public struct Deadline: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Unit: String, Sendable, Codable, CaseIterable {
        case workingHours = "working_hours", workingDays = "working_days"
        public var label: String { self == .workingHours ? "工作小时" : "个工作日" }
    }
    public let amount: Int
    public let unit: Unit

    public init(_ amount: Int, _ unit: Unit) { self.amount = amount; self.unit = unit }

    public var description: String { "\(amount)\(unit.label)" }

    /// When the stage that started at `start` is due.
    public func due(from start: Int64, calendar: WorkCalendar, extraDays: Int = 0) -> Int64 {
        let base = unit == .workingHours ? calendar.adding(workingMinutes: Int64(amount) * 60, to: start)
                                         : calendar.adding(workingDays: amount, to: start)
        return extraDays > 0 ? calendar.adding(workingDays: extraDays, to: base) : base
    }
}

/// Who handles a kind of matter by default.
public enum Responsible: Sendable, Hashable, Codable, CustomStringConvertible {
    case buildingHead, gridWorker, community, township
    case department(Department)

    public var label: String {
        switch self {
        case .buildingHead: "楼栋长"
        case .gridWorker: "网格员"
        case .community: "社区"
        case .township: "乡镇/街道"
        case .department(let d): d.fullName
        }
    }

    public var description: String {
        switch self {
        case .buildingHead: "building_head"
        case .gridWorker: "grid_worker"
        case .community: "community"
        case .township: "township"
        case .department(let d): "dept:\(d.rawValue)"
        }
    }

    public init?(_ text: String) {
        switch text {
        case "building_head": self = .buildingHead
        case "grid_worker": self = .gridWorker
        case "community": self = .community
        case "township": self = .township
        default:
            guard text.hasPrefix("dept:"), let d = Department(rawValue: String(text.dropFirst(5))) else { return nil }
            self = .department(d)
        }
    }
}

/// How serious a matter is (事件等级).
public enum Severity: String, Sendable, Codable, CaseIterable {
    case general, large, major, extraordinary
    public var label: String {
        switch self {
        case .general: "一般"
        case .large: "较大"
        case .major: "重大"
        case .extraordinary: "特别重大"
        }
    }
}

/// A kind of matter (小类) under its group (大类), with who handles it and the clock for each stage.
public struct CaseCategory: Sendable, Equatable, Codable {
    /// Four digits: the group's two, then the kind's two (`0202`).
    public let code: String
    public let group: String
    public let groupName: String
    public let name: String
    public var responsible: Responsible
    public var accept: Deadline
    public var handle: Deadline
    public var verify: Deadline
    /// Percent of a stage's time after which the matter shows yellow.
    public var yellowPercent: Int
    /// Percent after which it shows red and is escalated one level up (100 = at the deadline).
    public var redPercent: Int
    /// What must be true to close it (结案条件).
    public var closing: String

    public init(code: String, groupName: String, name: String, responsible: Responsible, accept: Deadline, handle: Deadline,
                verify: Deadline = Deadline(1, .workingDays), yellowPercent: Int = 80, redPercent: Int = 100, closing: String) {
        self.code = code; self.group = String(code.prefix(2)); self.groupName = groupName; self.name = name
        self.responsible = responsible; self.accept = accept; self.handle = handle; self.verify = verify
        self.yellowPercent = yellowPercent; self.redPercent = redPercent; self.closing = closing
    }

    /// The default tree the county starts from (GB/T 30428 and CJ/T 315 in spirit, fitted to community life).
    public static let defaults: [CaseCategory] = {
        let h = Deadline.Unit.workingHours, d = Deadline.Unit.workingDays
        // Taken in within hours, handled within working days.
        func c(_ code: String, _ group: String, _ name: String, _ who: Responsible, accept: Int, handle: Int, _ closing: String) -> CaseCategory {
            CaseCategory(code: code, groupName: group, name: name, responsible: who, accept: Deadline(accept, h), handle: Deadline(handle, d),
                         closing: closing)
        }
        let dispute = "矛盾纠纷", hazard = "安全隐患", environment = "环境卫生", facility = "公共设施", assistance = "社会救助",
            order = "治安秩序", petition = "信访诉求", errand = "转办事项"
        return [
            c("0101", dispute, "邻里纠纷", .gridWorker, accept: 4, handle: 5, "双方达成调解或书面说明,反映人确认"),
            c("0102", dispute, "婚姻家庭纠纷", .community, accept: 4, handle: 5, "调解完成或转介相关部门"),
            c("0103", dispute, "物业纠纷", .community, accept: 4, handle: 7, "物业与业主达成一致或有处理结论"),
            c("0104", dispute, "劳资纠纷", .department(.humanResources), accept: 8, handle: 10, "欠薪追回或进入仲裁程序"),
            c("0201", hazard, "消防隐患", .department(.fire), accept: 2, handle: 2, "隐患消除并有现场照片"),
            c("0202", hazard, "电动车违规充电", .gridWorker, accept: 2, handle: 1, "车辆移出楼道、充电线拆除,有照片"),
            c("0203", hazard, "房屋结构安全", .department(.housing), accept: 4, handle: 3, "鉴定完成并落实处置措施"),
            c("0204", hazard, "燃气安全", .department(.housing), accept: 2, handle: 1, "燃气公司排查完毕,隐患消除"),
            c("0301", environment, "垃圾堆放", .gridWorker, accept: 4, handle: 2, "垃圾清运完毕,有照片"),
            c("0302", environment, "污水外溢", .community, accept: 4, handle: 3, "管道疏通,现场清理"),
            c("0303", environment, "噪音扰民", .community, accept: 4, handle: 3, "噪音停止或已告知责任方"),
            c("0401", facility, "路灯损坏", .community, accept: 8, handle: 3, "路灯恢复照明"),
            c("0402", facility, "道路破损", .township, accept: 8, handle: 10, "道路修复"),
            c("0403", facility, "井盖缺失", .township, accept: 2, handle: 1, "井盖补齐或设置警示"),
            c("0501", assistance, "生活困难求助", .department(.civilAffairs), accept: 8, handle: 5, "完成入户核查并答复救助结果"),
            c("0502", assistance, "独居老人照护", .buildingHead, accept: 4, handle: 1, "上门探视并记录情况"),
            c("0503", assistance, "残疾人帮扶", .department(.civilAffairs), accept: 8, handle: 5, "落实帮扶措施并答复"),
            c("0601", order, "治安隐患", .department(.police), accept: 2, handle: 2, "警情处置完毕"),
            c("0602", order, "可疑人员或出租屋异常", .department(.police), accept: 2, handle: 1, "核查完毕"),
            c("0701", petition, "信访诉求", .department(.governance), accept: 8, handle: 15, "书面答复信访人"),
            c("0801", errand, "需其他部门办理的事项", .township, accept: 8, handle: 5, "转办并答复反映人"),
        ]
    }()
}

extension CaseCategory {
    /// The clock of a stage that started at `start`: when it is due, and when it turns yellow and red
    /// (nil when no clock runs: declined, closed, suspended). Extensions lengthen only the handling stage.
    public func clock(for state: CaseState, from start: Int64, extraDays: Int, calendar: WorkCalendar) -> (due: Int64?, yellow: Int64?, red: Int64?) {
        let deadline: Deadline? = switch state {
        case .reported, .accepted, .filed: accept
        case .dispatched, .handling: handle
        case .done: verify
        case .declined, .closed, .suspended: nil
        }
        guard let deadline else { return (nil, nil, nil) }
        let due = deadline.due(from: start, calendar: calendar, extraDays: state == .dispatched || state == .handling ? extraDays : 0)
        let span = max(0, due - start)
        return (due, start + span * Int64(yellowPercent) / 100, start + span * Int64(redPercent) / 100)
    }
}
