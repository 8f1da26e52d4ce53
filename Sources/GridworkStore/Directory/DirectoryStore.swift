import Foundation
import GridworkCore
import SQLKit

/// A person of the net as the public directory shows them: role, name, work phone. Nothing else.
public struct DirectoryPerson: Sendable, Equatable {
    public let role: StaffRole
    public let name: String
    public let workPhone: String
    /// For the offices' form only; public pages do not show it.
    public let sex: Sex
}

/// An office of the net (community, township) with its public address and phone.
public struct DirectoryOffice: Sendable, Equatable {
    public let code: RegionCode
    public let name: String
    public let address: String?
    public let phone: String?
}

/// A building as the public may see it: who answers for it, their duties, the grid's range, the offices above.
public struct DirectoryBuilding: Sendable, Equatable {
    public let code: RegionCode
    public let name: String
    public let address: String
    public let gridName: String
    public let staff: [DirectoryPerson]
    /// The grid's buildings, as a range: "1–13号楼,共13栋".
    public let range: String
    public let community: DirectoryOffice
    public let township: DirectoryOffice
    public let duties: [String]
}

/// A grid's public page: its people, duties and buildings.
public struct DirectoryGrid: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let code: RegionCode; public let name: String; public let address: String
        /// The building head, if the post is filled.
        public let head: DirectoryPerson?
    }
    public let code: RegionCode
    public let name: String
    public let staff: [DirectoryPerson]
    public let community: DirectoryOffice
    public let duties: [String]
    public let buildings: [Entry]
}

/// What a building code leads to: the building, or — for a code that was moved to another grid — where it went.
public enum DirectoryLookup: Sendable, Equatable {
    case building(DirectoryBuilding)
    case moved(from: RegionCode, to: RegionCode)
}

/// The public directory (公示): public work data only — staff names, work phones, duties, building ranges and
/// offices — never a resident. Changing a person or the duty list here is audited and shows at once.
public struct DirectoryStore: Sendable {
    let database: Database

    /// Changes whenever anything the public directory shows changes (a post, the duty list, a building's code):
    /// a cache of public pages compares it to know they still stand, whichever process made the change.
    public func version() async throws -> String {
        try await database.reader.raw("SELECT value FROM meta WHERE key = 'directory_version'").first()?.decode(column: "value", as: String.self) ?? ""
    }

