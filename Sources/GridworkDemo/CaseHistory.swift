import Foundation
import GridworkCore
import GridworkStore
import SQLKit

/// What a history load wrote.
public struct CaseHistoryResult: Sendable, Equatable {
    public let cases: Int
    public let steps: Int
    public let notices: Int
    public let byState: [CaseState: Int]
}

/// A year of matters over the demo county, for benchmarks and for pages that look lived in:
/// most closed and rated, some declined, some still open and a few long overdue and escalated,
/// every one with the timeline (`case_steps`) and the inbox notices the store would have written
/// had people taken each step through the app. Deterministic for a seed and an end instant.
///
/// Written like the net seeder: ids assigned here, rows buffered and sent as multi-row INSERTs,
/// the next batch generated while the previous one is written. Each batch is one transaction,
/// so an interrupted load leaves only whole matters.
public enum CaseHistory {
    /// Loads `count` matters reported over the 12 months before `now` into a seeded county.
    /// `progress(done, total)` is called after each batch is handed to the writer.
    @discardableResult
    public static func load(into store: Store, count: Int, seed: UInt64 = 430524, now: Int64 = Clock.now(),
                            batchSize: Int = 5_000,
                            progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> CaseHistoryResult {
        guard count > 0 else { return CaseHistoryResult(cases: 0, steps: 0, notices: 0, byState: [:]) }
        let net = try await Net.read(store)
        guard !net.grids.isEmpty, !net.buildings.isEmpty else {
            throw StoreError.invalid(field: "county", reason: "请先生成演示县 (seed the demo county first)")
        }
        let categories = try await store.cases.categories()
        let calendar = try await store.cases.calendar()
        let firstID = try await store.database.reader.raw("SELECT COALESCE(MAX(id), 0) AS n FROM cases").first()!
            .decode(column: "n", as: Int64.self) + 1
        var maker = Maker(net: net, categories: categories, calendar: calendar, sealer: store.sealer, seed: seed, now: now, count: count)
        let database = store.database
        let kind = database.kind
        var writing: Task<Void, any Error>?
        var batch = Batch()
        var stepsTotal = 0, noticesTotal = 0
        do {
            for i in 0..<count {
                maker.make(index: i, id: firstID + Int64(i), into: &batch)
                if batch.cases.count >= batchSize || i == count - 1 {
                    stepsTotal += batch.steps.count
                    noticesTotal += batch.notices.count
                    // Newest notice last within the batch, so an inbox read by id shows the latest first.
                    batch.notices.sort { ($0[2] as! Int64) < ($1[2] as! Int64) }
                    try await writing?.value
                    let full = batch
                    writing = Task { try await write(full, to: database, kind: kind) }
                    batch = Batch()
                    progress(i + 1, count)
                }
            }
            try await writing?.value
        } catch {
            _ = try? await writing?.value
            throw error
        }
        if kind == .postgres {
            // Ids were assigned here; move the identity sequence past them.
            try await database.transaction { db in
                try await db.raw("SELECT setval(pg_get_serial_sequence('cases', 'id'), GREATEST((SELECT MAX(id) FROM cases), 1))").run()
            }
        }
        return CaseHistoryResult(cases: count, steps: stepsTotal, notices: noticesTotal, byState: maker.byState)
    }

    /// Eight readable characters from the id: a bijection onto 31⁸ codes, so history never repeats a code.
    public static func trackingCode(id: Int64) -> String {
        let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
        let space: UInt64 = 852_891_037_441 // 31^8
        var n = (UInt64(id) &* 387_420_489 &+ 123_456_789) % space
        var out = [Character](repeating: "2", count: 8)
        for i in (0..<8).reversed() { out[i] = alphabet[Int(n % 31)]; n /= 31 }
        return String(out)
    }

    static let caseColumns = ["id", "code", "category", "severity", "title", "description", "state", "version", "grid_id", "building_id",
                              "address", "channel", "reporter_login", "reporter_name", "reporter_phone_sealed", "reporter_phone_index",
                              "reporter_phone_masked", "assignee", "reworks", "extension_requested", "extension_granted", "rating",
                              "rating_comment", "suspended_from", "reported_at", "stage_started_at", "yellow_at", "red_at", "due_at",
                              "closed_at", "escalation", "accepted_at", "dispatched_at", "done_at", "handled_on_time", "closed_on_time"]
    static let stepColumns = ["case_id", "at", "action", "from_state", "to_state", "actor", "actor_role", "note", "on_time"]
    static let noticeColumns = ["recipient", "case_id", "at", "text"]

    struct Batch: Sendable {
        var cases: [[any Encodable & Sendable]] = []
        var steps: [[any Encodable & Sendable]] = []
        var notices: [[any Encodable & Sendable]] = []
    }

    private static func write(_ batch: Batch, to database: Database, kind: DatabaseKind) async throws {
        try await database.transaction { db in
            try await BulkInsert.rows(db, kind: kind, table: "cases", columns: caseColumns, batch.cases)
            try await BulkInsert.rows(db, kind: kind, table: "case_steps", columns: stepColumns, batch.steps)
            try await BulkInsert.rows(db, kind: kind, table: "inbox", columns: noticeColumns, batch.notices)
            if let first = batch.cases.first?[0] as? Int64, let last = batch.cases.last?[0] as? Int64 {
                try await CaseTallies.add(db, sign: 1, where: "c.id >= \(bind: first) AND c.id <= \(bind: last)")
            }
        }
    }

    // MARK: the net, as the generator needs it

    struct Grid { let id: Int64; let code: String; let name: String; let community: String; let township: String; let county: String }
    struct Building { let id: Int64; let grid: Int; let code: String; let address: String }

    struct Net {
        var grids: [Grid] = []
        var buildings: [Building] = []
        var names: [String: String] = [:]

        static func read(_ store: Store) async throws -> Net {
            let db = store.database.reader
            var net = Net()
            var gridIndex: [Int64: Int] = [:]
            for r in try await db.raw("""
                SELECT g.id, g.code, g.name, c.code AS community, t.code AS township, k.code AS county
                FROM regions g JOIN regions c ON c.id = g.parent_id JOIN regions t ON t.id = c.parent_id JOIN regions k ON k.id = t.parent_id
                WHERE g.level = 'grid' ORDER BY g.id
                """).all() {
                let id = try r.decode(column: "id", as: Int64.self)
                gridIndex[id] = net.grids.count
                net.grids.append(Grid(id: id, code: try r.decode(column: "code", as: String.self), name: try r.decode(column: "name", as: String.self),
                                      community: try r.decode(column: "community", as: String.self),
                                      township: try r.decode(column: "township", as: String.self),
                                      county: try r.decode(column: "county", as: String.self)))
            }
            for r in try await db.raw("SELECT id, grid_id, number, address FROM buildings ORDER BY id").all() {
                guard let g = gridIndex[try r.decode(column: "grid_id", as: Int64.self)] else { continue }
                let number = try r.decode(column: "number", as: Int.self)
                let suffix = String(number), padded = String(repeating: "0", count: max(0, 3 - suffix.count)) + suffix
                net.buildings.append(Building(id: try r.decode(column: "id", as: Int64.self), grid: g, code: net.grids[g].code + padded,
                                              address: try r.decode(column: "address", as: String.self)))
            }
            for r in try await db.raw("SELECT login, name FROM users").all() {
                net.names[try r.decode(column: "login", as: String.self)] = try r.decode(column: "name", as: String.self)
            }
            return net
        }
    }
}

/// Draws one matter at a time and lives it through the loop until `now`.
struct Maker {
    let net: CaseHistory.Net
    let categories: [CaseCategory]
    let categoryWeights: Weighted<Int>
    let calendar: WorkCalendar
    let sealer: Sealer
    let now: Int64
    let start: Int64
    let count: Int
    var rng: SeededRandom
    var stuckCount = 0
    var byState: [CaseState: Int] = [:]

