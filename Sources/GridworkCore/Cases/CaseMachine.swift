/// Where a matter (事项) stands in the closed loop of GB/T 30428:
/// reported → accepted → filed → dispatched → handling → done → closed, rated by the reporter.
public enum CaseState: String, Codable, Sendable, CaseIterable {
    case reported, accepted, declined, filed, dispatched, handling
    /// The handler reported it done (反馈); waiting for the check (核查).
    case done
    case closed, suspended

    public var label: String {
        switch self {
        case .reported: "待受理"
        case .accepted: "已受理"
        case .declined: "不予受理"
        case .filed: "已立案"
        case .dispatched: "已派遣"
        case .handling: "处置中"
        case .done: "待核查"
        case .closed: "已结案"
        case .suspended: "已挂起"
        }
    }

    /// States in which the matter is still open.
    public var isOpen: Bool { self != .declined && self != .closed }
}

/// Who a matter is dispatched to: a person (by login) or a department.
public enum Assignee: Sendable, Hashable, Codable, CustomStringConvertible {
    case person(String)
    case department(Department)

    /// `user:LOGIN` or `dept:CODE`, as stored.
    public var description: String {
        switch self {
        case .person(let login): "user:\(login)"
        case .department(let d): "dept:\(d.rawValue)"
        }
    }

    public init?(_ text: String) {
        if text.hasPrefix("user:"), text.count > 5 { self = .person(String(text.dropFirst(5))) }
        else if text.hasPrefix("dept:"), let d = Department(rawValue: String(text.dropFirst(5))) { self = .department(d) }
        else { return nil }
    }
}

/// A step someone takes on a matter. Each carries what the timeline records.
public enum CaseAction: Sendable, Equatable {
    case accept
    case decline(reason: String)
    case file
    case dispatch(to: Assignee)
    /// The assignee takes the matter in hand (签收).
    case take
    /// The assignee hands it back to the dispatcher (退回): not theirs to handle.
    case giveBack(reason: String)
    case reassign(to: Assignee)
    case reportDone(note: String)
    case verify(passed: Bool, note: String)
    case requestExtension(days: Int, reason: String)
    case decideExtension(approved: Bool)
    case suspend(reason: String)
    case resume
    case rate(score: Int, comment: String)
    case reopen(reason: String)

    /// The name the timeline and the API use.
    public var name: String {
        switch self {
        case .accept: "accept"
        case .decline: "decline"
        case .file: "file"
        case .dispatch: "dispatch"
        case .take: "take"
        case .giveBack: "give_back"
        case .reassign: "reassign"
        case .reportDone: "report_done"
        case .verify: "verify"
        case .requestExtension: "request_extension"
        case .decideExtension: "decide_extension"
        case .suspend: "suspend"
        case .resume: "resume"
        case .rate: "rate"
        case .reopen: "reopen"
        }
    }

    public var label: String {
        switch self {
        case .accept: "受理"
        case .decline: "不予受理"
        case .file: "立案"
        case .dispatch: "派遣"
        case .take: "签收处置"
        case .giveBack: "退回"
        case .reassign: "改派"
        case .reportDone: "处置反馈"
        case .verify(let passed, _): passed ? "核查通过,结案" : "核查未通过,返工"
        case .requestExtension: "申请延期"
        case .decideExtension(let approved): approved ? "批准延期" : "驳回延期"
        case .suspend: "挂起"
        case .resume: "恢复"
        case .rate: "评价"
        case .reopen: "不满意,重新办理"
        }
    }

    /// The note the timeline shows.
    public var note: String {
        switch self {
        case .decline(let r), .giveBack(let r), .suspend(let r), .reopen(let r): r
        case .reportDone(let n), .verify(_, let n): n
        case .requestExtension(let days, let reason): "\(days)个工作日:\(reason)"
        case .rate(let score, let comment): "\(score)分" + (comment.isEmpty ? "" : ":\(comment)")
        case .dispatch(let to), .reassign(let to): to.description
        default: ""
        }
    }
}

