import Foundation
import GridworkCore
import SQLKit

/// Where a reported matter is: a building or household of the net, a grid, or a point resolved to its grid.
public enum CaseLocation: Sendable, Equatable {
    case building(RegionCode)
    case household(Int64)
    case grid(RegionCode, address: String)
    case point(latitude: Double, longitude: Double, address: String)
}

/// A photo as received; checked with `PhotoCheck` before it is stored.
public struct CasePhoto: Sendable, Equatable {
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
}

/// One matter as a list shows it.
public struct CaseRow: Sendable, Equatable, Codable {
    public let id: Int64
    public let code: String
    public let category: String
    public let categoryName: String
    public let title: String
    public let state: CaseState
    public let address: String
    public let grid: RegionCode
    public let assignee: String?
    public let reportedAt: Int64
    public let dueAt: Int64?
    public let yellowAt: Int64?
    public let redAt: Int64?
    public let escalation: Int
    public let version: Int

    /// green, yellow or red at `now`.
    public func light(at now: Int64) -> String {
        if let red = redAt, now >= red { return "red" }
        if let yellow = yellowAt, now >= yellow { return "yellow" }
        return "green"
    }
}

/// One step of a matter's timeline.
public struct CaseStep: Sendable, Equatable, Codable {
    public let at: Int64
    public let action: String
    public let fromState: CaseState?
    public let toState: CaseState
    public let actor: String
    public let actorRole: String
    public let note: String
    public let onTime: Bool?
    public let photoIDs: [Int64]
}

/// A matter with everything its page shows.
public struct CaseDetail: Sendable, Equatable {
    public let row: CaseRow
    public let description: String
    public let severity: Severity
    public let channel: Channel
    public let reporterName: String
    public let reporterPhoneMasked: String?
    public let reporterLogin: String?
    public let building: RegionCode?
    public let snapshot: CaseSnapshot
    public let ratingComment: String?
    public let category: CaseCategory
    public let steps: [CaseStep]
    /// Who handles it, in words: "楼栋长 刘文斌", a department's name (staff names are public work data).
    public let assigneeName: String?
    /// What the viewer is to this matter, and the steps they may take now.
    public let capacity: Capacity
    public let actions: [String]
}

/// Who is acting on a matter: an account, or a reporter without one who holds the tracking code and phone.
public enum CaseActor: Sendable {
    case viewer(Viewer)
    case reporter(code: String, phone: MobilePhone)

    var name: String {
        switch self {
        case .viewer(let v): v.login
        case .reporter: "reporter"
        }
    }

    var role: String {
        switch self {
        case .viewer(let v): v.role.rawValue
        case .reporter: "reporter"
        }
    }
}

/// Matters on a clock. Intake from every channel, the loop applied with an optimistic
/// version check, deadlines from the category and the working calendar, the inbox,
/// the supervision board and escalation of what is late.
public struct CaseStore: Sendable {
    let database: Database
    let sealer: Sealer
    let shared: CaseShared

    // MARK: categories and calendar

    public func categories() async throws -> [CaseCategory] { try await rules().categories }

    /// Categories and calendar, kept for a few seconds (`CaseShared.rulesLifetime`); changes made here apply at once.
    func rules() async throws -> CaseRules {
        let db = database.reader
        return try await shared.rules {
            let categories = try await db.raw("SELECT * FROM case_categories ORDER BY code").all().map(Self.category)
            var calendar = WorkCalendar()
            for r in try await db.raw("SELECT day, kind FROM calendar_days").all() {
                guard let day = CivilDate(iso: try r.decode(column: "day", as: String.self)) else { continue }
                if try r.decode(column: "kind", as: String.self) == "holiday" { calendar.holidays.insert(day) } else { calendar.workdays.insert(day) }
            }
            return CaseRules(categories: categories, calendar: calendar)
        }
    }

    static func category(_ r: any SQLRow) throws -> CaseCategory {
        func deadline(_ prefix: String) throws -> Deadline {
            Deadline(try r.decode(column: "\(prefix)_amount", as: Int.self),
                     Deadline.Unit(rawValue: try r.decode(column: "\(prefix)_unit", as: String.self)) ?? .workingDays)
        }
        return CaseCategory(code: try r.decode(column: "code", as: String.self), groupName: try r.decode(column: "group_name", as: String.self),
                            name: try r.decode(column: "name", as: String.self),
                            responsible: Responsible(try r.decode(column: "responsible", as: String.self)) ?? .gridWorker,
                            accept: try deadline("accept"), handle: try deadline("handle"), verify: try deadline("verify"),
                            yellowPercent: try r.decode(column: "yellow_percent", as: Int.self),
                            redPercent: try r.decode(column: "red_percent", as: Int.self), closing: try r.decode(column: "closing", as: String.self))
    }

