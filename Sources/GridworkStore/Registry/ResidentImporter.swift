import Foundation
import GridworkCore
import SQLKit

/// What an import did.
public struct ImportReport: Sendable, Equatable {
    public var rows = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    /// Known people whose name in the file differs from the registry (updated, and listed in the report file).
    public var conflicts = 0
    /// Rows skipped because an earlier, interrupted run of the same file had written them.
    public var resumedFrom = 0
    public var encoding = ""
    public var unknownHeaders: [String] = []
    /// The CSV listing every rejected or conflicting row with its field and reason; nil when there were none.
    public var reportFile: String?
}

public struct ImportOptions: Sendable {
    public var dryRun = false
    public var batchSize = 5_000
    /// Where to write the rows that need attention (default: beside the file, `….report.csv`).
    public var reportPath: String?
    /// The mapping step: header text → column, for headers not recognised.
    public var mapping: [String: ImportColumn] = [:]
    public var today = CivilDate(year: 2026, month: 1, day: 1)!
    /// Rows whose building lies outside this code are refused (an importer's own scope).
    public var scope: RegionCode?

    public init() {}
}

/// Imports residents from a spreadsheet export: every row validated, sealed
/// and merged by ID number. Batches are atomic and the run's progress is
/// written with each batch, so a killed import resumes where it stopped and
/// re-running a file converges without duplicates.
public struct ResidentImporter: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    private struct Row {
        let number: Int
        let cells: [String]
        let values: [ImportColumn: String]
    }

    private struct Existing {
        let id: Int64
        let name: String
        let ethnicity: String
        let phoneIndex: String?
        let phoneMasked: String?
        let householdID: Int64
        let relation: String
        let address: String
        let registeredAddress: String
        var tags: [ResidentTag] = []
    }

    public func run(file path: String, options: ImportOptions = ImportOptions(), actor: Actor,
                    progress: @Sendable (_ bytesRead: Int, _ bytesTotal: Int, _ rows: Int) -> Void = { _, _, _ in }) async throws -> ImportReport {
        guard let county = try await store.net.county() else { throw StoreError.notFound(what: "县 (county)", key: "-") }
        var file = try ImportFile(path: path)
        guard file.size > 0 else { throw StoreError.invalid(field: path, reason: "文件为空 (the file is empty)") }
        var report = ImportReport()

        // Header and column mapping.
        var header: [String]?
        var queued: [[String]] = []
        while header == nil, let records = try file.next() {
            if let first = records.first { header = first; queued = Array(records.dropFirst()) }
        }
        guard let header else { throw StoreError.invalid(field: path, reason: "文件为空 (the file is empty)") }
        let map = ImportColumn.map(headers: header, overrides: options.mapping)
        report.unknownHeaders = map.unknown
        report.encoding = file.encoding?.rawValue ?? ""
        guard map.missing.isEmpty else {
            throw StoreError.invalid(field: "表头 (header)",
                                     reason: "缺少必需的列:\(map.missing.map(\.label).joined(separator: "、"))" +
                                        (map.unknown.isEmpty ? "" : ";未识别的列:\(map.unknown.joined(separator: "、")),可用 --map 指定") +
                                        " (missing required columns\(map.unknown.isEmpty ? "" : "; unknown headers can be mapped with --map"))")
        }

        // A dry run keeps no run, so it needs no digest (reading the whole file once more).
        let (runID, resumeAfter) = options.dryRun
            ? (Int64(0), 0) : try await startRun(file: path, digest: try ImportFile.digest(path: path), actor: actor)
        report.resumedFrom = resumeAfter
        let net = try await NetIndex.load(store.database)
        var seen: [UInt64: Int] = [:]
        var reportWriter = ReportWriter(path: options.reportPath ?? Self.defaultReportPath(path), header: header)
        var batch: [Row] = []
        var rowNumber = 1 // the header is row 1, as in Excel

        // One batch is written while the next is prepared; batches land in file order.
        var writing: Task<Void, any Error>?
        let store = store, login = actor.login
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let prepared = try await prepare(batch, county: county, net: net, seen: &seen, options: options, skipThrough: resumeAfter,
                                             report: &report, reportWriter: &reportWriter)
            batch.removeAll(keepingCapacity: true)
            try await writing?.value
            if let prepared {
                writing = Task { try await Self.write(prepared, store: store, runID: runID, actor: login) }
            }
            progress(file.bytesRead, file.size, report.rows)
        }

        do {
            var pendingRecords = queued
            while true {
                for cells in pendingRecords {
                    rowNumber += 1
                    var values: [ImportColumn: String] = [:]
                    for (i, column) in map.columns where i < cells.count { values[column] = cells[i] }
                    batch.append(Row(number: rowNumber, cells: cells, values: values))
                    if batch.count >= options.batchSize { try await flush() }
                }
                guard let next = try file.next() else { break }
                pendingRecords = next
            }
            try await flush()
            try await writing?.value
        } catch {
            // Never leave a batch being written behind a failure: it lands or rolls back first.
            _ = try? await writing?.value
            throw error
        }
        if !options.dryRun { try await finishRun(runID) }
        report.reportFile = try reportWriter.close()
        return report
    }

    static func defaultReportPath(_ path: String) -> String {
        (path.hasSuffix(".csv") ? String(path.dropLast(4)) : path) + ".report.csv"
    }

    // MARK: one batch

    /// A row checked and sealed off the database path.
    private struct Checked: Sendable {
        let row: Row
        let result: Result<(person: ImportedResident, index: String, sealedID: String, sealedPhone: String?, phoneIndex: String?), RowProblems>
    }

    /// What one batch will write, prepared while the previous batch is written.
    private struct Prepared: Sendable {
        var residents: [[any Encodable & Sendable]] = []
        var tags: [[String]] = []
        var updates: [(id: Int64, changes: [Change], tags: [ResidentTag]?)] = []
        var lastRow = 0
        var created = 0
        var updated = 0
        var rejected = 0
    }

    /// Validates, seals, de-duplicates, resolves and merges one batch; writes nothing.
    private func prepare(_ rows: [Row], county: RegionCode, net: NetIndex, seen: inout [UInt64: Int], options: ImportOptions,
                         skipThrough: Int, report: inout ImportReport, reportWriter: inout ReportWriter) async throws -> Prepared? {
        let sealer = store.sealer
        let today = options.today
        // Checking and sealing are pure: split them over the cores.
        let parts = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let size = (rows.count + parts - 1) / parts
        let checked: [Checked] = try await withThrowingTaskGroup(of: (Int, [Checked]).self) { group in
            for part in 0..<parts where part * size < rows.count {
                let slice = Array(rows[(part * size)..<min(rows.count, (part + 1) * size)])
                group.addTask {
                    (part, slice.map { row in
                        Checked(row: row, result: ResidentRowValidator.validate(row.values, county: county, today: today).map { p in
                            (p, sealer.blindIndex(p.citizenID.value), sealer.seal(p.citizenID.value),
                             p.phone.map { sealer.seal($0.value) }, p.phone.map { sealer.blindIndex($0.value) })
                        })
                    })
                }
            }
            var out = [[Checked]](repeating: [], count: parts)
            for try await (part, list) in group { out[part] = list }
            return out.flatMap { $0 }
        }

        typealias Accepted = (row: Row, person: ImportedResident, index: String, sealedID: String, sealedPhone: String?, phoneIndex: String?,
                              household: Int64, building: Int64, address: String)
        var accepted: [Accepted] = []
        var rejected: [(Row, [RowProblem])] = []
        for c in checked {
            switch c.result {
            case .failure(let problems): rejected.append((c.row, problems.list))
            case .success(let v):
                let key = UInt64(v.index.prefix(16), radix: 16)!
                if let first = seen[key] {
                    rejected.append((c.row, [RowProblem(.citizenID, "与第\(first)行的身份证号重复 (same ID number as row \(first))")]))
                    continue
                }
                seen[key] = c.row.number
                guard let building = net.buildings[v.person.building.value] else {
                    rejected.append((c.row, [RowProblem(.building, "楼栋\(v.person.building)在本县的网格中不存在 (no such building in the net)")]))
                    continue
                }
                if let scope = options.scope, !v.person.building.isWithin(scope) {
                    rejected.append((c.row, [RowProblem(.building, "楼栋\(v.person.building)不在您的负责范围\(scope)内 (outside your scope)")]))
                    continue
                }
                guard let household = net.households[building.id]?[v.person.room] else {
                    rejected.append((c.row, [RowProblem(.room, "房号“\(v.person.room)”在楼栋\(v.person.building)中不存在 (no such dwelling in the building)")]))
                    continue
                }
                accepted.append((c.row, v.person, v.index, v.sealedID, v.sealedPhone, v.phoneIndex, household, building.id,
                                 building.address + v.person.room))
            }
        }
        // Rows an interrupted run already wrote are checked (for duplicates) but not written again.
        let fresh = accepted.filter { $0.row.number > skipThrough }
        let freshRejected = rejected.filter { $0.0.number > skipThrough }
        report.rows += rows.filter { $0.number > skipThrough }.count
        report.rejected += freshRejected.count
        for (row, problems) in freshRejected { try reportWriter.add(row: row.number, problems: problems, cells: row.cells) }
        guard let lastRow = rows.last?.number, lastRow > skipThrough else { return nil }

        let existing = try await lookUp(fresh.map(\.index))
        var prepared = Prepared(lastRow: lastRow, rejected: freshRejected.count)
        for item in fresh {
            let p = item.person
            guard let old = existing[item.index] else {
                prepared.created += 1
                prepared.residents.append([item.household, item.building, p.name, p.citizenID.sex.rawValue, p.citizenID.birthDate.iso,
                                           p.ethnicity ?? "未填写", (p.relation ?? .other).rawValue, item.sealedID, item.index, p.citizenID.masked,
                                           item.sealedPhone, item.phoneIndex, p.phone?.masked,
                                           p.address ?? item.address, p.registeredAddress ?? p.address ?? item.address])
                prepared.tags.append((p.tags ?? []).map(\.rawValue))
                continue
            }
            let changes = Self.changes(old: old, new: p, household: item.household, building: item.building, address: item.address, sealer: sealer)
            if changes.isEmpty { report.unchanged += 1 } else {
                prepared.updated += 1
                prepared.updates.append((old.id, changes, changes.contains { $0.field == "tags" } ? p.tags : nil))
            }
            if p.name != old.name {
                report.conflicts += 1
                try reportWriter.add(row: item.row.number, problems: [RowProblem(.name, "与登记信息不同:原“\(old.name)”,现“\(p.name)”,已按文件更新 (differs from the registry; updated)")],
                                     cells: item.row.cells)
            }
        }
        report.created += prepared.created
        report.updated += prepared.updated
        return options.dryRun ? nil : prepared
    }

    /// Writes one prepared batch and the run's progress in one transaction.
    private static func write(_ prepared: Prepared, store: Store, runID: Int64, actor: String) async throws {
        let kind = store.database.kind
        let source = "import:\(runID)"
        try await store.database.transaction { db in
            let ids = try await reserveIDs(db, kind: kind, count: prepared.residents.count)
            let now = Timestamp.now()
            var residentRows: [[any Encodable & Sendable]] = []
            var tagRows: [[any Encodable & Sendable]] = []
            var eventRows: [[any Encodable & Sendable]] = []
            residentRows.reserveCapacity(ids.count)
            for (i, id) in ids.enumerated() {
                residentRows.append([id] + prepared.residents[i])
                for tag in prepared.tags[i] { tagRows.append([id, tag]) }
                eventRows.append([id, now, "created", nil as String?, nil as String?, nil as String?, source, actor])
            }
            try await BulkInsert.rows(db, kind: kind, table: "residents", columns: residentColumns, residentRows)
            for u in prepared.updates {
                if u.changes.contains(where: { !$0.set.isEmpty }) {
                    let update = db.update("residents")
                    for c in u.changes { for (column, value) in c.set { update.set(SQLIdentifier(column), to: SQLBind(value)) } }
                    try await update.where("id", .equal, u.id).run()
                }
                for c in u.changes { eventRows.append([u.id, now, "updated", c.field, c.old, c.new, source, actor]) }
                if let tags = u.tags {
                    try await db.delete(from: "resident_tags").where("resident_id", .equal, u.id).run()
                    for tag in tags { tagRows.append([u.id, tag.rawValue]) }
                }
            }
            try await BulkInsert.rows(db, kind: kind, table: "resident_tags", columns: ["resident_id", "tag"], tagRows)
            try await BulkInsert.rows(db, kind: kind, table: "resident_events",
                                      columns: ["resident_id", "at", "kind", "field", "old_value", "new_value", "source", "actor"], eventRows)
            try await db.raw("""
                UPDATE import_runs SET rows_done = \(bind: prepared.lastRow), created = created + \(bind: prepared.created),
                    updated = updated + \(bind: prepared.updated), rejected = rejected + \(bind: prepared.rejected)
                WHERE id = \(bind: runID)
                """).run()
        }
    }

    static let residentColumns = ["id", "household_id", "building_id", "name", "sex", "birth_date", "ethnicity", "relation",
                                  "id_sealed", "id_index", "id_masked", "phone_sealed", "phone_index", "phone_masked",
                                  "address", "registered_address"]

    /// One changed field: the columns it sets and, for the history, its old and new value (masked for phones).
    struct Change {
        let field: String
        let set: [(column: String, value: any Encodable & Sendable)]
        let old: String
        let new: String
    }

    /// The fields the file changes; values the file leaves empty keep the registry's.
    private static func changes(old: Existing, new p: ImportedResident, household: Int64, building: Int64, address: String,
                                sealer: Sealer) -> [Change] {
        var out: [Change] = []
        if p.name != old.name { out.append(Change(field: "name", set: [("name", p.name)], old: old.name, new: p.name)) }
        if let e = p.ethnicity, e != old.ethnicity { out.append(Change(field: "ethnicity", set: [("ethnicity", e)], old: old.ethnicity, new: e)) }
        if let phone = p.phone {
            let index = sealer.blindIndex(phone.value)
            if index != old.phoneIndex {
                out.append(Change(field: "phone", set: [("phone_sealed", sealer.seal(phone.value)), ("phone_index", index), ("phone_masked", phone.masked)],
                                  old: old.phoneMasked ?? "", new: phone.masked))
            }
        }
        if household != old.householdID {
            out.append(Change(field: "household", set: [("household_id", household), ("building_id", building)],
                              old: String(old.householdID), new: String(household)))
        }
        if let r = p.relation, r.rawValue != old.relation {
            out.append(Change(field: "relation", set: [("relation", r.rawValue)], old: old.relation, new: r.rawValue))
        }
        let newAddress = p.address ?? address
        if newAddress != old.address { out.append(Change(field: "address", set: [("address", newAddress)], old: old.address, new: newAddress)) }
        if let reg = p.registeredAddress, reg != old.registeredAddress {
            out.append(Change(field: "registered_address", set: [("registered_address", reg)], old: old.registeredAddress, new: reg))
        }
        // Tags live in their own table; the transaction replaces them.
        if let tags = p.tags, Set(tags) != Set(old.tags) {
            out.append(Change(field: "tags", set: [], old: old.tags.map(\.label).joined(separator: "、"), new: tags.map(\.label).joined(separator: "、")))
        }
        return out
    }

    private func lookUp(_ indexes: [String]) async throws -> [String: Existing] {
        guard !indexes.isEmpty else { return [:] }
        var out: [String: Existing] = [:]
        let rows = try await store.database.reader.select()
            .columns("id", "id_index", "name", "ethnicity", "phone_index", "phone_masked", "household_id", "relation", "address", "registered_address")
            .from("residents").where("id_index", .in, indexes).all()
        for r in rows {
            out[try r.decode(column: "id_index", as: String.self)] = Existing(
                id: try r.decode(column: "id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                ethnicity: try r.decode(column: "ethnicity", as: String.self), phoneIndex: try r.decode(column: "phone_index", as: String?.self),
                phoneMasked: try r.decode(column: "phone_masked", as: String?.self), householdID: try r.decode(column: "household_id", as: Int64.self),
                relation: try r.decode(column: "relation", as: String.self), address: try r.decode(column: "address", as: String.self),
                registeredAddress: try r.decode(column: "registered_address", as: String.self))
        }
        let byID = Dictionary(uniqueKeysWithValues: out.map { ($0.value.id, $0.key) })
        if !byID.isEmpty {
            for r in try await store.database.reader.select().columns("resident_id", "tag").from("resident_tags")
                .where("resident_id", .in, Array(byID.keys)).all() {
                let id = try r.decode(column: "resident_id", as: Int64.self)
                if let index = byID[id], let tag = ResidentTag(rawValue: try r.decode(column: "tag", as: String.self)) {
                    out[index]?.tags.append(tag)
                }
            }
        }
        return out
    }

    static func reserveIDs(_ db: any SQLDatabase, kind: DatabaseKind, count: Int) async throws -> [Int64] {
        guard count > 0 else { return [] }
        if kind == .postgres {
            return try await db.raw("SELECT nextval(pg_get_serial_sequence('residents', 'id')) AS id FROM generate_series(1, \(bind: count))")
                .all().map { try $0.decode(column: "id", as: Int64.self) }
        }
        // SQLite: this transaction holds the only write lock.
        let next = try await db.raw("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM residents").first()!.decode(column: "n", as: Int64.self)
        return (0..<Int64(count)).map { next + $0 }
    }

    // MARK: runs

    /// The latest run of a file, by its digest, for a progress page.
    public struct RunStatus: Sendable, Equatable {
        public let rowsDone: Int
        public let created: Int
        public let updated: Int
        public let rejected: Int
        public let finished: Bool
    }

    public func status(digest: String) async throws -> RunStatus? {
        guard let r = try await store.database.reader.raw("""
            SELECT rows_done, created, updated, rejected, finished_at FROM import_runs
            WHERE file_digest = \(bind: digest) ORDER BY id DESC LIMIT 1
            """).first() else { return nil }
        return RunStatus(rowsDone: try r.decode(column: "rows_done", as: Int.self), created: try r.decode(column: "created", as: Int.self),
                         updated: try r.decode(column: "updated", as: Int.self), rejected: try r.decode(column: "rejected", as: Int.self),
                         finished: try r.decode(column: "finished_at", as: String?.self) != nil)
    }

    /// SHA-256 of a file, the key of its runs.
    public static func digest(of path: String) throws -> String { try ImportFile.digest(path: path) }

    private func startRun(file: String, digest: String, actor: Actor) async throws -> (Int64, Int) {
        let kind = store.database.kind
        return try await store.database.transaction { db in
            if let open = try await db.raw("""
                SELECT id, rows_done FROM import_runs WHERE file_digest = \(bind: digest) AND finished_at IS NULL ORDER BY id DESC LIMIT 1
                """).first() {
                return (try open.decode(column: "id", as: Int64.self), try open.decode(column: "rows_done", as: Int.self))
            }
            let id = try await db.raw("""
                INSERT INTO import_runs (file_name, file_digest, actor, started_at)
                VALUES (\(bind: (file as NSString).lastPathComponent), \(bind: digest), \(bind: actor.login), \(bind: Timestamp.now())) RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await AuditLog.append(db, kind: kind, actor: actor, action: "import.start", target: "import:\(id)",
                                      detail: (file as NSString).lastPathComponent)
            return (id, 0)
        }
    }

    private func finishRun(_ id: Int64) async throws {
        let kind = store.database.kind
        try await store.database.transaction { db in
            try await db.raw("UPDATE import_runs SET finished_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)").run()
            let row = try await db.raw("SELECT created, updated, rejected FROM import_runs WHERE id = \(bind: id)").first()!
            try await AuditLog.append(db, kind: kind, actor: .commandLine, action: "import.finish", target: "import:\(id)",
                                      detail: "created \(try row.decode(column: "created", as: Int.self)), updated \(try row.decode(column: "updated", as: Int.self)), rejected \(try row.decode(column: "rejected", as: Int.self))")
        }
    }
}

/// Buildings and dwellings of the whole net, for resolving rows without a query each.
struct NetIndex: Sendable {
    struct Building: Sendable { let id: Int64; let address: String }
    let buildings: [String: Building]
    let households: [Int64: [String: Int64]]

    static func load(_ database: Database) async throws -> NetIndex {
        var buildings: [String: Building] = [:]
        for r in try await database.reader.raw("SELECT b.id, b.number, b.address, g.code FROM buildings b JOIN regions g ON g.id = b.grid_id").all() {
            let code = try r.decode(column: "code", as: String.self) + String(try r.decode(column: "number", as: Int.self)).leftPadded(3)
            buildings[code] = Building(id: try r.decode(column: "id", as: Int64.self), address: try r.decode(column: "address", as: String.self))
        }
        // Streamed row by row: a county has ~340,000 dwellings, and holding them all as rows first doubled the import's peak memory.
        let households = Accumulator()
        try await database.reader.raw("SELECT id, building_id, room FROM households").run { row in
            guard let id = try? row.decode(column: "id", as: Int64.self), let building = try? row.decode(column: "building_id", as: Int64.self),
                  let room = try? row.decode(column: "room", as: String.self) else { return }
            households.add(building: building, room: room, id: id)
        }
        return NetIndex(buildings: buildings, households: households.take())
    }

    /// Collects rows handed over on the database's threads.
    private final class Accumulator: @unchecked Sendable {
        // Guarded by `lock`.
        private var value: [Int64: [String: Int64]] = [:]
        private let lock = NSLock()

        func add(building: Int64, room: String, id: Int64) {
            lock.lock(); defer { lock.unlock() }
            value[building, default: [:]][room] = id
        }

        func take() -> [Int64: [String: Int64]] {
            lock.lock(); defer { lock.unlock() }
            return value
        }
    }
}

/// The rows that need a person's attention, as a CSV Excel opens (UTF-8 with BOM):
/// row number, field and reason, then the row as it was, ready to fix and re-import.
struct ReportWriter {
    let path: String
    let header: [String]
    private var handle: FileHandle?

    init(path: String, header: [String]) { self.path = path; self.header = header }

    mutating func add(row: Int, problems: [RowProblem], cells: [String]) throws {
        if handle == nil {
            _ = FileManager.default.createFile(atPath: path, contents: Data([0xEF, 0xBB, 0xBF]))
            guard let h = FileHandle(forWritingAtPath: path) else {
                throw StoreError.invalid(field: path, reason: "无法写入报告文件 (cannot write the report file)")
            }
            h.seekToEndOfFile()
            handle = h
            try write(["行号", "字段", "原因"] + header)
        }
        for p in problems { try write([String(row), p.field, p.reason] + cells) }
    }

    private func write(_ cells: [String]) throws {
        try handle?.write(contentsOf: Data((cells.map(SpreadsheetSafety.csvField).joined(separator: ",") + "\r\n").utf8))
    }

    mutating func close() throws -> String? {
        guard let handle else { return nil }
        try handle.close()
        return path
    }
}