/// What the acting person is to this matter; the store works it out from role, scope and assignment.
public struct Capacity: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Takes matters in, files and dispatches them, checks the result (grid worker and up, in scope).
    public static let dispatcher = Capacity(rawValue: 1)
    /// The person or department the matter is dispatched to.
    public static let assignee = Capacity(rawValue: 2)
    /// The level above: approves extensions, suspends (grid leader and up, in scope).
    public static let supervisor = Capacity(rawValue: 4)
    /// The person who reported it (by account, or by tracking code and phone).
    public static let reporter = Capacity(rawValue: 8)
}

/// The part of a matter the loop's rules read and write.
public struct CaseSnapshot: Sendable, Equatable {
    public var state: CaseState
    public var assignee: Assignee?
    public var reworks: Int
    /// Working days asked for and not yet decided.
    public var extensionRequested: Int?
    /// Working days granted in all.
    public var extensionGranted: Int
    public var rating: Int?
    /// Seconds since 1970 (UTC) when it was closed, for the reopening window.
    public var closedAt: Int64?
    public var suspendedFrom: CaseState?

    public init(state: CaseState = .reported, assignee: Assignee? = nil, reworks: Int = 0, extensionRequested: Int? = nil,
                extensionGranted: Int = 0, rating: Int? = nil, closedAt: Int64? = nil, suspendedFrom: CaseState? = nil) {
        self.state = state; self.assignee = assignee; self.reworks = reworks; self.extensionRequested = extensionRequested
        self.extensionGranted = extensionGranted; self.rating = rating; self.closedAt = closedAt; self.suspendedFrom = suspendedFrom
    }
}

/// Why a step was refused, Chinese first.
public struct CaseRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The rules of the loop, as a pure function: the store applies the result with a version check.
public enum CaseMachine {
    /// A reporter unhappy with the result may reopen it for this long after closing.
    public static let reopenWindow: Int64 = 7 * 24 * 3600

