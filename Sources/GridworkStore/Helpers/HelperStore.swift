import Foundation
import GridworkCore
import SQLKit

/// A volunteer as staff lists show them (phone masked).
public struct Volunteer: Sendable, Equatable {
    public let id: Int64
    public let grid: RegionCode
    public let name: String
    public let phoneMasked: String
    public let skills: String
    public let availability: String
    public let hours: Double
    public let times: Int
}

/// A unit stationed in the community (共驻共建单位): a school, an office, a company.
public struct PartnerUnit: Sendable, Equatable {
    public let id: Int64
    public let community: RegionCode
    public let name: String
    public let creditCode: String
    public let kind: String
    public let services: String
    public let contact: String
    public let hours: Double
    public let times: Int
}

/// Who helped: a volunteer or a unit.
public enum Helper: Sendable, Equatable, Hashable {
    case volunteer(Int64)
    case unit(Int64)

    /// `v:ID` or `u:ID`, as forms send it.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let id = Int64(parts[1]), id > 0 else { return nil }
        switch parts[0] { case "v": self = .volunteer(id); case "u": self = .unit(id); default: return nil }
    }

    public var formValue: String {
        switch self { case .volunteer(let id): "v:\(id)"; case .unit(let id): "u:\(id)" }
    }
}

/// What a helper was doing, if it was for a matter or an errand.
public enum HelpTarget: Sendable, Equatable {
    case none
    case matter(Int64)
    case errand(Int64)
}

/// One piece of help: who, for what, when, how long.
public struct Contribution: Sendable, Equatable {
    public let helperName: String
    public let helper: Helper
    public let target: HelpTarget
    public let at: Int64
    public let hours: Double
    public let note: String
    public let recordedBy: String
}

/// Volunteers (linked to a grid, with skills and availability) and partner units (with their credit code and the
/// services they pledge), and the help they gave — to a matter, an errand or the community at large — with hours.
public struct HelperStore: Sendable {
    let database: Database
    let sealer: Sealer

    // MARK: volunteers

