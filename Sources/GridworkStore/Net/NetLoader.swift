import Foundation
import GridworkCore
import SQLKit

/// Writes a whole net in bulk inside one transaction: multi-row inserts with
/// ids assigned here, so parents are known without reading back. Rows are
/// buffered and flushed parents-first, which keeps memory bounded and foreign
/// keys satisfied. Personal fields are sealed on the way in.
public final class NetLoader {
    private let db: any SQLDatabase
    private let sealer: Sealer
    private let kind: DatabaseKind
    private var tables: [Table]
    private var nextID: [String: Int64] = [:]
    /// Rows waiting, across tables, before a flush.
    private var pending = 0
    /// The batch being written while the next one is generated (one at a
    /// time: the transaction has one connection, and batches keep their order).
    private var writing: Task<Void, any Error>?
    private let flushEvery: Int

    private struct Table: Sendable {
        let name: String
        let columns: [String]
        var rows: [[any Encodable & Sendable]] = []
    }

    private enum T: Int { case regions, buildings, households, staff, residents, tags, organisations }

    init(db: any SQLDatabase, sealer: Sealer, kind: DatabaseKind, flushEvery: Int = 20_000) {
        self.db = db; self.sealer = sealer; self.kind = kind; self.flushEvery = flushEvery
        tables = [
            Table(name: "regions", columns: ["id", "parent_id", "level", "kind", "code", "number", "name", "address", "office_phone", "boundary"]),
            Table(name: "buildings", columns: ["id", "grid_id", "number", "name", "address", "floors", "units"]),
            Table(name: "households", columns: ["id", "building_id", "number", "unit", "floor", "room", "occupancy"]),
            Table(name: "staff", columns: ["id", "role", "name", "sex", "work_phone", "grid_id", "building_id"]),
            Table(name: "residents", columns: ["id", "household_id", "building_id", "name", "sex", "birth_date", "ethnicity", "relation",
                                               "id_sealed", "id_index", "id_masked", "phone_sealed", "phone_index", "phone_masked",
                                               "address", "registered_address"]),
            Table(name: "resident_tags", columns: ["resident_id", "tag"]),
            Table(name: "organisations", columns: ["id", "grid_id", "building_id", "name", "credit_code", "kind", "address", "contact",
                                                   "contact_phone", "registered_at", "registered_by"]),
        ]
    }

    /// Loads into `database` in one transaction; refuses a database that already holds a county.
    /// With `demoPassword`, the demo accounts are created in the same transaction.
    public static func load(into database: Database, sealer: Sealer, demoPassword: String? = nil,
                            _ body: @escaping @Sendable (NetLoader) async throws -> Void) async throws {
        try await database.transaction { db in
            let existing = try await db.select().column("code").from("regions").where("level", .equal, "county").first()
            if let existing {
                throw StoreError.conflict("数据库中已有县 \(try existing.decode(column: "code", as: String.self)) 的数据 (the database already holds a county)")
            }
            try await Meta.storeKeyCheck(db, sealer: sealer)
            let loader = NetLoader(db: db, sealer: sealer, kind: database.kind)
            try await loader.startIDs()
            do {
                try await body(loader)
                try await loader.finish()
                if let demoPassword {
                    try await DemoAccounts.insert(db, kind: database.kind, password: demoPassword)
                }
                try await AuditLog.append(db, kind: database.kind, actor: .commandLine, action: "net.load",
                                          target: "county", detail: demoPassword == nil ? "" : "with demo accounts")
            } catch {
                // Never roll back under a batch still being written on this connection.
                _ = try? await loader.writing?.value
                throw error
            }
        }
    }

    private func startIDs() async throws {
        for t in tables where t.columns.first == "id" {
            let n = try await db.raw("SELECT COALESCE(MAX(id), 0) AS n FROM \(unsafeRaw: t.name)").first()!
                .decode(column: "n", as: Int64.self)
            nextID[t.name] = n + 1
        }
    }

    private func take(_ t: T) -> Int64 {
        let name = tables[t.rawValue].name
        let id = nextID[name]!
        nextID[name] = id + 1
        return id
    }

    private func append(_ t: T, _ row: [any Encodable & Sendable]) async throws {
        tables[t.rawValue].rows.append(row)
        pending += 1
        if pending >= flushEvery { try await flush() }
    }

