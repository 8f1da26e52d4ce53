import Foundation
import GridworkCore
import SQLKit

/// A course for grid workers and building heads.
public struct Course: Sendable, Equatable {
    public let id: Int64
    public let topic: String
    public let day: CivilDate
    public let hours: Double
    public let trainer: String
    public let mandatory: Bool
    /// building_head, grid_worker or all.
    public let audience: String
    public let scope: RegionCode
    public let attended: Int
}

/// One course a person attended.
public struct TrainingRecord: Sendable, Equatable {
    public let course: Course
}

/// Someone short of the mandatory hours of the last twelve months.
public struct TrainingGap: Sendable, Equatable {
    public let login: String
    public let name: String
    public let role: Role
    public let scope: RegionCode
    public let hours: Double
    public let required: Double
}

/// Training (培训): courses offered within a scope, who attended, each person's record, and who is overdue
/// for mandatory training (fewer mandatory hours in the last 365 days than their role requires).
public struct TrainingStore: Sendable {
    let database: Database

    /// Mandatory hours a year, by role.
    public static let requiredHours: [Role: Double] = [.gridWorker: 16, .gridLeader: 16, .buildingHead: 8]

    static func mayTeach(_ v: Viewer) -> Bool { [.countyAdmin, .townshipAdmin, .communityStaff].contains(v.role) }