    static func touch(_ db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO meta (key, value) VALUES ('directory_version', \(bind: UUID().uuidString))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """).run()
    }

    public func lookup(_ code: RegionCode) async throws -> DirectoryLookup {
        guard code.level == .building else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
        if let b = try await building(code) { return .building(b) }
        if let r = try await database.reader.raw("SELECT new_code FROM building_moves WHERE old_code = \(bind: code.value)").first() {
            return .moved(from: code, to: try RegionCode(r.decode(column: "new_code", as: String.self)))
        }
        throw StoreError.notFound(what: "楼栋 (building)", key: code.value)
    }

    func building(_ code: RegionCode) async throws -> DirectoryBuilding? {
        guard let grid = code.parent, let number = code.localNumber else { return nil }
        let db = database.reader
        guard let r = try await db.raw("""
            SELECT b.id, b.name, b.address, g.id AS grid_id, g.name AS grid_name, c.code AS c_code, c.name AS c_name, c.address AS c_address,
                c.office_phone AS c_phone, t.code AS t_code, t.name AS t_name, t.address AS t_address, t.office_phone AS t_phone,
                s.name AS head_name, s.work_phone AS head_phone, s.sex AS head_sex,
                (SELECT MIN(number) FROM buildings WHERE grid_id = g.id) AS first_number, (SELECT MAX(number) FROM buildings WHERE grid_id = g.id) AS last_number,
                (SELECT COUNT(*) FROM buildings WHERE grid_id = g.id) AS building_count
            FROM buildings b JOIN regions g ON g.id = b.grid_id JOIN regions c ON c.id = g.parent_id JOIN regions t ON t.id = c.parent_id
            LEFT JOIN staff s ON s.building_id = b.id
            WHERE g.code = \(bind: grid.value) AND b.number = \(bind: number)
            """).first() else { return nil }
        var staff: [DirectoryPerson] = []
        if let name = try r.decode(column: "head_name", as: String?.self) {
            staff.append(DirectoryPerson(role: .buildingHead, name: name, workPhone: try r.decode(column: "head_phone", as: String.self),
                                         sex: Sex(rawValue: try r.decode(column: "head_sex", as: String.self)) ?? .female))
        }
        staff += try await gridStaff(gridID: try r.decode(column: "grid_id", as: Int64.self))
        let first = try r.decode(column: "first_number", as: Int.self), last = try r.decode(column: "last_number", as: Int.self)
        return DirectoryBuilding(
            code: code, name: try r.decode(column: "name", as: String.self), address: try r.decode(column: "address", as: String.self),
            gridName: try r.decode(column: "grid_name", as: String.self), staff: staff,
            range: "\(first)–\(last)号楼,共\(try r.decode(column: "building_count", as: Int.self))栋",
            community: try Self.office(r, "c"), township: try Self.office(r, "t"), duties: try await duties())
    }

    static func office(_ r: any SQLRow, _ p: String) throws -> DirectoryOffice {
        DirectoryOffice(code: try RegionCode(r.decode(column: "\(p)_code", as: String.self)), name: try r.decode(column: "\(p)_name", as: String.self),
                        address: try r.decode(column: "\(p)_address", as: String?.self), phone: try r.decode(column: "\(p)_phone", as: String?.self))
    }

    func gridStaff(gridID: Int64) async throws -> [DirectoryPerson] {
        try await database.reader.raw("""
            SELECT role, name, work_phone, sex FROM staff WHERE grid_id = \(bind: gridID) ORDER BY CASE role WHEN 'grid_worker' THEN 0 ELSE 1 END
            """).all().map { r in
            DirectoryPerson(role: StaffRole(rawValue: try r.decode(column: "role", as: String.self)) ?? .gridWorker,
                            name: try r.decode(column: "name", as: String.self), workPhone: try r.decode(column: "work_phone", as: String.self),
                            sex: Sex(rawValue: try r.decode(column: "sex", as: String.self)) ?? .female)
        }
    }

    public func grid(_ code: RegionCode) async throws -> DirectoryGrid {
        guard code.level == .grid, let r = try await database.reader.raw("""
            SELECT g.id, g.name, c.code AS c_code, c.name AS c_name, c.address AS c_address, c.office_phone AS c_phone
            FROM regions g JOIN regions c ON c.id = g.parent_id WHERE g.code = \(bind: code.value) AND g.level = 'grid'
            """).first() else { throw StoreError.notFound(what: "网格 (grid)", key: code.value) }
        let id = try r.decode(column: "id", as: Int64.self)
        let buildings = try await database.reader.raw("""
            SELECT b.number, b.name, b.address, s.name AS head, s.work_phone, s.sex FROM buildings b LEFT JOIN staff s ON s.building_id = b.id
            WHERE b.grid_id = \(bind: id) ORDER BY b.number
            """).all().map { b in
            DirectoryGrid.Entry(code: code.child(try b.decode(column: "number", as: Int.self)), name: try b.decode(column: "name", as: String.self),
                                address: try b.decode(column: "address", as: String.self),
                                head: try b.decode(column: "head", as: String?.self).map { name in
                                    DirectoryPerson(role: .buildingHead, name: name, workPhone: try b.decode(column: "work_phone", as: String.self),
                                                    sex: Sex(rawValue: try b.decode(column: "sex", as: String.self)) ?? .female)
                                })
        }
        return DirectoryGrid(code: code, name: try r.decode(column: "name", as: String.self), staff: try await gridStaff(gridID: id),
                             community: try Self.office(r, "c"), duties: try await duties(), buildings: buildings)
    }

    /// Every building of a community, for printing all of its stairwell notices at once.
    public func buildings(inCommunity code: RegionCode) async throws -> [DirectoryBuilding] {
        guard code.level == .community else { throw StoreError.notFound(what: "社区 (community)", key: code.value) }
        let rows = try await database.reader.raw("""
            SELECT g.code, b.number FROM buildings b JOIN regions g ON g.id = b.grid_id
            WHERE g.code >= \(bind: code.value) AND g.code < \(bind: code.value + ":") ORDER BY g.code, b.number
            """).all()
        guard !rows.isEmpty else { throw StoreError.notFound(what: "社区 (community)", key: code.value) }
        var out: [DirectoryBuilding] = []
        for r in rows {
            let b = try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self))
            if let found = try await building(b) { out.append(found) }
        }
        return out
    }

    /// Buildings by address, name or code (a resident looking for their own).
    public func search(_ text: String) async throws -> [(code: RegionCode, name: String, address: String)] {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let code = try? RegionCode(t), code.level == .building, let b = try await building(code) { return [(code, b.name, b.address)] }
        return try await NetStore(database: database).findBuildings(t)
    }

    // MARK: the duty list and the people

    public func duties() async throws -> [String] {
        try await database.reader.raw("SELECT text FROM duty_items ORDER BY position, id").all().map { try $0.decode(column: "text", as: String.self) }
    }

    /// Replaces the county's grid duty list (county admins; audited).
    public func setDuties(_ items: [String], viewer: Viewer, address: String) async throws {
        guard viewer.role == .countyAdmin else { throw StoreError.notFound(what: "职责清单 (duties)", key: viewer.scope.value) }
        let clean = items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard (1...30).contains(clean.count), clean.allSatisfy({ $0.count <= 100 }) else {
            throw StoreError.invalid(field: "职责清单 (duties)", reason: "1到30条,每条最多100字 (1–30 items of up to 100 characters)")
        }
        let kind = database.kind
        try await database.transaction { db in
            try await db.raw("DELETE FROM duty_items").run()
            for (i, text) in clean.enumerated() {
                try await db.raw("INSERT INTO duty_items (position, text) VALUES (\(bind: i + 1), \(bind: text))").run()
            }
            try await Self.touch(db)
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "directory.duties", target: "county",
                                      detail: "\(clean.count) items")
            if kind == .postgres { try await db.raw("SELECT pg_notify('directory', 'duties')").run() }
        }
    }

    /// Puts a new person in a post — a building's head, or a grid's worker or leader — with their work phone
    /// (a mobile or a landline). Community staff and up, within scope; audited; the directory shows it at once.
    public func setStaff(_ role: StaffRole, at code: RegionCode, name: String, sex: Sex, phone: String, viewer: Viewer, address: String) async throws {
        guard [.countyAdmin, .townshipAdmin, .communityStaff].contains(viewer.role), viewer.covers(code),
              (role == .buildingHead) == (code.level == .building), code.level == .building || code.level == .grid else {
            throw StoreError.notFound(what: "岗位 (post)", key: code.value)
        }
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (2...20).contains(name.count), !name.contains(where: { $0.isASCII && ($0.isNumber || $0 == "<" || $0 == ">") }) else {
            throw StoreError.invalid(field: "姓名 (name)", reason: "2到20个字,不含数字和符号 (2–20 characters, no digits)")
        }
        let phone = phone.trimmingCharacters(in: .whitespaces)
        guard MobilePhone(phone) != nil || phone.wholeMatch(of: /0\d{2,3}-?\d{7,8}/) != nil else {
            throw StoreError.invalid(field: "工作电话 (work phone)", reason: "应为手机号或带区号的固定电话,如0739-8221234 (a mobile or a landline with area code)")
        }
        let kind = database.kind
        try await database.transaction { db in
            if role == .buildingHead {
                guard let (building, _) = try await NetStore.buildingID(db, code) else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
                try await db.raw("DELETE FROM staff WHERE building_id = \(bind: building)").run()
                try await db.raw("""
                    INSERT INTO staff (role, name, sex, work_phone, building_id) VALUES ('building_head', \(bind: name), \(bind: sex.rawValue), \(bind: phone), \(bind: building))
                    """).run()
            } else {
                guard let g = try await db.raw("SELECT id FROM regions WHERE code = \(bind: code.value) AND level = 'grid'").first() else {
                    throw StoreError.notFound(what: "网格 (grid)", key: code.value)
                }
                let grid = try g.decode(column: "id", as: Int64.self)
                try await db.raw("DELETE FROM staff WHERE grid_id = \(bind: grid) AND role = \(bind: role.rawValue)").run()
                try await db.raw("""
                    INSERT INTO staff (role, name, sex, work_phone, grid_id) VALUES (\(bind: role.rawValue), \(bind: name), \(bind: sex.rawValue), \(bind: phone), \(bind: grid))
                    """).run()
            }
            try await Self.touch(db)
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "directory.staff", target: "\(role.rawValue):\(code)",
                                      detail: name)
            if kind == .postgres { try await db.raw("SELECT pg_notify('directory', \(bind: code.value))").run() }
        }
    }
}