    /// About one matter in a hundred sticks somewhere and is still open, late and escalated when the history ends;
    /// each open state takes its turn, so even a small history shows every state.
    static let stuckShare = 0.01
    static let stuckStates: [CaseState] = [.reported, .accepted, .filed, .dispatched, .handling, .done, .suspended]

    static let categoryShare: [String: Double] = [
        "0101": 8, "0102": 4, "0103": 6, "0104": 2, "0201": 5, "0202": 7, "0203": 1.5, "0204": 2, "0301": 16, "0302": 5, "0303": 7,
        "0401": 6, "0402": 4, "0403": 1.5, "0501": 4, "0502": 3, "0503": 1.5, "0601": 2, "0602": 1.5, "0701": 3, "0801": 3,
    ]
    static let channels = Weighted<Channel>([(.resident, 0.28), (.buildingHead, 0.2), (.gridWorker, 0.22), (.hotline, 0.14),
                                             (.open311, 0.05), (.groupChat, 0.06), (.patrol, 0.05)])
    static let severities = Weighted<Severity>([(.general, 0.92), (.large, 0.06), (.major, 0.018), (.extraordinary, 0.002)])
    static let scores = Weighted<Int>([(5, 0.62), (4, 0.24), (3, 0.08), (2, 0.04), (1, 0.02)])
    /// Hour of the day (Beijing) a matter is reported: mostly working hours, some evenings.
    static let hours = Weighted<Int>((0..<24).map { h in
        (h, [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 4, 6, 6.5, 5.5, 3, 3.5, 5.5, 6, 5.5, 4.5, 3, 2.5, 2, 1.5, 0.8, 0.4][h])
    })

