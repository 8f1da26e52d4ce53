import Foundation
import GridworkCore
import SQLKit

/// Who acts on an errand: an account, or a resident without one holding the errand's code and their phone.
public enum ErrandActor: Sendable {
    case viewer(Viewer)
    case requester(code: String, phone: MobilePhone)

    var login: String {
        switch self {
        case .viewer(let v): v.login
        case .requester: "requester"
        }
    }
}

/// One errand as lists show it.
public struct ErrandRow: Sendable, Equatable {
    public let id: Int64
    public let code: String
    public let kind: String
    public let kindName: String
    public let state: ErrandState
    public let building: RegionCode
    public let address: String
    public let room: String
    public let personName: String
    public let phoneMasked: String?
    public let assignee: String
    public let createdAt: Int64
    public let dueAt: Int64
    public let rating: Int?
    public let version: Int

    public func late(at now: Int64) -> Bool { state.isOpen && now > dueAt }
}

public struct ErrandStepRow: Sendable, Equatable {
    public let at: Int64
    public let action: String
    public let state: ErrandState
    public let actor: String
    public let note: String
}

/// An errand with everything its page shows, and what the viewer may do.
public struct ErrandDetail: Sendable, Equatable {
    public let row: ErrandRow
    public let documents: String
    public let note: String
    public let office: String?
    public let ratingComment: String?
    public let doneBy: String?
    public let steps: [ErrandStepRow]
    public let photos: [Int64]
    public let roles: [ErrandRole]
    public let actions: [String]
}

/// Per person: the errands they finished, on time, and how residents rated them.
public struct ErrandFigure: Sendable, Equatable {
    public let login: String
    public let name: String
    public let done: Int
    public let onTime: Int
    public let rated: Int
    public let averageRating: Double?
}

/// Errands (帮办代办): the catalogue the county edits, requests from residents' phones or recorded at the door,
/// each assigned to the building's head (the grid worker where there is none) and carried through its steps,
/// the resident told at each one.
public struct ErrandStore: Sendable {
    let database: Database
    let sealer: Sealer

    static let notFound = "代办事项 (errand)"

    // MARK: the catalogue

    public func kinds(activeOnly: Bool = true) async throws -> [ErrandKind] {
        let filter: SQLQueryString = activeOnly ? "WHERE active = 1" : ""
        return try await database.reader.raw("SELECT code, name, documents, days, active FROM errand_kinds \(filter) ORDER BY position, code").all().map { r in
            ErrandKind(code: try r.decode(column: "code", as: String.self), name: try r.decode(column: "name", as: String.self),
                       documents: try r.decode(column: "documents", as: String.self), days: try r.decode(column: "days", as: Int.self),
                       active: try r.decode(column: "active", as: Int.self) != 0)
        }
    }