    /// Registers a volunteer in a grid; staff from the grid worker up, within scope. The phone is sealed like a resident's.
    public func addVolunteer(grid: RegionCode, name: String, phone: MobilePhone, skills: String, availability: String,
                             viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws -> Int64 {
        guard Policy.netOfficers.contains(viewer.role), grid.level == .grid, viewer.covers(grid) else {
            throw StoreError.notFound(what: "网格 (grid)", key: grid.value)
        }
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (2...20).contains(name.count) else { throw StoreError.invalid(field: "姓名 (name)", reason: "2到20字 (2–20 characters)") }
        guard skills.count <= 200, availability.count <= 200 else {
            throw StoreError.invalid(field: "特长/时间 (skills/availability)", reason: "最多200字 (at most 200 characters)")
        }
        guard let g = try await database.reader.raw("SELECT id FROM regions WHERE code = \(bind: grid.value) AND level = 'grid'").first() else {
            throw StoreError.notFound(what: "网格 (grid)", key: grid.value)
        }
        let gridID = try g.decode(column: "id", as: Int64.self)
        let kind = database.kind, sealer = sealer
        return try await database.transaction { db in
            let id = try await db.raw("""
                INSERT INTO volunteers (grid_id, name, phone_sealed, phone_masked, skills, availability, created_by, created_at)
                VALUES (\(bind: gridID), \(bind: name), \(bind: sealer.seal(phone.value)), \(bind: phone.masked), \(bind: skills), \(bind: availability),
                    \(bind: viewer.login), \(bind: now)) RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "helpers.volunteer", target: "volunteer:\(id)", detail: name)
            return id
        }
    }

    public func volunteers(under scope: RegionCode, viewer: Viewer) async throws -> [Volunteer] {
        // A building head sees the volunteers of their grid, to ask one along.
        guard viewer.role.isNetStaff, viewer.role != .apiToken, viewer.covers(scope) || (viewer.role == .buildingHead && scope == viewer.scope.parent) else {
            throw StoreError.notFound(what: "志愿者 (volunteers)", key: scope.value)
        }
        return try await volunteers("g.code >= \(bind: scope.value) AND g.code < \(bind: scope.value + ":")")
    }

    func volunteers(_ condition: SQLQueryString) async throws -> [Volunteer] {
        try await database.reader.raw("""
            SELECT v.id, g.code, v.name, v.phone_masked, v.skills, v.availability,
                COALESCE((SELECT SUM(hours) FROM contributions c WHERE c.volunteer_id = v.id), 0) AS hours,
                (SELECT COUNT(*) FROM contributions c WHERE c.volunteer_id = v.id) AS times
            FROM volunteers v JOIN regions g ON g.id = v.grid_id WHERE v.active = 1 AND \(condition) ORDER BY g.code, v.name LIMIT 500
            """).all().map { r in
            Volunteer(id: try r.decode(column: "id", as: Int64.self), grid: try RegionCode(r.decode(column: "code", as: String.self)),
                      name: try r.decode(column: "name", as: String.self), phoneMasked: try r.decode(column: "phone_masked", as: String.self),
                      skills: try r.decode(column: "skills", as: String.self), availability: try r.decode(column: "availability", as: String.self),
                      hours: try r.decode(column: "hours", as: Double.self), times: try r.decode(column: "times", as: Int.self))
        }
    }

    // MARK: partner units

    public func addUnit(community: RegionCode, name: String, creditCode: String, kind unitKind: String, services: String, contact: String,
                        viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws -> Int64 {
        guard [.countyAdmin, .townshipAdmin, .communityStaff].contains(viewer.role), community.level == .community, viewer.covers(community) else {
            throw StoreError.notFound(what: "社区 (community)", key: community.value)
        }
        let code: CreditCode
        do { code = try CreditCode(creditCode) } catch {
            throw StoreError.invalid(field: "统一社会信用代码 (credit code)", reason: error.description)
        }
        guard (2...60).contains(name.count) else { throw StoreError.invalid(field: "单位名称 (name)", reason: "2到60字 (2–60 characters)") }
        guard (2...500).contains(services.count) else {
            throw StoreError.invalid(field: "承诺服务 (services)", reason: "请写明承诺提供的服务,2到500字 (2–500 characters)")
        }
        guard ["学校", "机关", "企业", "医院", "其他"].contains(unitKind) else { throw StoreError.invalid(field: "类别 (kind)", reason: "请选择单位类别 (choose a kind)") }
        guard contact.count <= 60 else { throw StoreError.invalid(field: "联系人 (contact)", reason: "最多60字 (at most 60 characters)") }
        guard let c = try await database.reader.raw("SELECT id FROM regions WHERE code = \(bind: community.value) AND level = 'community'").first() else {
            throw StoreError.notFound(what: "社区 (community)", key: community.value)
        }
        let communityID = try c.decode(column: "id", as: Int64.self)
        if try await database.reader.raw("SELECT id FROM partner_units WHERE credit_code = \(bind: code.value)").first() != nil {
            throw StoreError.conflict("该统一社会信用代码已登记为共建单位 (this credit code is already registered)")
        }
        let kind = database.kind
        return try await database.transaction { db in
            let id = try await db.raw("""
                INSERT INTO partner_units (community_id, name, credit_code, kind, services, contact, created_by, created_at)
                VALUES (\(bind: communityID), \(bind: name), \(bind: code.value), \(bind: unitKind), \(bind: services), \(bind: contact), \(bind: viewer.login), \(bind: now))
                RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "helpers.unit", target: "unit:\(id)", detail: name)
            return id
        }
    }

    public func units(under scope: RegionCode, viewer: Viewer) async throws -> [PartnerUnit] {
        guard viewer.role.isNetStaff, viewer.role != .apiToken, viewer.covers(scope) || scope.isWithin(viewer.scope) || viewer.scope.isWithin(scope) else {
            throw StoreError.notFound(what: "共建单位 (units)", key: scope.value)
        }
        // Below a community (a grid worker, a building head) one sees the units of one's community.
        let wide = viewer.scope.value.count > 12 ? try RegionCode(String(viewer.scope.value.prefix(12))) : scope
        return try await units("c.code >= \(bind: wide.value) AND c.code < \(bind: wide.value + ":")")
    }

    func units(_ condition: SQLQueryString) async throws -> [PartnerUnit] {
        try await database.reader.raw("""
            SELECT u.id, c.code, u.name, u.credit_code, u.kind, u.services, u.contact,
                COALESCE((SELECT SUM(hours) FROM contributions x WHERE x.unit_id = u.id), 0) AS hours,
                (SELECT COUNT(*) FROM contributions x WHERE x.unit_id = u.id) AS times
            FROM partner_units u JOIN regions c ON c.id = u.community_id WHERE \(condition) ORDER BY c.code, u.name LIMIT 500
            """).all().map { r in
            PartnerUnit(id: try r.decode(column: "id", as: Int64.self), community: try RegionCode(r.decode(column: "code", as: String.self)),
                        name: try r.decode(column: "name", as: String.self), creditCode: try r.decode(column: "credit_code", as: String.self),
                        kind: try r.decode(column: "kind", as: String.self), services: try r.decode(column: "services", as: String.self),
                        contact: try r.decode(column: "contact", as: String.self),
                        hours: try r.decode(column: "hours", as: Double.self), times: try r.decode(column: "times", as: Int.self))
        }
    }

    // MARK: help given

    /// The volunteers of the grid and the units of the community around `building` — who can be asked to help there.
    public func available(near grid: RegionCode) async throws -> [(helper: Helper, label: String)] {
        let community = grid.parent ?? grid
        let v = try await volunteers("g.code = \(bind: grid.value)").map { (Helper.volunteer($0.id), "志愿者 \($0.name)(\($0.skills))") }
        let u = try await units("c.code = \(bind: community.value)").map { (Helper.unit($0.id), "共建单位 \($0.name)") }
        return v + u
    }

    /// Records help given, with its hours: by staff from the building head up, whose scope reaches the helper's grid or community.
    public func record(_ helper: Helper, for target: HelpTarget, hours: Double, note: String, viewer: Viewer, address: String,
                       now: Int64 = Clock.now()) async throws {
        guard viewer.role.isNetStaff, viewer.role != .apiToken else { throw StoreError.notFound(what: "志愿者 (helper)", key: helper.formValue) }
        guard hours.isFinite, hours >= 0, hours <= 24 else { throw StoreError.invalid(field: "时长 (hours)", reason: "0到24小时 (0–24 hours)") }
        guard note.count <= 500 else { throw StoreError.invalid(field: "说明 (note)", reason: "最多500字 (at most 500 characters)") }
        let home: String?
        switch helper {
        case .volunteer(let id):
            home = try await database.reader.raw("SELECT g.code FROM volunteers v JOIN regions g ON g.id = v.grid_id WHERE v.id = \(bind: id)").first()?
                .decode(column: "code", as: String.self)
        case .unit(let id):
            home = try await database.reader.raw("SELECT c.code FROM partner_units u JOIN regions c ON c.id = u.community_id WHERE u.id = \(bind: id)").first()?
                .decode(column: "code", as: String.self)
        }
        guard let home, let code = try? RegionCode(home), code.isWithin(viewer.scope) || viewer.scope.isWithin(code) else {
            throw StoreError.notFound(what: "志愿者 (helper)", key: helper.formValue)
        }
        let kind = database.kind
        try await database.transaction { db in
            var volunteer: Int64?, unit: Int64?, matter: Int64?, errand: Int64?
            switch helper { case .volunteer(let id): volunteer = id; case .unit(let id): unit = id }
            switch target { case .matter(let id): matter = id; case .errand(let id): errand = id; case .none: break }
            try await db.raw("""
                INSERT INTO contributions (volunteer_id, unit_id, case_id, errand_id, at, hours, note, recorded_by)
                VALUES (\(bind: volunteer), \(bind: unit), \(bind: matter), \(bind: errand), \(bind: now), \(bind: hours), \(bind: note), \(bind: viewer.login))
                """).run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "helpers.record", target: helper.formValue,
                                      detail: "\(hours)h")
        }
    }