    init(net: CaseHistory.Net, categories: [CaseCategory], calendar: WorkCalendar, sealer: Sealer, seed: UInt64, now: Int64, count: Int) {
        self.net = net; self.categories = categories; self.calendar = calendar; self.sealer = sealer
        self.now = now; self.count = count
        start = now - 365 * 86_400
        rng = SeededRandom(seed: seed &+ 0x5EED_CA5E)
        categoryWeights = Weighted(categories.indices.map { ($0, Self.categoryShare[categories[$0].code] ?? 2) })
    }

    /// One person or office, as a step's actor.
    struct Who { let login: String; let role: String }

    /// A matter being lived through; steps and notices go straight into the batch.
    struct Life {
        let id: Int64
        let category: CaseCategory
        let grid: CaseHistory.Grid
        let title: String
        let reporter: Who?
        var state: CaseState = .reported
        var assignee: String?
        var reworks = 0
        var extensionRequested: Int?
        var extensionGranted = 0
        var rating: Int?
        var ratingComment: String?
        var closedAt: Int64?
        var suspendedFrom: CaseState?
        var stageStart: Int64
        var clock: (due: Int64?, yellow: Int64?, red: Int64?) = (nil, nil, nil)
        var escalation = 0
        var version = 1
        // The summary columns the store keeps for the figures.
        var acceptedAt: Int64?
        var dispatchedAt: Int64?
        var doneAt: Int64?
        var handledOnTime: Int?
        var closedOnTime: Int?
        var t: Int64
    }