    /// Changes one category's handler and clocks (county admins). Open matters keep their current clock until their next step.
    public func updateCategory(_ c: CaseCategory, viewer: Viewer, address: String) async throws {
        guard viewer.role == .countyAdmin else { throw StoreError.notFound(what: "事项类别 (category)", key: c.code) }
        guard c.yellowPercent > 0, c.yellowPercent < c.redPercent, c.redPercent <= 300,
              [c.accept, c.handle, c.verify].allSatisfy({ (1...365).contains($0.amount) }) else {
            throw StoreError.invalid(field: "时限 (deadlines)", reason: "时限应为1到365,黄灯比例小于红灯比例 (amounts 1–365; yellow below red)")
        }
        let kind = database.kind
        try await database.transaction { db in
            guard try await db.raw("""
                UPDATE case_categories SET responsible = \(bind: c.responsible.description), accept_amount = \(bind: c.accept.amount),
                    accept_unit = \(bind: c.accept.unit.rawValue), handle_amount = \(bind: c.handle.amount), handle_unit = \(bind: c.handle.unit.rawValue),
                    verify_amount = \(bind: c.verify.amount), verify_unit = \(bind: c.verify.unit.rawValue), yellow_percent = \(bind: c.yellowPercent),
                    red_percent = \(bind: c.redPercent), closing = \(bind: c.closing)
                WHERE code = \(bind: c.code) RETURNING code
                """).first() != nil else { throw StoreError.notFound(what: "事项类别 (category)", key: c.code) }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "cases.category", target: "category:\(c.code)",
                                      detail: "\(c.responsible) \(c.accept)/\(c.handle)/\(c.verify) \(c.yellowPercent)%/\(c.redPercent)%")
        }
        shared.forgetRules()
    }

    /// Marks a day as a holiday or a make-up working day, or back to an ordinary day (`kind` nil). County admins; audited.
    public func setCalendarDay(_ day: CivilDate, holiday: Bool?, viewer: Viewer, address: String) async throws {
        guard viewer.role == .countyAdmin else { throw StoreError.notFound(what: "工作日历 (calendar)", key: day.iso) }
        let kind = database.kind
        try await database.transaction { db in
            try await db.raw("DELETE FROM calendar_days WHERE day = \(bind: day.iso)").run()
            if let holiday {
                try await db.raw("INSERT INTO calendar_days (day, kind) VALUES (\(bind: day.iso), \(bind: holiday ? "holiday" : "workday"))").run()
            }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "cases.calendar", target: "day:\(day.iso)",
                                      detail: holiday.map { $0 ? "holiday" : "workday" } ?? "ordinary")
        }
        shared.forgetRules()
    }

    public func calendar() async throws -> WorkCalendar { try await rules().calendar }

    // MARK: intake

    /// Takes a matter in. With an idempotency key, a retry returns the matter the first attempt created.
    public func report(_ report: CaseReport, at location: CaseLocation, photos: [CasePhoto] = [], by viewer: Viewer?,
                       idempotencyKey: String? = nil, now: Int64 = Clock.now()) async throws -> (id: Int64, code: String) {
        if let key = idempotencyKey, let existing = try await made(idempotencyKey: key) { return existing }
        return try await self.report(report, at: try await resolve(location), photos: photos, by: viewer, idempotencyKey: idempotencyKey, now: now)
    }

    /// The matter an earlier sending of the same form made, if any.
    private func made(idempotencyKey key: String) async throws -> (id: Int64, code: String)? {
        guard let r = try await database.reader.raw("SELECT id, code FROM cases WHERE idempotency_key = \(bind: key)").first() else { return nil }
        return (try r.decode(column: "id", as: Int64.self), try r.decode(column: "code", as: String.self))
    }

    /// Takes in a matter whose place is known. Reports arriving together are written together (`CaseIntake`).
    func report(_ report: CaseReport, at place: Place, photos: [CasePhoto] = [], by viewer: Viewer?,
                idempotencyKey: String? = nil, now: Int64) async throws -> (id: Int64, code: String) {
        let types = try Self.photoTypes(photos)
        guard photos.count <= 6 else { throw StoreError.invalid(field: "照片 (photo)", reason: "最多6张 (at most 6 photos)") }
        let rules = try await rules()
        guard let category = rules.byCode[report.category] else {
            throw StoreError.invalid(field: "类别 (category)", reason: "没有编号为\(report.category)的事项类别 (unknown category)")
        }
        let item = CaseIntake.Item(
            code: Self.trackingCode(), report: report, category: category, place: place,
            clock: category.clock(for: .reported, from: now, extraDays: 0, calendar: rules.calendar), now: now,
            reporterLogin: viewer?.login, reporterRole: viewer?.role.rawValue ?? "resident",
            phone: report.reporterPhone.map { (sealer.seal($0.value), sealer.blindIndex($0.value), $0.masked) },
            idempotencyKey: idempotencyKey, photos: zip(types, photos).map { ($0, $1.bytes) })
        do {
            // Reports with photos (up to 30 MB each) are written alone; the rest share a transaction with whatever arrives with them.
            let made = photos.isEmpty ? try await shared.intake.submit(item)
                : try await database.transaction { db in try await CaseIntake.write([item], db)[0] }
            return (made.id, made.code)
        } catch {
            // The same form sent twice at once: both passed the check above, one landed; answer as it did.
            if let key = idempotencyKey, let existing = try await made(idempotencyKey: key) { return existing }
            throw error
        }
    }

    struct Place {
        let gridID: Int64
        let gridCode: String
        let buildingID: Int64?
        let householdID: Int64?
        let address: String
        let latitude: Double?
        let longitude: Double?
    }

    /// The grid (and building) a location lies in; unknown places are refused with a reason.
    func resolve(_ location: CaseLocation) async throws -> Place {
        let db = database.reader
        switch location {
        case .building(let code):
            guard code.level == .building, let grid = code.parent, let number = code.localNumber, let r = try await db.raw("""
                SELECT b.id, b.address, g.id AS grid_id FROM buildings b JOIN regions g ON g.id = b.grid_id
                WHERE g.code = \(bind: grid.value) AND b.number = \(bind: number)
                """).first() else { throw StoreError.invalid(field: "楼栋 (building)", reason: "楼栋\(code)不存在 (no such building)") }
            return Place(gridID: try r.decode(column: "grid_id", as: Int64.self), gridCode: grid.value, buildingID: try r.decode(column: "id", as: Int64.self),
                         householdID: nil, address: try r.decode(column: "address", as: String.self), latitude: nil, longitude: nil)
        case .household(let id):
            guard let r = try await db.raw("""
                SELECT h.id, h.room, b.id AS building_id, b.address, g.id AS grid_id, g.code FROM households h
                JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id WHERE h.id = \(bind: id)
                """).first() else { throw StoreError.invalid(field: "住户 (household)", reason: "住户\(id)不存在 (no such household)") }
            return Place(gridID: try r.decode(column: "grid_id", as: Int64.self), gridCode: try r.decode(column: "code", as: String.self),
                         buildingID: try r.decode(column: "building_id", as: Int64.self), householdID: id,
                         address: try r.decode(column: "address", as: String.self) + (try r.decode(column: "room", as: String.self)),
                         latitude: nil, longitude: nil)
        case .grid(let code, let address):
            guard code.level == .grid, let r = try await db.raw("SELECT id FROM regions WHERE code = \(bind: code.value) AND level = 'grid'").first()
            else { throw StoreError.invalid(field: "网格 (grid)", reason: "网格\(code)不存在 (no such grid)") }
            return Place(gridID: try r.decode(column: "id", as: Int64.self), gridCode: code.value, buildingID: nil, householdID: nil,
                         address: address, latitude: nil, longitude: nil)
        case .point(let lat, let long, let address):
            guard (-90...90).contains(lat), (-180...180).contains(long) else {
                throw StoreError.invalid(field: "坐标 (lat/long)", reason: "经纬度超出范围 (out of range)")
            }
            for r in try await db.raw("SELECT id, code, boundary FROM regions WHERE level = 'grid' AND boundary IS NOT NULL").all() {
                guard let text = try r.decode(column: "boundary", as: String?.self),
                      let ring = try? JSONDecoder().decode([[Double]].self, from: Data(text.utf8)),
                      Geo.contains(ring, longitude: long, latitude: lat) else { continue }
                return Place(gridID: try r.decode(column: "id", as: Int64.self), gridCode: try r.decode(column: "code", as: String.self),
                             buildingID: nil, householdID: nil, address: address.isEmpty ? "\(lat),\(long)" : address, latitude: lat, longitude: long)
            }
            throw StoreError.invalid(field: "坐标 (lat/long)", reason: "该位置不在本县任何网格内 (the point lies in no grid of the county)")
        }
    }

    /// Eight characters a resident can read out on the phone: no 0/O, 1/I/L.
    static func trackingCode() -> String {
        let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
        var rng = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }

    // MARK: reading

    /// The matter as `actor` may see it; anyone it does not concern gets "not found".
    public func detail(_ id: Int64, actor: CaseActor, now: Int64 = Clock.now()) async throws -> CaseDetail {
        guard let r = try await database.reader.raw("""
            SELECT c.*, cat.name AS category_name, g.code AS grid_code, b.number AS building_number
            FROM cases c JOIN case_categories cat ON cat.code = c.category JOIN regions g ON g.id = c.grid_id
            LEFT JOIN buildings b ON b.id = c.building_id WHERE c.id = \(bind: id)
            """).first() else { throw StoreError.notFound(what: "事项 (case)", key: String(id)) }
        let row = try Self.row(r)
        let snapshot = try Self.snapshot(r)
        let capacity = try Self.capacity(actor, row: row, snapshot: snapshot, reporterLogin: try r.decode(column: "reporter_login", as: String?.self),
                                         code: try r.decode(column: "code", as: String.self),
                                         phoneIndex: try r.decode(column: "reporter_phone_index", as: String?.self), sealer: sealer)
        guard !capacity.isEmpty || Self.oversees(actor, row: row) else { throw StoreError.notFound(what: "事项 (case)", key: String(id)) }
        let categoryRow = try await database.reader.raw("SELECT * FROM case_categories WHERE code = \(bind: row.category)").first()!
        let photos = try await database.reader.raw("SELECT id, step_id FROM case_photos WHERE case_id = \(bind: id) ORDER BY id").all()
        var photosByStep: [Int64: [Int64]] = [:]
        for p in photos {
            if let step = try p.decode(column: "step_id", as: Int64?.self) { photosByStep[step, default: []].append(try p.decode(column: "id", as: Int64.self)) }
        }
        let steps = try await database.reader.raw("SELECT * FROM case_steps WHERE case_id = \(bind: id) ORDER BY id").all().map { s in
            CaseStep(at: try s.decode(column: "at", as: Int64.self), action: try s.decode(column: "action", as: String.self),
                     fromState: try s.decode(column: "from_state", as: String?.self).flatMap(CaseState.init(rawValue:)),
                     toState: CaseState(rawValue: try s.decode(column: "to_state", as: String.self)) ?? .reported,
                     actor: try s.decode(column: "actor", as: String.self), actorRole: try s.decode(column: "actor_role", as: String.self),
                     note: try s.decode(column: "note", as: String.self), onTime: try s.decode(column: "on_time", as: Int?.self).map { $0 != 0 },
                     photoIDs: photosByStep[try s.decode(column: "id", as: Int64.self)] ?? [])
        }
        let buildingNumber = try r.decode(column: "building_number", as: Int?.self)
        var assigneeName: String?
        switch snapshot.assignee {
        case .person(let login)?:
            let user = try await database.reader.raw("SELECT name, role FROM users WHERE login = \(bind: login)").first()
            assigneeName = try user.map { "\(Role(rawValue: try $0.decode(column: "role", as: String.self))?.label ?? "") \(try $0.decode(column: "name", as: String.self))" } ?? login
        case .department(let d)?: assigneeName = d.fullName
        case nil: break
        }
        return CaseDetail(
            row: row, description: try r.decode(column: "description", as: String.self),
            severity: Severity(rawValue: try r.decode(column: "severity", as: String.self)) ?? .general,
            channel: Channel(rawValue: try r.decode(column: "channel", as: String.self)) ?? .staff,
            reporterName: try r.decode(column: "reporter_name", as: String.self),
            reporterPhoneMasked: try r.decode(column: "reporter_phone_masked", as: String?.self),
            reporterLogin: try r.decode(column: "reporter_login", as: String?.self),
            building: buildingNumber.map { row.grid.child($0) }, snapshot: snapshot,
            ratingComment: try r.decode(column: "rating_comment", as: String?.self), category: try Self.category(categoryRow), steps: steps,
            assigneeName: assigneeName, capacity: capacity, actions: CaseMachine.available(to: capacity, on: snapshot, now: now))
    }

    /// A photo of a matter the actor may see.
    public func photo(_ photoID: Int64, of caseID: Int64, actor: CaseActor) async throws -> (contentType: String, bytes: [UInt8]) {
        _ = try await detail(caseID, actor: actor)
        guard let r = try await database.reader.raw("SELECT content_type, data FROM case_photos WHERE id = \(bind: photoID) AND case_id = \(bind: caseID)").first()
        else { throw StoreError.notFound(what: "照片 (photo)", key: String(photoID)) }
        return (try r.decode(column: "content_type", as: String.self), [UInt8](try r.decode(column: "data", as: Data.self)))
    }

    /// A matter by its tracking code and the reporter's phone (for residents without an account); "not found" unless both match.
    public func find(code: String, phone: MobilePhone) async throws -> Int64 {
        guard let r = try await database.reader.raw("""
            SELECT id FROM cases WHERE code = \(bind: code.uppercased()) AND reporter_phone_index = \(bind: sealer.blindIndex(phone.value))
            """).first() else { throw StoreError.notFound(what: "事项 (case)", key: code) }
        return try r.decode(column: "id", as: Int64.self)
    }

    /// The matters an account reported, newest first.
    public func reportedBy(_ viewer: Viewer, limit: Int = 50) async throws -> [CaseRow] {
        try await rows("c.reporter_login = \(bind: viewer.login)", order: "c.id DESC", limit: limit)
    }

    /// What needs this person now, overdue first: matters assigned to them or their department, matters
    /// waiting to be taken in, dispatched or checked in their scope, and (for the level above) extension requests and escalations.
    public func inbox(_ viewer: Viewer, now: Int64 = Clock.now(), limit: Int = 200) async throws -> [CaseRow] {
        // Each branch names an index: (assignee, state) or (grid_id, state), so a million closed matters are never read.
        let open: SQLQueryString = "c.state IN ('reported','accepted','filed','dispatched','handling','done','suspended')"
        let grids: SQLQueryString = "c.grid_id IN (SELECT id FROM regions WHERE level = 'grid' AND \(NetStore.subtree("code", viewer.scope)))"
        var mine: [SQLQueryString] = ["(c.assignee = \(bind: Assignee.person(viewer.login).description) AND \(open))"]
        if viewer.role == .departmentOfficer, let d = viewer.department {
            mine.append("(c.assignee = \(bind: Assignee.department(d).description) AND \(open) AND \(grids))")
        }
        if Policy.netOfficers.contains(viewer.role) {
            mine.append("(c.state IN ('reported','accepted','filed','done') AND \(grids))")
        }
        if Policy.netSupervisors.contains(viewer.role) {
            mine.append("((c.extension_requested IS NOT NULL OR c.escalation > 0) AND \(open) AND \(grids))")
        }
        var any: SQLQueryString = mine[0]
        for m in mine.dropFirst() { any = "\(any) OR \(m)" }
        return try await rows("(\(any))",
                              order: "CASE WHEN c.red_at <= \(bind: now) THEN 0 WHEN c.yellow_at <= \(bind: now) THEN 1 ELSE 2 END, c.due_at",
                              limit: limit)
    }

    /// The supervision board (督办): open matters in scope that are yellow or red, reddest and oldest first.
    public func late(_ viewer: Viewer, now: Int64 = Clock.now(), limit: Int = 300) async throws -> [CaseRow] {
        guard Policy.watchesCases(viewer) else { throw StoreError.notFound(what: "督办 (board)", key: viewer.scope.value) }
        return try await rows("""
            c.state IN ('reported','accepted','filed','dispatched','handling','done') AND c.yellow_at <= \(bind: now)
            AND c.grid_id IN (SELECT id FROM regions WHERE level = 'grid' AND \(NetStore.subtree("code", viewer.scope)))
            """,
                              order: "c.red_at, c.due_at", limit: limit)
    }

    func rows(_ condition: SQLQueryString, order: SQLQueryString, limit: Int) async throws -> [CaseRow] {
        try await database.reader.raw("""
            SELECT c.id, c.code, c.category, cat.name AS category_name, c.title, c.state, c.address, g.code AS grid_code, c.assignee,
                   c.reported_at, c.due_at, c.yellow_at, c.red_at, c.escalation, c.version
            FROM cases c JOIN case_categories cat ON cat.code = c.category JOIN regions g ON g.id = c.grid_id
            WHERE \(condition) ORDER BY \(order) LIMIT \(bind: limit)
            """).all().map(Self.row)
    }

    static func row(_ r: any SQLRow) throws -> CaseRow {
        CaseRow(id: try r.decode(column: "id", as: Int64.self), code: try r.decode(column: "code", as: String.self),
                category: try r.decode(column: "category", as: String.self), categoryName: try r.decode(column: "category_name", as: String.self),
                title: try r.decode(column: "title", as: String.self),
                state: CaseState(rawValue: try r.decode(column: "state", as: String.self)) ?? .reported,
                address: try r.decode(column: "address", as: String.self), grid: try RegionCode(r.decode(column: "grid_code", as: String.self)),
                assignee: try r.decode(column: "assignee", as: String?.self), reportedAt: try r.decode(column: "reported_at", as: Int64.self),
                dueAt: try r.decode(column: "due_at", as: Int64?.self), yellowAt: try r.decode(column: "yellow_at", as: Int64?.self),
                redAt: try r.decode(column: "red_at", as: Int64?.self), escalation: try r.decode(column: "escalation", as: Int.self),
                version: try r.decode(column: "version", as: Int.self))
    }

    static func snapshot(_ r: any SQLRow) throws -> CaseSnapshot {
        CaseSnapshot(state: CaseState(rawValue: try r.decode(column: "state", as: String.self)) ?? .reported,
                     assignee: try r.decode(column: "assignee", as: String?.self).flatMap(Assignee.init),
                     reworks: try r.decode(column: "reworks", as: Int.self),
                     extensionRequested: try r.decode(column: "extension_requested", as: Int?.self),
                     extensionGranted: try r.decode(column: "extension_granted", as: Int.self),
                     rating: try r.decode(column: "rating", as: Int?.self), closedAt: try r.decode(column: "closed_at", as: Int64?.self),
                     suspendedFrom: try r.decode(column: "suspended_from", as: String?.self).flatMap(CaseState.init(rawValue:)))
    }


    /// What the actor is to the matter: dispatcher and supervisor by role and scope, assignee by assignment, reporter by account or code+phone.
    static func capacity(_ actor: CaseActor, row: CaseRow, snapshot: CaseSnapshot, reporterLogin: String?, code: String, phoneIndex: String?,
                         sealer: Sealer) throws -> Capacity {
        var c: Capacity = []
        switch actor {
        case .viewer(let v):
            if v.role != .apiToken, v.covers(row.grid) {
                if Policy.netOfficers.contains(v.role) { c.insert(.dispatcher) }
                if Policy.netSupervisors.contains(v.role) { c.insert(.supervisor) }
            }
            switch snapshot.assignee {
            case .person(let login)? where login == v.login: c.insert(.assignee)
            case .department(let d)? where v.role == .departmentOfficer && v.department == d && v.covers(row.grid): c.insert(.assignee)
            default: break
            }
            if let reporterLogin, reporterLogin == v.login { c.insert(.reporter) }
        case .reporter(let given, let phone):
            if given.uppercased() == code, let phoneIndex, sealer.blindIndex(phone.value) == phoneIndex { c.insert(.reporter) }
        }
        return c
    }

    /// Staff who may read a matter in their scope without acting on it (a building head on their building's matters, departments in their region).
    static func oversees(_ actor: CaseActor, row: CaseRow) -> Bool {
        guard case .viewer(let v) = actor, v.role != .resident, v.role != .apiToken else { return false }
        if v.role == .buildingHead { return false }
        return v.covers(row.grid) && v.role != .departmentOfficer
    }

    // MARK: acting

    /// Applies one step: the pure rules decide, then the row is updated only if nobody changed it since
    /// `version` was read — the loser of two simultaneous steps gets a conflict to reload, never a lost step.
    @discardableResult
    public func act(_ action: CaseAction, on id: Int64, version: Int, actor: CaseActor, now: Int64 = Clock.now(),
                    photos: [CasePhoto] = []) async throws -> Int {
        let detail = try await detail(id, actor: actor, now: now)
        guard detail.row.version == version else {
            throw StoreError.conflict("该事项刚被他人处理(版本\(detail.row.version)),请刷新后再操作 (changed by someone else; reload)")
        }
        let next: CaseSnapshot
        do { next = try CaseMachine.apply(action, to: detail.snapshot, as: detail.capacity, now: now) } catch {
            throw StoreError.invalid(field: "操作 (action)", reason: error.reason)
        }
        let types = try Self.photoTypes(photos)
        if case .dispatch(let to) = action { try await checkAssignee(to) }
        if case .reassign(let to) = action { try await checkAssignee(to) }
        let calendar = try await calendar()
        // A new stage starts its clock; staying in a stage (an extension) moves its end.
        let stageChanged = next.state != detail.snapshot.state
        let start = stageChanged ? now : try await stageStart(id)
        let clock = detail.category.clock(for: next.state, from: start, extraDays: next.extensionGranted, calendar: calendar)
        let onTime: Bool? = detail.row.dueAt.map { now <= $0 }
        let comment: String? = if case .rate(_, let c) = action { c } else { nil }
        // Kept on the matter so the figures are one pass over the table, not a replay of every timeline.
        let isAccept = action == .accept ? 1 : 0
        let isDispatch: Int = if case .dispatch = action { 1 } else { 0 }
        let isDone: Int = if case .reportDone = action { 1 } else { 0 }
        let isClose = next.state == .closed && detail.snapshot.state == .done ? 1 : 0
        let isReopen: Int = if case .reopen = action { 1 } else { 0 }
        let kind = database.kind
        return try await database.transaction { db in
            // The figures' sums lose what the matter counted for before this step and gain what it counts for after.
            // If the version check below fails, the transaction rolls back with it.
            try await CaseTallies.lock(db, gridOf: id)
            try await CaseTallies.add(db, sign: -1, where: "c.id = \(bind: id)")
            guard let updated = try await db.raw("""
                UPDATE cases SET state = \(bind: next.state.rawValue), assignee = \(bind: next.assignee?.description), reworks = \(bind: next.reworks),
                    extension_requested = \(bind: next.extensionRequested), extension_granted = \(bind: next.extensionGranted),
                    rating = \(bind: next.rating), rating_comment = \(bind: comment ?? (next.rating == nil ? nil : detail.ratingComment)),
                    closed_at = \(bind: next.closedAt), suspended_from = \(bind: next.suspendedFrom?.rawValue),
                    stage_started_at = \(bind: start), yellow_at = \(bind: clock.yellow), red_at = \(bind: clock.red), due_at = \(bind: clock.due),
                    escalation = \(bind: stageChanged ? 0 : detail.row.escalation), version = version + 1,
                    accepted_at = CASE WHEN accepted_at IS NULL AND \(bind: isAccept) = 1 THEN \(bind: now) ELSE accepted_at END,
                    dispatched_at = CASE WHEN dispatched_at IS NULL AND \(bind: isDispatch) = 1 THEN \(bind: now) ELSE dispatched_at END,
                    done_at = CASE WHEN \(bind: isDone) = 1 THEN \(bind: now) ELSE done_at END,
                    handled_on_time = CASE WHEN \(bind: isDone) = 1 THEN \(bind: onTime == false ? 0 : 1) ELSE handled_on_time END,
                    closed_on_time = CASE WHEN \(bind: isClose) = 1 THEN (CASE WHEN handled_on_time = 1 AND \(bind: onTime == false ? 0 : 1) = 1 THEN 1 ELSE 0 END)
                                          WHEN \(bind: isReopen) = 1 THEN NULL ELSE closed_on_time END
                WHERE id = \(bind: id) AND version = \(bind: version) RETURNING version
                """).first() else {
                throw StoreError.conflict("该事项刚被他人处理,请刷新后再操作 (changed by someone else; reload)")
            }
            try await CaseTallies.add(db, sign: 1, where: "c.id = \(bind: id)")
            let step = try await Self.step(db, caseID: id, at: now, action: action.name, from: detail.snapshot.state, to: next.state,
                                           actor: actor.name, role: actor.role, note: action.note, onTime: stageChanged ? onTime : nil)
            for (i, p) in photos.enumerated() {
                try await db.raw("""
                    INSERT INTO case_photos (case_id, step_id, content_type, size, data)
                    VALUES (\(bind: id), \(bind: step), \(bind: types[i]), \(bind: p.bytes.count), \(bind: Data(p.bytes)))
                    """).run()
            }
            for recipient in Self.recipients(after: action, next: next, row: detail.row, reporter: detail.reporterLogin) {
                try await Self.notify(db, recipient, caseID: id, at: now, text: "\(action.label):\(detail.row.title)")
            }
            if next.state != detail.snapshot.state {
                try await WebhookStore.enqueue(db, caseID: id, event: "case.\(action.name)",
                                               text: "【网格通】\(action.label):\(detail.row.title)(\(next.state.label))", at: now)
            }
            if kind == .postgres { try await db.raw("SELECT pg_notify('cases', \(bind: String(id)))").run() }
            return try updated.decode(column: "version", as: Int.self)
        }
    }

    /// The content type of each photo, or the first one's reason for refusal.
    static func photoTypes(_ photos: [CasePhoto]) throws -> [String] {
        try photos.map { p in
            do { return try PhotoCheck.contentType(of: p.bytes) } catch let e as FormProblem { throw StoreError.invalid(field: e.field, reason: e.reason) }
        }
    }

    private func stageStart(_ id: Int64) async throws -> Int64 {
        try await database.reader.raw("SELECT stage_started_at FROM cases WHERE id = \(bind: id)").first()!.decode(column: "stage_started_at", as: Int64.self)
    }

    /// A person must have an account; a department must exist.
    private func checkAssignee(_ a: Assignee) async throws {
        if case .person(let login) = a, try await database.reader.raw("SELECT 1 AS x FROM users WHERE login = \(bind: login) AND disabled = 0").first() == nil {
            throw StoreError.invalid(field: "承办人 (assignee)", reason: "没有账号\(login) (no such account)")
        }
    }

    /// Who hears about a step.
    static func recipients(after action: CaseAction, next: CaseSnapshot, row: CaseRow, reporter: String?) -> [String] {
        var out: [String] = []
        switch action {
        case .dispatch, .reassign, .verify(passed: false, _), .reopen, .decideExtension, .resume:
            if let a = next.assignee { out.append(a.description) }
        case .reportDone, .giveBack:
            out.append("role:grid_worker@\(row.grid)")
        case .requestExtension:
            out.append("role:grid_leader@\(row.grid)")
        default: break
        }
        if next.state != row.state, [.accepted, .declined, .closed, .handling].contains(next.state), let reporter { out.append("user:\(reporter)") }
        return out
    }

    static func step(_ db: any SQLDatabase, caseID: Int64, at: Int64, action: String, from: CaseState?, to: CaseState, actor: String,
                     role: String, note: String, onTime: Bool?) async throws -> Int64 {
        try await db.raw("""
            INSERT INTO case_steps (case_id, at, action, from_state, to_state, actor, actor_role, note, on_time)
            VALUES (\(bind: caseID), \(bind: at), \(bind: action), \(bind: from?.rawValue), \(bind: to.rawValue), \(bind: actor), \(bind: role),
                    \(bind: note), \(bind: onTime.map { $0 ? 1 : 0 }))
            RETURNING id
            """).first()!.decode(column: "id", as: Int64.self)
    }

    static func notify(_ db: any SQLDatabase, _ recipient: String, caseID: Int64, at: Int64, text: String) async throws {
        try await db.raw("INSERT INTO inbox (recipient, case_id, at, text) VALUES (\(bind: recipient), \(bind: caseID), \(bind: at), \(bind: text))").run()
    }

    /// Someone a matter can be dispatched to, and whether the category routes it there by default.
    public struct AssigneeOption: Sendable, Equatable { public let value: String; public let label: String; public let suggested: Bool }

    /// The people of the net around the matter (building head, grid worker, community, township) and every
    /// department; the category's responsible is suggested (楼栋长 → 网格员 → 社区 → 乡镇 → 部门).
    public func assignees(for detail: CaseDetail) async throws -> [AssigneeOption] {
        let grid = detail.row.grid
        var places: [(role: Role, scope: String, responsible: Responsible)] = [
            (.gridWorker, grid.value, .gridWorker), (.communityStaff, grid.parent!.value, .community),
            (.townshipAdmin, grid.parent!.parent!.value, .township),
        ]
        if let b = detail.building { places.insert((.buildingHead, b.value, .buildingHead), at: 0) }
        var out: [AssigneeOption] = []
        for p in places {
            for r in try await database.reader.raw("""
                SELECT login, name FROM users WHERE role = \(bind: p.role.rawValue) AND scope_code = \(bind: p.scope) AND disabled = 0
                ORDER BY login LIMIT 5
                """).all() {
                out.append(AssigneeOption(value: Assignee.person(try r.decode(column: "login", as: String.self)).description,
                                          label: "\(p.role.label) \(try r.decode(column: "name", as: String.self))",
                                          suggested: detail.category.responsible == p.responsible))
            }
        }
        for d in Department.allCases {
            out.append(AssigneeOption(value: Assignee.department(d).description, label: d.fullName,
                                      suggested: detail.category.responsible == .department(d)))
        }
        return out
    }

    // MARK: figures

    /// How figures are split.
    public enum FigureGrouping: String, Sendable { case area, assignee }

    /// The loop's figures for matters reported on Beijing days `from`…`to` (inclusive) under `code`: one row per
    /// child area (or per assignee — a person or a department), plus the total. Read from the running sums
    /// (`CaseTallies`), one row per grid and day, not from the matters themselves.
    public func figures(under code: RegionCode, by grouping: FigureGrouping = .area, from: CivilDate, to: CivilDate,
                        viewer: Viewer) async throws -> (rows: [CaseFigures], total: CaseFigures) {
        guard Policy.netOfficers.contains(viewer.role), viewer.covers(code) else { throw StoreError.notFound(what: "区域 (region)", key: code.value) }
        let db = database.reader
        let rows = try await CaseTallies.sums(db, under: code, from: from, to: to, byArea: grouping == .area)
        // Grids roll up to the child of `code` they lie under; names come from the regions and the accounts.
        var gridArea: [Int64: (key: String, name: String)] = [:]
        if grouping == .area {
            let childLevelLength = code.level == .grid ? code.value.count : code.value.count + 3
            let regions = try await db.raw("SELECT id, code, name, level FROM regions WHERE \(NetStore.subtree("code", code))").all()
            var names: [String: String] = [:]
            for r in regions { names[try r.decode(column: "code", as: String.self)] = try r.decode(column: "name", as: String.self) }
            for r in regions where try r.decode(column: "level", as: String.self) == "grid" {
                let key = String(try r.decode(column: "code", as: String.self).prefix(childLevelLength))
                gridArea[try r.decode(column: "id", as: Int64.self)] = (key, names[key] ?? key)
            }
        }
        var byKey: [String: CaseFigures] = [:]
        // Every child area is listed, with nothing reported as nothing: a quiet township is a figure too.
        for area in gridArea.values { byKey[area.key] = CaseFigures(key: area.key, name: area.name) }
        var total = CaseFigures(key: code.value, name: try await NetStore.path(db, to: code).last?.name ?? code.value)
        for r in rows {
            let area: (key: String, name: String)
            if grouping == .area {
                guard let a = gridArea[try r.decode(column: "k", as: Int64.self)] else { continue }
                area = a
            } else {
                let k = try r.decode(column: "k", as: String.self)
                area = (k, k.isEmpty ? "未派遣" : k)
            }
            var f = CaseFigures(key: area.key, name: area.name)
            f.reported = try r.decode(column: "reported", as: Int.self)
            // An assignee whose matters all moved on to someone else keeps a row of zeros; it has nothing to show.
            if grouping == .assignee, f.reported == 0 { continue }
            f.accepted = try r.decode(column: "accepted", as: Int.self)
            f.handled = try r.decode(column: "handled", as: Int.self)
            f.handledOnTime = try r.decode(column: "handled_on_time", as: Int.self)
            f.closed = try r.decode(column: "closed", as: Int.self)
            f.closedOnTime = try r.decode(column: "closed_on_time", as: Int.self)
            f.reworked = try r.decode(column: "reworked", as: Int.self)
            f.rated = try r.decode(column: "rated", as: Int.self)
            f.satisfied = try r.decode(column: "satisfied", as: Int.self)
            f.handlingSeconds = try r.decode(column: "handling", as: Int64.self)
            byKey[area.key, default: CaseFigures(key: area.key, name: area.name)].add(f)
            total.add(f)
        }
        if grouping == .assignee {
            // People by name and role (public work data), departments by name.
            for key in Array(byKey.keys) {
                if let a = Assignee(key) {
                    switch a {
                    case .department(let d): byKey[key]?.name = d.fullName
                    case .person(let login):
                        if let u = try await db.raw("SELECT name, role FROM users WHERE login = \(bind: login)").first() {
                            byKey[key]?.name = "\(Role(rawValue: try u.decode(column: "role", as: String.self))?.label ?? "") \(try u.decode(column: "name", as: String.self))"
                        }
                    }
                }
            }
        }
        return (byKey.values.sorted { $0.key < $1.key }, total)
    }

    // MARK: escalation

    /// Escalates every open matter past its red point one level up (grid leader → community → township → county),
    /// once per level; safe to run from several processes at once (each level is claimed with a version check).
    /// Returns how many were escalated.
    @discardableResult
    public func escalateOverdue(now: Int64 = Clock.now()) async throws -> Int {
        let due = try await database.reader.raw("""
            SELECT c.id, c.title, c.state, c.escalation, c.red_at, c.stage_started_at, g.code AS grid_code FROM cases c JOIN regions g ON g.id = c.grid_id
            WHERE c.state NOT IN ('closed','declined','suspended') AND c.red_at <= \(bind: now) AND c.escalation < 4
            ORDER BY c.red_at LIMIT 1000
            """).all()
        var done = 0
        for r in due {
            let id = try r.decode(column: "id", as: Int64.self)
            let level = try r.decode(column: "escalation", as: Int.self)
            let red = try r.decode(column: "red_at", as: Int64.self), start = try r.decode(column: "stage_started_at", as: Int64.self)
            // One more level for each further span of the stage's time that passes unsolved.
            let span = max(3600, red - start)
            let wanted = min(4, 1 + Int((now - red) / span))
            guard wanted > level, let grid = try? RegionCode(r.decode(column: "grid_code", as: String.self)) else { continue }
            let title = try r.decode(column: "title", as: String.self)
            let state = CaseState(rawValue: try r.decode(column: "state", as: String.self)) ?? .reported
            let claimed = try await database.transaction { db in
                guard try await db.raw("""
                    UPDATE cases SET escalation = \(bind: wanted), version = version + 1 WHERE id = \(bind: id) AND escalation = \(bind: level) RETURNING id
                    """).first() != nil else { return false }
                let to = Self.superior(level: wanted, grid: grid)
                _ = try await Self.step(db, caseID: id, at: now, action: "escalate", from: state, to: state, actor: "system", role: "system",
                                        note: "超时升级至\(to.label)", onTime: false)
                try await Self.notify(db, to.recipient, caseID: id, at: now, text: "超时督办:\(title)")
                try await WebhookStore.enqueue(db, caseID: id, event: "case.escalated", text: "【网格通】超时督办:\(title),已升级至\(to.label)", at: now)
                return true
            }
            if claimed { done += 1 }
        }
        return done
    }

    /// The level above for an escalation: 1 grid leader, 2 community, 3 township, 4 county.
    static func superior(level: Int, grid: RegionCode) -> (recipient: String, label: String) {
        switch level {
        case 1: ("role:grid_leader@\(grid)", "网格长")
        case 2: ("role:community_staff@\(grid.parent!)", "社区")
        case 3: ("role:township_admin@\(grid.parent!.parent!)", "乡镇/街道")
        default: ("role:county_admin@\(grid.parent!.parent!.parent!)", "县级")
        }
    }

    // MARK: notifications

    public struct Notice: Sendable, Equatable { public let id: Int64; public let caseID: Int64?; public let at: Int64; public let text: String; public let read: Bool }

    /// Everything addressed to this person: to them, to their role at their place, to their department.
    public func notices(_ viewer: Viewer, limit: Int = 50) async throws -> [Notice] {
        var who = viewer.inboxAddresses
        if let d = viewer.department { who.append(Assignee.department(d).description) }
        // One index walk per address, newest first, then merged: an IN over addresses would sort every notice a busy grid ever had.
        var all: [Notice] = []
        for recipient in who {
            all += try await database.reader.raw("""
                SELECT id, case_id, at, text, read_at FROM inbox WHERE recipient = \(bind: recipient) ORDER BY id DESC LIMIT \(bind: limit)
                """).all().map { r in
                Notice(id: try r.decode(column: "id", as: Int64.self), caseID: try r.decode(column: "case_id", as: Int64?.self),
                       at: try r.decode(column: "at", as: Int64.self), text: try r.decode(column: "text", as: String.self),
                       read: try r.decode(column: "read_at", as: Int64?.self) != nil)
            }
        }
        return Array(all.sorted { $0.id > $1.id }.prefix(limit))
    }
}

extension Viewer {
    /// The addresses that reach this person — `user:LOGIN` and `role:ROLE@SCOPE` — for notices and for work
    /// assigned to a post (a building's head, a grid's worker) rather than to whoever holds it.
    var inboxAddresses: [String] { [Assignee.person(login).description, "role:\(role.rawValue)@\(scope)"] }
}

/// Seconds since 1970, UTC: the unit of every instant of the loop.
public enum Clock {
    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