    /// Help given: by one helper, or for one matter or errand; newest first.
    public func contributions(by helper: Helper? = nil, for target: HelpTarget = .none, limit: Int = 200) async throws -> [Contribution] {
        var condition: SQLQueryString
        switch helper {
        case .volunteer(let id)?: condition = "c.volunteer_id = \(bind: id)"
        case .unit(let id)?: condition = "c.unit_id = \(bind: id)"
        case nil:
            switch target {
            case .matter(let id): condition = "c.case_id = \(bind: id)"
            case .errand(let id): condition = "c.errand_id = \(bind: id)"
            case .none: return []
            }
        }
        return try await database.reader.raw("""
            SELECT c.volunteer_id, c.unit_id, c.case_id, c.errand_id, c.at, c.hours, c.note, c.recorded_by, v.name AS v_name, u.name AS u_name
            FROM contributions c LEFT JOIN volunteers v ON v.id = c.volunteer_id LEFT JOIN partner_units u ON u.id = c.unit_id
            WHERE \(condition) ORDER BY c.id DESC LIMIT \(bind: limit)
            """).all().map { r in
            let v = try r.decode(column: "volunteer_id", as: Int64?.self)
            let matter = try r.decode(column: "case_id", as: Int64?.self), errand = try r.decode(column: "errand_id", as: Int64?.self)
            let target: HelpTarget = matter.map(HelpTarget.matter) ?? errand.map(HelpTarget.errand) ?? .none
            let name = try r.decode(column: v == nil ? "u_name" : "v_name", as: String?.self) ?? ""
            let unit = try r.decode(column: "unit_id", as: Int64?.self)
            let helper: Helper = v.map(Helper.volunteer) ?? .unit(unit ?? 0)
            return Contribution(helperName: name, helper: helper, target: target,
                                at: try r.decode(column: "at", as: Int64.self), hours: try r.decode(column: "hours", as: Double.self),
                                note: try r.decode(column: "note", as: String.self), recordedBy: try r.decode(column: "recorded_by", as: String.self))
        }
    }
}