    mutating func make(index i: Int, id: Int64, into batch: inout CaseHistory.Batch) {
        // When: spread evenly over the year, at the hours people report things.
        let dayOffset = Int64(Double(i) * 365 / Double(count))
        let day = WorkCalendar.localDay(start) + dayOffset
        var reportedAt = day * 86_400 - WorkCalendar.offset + Int64(Self.hours.pick(&rng)) * 3600 + Int64(rng.int(0...3599))
        if reportedAt > now - 600 { reportedAt = now - 600 - Int64(rng.int(0...3600)) }
        let category = categories[categoryWeights.pick(&rng)]
        let gridLevel = rng.chance(0.1)
        let building = net.buildings[rng.int(0...(net.buildings.count - 1))]
        let grid = net.grids[building.grid]
        let story = Stories.pick(category.code, &rng)
        let address = gridLevel ? grid.name + rng.pick(["附近道路", "公共区域", "村道旁", "广场"]) : building.address
        let title = story.title
        let description = address + story.detail

        // Who reported it.
        let channel = Self.channels.pick(&rng)
        var reporterName = "匿名居民", reporter: Who?, phone: MobilePhone?
        switch channel {
        case .buildingHead:
            reporter = Who(login: "bh" + building.code, role: Role.buildingHead.rawValue)
            reporterName = net.names["bh" + building.code] ?? "楼栋长"
        case .gridWorker, .patrol:
            reporter = Who(login: "gw" + grid.code, role: Role.gridWorker.rawValue)
            reporterName = net.names["gw" + grid.code] ?? "网格员"
        case .hotline, .staff:
            reporter = Who(login: "c" + grid.community, role: Role.communityStaff.rawValue)
            reporterName = personName()
            phone = mobile()
        case .open311:
            reporter = Who(login: "token:12345热线平台", role: Role.apiToken.rawValue)
            reporterName = rng.chance(0.5) ? personName() : "匿名居民"
            if rng.chance(0.6) { phone = mobile() }
        case .resident, .groupChat:
            reporterName = rng.chance(0.85) ? personName() : "匿名居民"
            phone = mobile()
        }
        let severity = Self.severities.pick(&rng)

        var life = Life(id: id, category: category, grid: grid, title: title, reporter: reporter, stageStart: reportedAt, t: reportedAt)
        let stuck: CaseState? = rng.chance(Self.stuckShare) ? Self.stuckStates[stuckCount % Self.stuckStates.count] : nil
        if stuck != nil { stuckCount += 1 }
        let worker = Who(login: "gw" + grid.code, role: Role.gridWorker.rawValue)
        let leader = Who(login: "gl" + grid.code, role: Role.gridLeader.rawValue)

        // Reported.
        life.clock = category.clock(for: .reported, from: reportedAt, extraDays: 0, calendar: calendar)
        step(&life, &batch, at: reportedAt, action: "report", to: .reported, by: reporter.map { $0.login } ?? "reporter",
             role: reporter?.role ?? "resident", note: channel.label)
        notify(&batch, "role:grid_worker@\(grid.code)", id: id, at: reportedAt, text: "新事项待受理:\(title)")

        lived: do {
            // Taken in, or declined.
            if stuck == .reported { break lived }
            guard advance(&life, &batch, fraction: stageFraction(), of: category.accept) else { break lived }
            if rng.chance(0.03) {
                act(&life, &batch, "decline", label: "不予受理", to: .declined, by: worker,
                    note: rng.pick(Stories.declineReasons), stageChange: true)
                break lived
            }
            act(&life, &batch, "accept", label: "受理", to: .accepted, by: worker, note: "", stageChange: true)
            if stuck == .accepted { break lived }
            guard advance(&life, &batch, fraction: Double.random(in: 0.02...0.25, using: &rng), of: category.accept) else { break lived }
            act(&life, &batch, "file", label: "立案", to: .filed, by: worker, note: "", stageChange: true)
            if stuck == .filed { break lived }
            guard advance(&life, &batch, fraction: Double.random(in: 0.02...0.4, using: &rng), of: category.accept) else { break lived }
            let (assignee, handler) = assign(category.responsible, building: building, grid: grid)
            life.assignee = assignee
            act(&life, &batch, "dispatch", label: "派遣", to: .dispatched, by: worker, note: assignee, stageChange: true, notifyAssignee: true)
            if stuck == .dispatched { break lived }
            guard advance(&life, &batch, fraction: Double.random(in: 0.02...0.3, using: &rng), of: category.handle) else { break lived }
            act(&life, &batch, "take", label: "签收处置", to: .handling, by: handler, note: "", stageChange: true)
            if stuck == .suspended {
                guard advance(&life, &batch, fraction: Double.random(in: 0.1...0.6, using: &rng), of: category.handle) else { break lived }
                life.suspendedFrom = .handling
                act(&life, &batch, "suspend", label: "挂起", to: .suspended, by: leader, note: rng.pick(Stories.suspendReasons), stageChange: true)
                break lived
            }
            // Handled, checked, closed, rated — with a rework or a reopening now and then.
            for round in 0..<3 {
                if round == 0, rng.chance(0.03) {
                    guard advance(&life, &batch, fraction: Double.random(in: 0.3...0.8, using: &rng), of: category.handle) else { break lived }
                    let days = rng.int(2...10)
                    life.extensionRequested = days
                    act(&life, &batch, "request_extension", label: "申请延期", to: .handling, by: handler,
                        note: "\(days)个工作日:\(rng.pick(Stories.extensionReasons))", stageChange: false, notify: "role:grid_leader@\(grid.code)")
                    guard advance(&life, &batch, fraction: Double.random(in: 0.05...0.3, using: &rng), of: Deadline(1, .workingDays)) else { break lived }
                    let approved = rng.chance(0.85)
                    life.extensionRequested = nil
                    if approved { life.extensionGranted += days }
                    act(&life, &batch, "decide_extension", label: approved ? "批准延期" : "驳回延期", to: .handling, by: leader, note: "",
                        stageChange: false, notifyAssignee: true)
                    life.clock = category.clock(for: .handling, from: life.stageStart, extraDays: life.extensionGranted,
                                                   calendar: calendar)
                }
                if stuck == .handling { break lived }
                guard advance(&life, &batch, fraction: stageFraction(), of: category.handle, extraDays: life.extensionGranted) else { break lived }
                act(&life, &batch, "report_done", label: "处置反馈", to: .done, by: handler, note: rng.pick(Stories.doneNotes), stageChange: true,
                    notify: "role:grid_worker@\(grid.code)")
                if stuck == .done { break lived }
                guard advance(&life, &batch, fraction: stageFraction(), of: category.verify) else { break lived }
                if round < 2, rng.chance(0.05) {
                    life.reworks += 1
                    act(&life, &batch, "verify", label: "核查未通过,返工", to: .handling, by: worker, note: rng.pick(Stories.reworkReasons),
                        stageChange: true, notifyAssignee: true)
                    continue
                }
                life.closedAt = life.t
                act(&life, &batch, "verify", label: "核查通过,结案", to: .closed, by: worker, note: "现场核查属实,已办结", stageChange: true)
                // The reporter rates it: by account, or with tracking code and phone.
                let rater: Who? = reporter.map { $0.role == Role.apiToken.rawValue ? nil : $0 } ?? (phone == nil ? nil : Who(login: "reporter", role: "reporter"))
                guard let rater, rng.chance(0.85) else { break lived }
                let at = life.t + Int64(rng.int(1800...(3 * 86_400)))
                guard at <= now else { break lived }
                life.t = at
                let score = Self.scores.pick(&rng)
                let comment = rng.chance(0.4) ? rng.pick(score >= 4 ? Stories.praise : Stories.complaints) : ""
                life.rating = score
                life.ratingComment = comment
                step(&life, &batch, at: at, action: "rate", to: .closed, from: .closed, by: rater.login, role: rater.role,
                     note: "\(score)分" + (comment.isEmpty ? "" : ":\(comment)"))
                // Unhappy reporters sometimes have it handled again within the week.
                guard score <= 2, round < 2, rng.chance(0.3) else { break lived }
                let reopenAt = at + Int64(rng.int(600...(2 * 86_400)))
                guard reopenAt <= now else { break lived }
                life.t = reopenAt
                life.reworks += 1; life.rating = nil; life.ratingComment = nil; life.closedAt = nil
                act(&life, &batch, "reopen", label: "不满意,重新办理", to: .handling, by: rater, note: rng.pick(Stories.complaints),
                    stageChange: true, notifyAssignee: true)
            }
        }
        // Whatever is still running at the end of the history may have been escalated meanwhile.
        escalate(&life, &batch, until: now)
        byState[life.state, default: 0] += 1

        batch.cases.append([
            id, CaseHistory.trackingCode(id: id), category.code, severity.rawValue, title, description, life.state.rawValue, life.version,
            grid.id, gridLevel ? nil : building.id as Int64?, address, channel.rawValue, reporter?.login, reporterName,
            phone.map { sealer.seal($0.value) }, phone.map { sealer.blindIndex($0.value) }, phone?.masked,
            life.assignee, life.reworks, life.extensionRequested, life.extensionGranted, life.rating, life.ratingComment,
            life.suspendedFrom?.rawValue, reportedAt, life.stageStart, life.clock.yellow, life.clock.red, life.clock.due,
            life.closedAt, life.escalation, life.acceptedAt, life.dispatchedAt, life.doneAt, life.handledOnTime, life.closedOnTime,
        ])
    }

