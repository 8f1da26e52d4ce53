/// Where an errand (帮办代办) stands.
public enum ErrandState: String, Codable, Sendable, CaseIterable {
    case requested, accepted, inProgress = "in_progress", waiting, done, declined, cancelled

    public var label: String {
        switch self {
        case .requested: "待受理"
        case .accepted: "已受理"
        case .inProgress: "办理中"
        case .waiting: "等待部门办理"
        case .done: "已办结"
        case .declined: "不予代办"
        case .cancelled: "已撤销"
        }
    }

    public var isOpen: Bool { ![.done, .declined, .cancelled].contains(self) }
}

/// A step on an errand, with what the resident is told.
public enum ErrandAction: Sendable, Equatable {
    case accept
    case decline(reason: String)
    case start
    /// Handed in at an office (社保所, 派出所 …), waiting for it.
    case wait(office: String)
    case resume
    case finish(note: String)
    case rate(score: Int, comment: String)
    case cancel

    public var name: String {
        switch self {
        case .accept: "accept"
        case .decline: "decline"
        case .start: "start"
        case .wait: "wait"
        case .resume: "resume"
        case .finish: "finish"
        case .rate: "rate"
        case .cancel: "cancel"
        }
    }

    public var label: String {
        switch self {
        case .accept: "受理"
        case .decline: "不予代办"
        case .start: "开始办理"
        case .wait: "已交部门办理"
        case .resume: "部门已办完,继续"
        case .finish: "办结"
        case .rate: "评价"
        case .cancel: "撤销"
        }
    }

    public var note: String {
        switch self {
        case .decline(let r): r
        case .wait(let o): o
        case .finish(let n): n
        case .rate(let s, let c): "\(s)分 \(c)"
        default: ""
        }
    }
}

/// Who is acting: the person doing the errand (or the office above them), or the resident it is for.
public enum ErrandRole: Sendable, Equatable { case handler, requester }

/// An errand's state and rating: all the rules look at.
public struct ErrandSnapshot: Sendable, Equatable {
    public var state: ErrandState
    public var rating: Int?
    public init(state: ErrandState, rating: Int? = nil) { self.state = state; self.rating = rating }
}

/// The rules of an errand, as a pure value: requested → accepted → in progress ⇄ waiting on an office → done → rated.
public enum ErrandMachine {
    public static func apply(_ action: ErrandAction, to s: ErrandSnapshot, as role: ErrandRole) throws(FormProblem) -> ErrandSnapshot {
        func refuse() -> FormProblem {
            FormProblem(field: "代办 (errand)", reason: "当前状态“\(s.state.label)”下不能\(action.label) (not allowed in this state)")
        }
        var next = s
        switch (action, role, s.state) {
        case (.accept, .handler, .requested): next.state = .accepted
        case (.decline(let reason), .handler, .requested):
            guard (2...500).contains(reason.count) else { throw FormProblem(field: "理由 (reason)", reason: "请写明不予代办的理由,2到500字 (2–500 characters)") }
            next.state = .declined
        case (.start, .handler, .accepted): next.state = .inProgress
        case (.wait(let office), .handler, .inProgress):
            guard (2...60).contains(office.count) else { throw FormProblem(field: "部门 (office)", reason: "请写明交到哪个部门,2到60字 (2–60 characters)") }
            next.state = .waiting
        case (.resume, .handler, .waiting): next.state = .inProgress
        case (.finish(let note), .handler, .inProgress), (.finish(let note), .handler, .waiting):
            guard (2...500).contains(note.count) else { throw FormProblem(field: "办理结果 (result)", reason: "请写明办理结果,2到500字 (2–500 characters)") }
            next.state = .done
        case (.rate(let score, let comment), .requester, .done):
            guard s.rating == nil else { throw FormProblem(field: "评价 (rating)", reason: "已评价过 (already rated)") }
            guard (1...5).contains(score) else { throw FormProblem(field: "评价 (rating)", reason: "请打1到5分 (1 to 5)") }
            guard comment.count <= 500 else { throw FormProblem(field: "评价 (rating)", reason: "最多500字 (at most 500 characters)") }
            next.rating = score
        case (.cancel, .requester, .requested), (.cancel, .requester, .accepted): next.state = .cancelled
        default: throw refuse()
        }
        return next
    }

    /// The action names `role` may take now, in the order a page offers them.
    public static func available(to role: ErrandRole, on s: ErrandSnapshot) -> [String] {
        let all: [ErrandAction] = [.accept, .decline(reason: "理由理由"), .start, .wait(office: "部门"), .resume, .finish(note: "结果"),
                                   .rate(score: 5, comment: ""), .cancel]
        return all.filter { (try? apply($0, to: s, as: role)) != nil }.map(\.name)
    }