    public func addCourse(topic: String, day: CivilDate, hours: Double, trainer: String, mandatory: Bool, audience: String,
                          viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws -> Int64 {
        guard Self.mayTeach(viewer) else { throw StoreError.notFound(what: "培训 (training)", key: viewer.scope.value) }
        guard (2...60).contains(topic.count) else { throw StoreError.invalid(field: "主题 (topic)", reason: "2到60字 (2–60 characters)") }
        guard (2...40).contains(trainer.count) else { throw StoreError.invalid(field: "授课人 (trainer)", reason: "2到40字 (2–40 characters)") }
        guard hours.isFinite, hours > 0, hours <= 24 else { throw StoreError.invalid(field: "学时 (hours)", reason: "大于0、不超过24 (more than 0, at most 24)") }
        guard ["building_head", "grid_worker", "all"].contains(audience) else { throw StoreError.invalid(field: "对象 (audience)", reason: "请选择培训对象 (choose)") }
        let kind = database.kind
        return try await database.transaction { db in
            let id = try await db.raw("""
                INSERT INTO courses (topic, day, hours, trainer, mandatory, audience, scope_code, created_by, created_at)
                VALUES (\(bind: topic), \(bind: day.iso), \(bind: hours), \(bind: trainer), \(bind: mandatory ? 1 : 0), \(bind: audience),
                    \(bind: viewer.scope.value), \(bind: viewer.login), \(bind: now)) RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "training.course", target: "course:\(id)", detail: topic)
            return id
        }
    }

    static let courseColumns: SQLQueryString = """
        c.id, c.topic, c.day, c.hours, c.trainer, c.mandatory, c.audience, c.scope_code,
        (SELECT COUNT(*) FROM attendance a WHERE a.course_id = c.id) AS attended
        """

    static func course(_ r: any SQLRow) throws -> Course {
        Course(id: try r.decode(column: "id", as: Int64.self), topic: try r.decode(column: "topic", as: String.self),
               day: CivilDate(iso: try r.decode(column: "day", as: String.self)) ?? CivilDate(year: 2026, month: 1, day: 1)!,
               hours: try r.decode(column: "hours", as: Double.self), trainer: try r.decode(column: "trainer", as: String.self),
               mandatory: try r.decode(column: "mandatory", as: Int.self) != 0, audience: try r.decode(column: "audience", as: String.self),
               scope: try RegionCode(r.decode(column: "scope_code", as: String.self)), attended: try r.decode(column: "attended", as: Int.self))
    }

    /// Courses offered in the viewer's part of the net (from above it, or within it), newest first.
    public func courses(_ viewer: Viewer) async throws -> [Course] {
        guard viewer.role.isNetStaff, viewer.role != .apiToken else { return [] }
        let s = viewer.scope.value
        return try await database.reader.raw("""
            SELECT \(Self.courseColumns) FROM courses c
            WHERE (c.scope_code >= \(bind: s) AND c.scope_code < \(bind: s + ":")) OR c.scope_code = substr(\(bind: s), 1, length(c.scope_code))
            ORDER BY c.day DESC, c.id DESC LIMIT 200
            """).all().map(Self.course)
    }

    public func course(_ id: Int64, viewer: Viewer) async throws -> Course {
        guard let c = try await courses(viewer).first(where: { $0.id == id }) else { throw StoreError.notFound(what: "培训 (course)", key: String(id)) }
        return c
    }

    /// The people a course is for, within both the course's and the viewer's scope, and whether each attended.
    public func roster(_ id: Int64, viewer: Viewer) async throws -> [(login: String, name: String, role: Role, attended: Bool)] {
        let c = try await course(id, viewer: viewer)
        guard Self.mayTeach(viewer) else { throw StoreError.notFound(what: "培训 (course)", key: String(id)) }
        let narrow = c.scope.isWithin(viewer.scope) ? c.scope : viewer.scope
        let roles = c.audience == "all" ? ["building_head", "grid_worker", "grid_leader"] : c.audience == "grid_worker" ? ["grid_worker", "grid_leader"] : ["building_head"]
        var list: SQLQueryString = "\(bind: roles[0])"
        for r in roles.dropFirst() { list = "\(list), \(bind: r)" }
        return try await database.reader.raw("""
            SELECT u.login, u.name, u.role, a.login AS attended FROM users u LEFT JOIN attendance a ON a.course_id = \(bind: id) AND a.login = u.login
            WHERE u.role IN (\(list)) AND u.disabled = 0 AND u.scope_code >= \(bind: narrow.value) AND u.scope_code < \(bind: narrow.value + ":")
            ORDER BY u.scope_code, u.login LIMIT 3000
            """).all().map { r in
            (try r.decode(column: "login", as: String.self), try r.decode(column: "name", as: String.self),
             Role(rawValue: try r.decode(column: "role", as: String.self)) ?? .buildingHead, try r.decode(column: "attended", as: String?.self) != nil)
        }
    }

    /// Records who attended (the whole list for the part of the roster the viewer sees); audited.
    public func recordAttendance(_ id: Int64, logins: Set<String>, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws {
        let roster = try await roster(id, viewer: viewer)
        let known = Set(roster.map(\.login))
        guard logins.isSubset(of: known) else {
            throw StoreError.invalid(field: "参加人员 (attendance)", reason: "名单中有不属于本次培训对象的人 (someone outside this course's audience)")
        }
        let kind = database.kind
        try await database.transaction { db in
            for login in known.subtracting(logins) {
                try await db.raw("DELETE FROM attendance WHERE course_id = \(bind: id) AND login = \(bind: login)").run()
            }
            for login in logins.sorted() {
                try await db.raw("""
                    INSERT INTO attendance (course_id, login, recorded_by, at) VALUES (\(bind: id), \(bind: login), \(bind: viewer.login), \(bind: now))
                    ON CONFLICT DO NOTHING
                    """).run()
            }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "training.attendance", target: "course:\(id)",
                                      detail: "\(logins.count) attended")
        }
    }

    /// One person's courses, newest first.
    public func record(of login: String) async throws -> [Course] {
        try await database.reader.raw("""
            SELECT \(Self.courseColumns) FROM courses c JOIN attendance a ON a.course_id = c.id WHERE a.login = \(bind: login) ORDER BY c.day DESC
            """).all().map(Self.course)
    }

    /// Building heads, grid workers and grid leaders in the viewer's scope with fewer mandatory hours in the
    /// 365 days up to `today` than their role requires; the furthest behind first.
    public func overdue(_ viewer: Viewer, today: CivilDate) async throws -> [TrainingGap] {
        guard Policy.netOfficers.contains(viewer.role) else { throw StoreError.notFound(what: "培训 (training)", key: viewer.scope.value) }
        let since = CivilDate(daysSinceEpoch: today.daysSinceEpoch - 365).iso
        let rows = try await database.reader.raw("""
            SELECT u.login, u.name, u.role, u.scope_code,
                COALESCE((SELECT SUM(c.hours) FROM attendance a JOIN courses c ON c.id = a.course_id
                    WHERE a.login = u.login AND c.mandatory = 1 AND c.day > \(bind: since) AND c.day <= \(bind: today.iso)), 0) AS hours
            FROM users u WHERE u.role IN ('building_head','grid_worker','grid_leader') AND u.disabled = 0
                AND u.scope_code >= \(bind: viewer.scope.value) AND u.scope_code < \(bind: viewer.scope.value + ":")
            ORDER BY u.scope_code, u.login LIMIT 5000
            """).all()
        var out: [TrainingGap] = []
        for r in rows {
            let role = Role(rawValue: try r.decode(column: "role", as: String.self)) ?? .buildingHead
            let hours = try r.decode(column: "hours", as: Double.self), required = Self.requiredHours[role] ?? 0
            guard hours < required else { continue }
            out.append(TrainingGap(login: try r.decode(column: "login", as: String.self), name: try r.decode(column: "name", as: String.self), role: role,
                                   scope: try RegionCode(r.decode(column: "scope_code", as: String.self)), hours: hours, required: required))
        }
        return out.sorted { ($0.hours / $0.required, $0.scope.value) < ($1.hours / $1.required, $1.scope.value) }
    }
}