    /// A stage's share of its allowed time: mostly in time, one in eight late.
    mutating func stageFraction() -> Double {
        rng.chance(0.875) ? Double.random(in: 0.05...0.95, using: &rng) : Double.random(in: 1.02...2.5, using: &rng)
    }

    /// Moves the matter's time on by `fraction` of a deadline's working time (escalating on the way if it runs red);
    /// false when that would pass the end of the history — the matter stays where it is.
    mutating func advance(_ life: inout Life, _ batch: inout CaseHistory.Batch, fraction: Double, of deadline: Deadline,
                          extraDays: Int = 0) -> Bool {
        let minutes = Int64(deadline.amount) * (deadline.unit == .workingHours ? 60 : WorkCalendar.minutesPerDay)
            + Int64(extraDays) * WorkCalendar.minutesPerDay
        let next = calendar.adding(workingMinutes: Int64(Double(minutes) * fraction), to: life.t) + Int64(rng.int(0...59))
        escalate(&life, &batch, until: min(next, now))
        guard next <= now else { return false }
        life.t = next
        return true
    }

    /// The escalation service's steps for the running stage up to `until`: one level up for each span of the stage's time past red.
    mutating func escalate(_ life: inout Life, _ batch: inout CaseHistory.Batch, until: Int64) {
        guard ![.closed, .declined, .suspended].contains(life.state), let red = life.clock.red, red <= until, life.escalation < 4 else { return }
        let span = max(3600, red - life.stageStart)
        let wanted = min(4, 1 + Int((until - red) / span))
        while life.escalation < wanted {
            let level = life.escalation + 1
            let at = red + Int64(level - 1) * span + 30
            guard at <= until else { break }
            let (recipient, label) = superior(level, grid: life.grid)
            life.escalation = level
            step(&life, &batch, at: at, action: "escalate", to: life.state, from: nil, by: "system", role: "system",
                 note: "超时升级至\(label)", onTime: false)
            notify(&batch, recipient, id: life.id, at: at, text: "超时督办:\(life.title)")
        }
    }