    /// Adds or changes one errand of the catalogue (county admins; audited).
    public func saveKind(_ k: ErrandKind, viewer: Viewer, address: String) async throws {
        guard viewer.role == .countyAdmin else { throw StoreError.notFound(what: "代办目录 (catalogue)", key: k.code) }
        guard k.code.count <= 20, !k.code.isEmpty, k.code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw StoreError.invalid(field: "编号 (code)", reason: "字母、数字或下划线,最多20位 (letters, digits, _; up to 20)")
        }
        guard (2...40).contains(k.name.count) else { throw StoreError.invalid(field: "名称 (name)", reason: "2到40字 (2–40 characters)") }
        guard (2...500).contains(k.documents.count) else { throw StoreError.invalid(field: "所需材料 (documents)", reason: "2到500字 (2–500 characters)") }
        guard (1...90).contains(k.days) else { throw StoreError.invalid(field: "办理时限 (days)", reason: "1到90天 (1–90 days)") }
        let kind = database.kind
        try await database.transaction { db in
            let updated = try await db.raw("""
                UPDATE errand_kinds SET name = \(bind: k.name), documents = \(bind: k.documents), days = \(bind: k.days), active = \(bind: k.active ? 1 : 0)
                WHERE code = \(bind: k.code) RETURNING code
                """).first() != nil
            if !updated {
                try await db.raw("""
                    INSERT INTO errand_kinds (code, name, documents, days, active, position)
                    VALUES (\(bind: k.code), \(bind: k.name), \(bind: k.documents), \(bind: k.days), \(bind: k.active ? 1 : 0),
                        (SELECT COALESCE(MAX(position), 0) + 1 FROM errand_kinds))
                    """).run()
            }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "errands.kind", target: "errand_kind:\(k.code)",
                                      detail: "\(k.name) \(k.days)d \(k.active ? "active" : "inactive")")
        }
    }

    // MARK: asking

    /// Takes a request in. `viewer` nil: a resident without an account (phone required). A resident with an account asks
    /// for their own building; staff record it at a door in their scope. The same key twice makes one errand.
    public func request(_ r: ErrandRequest, building: RegionCode, photos: [[UInt8]] = [], by viewer: Viewer?, key: String? = nil,
                        now: Int64 = Clock.now()) async throws -> (id: Int64, code: String) {
        if let key, let existing = try await database.reader.raw("SELECT id, code FROM errands WHERE idempotency_key = \(bind: key)").first() {
            return (try existing.decode(column: "id", as: Int64.self), try existing.decode(column: "code", as: String.self))
        }
        guard let k = try await database.reader.raw("SELECT name, days FROM errand_kinds WHERE code = \(bind: r.kind) AND active = 1").first() else {
            throw StoreError.invalid(field: "事项 (errand)", reason: "没有这项代办服务 (no such errand)")
        }
        let channel: String
        if let v = viewer, v.role != .resident {
            guard v.role.isNetStaff, v.role != .apiToken else { throw StoreError.notFound(what: "楼栋 (building)", key: building.value) }
            guard v.covers(building) else {
                throw StoreError.invalid(field: "楼栋 (building)", reason: "只能为本人负责范围内的居民代办 (only for residents in your own area)")
            }
            channel = "door"
        } else {
            guard viewer != nil || r.phone != nil else { throw StoreError.invalid(field: "手机号 (phone)", reason: "请留手机号 (a phone is needed)") }
            channel = "resident"
        }
        guard photos.count <= 3 else { throw StoreError.invalid(field: "照片 (photo)", reason: "最多3张 (at most 3 photos)") }
        var types: [String] = []
        do { for p in photos { types.append(try PhotoCheck.contentType(of: p)) } } catch {
            throw StoreError.invalid(field: error.field, reason: error.reason)
        }
        guard let (buildingID, gridID) = try await NetStore.buildingID(database.reader, building), let grid = building.parent else {
            throw StoreError.invalid(field: "楼栋 (building)", reason: "楼栋\(building)不存在 (no such building)")
        }
        let head = try await database.reader.raw("""
            SELECT 1 AS one FROM users WHERE role = 'building_head' AND scope_code = \(bind: building.value) AND disabled = 0
            """).first() != nil
        let assignee = head ? "role:building_head@\(building)" : "role:grid_worker@\(grid)"
        let name = try k.decode(column: "name", as: String.self)
        let due = now + Int64(try k.decode(column: "days", as: Int.self)) * 86_400
        let code = CaseStore.trackingCode()
        let sealer = sealer
        let requester = viewer?.role == .resident ? viewer?.login : nil
        let checked = types
        return try await database.transaction { db in
            let id = try await db.raw("""
                INSERT INTO errands (code, kind, state, grid_id, building_id, room, person_name, phone_sealed, phone_index, phone_masked, requester_login,
                    channel, note, assignee, created_at, updated_at, due_at, idempotency_key)
                VALUES (\(bind: code), \(bind: r.kind), 'requested', \(bind: gridID), \(bind: buildingID), \(bind: r.room), \(bind: r.personName),
                    \(bind: r.phone.map { sealer.seal($0.value) }), \(bind: r.phone.map { sealer.blindIndex($0.value) }), \(bind: r.phone?.masked),
                    \(bind: requester), \(bind: channel), \(bind: r.note), \(bind: assignee), \(bind: now), \(bind: now), \(bind: due), \(bind: key))
                RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await Self.step(db, id, at: now, action: "request", state: .requested, actor: viewer?.login ?? "resident",
                                note: channel == "door" ? "上门登记" : "居民申请")
            for (i, p) in photos.enumerated() {
                try await db.raw("""
                    INSERT INTO errand_photos (errand_id, content_type, size, data) VALUES (\(bind: id), \(bind: checked[i]), \(bind: p.count), \(bind: Data(p)))
                    """).run()
            }
            try await db.raw("INSERT INTO inbox (recipient, at, text) VALUES (\(bind: assignee), \(bind: now), \(bind: "新代办申请:\(name)(\(r.room))"))").run()
            return (id, code)
        }
    }

    static func step(_ db: any SQLDatabase, _ id: Int64, at: Int64, action: String, state: ErrandState, actor: String, note: String) async throws {
        try await db.raw("""
            INSERT INTO errand_steps (errand_id, at, action, to_state, actor, note)
            VALUES (\(bind: id), \(bind: at), \(bind: action), \(bind: state.rawValue), \(bind: actor), \(bind: note))
            """).run()
    }

    // MARK: reading

    static let columns: SQLQueryString = """
        e.id, e.code, e.kind, k.name AS kind_name, e.state, g.code AS grid_code, b.number, b.address, e.room, e.person_name, e.phone_masked,
        e.assignee, e.created_at, e.due_at, e.rating, e.version
        """

    static func row(_ r: any SQLRow) throws -> ErrandRow {
        ErrandRow(id: try r.decode(column: "id", as: Int64.self), code: try r.decode(column: "code", as: String.self),
                  kind: try r.decode(column: "kind", as: String.self), kindName: try r.decode(column: "kind_name", as: String.self),
                  state: ErrandState(rawValue: try r.decode(column: "state", as: String.self)) ?? .requested,
                  building: try RegionCode(r.decode(column: "grid_code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
                  address: try r.decode(column: "address", as: String.self), room: try r.decode(column: "room", as: String.self),
                  personName: try r.decode(column: "person_name", as: String.self), phoneMasked: try r.decode(column: "phone_masked", as: String?.self),
                  assignee: try r.decode(column: "assignee", as: String.self), createdAt: try r.decode(column: "created_at", as: Int64.self),
                  dueAt: try r.decode(column: "due_at", as: Int64.self), rating: try r.decode(column: "rating", as: Int?.self),
                  version: try r.decode(column: "version", as: Int.self))
    }

    func rows(_ condition: SQLQueryString, limit: Int = 200) async throws -> [ErrandRow] {
        try await database.reader.raw("""
            SELECT \(Self.columns) FROM errands e JOIN errand_kinds k ON k.code = e.kind JOIN buildings b ON b.id = e.building_id
            JOIN regions g ON g.id = e.grid_id WHERE \(condition)
            ORDER BY CASE WHEN e.state IN ('done','declined','cancelled') THEN 1 ELSE 0 END, e.due_at, e.id LIMIT \(bind: limit)
            """).all().map(Self.row)
    }

    /// What is on this person's list: errands assigned to them, and for the grid worker and up every errand in their scope; open first.
    public func list(_ viewer: Viewer) async throws -> [ErrandRow] {
        if viewer.role == .resident { return try await rows("e.requester_login = \(bind: viewer.login)") }
        guard viewer.role.isNetStaff, viewer.role != .apiToken else { return [] }
        let a = viewer.inboxAddresses
        var condition: SQLQueryString = "e.assignee = \(bind: a[0]) OR e.assignee = \(bind: a[1])"
        if Policy.netOfficers.contains(viewer.role) {
            condition = "\(condition) OR (g.code >= \(bind: viewer.scope.value) AND g.code < \(bind: viewer.scope.value + ":"))"
        }
        return try await rows("(\(condition))")
    }

    /// The roles `actor` has on the errand: handler (assigned, or a net officer over it) and requester (by account or code + phone).
    func roles(_ actor: ErrandActor, row: ErrandRow, requester: String?, phoneIndex: String?) -> [ErrandRole] {
        var out: [ErrandRole] = []
        switch actor {
        case .viewer(let v):
            if v.role != .apiToken, v.role != .resident, v.role.isNetStaff,
               v.inboxAddresses.contains(row.assignee) || (Policy.netOfficers.contains(v.role) && v.covers(row.building)) { out.append(.handler) }
            if let requester, requester == v.login { out.append(.requester) }
        case .requester(let code, let phone):
            if code == row.code, phoneIndex == sealer.blindIndex(phone.value) { out.append(.requester) }
        }
        return out
    }

    public func detail(_ id: Int64, actor: ErrandActor) async throws -> ErrandDetail {
        guard let r = try await database.reader.raw("""
            SELECT \(Self.columns), k.documents, e.note, e.office, e.rating_comment, e.done_by, e.requester_login, e.phone_index
            FROM errands e JOIN errand_kinds k ON k.code = e.kind JOIN buildings b ON b.id = e.building_id JOIN regions g ON g.id = e.grid_id
            WHERE e.id = \(bind: id)
            """).first() else { throw StoreError.notFound(what: Self.notFound, key: String(id)) }
        let row = try Self.row(r)
        let roles = roles(actor, row: row, requester: try r.decode(column: "requester_login", as: String?.self),
                          phoneIndex: try r.decode(column: "phone_index", as: String?.self))
        guard !roles.isEmpty else { throw StoreError.notFound(what: Self.notFound, key: String(id)) }
        // Staff by role and name (public work data), residents as 居民 — never a login.
        let steps = try await database.reader.raw("""
            SELECT s.at, s.action, s.to_state, s.actor, s.note, u.name, u.role FROM errand_steps s LEFT JOIN users u ON u.login = s.actor
            WHERE s.errand_id = \(bind: id) ORDER BY s.id
            """).all().map { s in
            let role = try s.decode(column: "role", as: String?.self).flatMap(Role.init(rawValue:))
            let who = role == nil || role == .resident ? "居民" : "\(role!.label) \(try s.decode(column: "name", as: String?.self) ?? "")"
            return ErrandStepRow(at: try s.decode(column: "at", as: Int64.self), action: try s.decode(column: "action", as: String.self),
                                 state: ErrandState(rawValue: try s.decode(column: "to_state", as: String.self)) ?? .requested,
                                 actor: who, note: try s.decode(column: "note", as: String.self))
        }
        let photos = try await database.reader.raw("SELECT id FROM errand_photos WHERE errand_id = \(bind: id) ORDER BY id").all()
            .map { try $0.decode(column: "id", as: Int64.self) }
        let snapshot = ErrandSnapshot(state: row.state, rating: row.rating)
        var actions: [String] = []
        for role in roles { actions += ErrandMachine.available(to: role, on: snapshot).filter { !actions.contains($0) } }
        return ErrandDetail(row: row, documents: try r.decode(column: "documents", as: String.self), note: try r.decode(column: "note", as: String.self),
                            office: try r.decode(column: "office", as: String?.self), ratingComment: try r.decode(column: "rating_comment", as: String?.self),
                            doneBy: try r.decode(column: "done_by", as: String?.self), steps: steps, photos: photos, roles: roles, actions: actions)
    }

    /// The whole phone number left with an errand, for the person doing it to call (audited, like any unmask).
    public func revealPhone(_ id: Int64, viewer: Viewer, address: String) async throws -> String? {
        let d = try await detail(id, actor: .viewer(viewer))
        guard d.roles.contains(.handler), Policy.mayUnmask(.phone, viewer: viewer) else { throw StoreError.notFound(what: Self.notFound, key: String(id)) }
        guard let sealed = try await database.reader.raw("SELECT phone_sealed FROM errands WHERE id = \(bind: id)").first()?
            .decode(column: "phone_sealed", as: String?.self) else { return nil }
        try await Store.audit(database, actor: Actor(viewer, address: address), action: "unmask.phone", target: "errand:\(id)")
        return try sealer.open(sealed)
    }

    /// An errand by its code and the phone left with it; "not found" unless both match.
    public func find(code: String, phone: MobilePhone) async throws -> Int64 {
        guard let r = try await database.reader.raw("""
            SELECT id FROM errands WHERE code = \(bind: code.uppercased()) AND phone_index = \(bind: sealer.blindIndex(phone.value))
            """).first() else { throw StoreError.notFound(what: Self.notFound, key: code) }
        return try r.decode(column: "id", as: Int64.self)
    }

    public func photo(_ photoID: Int64, of id: Int64, actor: ErrandActor) async throws -> (contentType: String, bytes: [UInt8]) {
        _ = try await detail(id, actor: actor)
        guard let r = try await database.reader.raw("SELECT content_type, data FROM errand_photos WHERE id = \(bind: photoID) AND errand_id = \(bind: id)").first()
        else { throw StoreError.notFound(what: "照片 (photo)", key: String(photoID)) }
        return (try r.decode(column: "content_type", as: String.self), [UInt8](try r.decode(column: "data", as: Data.self)))
    }

    // MARK: acting

    /// One step, by the rules of `ErrandMachine`, with a version check; the resident is told (inbox for an account;
    /// the tracking page otherwise). Returns the new version.
    @discardableResult
    public func act(_ action: ErrandAction, on id: Int64, version: Int, actor: ErrandActor, now: Int64 = Clock.now()) async throws -> Int {
        let d = try await detail(id, actor: actor)
        var next: ErrandSnapshot?
        var lastProblem: FormProblem?
        for role in d.roles {
            do { next = try ErrandMachine.apply(action, to: ErrandSnapshot(state: d.row.state, rating: d.row.rating), as: role); break } catch {
                lastProblem = error
            }
        }
        guard let next else {
            let p = lastProblem ?? FormProblem(field: "代办 (errand)", reason: "不能这样操作 (not allowed)")
            throw StoreError.invalid(field: p.field, reason: p.reason)
        }
        let login = actor.login
        let requester = try await database.reader.raw("SELECT requester_login FROM errands WHERE id = \(bind: id)").first()?
            .decode(column: "requester_login", as: String?.self)
        return try await database.transaction { db in
            var sets: SQLQueryString = "state = \(bind: next.state.rawValue), updated_at = \(bind: now), version = version + 1"
            switch action {
            case .wait(let office): sets = "\(sets), office = \(bind: office)"
            case .finish: sets = "\(sets), done_at = \(bind: now), done_by = \(bind: login)"
            case .rate(let score, let comment): sets = "\(sets), rating = \(bind: score), rating_comment = \(bind: comment)"
            default: break
            }
            guard try await db.raw("UPDATE errands SET \(sets) WHERE id = \(bind: id) AND version = \(bind: version) RETURNING id").first() != nil else {
                throw StoreError.conflict("该代办事项刚被他人更新,请刷新后再操作 (updated by someone else; reload)")
            }
            try await Self.step(db, id, at: now, action: action.name, state: next.state, actor: login, note: action.note)
            // Whoever did not act is told: the resident of a handler's step, the handler of the resident's.
            let byRequester = d.roles == [.requester] || (requester != nil && requester == login)
            if byRequester {
                try await db.raw("""
                    INSERT INTO inbox (recipient, at, text) VALUES (\(bind: d.row.assignee), \(bind: now), \(bind: "居民\(action.label)了代办事项“\(d.row.kindName)”"))
                    """).run()
            } else if let requester {
                let text = "您的代办事项“\(d.row.kindName)”:\(action.label)\(action.note.isEmpty ? "" : "(\(action.note))")"
                try await db.raw("INSERT INTO inbox (recipient, at, text) VALUES (\(bind: Assignee.person(requester).description), \(bind: now), \(bind: text))").run()
            }
            return version + 1
        }
    }

    // MARK: figures

    /// Errands finished in `scope` from `from` to `to`, per person who finished them.
    public func figures(under scope: RegionCode, from: Int64, to: Int64, viewer: Viewer) async throws -> [ErrandFigure] {
        guard Policy.watchesCases(viewer), viewer.covers(scope) else { throw StoreError.notFound(what: "统计 (figures)", key: scope.value) }
        return try await database.reader.raw("""
            SELECT e.done_by, u.name, COUNT(*) AS done, SUM(CASE WHEN e.done_at <= e.due_at THEN 1 ELSE 0 END) AS on_time,
                COUNT(e.rating) AS rated, AVG(CAST(e.rating AS DOUBLE PRECISION)) AS average
            FROM errands e JOIN regions g ON g.id = e.grid_id LEFT JOIN users u ON u.login = e.done_by
            WHERE e.state = 'done' AND e.done_at >= \(bind: from) AND e.done_at < \(bind: to)
                AND g.code >= \(bind: scope.value) AND g.code < \(bind: scope.value + ":")
            GROUP BY e.done_by, u.name ORDER BY COUNT(*) DESC, e.done_by
            """).all().map { r in
            ErrandFigure(login: try r.decode(column: "done_by", as: String?.self) ?? "", name: try r.decode(column: "name", as: String?.self) ?? "",
                         done: try r.decode(column: "done", as: Int.self), onTime: try r.decode(column: "on_time", as: Int.self),
                         rated: try r.decode(column: "rated", as: Int.self), averageRating: try r.decode(column: "average", as: Double?.self))
        }
    }
}