    /// The snapshot after `action` by someone acting as `capacity`, at `now` (seconds since 1970, UTC).
    public static func apply(_ action: CaseAction, to s: CaseSnapshot, as capacity: Capacity, now: Int64) throws(CaseRefusal) -> CaseSnapshot {
        func need(_ c: Capacity, _ who: String) throws(CaseRefusal) {
            guard !capacity.isDisjoint(with: c) else { throw CaseRefusal("只有\(who)可以\(action.label) (only the \(who) may do this)") }
        }
        func from(_ states: CaseState...) throws(CaseRefusal) {
            guard states.contains(s.state) else {
                throw CaseRefusal("事项当前为“\(s.state.label)”,不能\(action.label) (not allowed while \(s.state.rawValue))")
            }
        }
        func text(_ t: String, _ what: String) throws(CaseRefusal) {
            guard !t.trimmingWhitespace().isEmpty, t.count <= 500 else { throw CaseRefusal("请填写\(what),最多500字 (\(what) is required, up to 500 characters)") }
        }
        var n = s
        switch action {
        case .accept:
            try need(.dispatcher, "受理人员"); try from(.reported)
            n.state = .accepted
        case .decline(let reason):
            try need(.dispatcher, "受理人员"); try from(.reported); try text(reason, "不予受理的理由")
            n.state = .declined
        case .file:
            try need(.dispatcher, "受理人员"); try from(.accepted)
            n.state = .filed
        case .dispatch(let to):
            try need(.dispatcher, "派遣人员"); try from(.filed)
            n.state = .dispatched; n.assignee = to
        case .take:
            try need(.assignee, "承办人"); try from(.dispatched)
            n.state = .handling
        case .giveBack(let reason):
            try need(.assignee, "承办人"); try from(.dispatched, .handling); try text(reason, "退回理由")
            n.state = .filed; n.assignee = nil; n.extensionRequested = nil
        case .reassign(let to):
            try need(.dispatcher, "派遣人员"); try from(.dispatched, .handling)
            guard to != s.assignee else { throw CaseRefusal("已派给该承办人 (already assigned there)") }
            n.state = .dispatched; n.assignee = to; n.extensionRequested = nil
        case .reportDone(let note):
            try need(.assignee, "承办人"); try from(.handling); try text(note, "处置情况")
            n.state = .done; n.extensionRequested = nil
        case .verify(let passed, let note):
            try need([.dispatcher, .supervisor], "核查人员"); try from(.done)
            if passed {
                n.state = .closed; n.closedAt = now
            } else {
                try text(note, "未通过的原因")
                n.state = .handling; n.reworks += 1
            }
        case .requestExtension(let days, let reason):
            try need(.assignee, "承办人"); try from(.dispatched, .handling); try text(reason, "延期理由")
            guard (1...30).contains(days) else { throw CaseRefusal("延期应为1到30个工作日 (1 to 30 working days)") }
            guard s.extensionRequested == nil else { throw CaseRefusal("已有延期申请待批准 (an extension request is pending)") }
            n.extensionRequested = days
        case .decideExtension(let approved):
            try need(.supervisor, "上级"); try from(.dispatched, .handling)
            guard let days = s.extensionRequested else { throw CaseRefusal("没有待批准的延期申请 (no extension request pending)") }
            if approved { n.extensionGranted += days }
            n.extensionRequested = nil
        case .suspend(let reason):
            try need([.dispatcher, .supervisor], "受理或上级人员"); try from(.filed, .dispatched, .handling); try text(reason, "挂起理由")
            n.suspendedFrom = s.state; n.state = .suspended
        case .resume:
            try need([.dispatcher, .supervisor], "受理或上级人员"); try from(.suspended)
            n.state = s.suspendedFrom ?? .filed; n.suspendedFrom = nil
        case .rate(let score, let comment):
            try need(.reporter, "反映人"); try from(.closed)
            guard s.rating == nil else { throw CaseRefusal("已评价过 (already rated)") }
            guard (1...5).contains(score) else { throw CaseRefusal("评分应为1到5 (a score from 1 to 5)") }
            guard comment.count <= 500 else { throw CaseRefusal("评价最多500字 (at most 500 characters)") }
            n.rating = score
        case .reopen(let reason):
            try need(.reporter, "反映人"); try from(.closed); try text(reason, "不满意的原因")
            guard let rating = s.rating, rating <= 2 else { throw CaseRefusal("评价为不满意(1–2分)后才能要求重新办理 (rate it 1 or 2 first)") }
            guard let closed = s.closedAt, now - closed <= reopenWindow else {
                throw CaseRefusal("结案已超过7天,不能重新办理,请重新反映 (more than 7 days since closing; report it again)")
            }
            n.state = .handling; n.reworks += 1; n.rating = nil; n.closedAt = nil
        }
        return n
    }

    /// The actions someone acting as `capacity` could try now, for the page's buttons.
    public static func available(to capacity: Capacity, on s: CaseSnapshot, now: Int64) -> [String] {
        let probes: [CaseAction] = [.accept, .decline(reason: "x"), .file, .dispatch(to: .department(.governance)), .take,
                                    .giveBack(reason: "x"), .reassign(to: .department(.police)), .reportDone(note: "x"),
                                    .verify(passed: true, note: "x"), .requestExtension(days: 1, reason: "x"),
                                    .decideExtension(approved: true), .suspend(reason: "x"), .resume, .rate(score: 5, comment: ""),
                                    .reopen(reason: "x")]
        var out: [String] = []
        for p in probes where (try? apply(p, to: s, as: capacity, now: now)) != nil && !out.contains(p.name) {
            out.append(p.name)
        }
        return out
    }
}