    func superior(_ level: Int, grid: CaseHistory.Grid) -> (String, String) {
        switch level {
        case 1: ("role:grid_leader@\(grid.code)", "网格长")
        case 2: ("role:community_staff@\(grid.community)", "社区")
        case 3: ("role:township_admin@\(grid.township)", "乡镇/街道")
        default: ("role:county_admin@\(grid.county)", "县级")
        }
    }

    /// A step taken at the matter's current time, with the store's bookkeeping: version, stage clock, escalation reset, notices.
    mutating func act(_ life: inout Life, _ batch: inout CaseHistory.Batch, _ action: String, label: String, to state: CaseState, by who: Who,
                      note: String, stageChange: Bool, notify recipient: String? = nil, notifyAssignee: Bool = false) {
        let from = life.state
        let onTime = life.clock.due.map { life.t <= $0 }
        switch action {
        case "accept" where life.acceptedAt == nil: life.acceptedAt = life.t
        case "dispatch" where life.dispatchedAt == nil: life.dispatchedAt = life.t
        case "report_done": life.doneAt = life.t; life.handledOnTime = onTime == false ? 0 : 1
        case "reopen": life.closedOnTime = nil
        default: break
        }
        if from == .done, state == .closed { life.closedOnTime = life.handledOnTime == 1 && onTime != false ? 1 : 0 }
        life.state = state
        if stageChange {
            life.stageStart = life.t
            life.escalation = 0
            life.clock = life.category.clock(for: state, from: life.t, extraDays: life.extensionGranted, calendar: calendar)
        }
        step(&life, &batch, at: life.t, action: action, to: state, from: from, by: who.login, role: who.role, note: note,
             onTime: stageChange ? onTime : nil)
        let text = "\(label):\(life.title)"
        if let recipient { notify(&batch, recipient, id: life.id, at: life.t, text: text) }
        if notifyAssignee, let a = life.assignee { notify(&batch, a, id: life.id, at: life.t, text: text) }
        if from != state, [.accepted, .declined, .closed, .handling].contains(state), let r = life.reporter, r.role != Role.apiToken.rawValue {
            notify(&batch, "user:\(r.login)", id: life.id, at: life.t, text: text)
        }
    }

    /// One row of the timeline; every step after the report moves the version on, as the store's updates do.
    func step(_ life: inout Life, _ batch: inout CaseHistory.Batch, at: Int64, action: String, to: CaseState, from: CaseState? = nil,
              by actor: String, role: String, note: String, onTime: Bool? = nil) {
        if action != "report" { life.version += 1 }
        batch.steps.append([life.id, at, action, from?.rawValue, to.rawValue, actor, role, note, onTime.map { $0 ? 1 : 0 }])
    }

    func notify(_ batch: inout CaseHistory.Batch, _ recipient: String, id: Int64, at: Int64, text: String) {
        batch.notices.append([recipient, id, at, text])
    }

