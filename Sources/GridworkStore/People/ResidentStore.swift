import Foundation
import GridworkCore
import SQLKit

/// A resident as the viewer may see them: masked fields, only the tags their duty allows.
public struct ResidentView: Sendable, Equatable, Codable {
    public let id: Int64
    public let room: String
    public let name: String
    public let sex: Sex
    public let birthDate: CivilDate
    public let ethnicity: String
    public let relation: Relation
    public let idMasked: String
    public let phoneMasked: String?
    public let tags: [ResidentTag]
}

/// Residents, read and unmasked through the acting viewer's scope — in SQL,
/// so a caller cannot forget the check.
public struct ResidentStore: Sendable {
    let database: Database
    let sealer: Sealer

    /// The residents of one building, household by household. A building
    /// outside the viewer's scope is "not found", so its existence does not leak.
    public func residents(inBuilding code: RegionCode, viewer: Viewer) async throws -> [ResidentView] {
        guard let tags = Policy.visibleTags(for: viewer), code.level == .building, let grid = code.parent, let number = code.localNumber
        else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
        let db = database.reader
        guard try await db.raw("""
            SELECT b.id FROM buildings b JOIN regions g ON g.id = b.grid_id
            WHERE g.code = \(bind: grid.value) AND b.number = \(bind: number) AND \(Self.inScope(viewer))
            """).first() != nil else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
        // Department officers see only the people their duty concerns.
        let onlyTagged = Self.dutyFilter(viewer, tags: tags)
        let rows = try await db.raw("""
            SELECT r.id, h.room, r.name, r.sex, r.birth_date, r.ethnicity, r.relation, r.id_masked, r.phone_masked,
                   \(Self.tagsColumn(database.kind))
            FROM residents r JOIN households h ON h.id = r.household_id
            JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            WHERE g.code = \(bind: grid.value) AND b.number = \(bind: number) AND r.status = 'present' \(onlyTagged)
            ORDER BY h.number, r.id
            """).all()
        return try rows.map { try Self.view($0, tags: tags) }
    }

    /// A row with the resident columns (`r.id`, `h.room`, name … `tags`) as the viewer may see it.
    static func view(_ r: any SQLRow, tags: Set<ResidentTag>) throws -> ResidentView {
        let all = (try r.decode(column: "tags", as: String?.self) ?? "").split(separator: ",").compactMap { ResidentTag(rawValue: String($0)) }
        return ResidentView(
            id: try r.decode(column: "id", as: Int64.self), room: try r.decode(column: "room", as: String.self),
            name: try r.decode(column: "name", as: String.self), sex: Sex(rawValue: try r.decode(column: "sex", as: String.self)) ?? .male,
            birthDate: CivilDate(iso: try r.decode(column: "birth_date", as: String.self)) ?? CivilDate(year: 1900, month: 1, day: 1)!,
            ethnicity: try r.decode(column: "ethnicity", as: String.self),
            relation: Relation(rawValue: try r.decode(column: "relation", as: String.self)) ?? .other,
            idMasked: try r.decode(column: "id_masked", as: String.self),
            phoneMasked: try r.decode(column: "phone_masked", as: String?.self),
            tags: ResidentTag.allCases.filter { all.contains($0) && tags.contains($0) })
    }

    /// Reveals one sealed field of one resident and audits it in the same transaction.
    /// A resident outside scope, or a field the viewer's role may not see, is "not found".
    public func unmask(_ field: Policy.SealedField, of residentID: Int64, viewer: Viewer, address: String) async throws -> String {
        guard Policy.mayUnmask(field, viewer: viewer), let tags = Policy.visibleTags(for: viewer) else {
            throw StoreError.notFound(what: "居民 (resident)", key: String(residentID))
        }
        let column = field == .citizenID ? "id_sealed" : "phone_sealed"
        let onlyTagged = Self.dutyFilter(viewer, tags: tags)
        return try await database.transaction { db in
            guard let row = try await db.raw("""
                SELECT r.\(unsafeRaw: column) AS sealed, r.name FROM residents r
                JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
                WHERE r.id = \(bind: residentID) AND \(Self.inScope(viewer)) \(onlyTagged)
                """).first(),
                let sealed = try row.decode(column: "sealed", as: String?.self)
            else { throw StoreError.notFound(what: "居民 (resident)", key: String(residentID)) }
            let plain = try sealer.open(sealed)
            try await AuditLog.append(db, kind: database.kind, actor: Actor(viewer, address: address), action: "resident.unmask",
                                      target: "resident:\(residentID)", detail: field.rawValue)
            return plain
        }
    }