    /// Reads an action from a page's form: `action` and its `reason`, `office`, `note`, `score`, `comment`.
    public static func parse(_ form: [String: String]) throws(FormProblem) -> ErrandAction {
        func text(_ k: String) -> String { form[k]?.trimmingWhitespace() ?? "" }
        switch text("action") {
        case "accept": return .accept
        case "decline": return .decline(reason: text("reason"))
        case "start": return .start
        case "wait": return .wait(office: text("office"))
        case "resume": return .resume
        case "finish": return .finish(note: text("note"))
        case "rate":
            guard let score = Int(text("score")) else { throw FormProblem(field: "评价 (rating)", reason: "请打1到5分 (1 to 5)") }
            return .rate(score: score, comment: text("comment"))
        case "cancel": return .cancel
        default: throw FormProblem(field: "操作 (action)", reason: "未知操作 (unknown action)")
        }
    }
}

/// An errand the county offers: what it is, the documents to bring, how many days it may take.
public struct ErrandKind: Sendable, Equatable {
    public let code: String
    public var name: String
    public var documents: String
    public var days: Int
    public var active: Bool

    public init(code: String, name: String, documents: String, days: Int, active: Bool = true) {
        self.code = code; self.name = name; self.documents = documents; self.days = days; self.active = active
    }

    /// What the county starts with; it edits the list in the UI.
    public static let defaults: [ErrandKind] = [
        ErrandKind(code: "pension", name: "养老资格认证", documents: "身份证原件;本人近期照片(可现场拍)", days: 3),
        ErrandKind(code: "medical", name: "城乡居民医保缴费", documents: "身份证或社保卡;缴费金额现金或转账", days: 2),
        ErrandKind(code: "idcard", name: "身份证办理(到期换领)", documents: "旧身份证;户口簿;近期免冠照片回执", days: 20),
        ErrandKind(code: "hukou", name: "户口登记事项", documents: "户口簿;相关证明(出生医学证明、结婚证等)", days: 10),
        ErrandKind(code: "dibao", name: "低保申请", documents: "身份证;户口簿;家庭收入和财产说明;银行卡", days: 30),
        ErrandKind(code: "disability", name: "残疾证办理", documents: "身份证;户口簿;两寸照片;医院诊断证明", days: 30),
        ErrandKind(code: "elderly", name: "高龄津贴申领", documents: "身份证;户口簿;银行卡", days: 15),
    ]
}

/// An errand asked for on a phone, or recorded at the door, checked before anything is stored.
public struct ErrandRequest: Sendable, Equatable {
    public var kind: String
    public var room: String
    public var personName: String
    public var phone: MobilePhone?
    public var note: String

    public init(kind: String, room: String, personName: String, phone: MobilePhone?, note: String) {
        self.kind = kind; self.room = room; self.personName = personName; self.phone = phone; self.note = note
    }

    /// Reads `kind`, `room`, `name`, `phone`, `note`. A resident without an account is reached by phone, so theirs is required.
    public static func parse(_ form: [String: String], phoneRequired: Bool) throws(FormProblem) -> ErrandRequest {
        func text(_ k: String) -> String { form[k]?.trimmingWhitespace() ?? "" }
        let kind = text("kind")
        guard !kind.isEmpty, kind.count <= 20 else { throw FormProblem(field: "事项 (errand)", reason: "请选择要代办的事项 (choose an errand)") }
        let name = text("name")
        guard (2...20).contains(name.count), !name.contains(where: { $0.isASCII && ($0.isNumber || "<>&\"".contains($0)) }) else {
            throw FormProblem(field: "姓名 (name)", reason: "请填写办事人姓名,2到20字 (the person's name, 2–20 characters)")
        }
        let room = text("room")
        guard room.count <= 20 else { throw FormProblem(field: "房号 (room)", reason: "最多20字 (at most 20 characters)") }
        var phone: MobilePhone?
        if !text("phone").isEmpty {
            guard let p = MobilePhone(text("phone")) else { throw FormProblem(field: "手机号 (phone)", reason: "应为11位手机号 (an 11-digit mobile number)") }
            phone = p
        } else if phoneRequired {
            throw FormProblem(field: "手机号 (phone)", reason: "请留手机号,办理进度凭查询码和手机号查看 (needed to follow the errand)")
        }
        let note = text("note")
        guard note.count <= 1000 else { throw FormProblem(field: "说明 (note)", reason: "最多1000字 (at most 1000 characters)") }
        return ErrandRequest(kind: kind, room: room, personName: name, phone: phone, note: note)
    }
}