    /// The category's default handler, as the dispatcher would choose it, and who acts for it.
    func assign(_ responsible: Responsible, building: CaseHistory.Building, grid: CaseHistory.Grid) -> (String, Who) {
        switch responsible {
        case .buildingHead: ("user:bh\(building.code)", Who(login: "bh" + building.code, role: Role.buildingHead.rawValue))
        case .gridWorker: ("user:gw\(grid.code)", Who(login: "gw" + grid.code, role: Role.gridWorker.rawValue))
        case .community: ("user:c\(grid.community)", Who(login: "c" + grid.community, role: Role.communityStaff.rawValue))
        case .township: ("user:t\(grid.township)", Who(login: "t" + grid.township, role: Role.townshipAdmin.rawValue))
        case .department(let d): ("dept:\(d.rawValue)", Who(login: "dept-\(d.rawValue)", role: Role.departmentOfficer.rawValue))
        }
    }

    mutating func personName() -> String {
        let sex: Sex = rng.chance(0.5) ? .male : .female
        return Names.person(surname: Names.surnames.pick(&rng), sex: sex, birthYear: rng.int(1950...2004), &rng)
    }

    mutating func mobile() -> MobilePhone {
        let prefix = rng.pick(["130", "133", "135", "136", "138", "139", "150", "152", "158", "177", "180", "186", "187", "189", "191", "199"])
        return MobilePhone(prefix + String(rng.int(10_000_000...99_999_999)))!
    }
}

/// What people report, per category: a title and what they say about it.
enum Stories {
    struct Story { let title: String; let detail: String }