    /// The scope condition over a building `b` in grid `g`: the viewer's subtree, or exactly their building.
    static func inScope(_ viewer: Viewer) -> SQLQueryString {
        if viewer.scope.level == .building, let grid = viewer.scope.parent, let number = viewer.scope.localNumber {
            return "(g.code = \(bind: grid.value) AND b.number = \(bind: number))"
        }
        return "(\(NetStore.subtree("g.code", viewer.scope)))"
    }

    /// For department officers: only residents `r` carrying one of the tags their duty needs; nothing for others.
    static func dutyFilter(_ viewer: Viewer, tags: Set<ResidentTag>) -> SQLQueryString {
        Policy.seesOnlyTagged(viewer) ? "AND \(carrying(tags))" : ""
    }

    /// Resident `r` carries one of `tags`.
    static func carrying(_ tags: Set<ResidentTag>) -> SQLQueryString {
        "EXISTS (SELECT 1 FROM resident_tags t WHERE t.resident_id = r.id AND t.tag IN (\(tagList(tags))))"
    }

    /// Resident `r`'s tags as one comma-separated column, in either dialect.
    static func tagsColumn(_ kind: DatabaseKind) -> SQLQueryString {
        "(SELECT \(unsafeRaw: kind == .sqlite ? "GROUP_CONCAT(t.tag, ',')" : "STRING_AGG(t.tag, ',')") FROM resident_tags t WHERE t.resident_id = r.id) AS tags"
    }

    static func tagList(_ tags: Set<ResidentTag>) -> SQLQueryString {
        // An empty duty matches nothing; '' is never a tag.
        let values = tags.isEmpty ? [""] : tags.map(\.rawValue).sorted()
        var q: SQLQueryString = ""
        for (i, v) in values.enumerated() { q = i == 0 ? "\(bind: v)" : "\(q), \(bind: v)" }
        return q
    }
}

/// One person on a department's list: who, where, and whom to call.
public struct DutyRow: Sendable, Equatable, Codable {
    public let id: Int64
    public let name: String
    public let sex: Sex
    public let birthDate: CivilDate
    public let phoneMasked: String?
    public let tags: [ResidentTag]
    public let building: RegionCode
    public let buildingName: String
    public let buildingHead: String?
    public let buildingHeadPhone: String?
}

extension ResidentStore {
    /// The residents in the viewer's scope who carry a tag `department`'s duty covers (民政: low income,
    /// elderly living alone …), with their building heads — a department's share of the registry.
    /// A department officer gets only their own department; others get none (404), except admins.
    public func dutyList(_ department: Department, viewer: Viewer, limit: Int = 300) async throws -> (rows: [DutyRow], total: Int) {
        let mayRead = viewer.role == .departmentOfficer ? viewer.department == department
                                                        : (viewer.role == .countyAdmin || viewer.role == .townshipAdmin)
        guard mayRead, let duty = Policy.departmentTags[department] else {
            throw StoreError.notFound(what: "部门名单 (department list)", key: department.rawValue)
        }
        let tagged = Self.carrying(duty)
        let from: SQLQueryString = """
            FROM residents r JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            WHERE \(Self.inScope(viewer)) AND \(tagged) AND r.status = 'present'
            """
        let total = try await database.reader.raw("SELECT COUNT(*) AS n \(from)").first()!.decode(column: "n", as: Int.self)
        let rows = try await database.reader.raw("""
            SELECT r.id, r.name, r.sex, r.birth_date, r.phone_masked, b.number, b.name AS building_name, g.code,
                   s.name AS head, s.work_phone AS head_phone,
                   \(Self.tagsColumn(database.kind))
            FROM residents r JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            LEFT JOIN staff s ON s.building_id = b.id
            WHERE \(Self.inScope(viewer)) AND \(tagged) AND r.status = 'present'
            ORDER BY g.code, b.number, r.id LIMIT \(bind: limit)
            """).all()
        return (try rows.map { r in
            let all = (try r.decode(column: "tags", as: String?.self) ?? "").split(separator: ",").compactMap { ResidentTag(rawValue: String($0)) }
            return DutyRow(
                id: try r.decode(column: "id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                sex: Sex(rawValue: try r.decode(column: "sex", as: String.self))!,
                birthDate: CivilDate(iso: try r.decode(column: "birth_date", as: String.self))!,
                phoneMasked: try r.decode(column: "phone_masked", as: String?.self),
                tags: ResidentTag.allCases.filter { all.contains($0) && duty.contains($0) },
                building: try RegionCode(try r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
                buildingName: try r.decode(column: "building_name", as: String.self),
                buildingHead: try r.decode(column: "head", as: String?.self),
                buildingHeadPhone: try r.decode(column: "head_phone", as: String?.self))
        }, total)
    }
}