    @discardableResult
    public func addRegion(parent: Int64?, code: RegionCode, kind: String, name: String,
                          address: String? = nil, officePhone: String? = nil, boundary: [[Double]]? = nil) async throws -> Int64 {
        let id = take(.regions)
        let boundaryJSON = boundary.map { String(decoding: try! JSONEncoder().encode($0), as: UTF8.self) }
        try await append(.regions, [id, parent, code.level.rawValue, kind, code.value, code.localNumber ?? 0,
                                    name, address, officePhone, boundaryJSON])
        return id
    }

    public func addBuilding(gridID: Int64, number: Int, name: String, address: String, floors: Int, units: Int) async throws -> Int64 {
        let id = take(.buildings)
        try await append(.buildings, [id, gridID, number, name, address, floors, units])
        return id
    }

    public func addHousehold(buildingID: Int64, number: Int, unit: Int, floor: Int, room: String,
                             occupancy: Occupancy = .ownerOccupied) async throws -> Int64 {
        let id = take(.households)
        try await append(.households, [id, buildingID, number, unit, floor, room, occupancy.rawValue])
        return id
    }

    public func addStaff(role: StaffRole, name: String, sex: Sex, workPhone: String, gridID: Int64?, buildingID: Int64?) async throws {
        try await append(.staff, [take(.staff), role.rawValue, name, sex.rawValue, workPhone, gridID, buildingID])
    }

    public func addResident(_ r: ResidentRecord, householdID: Int64, buildingID: Int64) async throws {
        let id = take(.residents)
        let phone = r.phone
        try await append(.residents, [
            id, householdID, buildingID, r.name, r.sex.rawValue, r.birthDate.iso, r.ethnicity, r.relation.rawValue,
            sealer.seal(r.citizenID.value), sealer.blindIndex(r.citizenID.value), r.citizenID.masked,
            phone.map { sealer.seal($0.value) }, phone.map { sealer.blindIndex($0.value) }, phone?.masked,
            r.address, r.registeredAddress,
        ])
        for tag in r.tags { try await append(.tags, [id, tag.rawValue]) }
    }

    public func addOrganisation(gridID: Int64, buildingID: Int64?, name: String, creditCode: CreditCode, kind: OrganisationKind,
                                address: String, contact: String, contactPhone: String) async throws {
        try await append(.organisations, [take(.organisations), gridID, buildingID, name, creditCode.value, kind.rawValue, address,
                                          contact, contactPhone, Timestamp.now(), "seed"])
    }

    /// Hands every buffered row to the writer, parents first, and returns
    /// while it is written so generation and SQLite use both cores.
    public func flush() async throws {
        try await writing?.value
        let batch = tables.filter { !$0.rows.isEmpty }
        for i in tables.indices { tables[i].rows.removeAll(keepingCapacity: true) }
        pending = 0
        guard !batch.isEmpty else { writing = nil; return }
        writing = Self.startWriting(batch, to: db, kind: kind)
    }

    private static func startWriting(_ batch: [Table], to db: any SQLDatabase, kind: DatabaseKind) -> Task<Void, any Error> {
        Task { try await write(batch, to: db, kind: kind) }
    }

    private static func write(_ batch: [Table], to db: any SQLDatabase, kind: DatabaseKind) async throws {
        for t in batch { try await BulkInsert.rows(db, kind: kind, table: t.name, columns: t.columns, t.rows) }
    }

    private func finish() async throws {
        try await flush()
        try await writing?.value
        if kind == .postgres {
            // Ids were assigned here; move each identity sequence past them.
            for t in tables where t.columns.first == "id" {
                try await db.raw("SELECT setval(pg_get_serial_sequence(\(bind: t.name), 'id'), GREATEST((SELECT MAX(id) FROM \(unsafeRaw: t.name)), 1))").run()
            }
        }
    }
}

/// Small facts about the database itself.
enum Meta {
    static func storeKeyCheck(_ db: any SQLDatabase, sealer: Sealer) async throws {
        let existing = try await db.select().column("value").from("meta").where("key", .equal, "seal_key_check").first()
        if existing == nil {
            try await db.insert(into: "meta").columns("key", "value").values(SQLBind("seal_key_check"), SQLBind(sealer.keyCheck)).run()
        }
    }

    /// Refuses a key that did not seal this database's data.
    static func verifyKey(_ database: Database, sealer: Sealer, keyName: String) async throws {
        let row = try await database.reader.select().column("value").from("meta").where("key", .equal, "seal_key_check").first()
        if let stored = try row?.decode(column: "value", as: String.self), stored != sealer.keyCheck {
            throw StoreError.keyMismatch(keyName)
        }
    }
}