    static let byCategory: [String: [Story]] = [
        "0101": [Story(title: "楼上漏水引发邻里矛盾", detail: "楼上住户卫生间漏水到楼下,双方多次协商未果,发生争吵。"),
                 Story(title: "占用公共楼道引发纠纷", detail: "有住户在楼道堆放杂物占用通道,邻居多次提醒不听,双方关系紧张。"),
                 Story(title: "宅基地边界争议", detail: "两户村民因宅基地边界和排水沟走向发生争执,请求调解。")],
        "0102": [Story(title: "家庭矛盾请求调解", detail: "夫妻因赡养老人问题长期争吵,老人生活无人照料,请求社区调解。"),
                 Story(title: "子女不履行赡养义务", detail: "八十岁老人反映子女不给生活费,请求社区协调。")],
        "0103": [Story(title: "物业费纠纷", detail: "业主认为物业服务不到位拒交物业费,物业公司停止清运垃圾,双方僵持。"),
                 Story(title: "电梯长期停运", detail: "小区电梯停运半个多月,物业称维修资金不足,老人上下楼困难。")],
        "0104": [Story(title: "工地拖欠农民工工资", detail: "附近工地十余名工人被拖欠三个月工资,工人情绪激动。"),
                 Story(title: "店铺拖欠员工工资", detail: "一家餐馆关门,拖欠五名员工两个月工资。")],
        "0201": [Story(title: "楼道堆放易燃杂物", detail: "楼道内堆放纸箱、旧家具等易燃物,堵塞消防通道。"),
                 Story(title: "消防栓无水", detail: "小区消防栓打开无水,灭火器已过期。")],
        "0202": [Story(title: "电动车楼道充电", detail: "有住户将电动车推进楼道并飞线充电,存在火灾隐患。"),
                 Story(title: "电动车停放在单元门口充电", detail: "单元门口私拉电线给电动车充电,夜间无人看管。")],
        "0203": [Story(title: "墙体出现裂缝", detail: "房屋外墙出现多条裂缝,雨天渗水,住户担心安全。"),
                 Story(title: "阳台护栏松动", detail: "老旧住宅阳台护栏锈蚀松动,有坠落危险。")],
        "0204": [Story(title: "闻到燃气味", detail: "楼道里有明显燃气味,疑似管道泄漏。"),
                 Story(title: "燃气软管老化", detail: "独居老人家中燃气软管老化开裂,未安装报警器。")],
        "0301": [Story(title: "垃圾堆放未清运", detail: "垃圾桶旁堆满生活垃圾,已有三天无人清运,气味很大。"),
                 Story(title: "建筑垃圾乱倒", detail: "有人在路边倾倒装修垃圾,占用道路。"),
                 Story(title: "河边垃圾堆积", detail: "河岸边堆积大量生活垃圾,影响环境。")],
        "0302": [Story(title: "下水道堵塞污水外溢", detail: "下水道堵塞,污水漫到路面,行人无法通行。"),
                 Story(title: "化粪池满溢", detail: "化粪池满溢,污水流入绿化带,臭味严重。")],
        "0303": [Story(title: "夜间施工噪音扰民", detail: "附近工地晚上十一点后仍在施工,噪音很大,影响休息。"),
                 Story(title: "广场舞音响声音过大", detail: "晚上广场舞音响开得很大,持续到十点以后。"),
                 Story(title: "商铺高音喇叭扰民", detail: "临街商铺用高音喇叭循环播放促销广告。")],
        "0401": [Story(title: "路灯不亮", detail: "一段路的路灯坏了一个多星期,晚上漆黑,行人不安全。"),
                 Story(title: "小区路灯损坏", detail: "小区内多盏路灯不亮,老人夜间出行不便。")],
        "0402": [Story(title: "道路坑洼积水", detail: "路面破损形成大坑,下雨积水,电动车经过容易摔倒。"),
                 Story(title: "村道塌陷", detail: "连续降雨后村道一侧塌陷,车辆通行危险。")],
        "0403": [Story(title: "井盖缺失", detail: "人行道上一个井盖缺失,只用树枝遮挡,非常危险。"),
                 Story(title: "井盖破损下陷", detail: "路口井盖破损下陷,车辆经过声响很大。")],
        "0501": [Story(title: "低收入家庭求助", detail: "一户家庭主要劳动力因病失去工作,孩子上学困难,申请救助。"),
                 Story(title: "因病致贫求助", detail: "居民患重病住院,医药费负担重,家庭生活困难。")],
        "0502": [Story(title: "独居老人多日未出门", detail: "邻居反映独居老人已有两天没有出门,敲门无人应答。"),
                 Story(title: "独居老人需要照护", detail: "独居老人行动不便,生活无人照料,希望定期上门探视。")],
        "0503": [Story(title: "残疾人申请帮扶", detail: "肢体残疾居民需要无障碍改造和辅助器具。"),
                 Story(title: "残疾人证办理咨询", detail: "残疾人家属咨询残疾人证办理和补贴申领。")],
        "0601": [Story(title: "夜间有人聚集滋事", detail: "夜间有人在路边喝酒吵闹,多次发生争执。"),
                 Story(title: "电动车被盗", detail: "小区内近期多次发生电动车被盗。")],
        "0602": [Story(title: "出租屋人员频繁进出", detail: "一处出租屋人员进出频繁,疑似从事非法活动。"),
                 Story(title: "出租屋未登记", detail: "出租屋住进多名外地人员,房东未登记。")],
        "0701": [Story(title: "征地补偿诉求", detail: "村民对征地补偿标准有异议,希望有关部门给予答复。"),
                 Story(title: "低保资格异议", detail: "居民对低保资格认定结果有异议,请求复查。")],
        "0801": [Story(title: "需部门协调的事项", detail: "居民反映的问题涉及多个部门职责,需要乡镇统筹转办。"),
                 Story(title: "供水中断", detail: "片区停水两天,供水公司未通知,居民生活受影响。")],
    ]

    static let fallback = [Story(title: "居民反映问题", detail: "居民反映的问题需要核实处理。")]

    static func pick(_ code: String, _ rng: inout SeededRandom) -> Story {
        let list = byCategory[code].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        return rng.pick(list)
    }

    static let declineReasons = ["属于民事纠纷,已告知通过诉讼途径解决", "重复反映,已合并到此前事项办理", "不属于本平台受理范围,已告知向相关单位反映",
                                 "反映内容不具体,联系反映人未果"]
    static let suspendReasons = ["需等待上级部门批复资金", "当事人外出务工,暂无法调解", "涉及司法程序,等待判决结果"]
    static let extensionReasons = ["需协调多个部门现场会商", "维修材料需采购,等待到货", "天气原因无法施工"]
    static let doneNotes = ["已现场处置完毕,附处置前后照片", "已协调责任单位处理完毕", "已调解,双方签订协议", "已上门核实并落实措施"]
    static let reworkReasons = ["现场复核问题仍未解决", "处置不彻底,仍有残留", "反映人称问题依旧存在"]
    static let praise = ["处理很及时,谢谢网格员", "态度很好,问题解决了", "效率高,满意", "感谢社区的帮助"]
    static let complaints = ["拖得太久了", "问题没有根本解决", "没有人联系我", "处理结果不满意"]
}
