import Foundation
import GridworkCore
import SQLKit

/// An organisation registered in a grid.
public struct OrganisationRow: Sendable, Equatable, Codable {
    public let id: Int64
    public let name: String
    public let creditCode: String
    public let kind: OrganisationKind
    public let address: String
    public let contact: String
    public let contactPhone: String
    public let grid: RegionCode
    public let gridName: String
}

/// The organisations in the community (社区单位): shops, schools, offices, each with its
/// unified social credit code. Net staff read those in their scope; staff who may edit
/// the registry add them, one credit code once in the county.
public struct OrganisationStore: Sendable {
    let database: Database

    /// Organisations in grids under `code`, which must lie in the viewer's scope (a building head reads their grid's).
    public func list(under code: RegionCode, viewer: Viewer, limit: Int = 500) async throws -> (rows: [OrganisationRow], total: Int) {
        guard viewer.role.isNetStaff, viewer.covers(code) || (viewer.scope.level == .building && viewer.scope.parent == code)
        else { throw StoreError.notFound(what: "区域 (region)", key: code.value) }
        let from: SQLQueryString = "FROM organisations o JOIN regions g ON g.id = o.grid_id WHERE \(NetStore.subtree("g.code", code))"
        let total = try await database.reader.raw("SELECT COUNT(*) AS n \(from)").first()!.decode(column: "n", as: Int.self)
        let rows = try await database.reader.raw("""
            SELECT o.id, o.name, o.credit_code, o.kind, o.address, o.contact, o.contact_phone, g.code, g.name AS grid_name
            \(from) ORDER BY g.code, o.name LIMIT \(bind: limit)
            """).all().map { r in
            OrganisationRow(id: try r.decode(column: "id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                            creditCode: try r.decode(column: "credit_code", as: String.self),
                            kind: OrganisationKind(rawValue: try r.decode(column: "kind", as: String.self)) ?? .other,
                            address: try r.decode(column: "address", as: String.self), contact: try r.decode(column: "contact", as: String.self),
                            contactPhone: try r.decode(column: "contact_phone", as: String.self),
                            grid: try RegionCode(r.decode(column: "code", as: String.self)), gridName: try r.decode(column: "grid_name", as: String.self))
        }
        return (rows, total)
    }

    /// Registers an organisation in `grid`; a credit code already registered is a conflict naming where.
    @discardableResult
    public func add(_ o: NewOrganisation, grid: RegionCode, viewer: Viewer, address: String) async throws -> Int64 {
        guard Policy.mayEditRegistry(viewer), grid.level == .grid, viewer.covers(grid) else {
            throw StoreError.notFound(what: "网格 (grid)", key: grid.value)
        }
        let kind = database.kind
        return try await database.transaction { db in
            guard let gridID = try await db.raw("SELECT id FROM regions WHERE code = \(bind: grid.value) AND level = 'grid'").first()?
                .decode(column: "id", as: Int64.self)
            else { throw StoreError.notFound(what: "网格 (grid)", key: grid.value) }
            if let other = try await db.raw("""
                SELECT o.name, g.name AS grid_name FROM organisations o JOIN regions g ON g.id = o.grid_id
                WHERE o.credit_code = \(bind: o.creditCode.value)
                """).first() {
                throw StoreError.conflict("统一社会信用代码\(o.creditCode)已登记为“\(try other.decode(column: "name", as: String.self))”(\(try other.decode(column: "grid_name", as: String.self))) (this credit code is registered already)")
            }
            let id = try await db.raw("""
                INSERT INTO organisations (grid_id, name, credit_code, kind, address, contact, contact_phone, registered_at, registered_by)
                VALUES (\(bind: gridID), \(bind: o.name), \(bind: o.creditCode.value), \(bind: o.kind.rawValue), \(bind: o.address),
                        \(bind: o.contact), \(bind: o.contactPhone), \(bind: Timestamp.now()), \(bind: viewer.login))
                RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "registry.organisation",
                                      target: "organisation:\(id)", detail: o.creditCode.value)
            return id
        }
    }
}
