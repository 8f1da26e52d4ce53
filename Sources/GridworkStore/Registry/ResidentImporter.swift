import Foundation
import GridworkCore
import Logging
import NIOCore
import NIOPosix
import PostgresKit
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
    /// SQLite: consecutive batches are committed together until they hold this many rows (see `ImportWriter`).
    public var commitRows = 50_000
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

    private struct Row: Sendable {
        let number: Int
        let cells: [String]
    }

    fileprivate struct Existing: Sendable {
        let id: Int64
        let name: String
        let ethnicity: String
        let phoneIndex: String?
        let phoneMasked: String?
        let householdID: Int64
        let relation: String
        let address: String
        let registeredAddress: String
        let status: ResidentStatus
        /// Building name and room of the dwelling on record, as the history writes places.
        let place: String
        var tags: [ResidentTag] = []
    }

    public func run(file path: String, options: ImportOptions = ImportOptions(), actor: Actor,
                    progress: @Sendable (_ bytesRead: Int, _ bytesTotal: Int, _ rows: Int) -> Void = { _, _, _ in }) async throws -> ImportReport {
        guard let county = try await store.net.county() else { throw StoreError.notFound(what: "县 (county)", key: "-") }
        let file = try ImportFile(path: path)
        guard file.size > 0 else { throw StoreError.invalid(field: path, reason: "文件为空 (the file is empty)") }
        var report = ImportReport()

        // Header and column mapping.
        let reader = BatchReader(file: file, batchSize: options.batchSize)
        guard let header = try reader.header() else { throw StoreError.invalid(field: path, reason: "文件为空 (the file is empty)") }
        let map = ImportColumn.map(headers: header, overrides: options.mapping)
        report.unknownHeaders = map.unknown
        report.encoding = reader.encoding?.rawValue ?? ""
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
        let columns = ImportColumnIndex(map.columns)
        let net = try await NetIndex.load(store.database)
        // Writes go through a connection of the import's own: prepared statements on SQLite, COPY on PostgreSQL.
        // A first load (no residents yet) has no one to merge with but the file's own rows (`seen`), so it looks
        // no one up; and it sets indexes aside, building them once at the end (see `SetAside` for what keeps
        // a person once meanwhile). What a first load that died left set aside is built first.
        if !options.dryRun { try await SetAside.restoreIfAbandoned(store.database) }
        let firstLoad = try await store.database.reader.raw(SQLQueryString(SetAside.anyResident)).first() == nil
        let writer: ImportWriter? = options.dryRun ? nil : try await ImportWriter.open(store.database.location, commitRows: options.commitRows,
                                                                                       firstLoad: firstLoad)
        // Held until what this load sets aside is built again; only one first load runs at a time.
        let claim: SetAside.Claim?
        do { claim = firstLoad && writer != nil ? try await SetAside.Claim.take(store.database.location) : nil } catch {
            await writer?.close()
            throw error
        }
        // A first load looks no one up; any other import looks each batch's people up on a connection of its own.
        let known: Reader?
        do { known = firstLoad ? nil : try await Reader.open(store.database.location) } catch {
            await writer?.close()
            await claim?.release()
            throw error
        }
        var setAside = firstLoad ? SetAside(store.database.kind).drop : [] // run with the first batch written
        // Sized from the file: one row of a typical export is ~250 bytes.
        var seen = SeenIDs(expected: file.size / 256)
        var reportWriter = ReportWriter(path: options.reportPath ?? Self.defaultReportPath(path), header: header)
        var batch: [Row] = []
        var bytesRead = 0

        // A batch is checked and screened, then settled (merged with the people its look-up found) while the
        // next one is checked. Batches are written in file order, each by a task that first waits for the one
        // before; preparing runs up to `Self.writesAhead` batches ahead of the writer, so neither waits for the
        // other batch by batch.
        var screened: Screened? // the batch whose people are being looked up: one more batch held than written
        var newestLookUp: Task<Found, any Error>? // each waits for the one before: awaited, it is the last to use `known`
        var writes: [Task<Void, any Error>] = [] // oldest first
        let login = actor.login
        func flush() async throws {
            guard !batch.isEmpty else { return }
            // Held only here and in `screened`: a batch's rows and checked people are freed once it is settled,
            // before its write waits for an older one (held longer, a first load's peak RSS reached 300 MB).
            var next: Screened? = try await screen(batch, columns: columns, county: county, net: net, seen: &seen, options: options,
                                                   skipThrough: resumeAfter, known: known, after: newestLookUp)
            newestLookUp = next?.found
            batch.removeAll(keepingCapacity: true)
            try await settleAndWrite() // the batch before, looked up meanwhile
            swap(&screened, &next)
            // A first load looks no one up: its batch goes on at once (held, it would only take memory).
            if known == nil { try await settleAndWrite() }
        }
        func settleAndWrite() async throws {
            let prepared: Prepared?
            do {
                guard let batch = screened else { return }
                screened = nil
                prepared = try await self.settle(batch, net: net, options: options, skipThrough: resumeAfter, report: &report,
                                                 reportWriter: &reportWriter)
            }
            if let prepared, let writer {
                if writes.count >= Self.writesAhead { try await writes.removeFirst().value }
                // A failed write fails every write queued after it, unwritten. Staging overlaps the write before.
                let previous = writes.last, first = setAside
                setAside = []
                writes.append(Task {
                    let staged = try await writer.stage(prepared, runID: runID, actor: login)
                    try await previous?.value
                    try await writer.write(staged, runID: runID, actor: login, first: first)
                })
            }
            progress(bytesRead, file.size, report.rows)
        }

        // A dry run (the web wizard's preview) reads and parses the next batch in a task of its own while this
        // one is checked: reading is one task's work, checking every core's, and one after the other left a core
        // idle for the reading's share. An import that writes reads here, between batches: its writer has that
        // core, and reading in a task of its own made a first load no faster and its peak memory higher, past
        // the issue's 300 MB (figures in d44d764 and 04d4e68).
        let overlap = options.dryRun
        var ahead = overlap ? Self.read(reader) : nil
        do {
            while true {
                if let read = ahead {
                    (batch, bytesRead) = try await read.value
                    ahead = nil
                } else {
                    try reader.next(into: &batch) // emptied by `flush`, its capacity kept
                    bytesRead = reader.bytesRead
                }
                guard !batch.isEmpty else { break }
                if overlap { ahead = Self.read(reader) }
                try await flush()
            }
            try await settleAndWrite()
            try await writes.last?.value
            try await writer?.finish()
        } catch {
            _ = try? await ahead?.value // the file is not read on after this returns
            // Never leave a batch being written behind a failure: it lands or rolls back first.
            for write in writes { _ = try? await write.value }
            _ = try? await newestLookUp?.value // no look-up is left using the connection
            await known?.close()
            await writer?.close()
            // Whatever a committed batch set aside is built again now, so a server that goes on running does not
            // query a million rows without it (failing that, the next open does it).
            try? await SetAside.restore(store.database)
            await claim?.release()
            throw error
        }
        await known?.close()
        await writer?.close()
        do { try await SetAside.restore(store.database) } catch {
            await claim?.release()
            throw error
        }
        await claim?.release()
        if !options.dryRun { try await finishRun(runID) }
        report.reportFile = try reportWriter.close()
        return report
    }

    /// The file's rows, the header first, then a batch at a time, by one task at a time: each read is awaited
    /// before the next starts (`read(_:)`). A class, so that what it holds is not copied when the reading task
    /// changes it, as a struct handed to that task and back would be.
    private final class BatchReader: @unchecked Sendable {
        private var file: ImportFile
        private var records: [[String]] = []
        private var nextRecord = 0
        /// The row number of the record read last. Row numbers are Excel's: blank rows (a workbook's gaps, a
        /// CSV's blank lines) are counted, though neither a header nor imported.
        private var rowNumber = 0
        private let batchSize: Int

        init(file: ImportFile, batchSize: Int) {
            self.file = file
            self.batchSize = max(1, batchSize)
        }

        var bytesRead: Int { file.bytesRead }
        var encoding: ImportFile.Encoding? { file.encoding }

        /// The next record, counted; nil at the end of the file.
        private func record() throws -> [String]? {
            while nextRecord == records.count {
                guard let more = try file.next() else { return nil }
                records = more
                nextRecord = 0
            }
            rowNumber += 1
            nextRecord += 1
            return records[nextRecord - 1]
        }

        /// The first row with anything in it (a workbook may start with blank rows); nil for a file of none.
        func header() throws -> [String]? {
            while let cells = try record() { if !ResidentImporter.isBlank(cells) { return cells } }
            return nil
        }

        /// Appends the next batch of rows to `batch`, or fewer at the end of the file; none after it.
        func next(into batch: inout [Row]) throws {
            let end = batch.count + batchSize
            while batch.count < end, let cells = try record() {
                if !ResidentImporter.isBlank(cells) { batch.append(Row(number: rowNumber, cells: cells)) }
            }
        }
    }

    /// Reads `reader`'s next batch in a task of its own.
    private static func read(_ reader: BatchReader) -> Task<(rows: [Row], bytesRead: Int), any Error> {
        Task {
            var rows: [Row] = []
            try reader.next(into: &rows)
            return (rows, reader.bytesRead)
        }
    }

    /// Prepared batches that may wait for the writer (each ~5,000 rows, a few MB).
    static let writesAhead = 2

    static func defaultReportPath(_ path: String) -> String {
        let lower = path.lowercased()
        let stem = lower.hasSuffix(".csv") ? String(path.dropLast(4)) : lower.hasSuffix(".xlsx") ? String(path.dropLast(5)) : path
        return stem + ".report.csv"
    }

    static func isBlank(_ cells: [String]) -> Bool {
        // A row with a cell starting with a visible ASCII byte is not blank: most rows are decided by their first cell.
        for cell in cells { if let b = cell.utf8.first, b > 0x20, b < 0x7F { return false } }
        return cells.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    // MARK: one batch

    /// One part of a batch, checked, sealed and placed on a core of its own. `numbers`, `positions`, `keys`,
    /// `residents` and `people` are parallel: entry i of each is one row, ready to write as a new person.
    /// Rows are kept in plain arrays of concrete types, not wrapped per row: copying wrappers through
    /// generic code (a `Result` per row) had cost more than validating the rows.
    private struct Part: Sendable {
        var numbers: [Int] = []
        /// Where the row is in the batch.
        var positions: [Int] = []
        var keys: [UInt64] = []
        var residents: [NewResident] = []
        /// The row as checked: merging into a known person needs what the file left empty.
        var people: [ImportedResident] = []
        /// Rows refused by their own content, with every reason.
        var refused: [(position: Int, problems: [RowProblem])] = []
        /// Rows with a valid ID number but no place in the net (or outside the importer's scope): their ID
        /// still counts, in file order, for finding the same person twice in a file.
        var misplaced: [(position: Int, key: UInt64, problem: RowProblem)] = []
    }

    /// One new resident, every column ready (the ID is given when the batch is written).
    struct NewResident: Sendable {
        let household: Int64
        let building: Int64
        let name: String
        let sex: String
        let birthDate: String
        let ethnicity: String
        let relation: String
        var idSealed: String
        let idIndex: String
        let idMasked: String
        var phoneSealed: String?
        let phoneIndex: String?
        let phoneMasked: String?
        let address: String
        let registeredAddress: String
        let tags: [String]
    }

    /// A known person's changed fields; `arrival` is the dwelling someone who had moved out comes back to.
    struct Update: Sendable {
        let id: Int64
        let changes: [Change]
        let tags: [ResidentTag]?
        let arrival: Int64?
    }

    /// What one batch will write, prepared while the previous batch is written.
    struct Prepared: Sendable {
        /// The new people, in file order, as the checking tasks made them: each task's array is taken whole
        /// (appending one to another retained and released every string of every person again).
        var newPeople: [[NewResident]] = []
        var residents: FlattenSequence<[[NewResident]]> { newPeople.joined() }
        var updates: [Update] = []
        var lastRow = 0
        var created = 0
        var updated = 0
        var rejected = 0
        /// Rows this batch accounts for (written, merged or refused).
        var rows: Int { created + updates.count + rejected }
    }

    /// A batch checked, and screened against the file's earlier rows, whose people are being looked up in
    /// the registry (and the new ones sealed) beside the checking of the next batch.
    private struct Screened: Sendable {
        let rows: [Row]
        var parts: [Part]
        /// Per part: rows not to be written as new people (the same person again, or written by an interrupted run).
        var dropped: [Set<Int>]
        /// Rows refused, with every reason, in file order.
        let rejected: [(position: Int, problems: [RowProblem])]
        let found: Task<Found, any Error>
    }

    /// What a batch's look-up found: the known people by blind ID index; and, per part and row, the sealed ID
    /// number and phone of each new person (when not sealed while checking).
    private struct Found: Sendable {
        var existing: [String: Existing] = [:]
        var sealed: [[Int: (id: String, phone: String?)]] = []
    }

    /// Checks one batch and screens it against the file's earlier rows, then starts looking its people up
    /// (after the look-up `previous`: one at a time on the import's connection). Writes nothing.
    private func screen(_ rows: [Row], columns: ImportColumnIndex, county: RegionCode, net: NetIndex, seen: inout SeenIDs,
                        options: ImportOptions, skipThrough: Int, known: Reader?, after previous: Task<Found, any Error>?) async throws -> Screened {
        let sealer = store.sealer
        let today = options.today, scope = options.scope
        // Checking, sealing and placing are pure: split them over the cores. Only new people are sealed: when
        // no one is looked up (a first load) everyone is new and is sealed here, on the cores; otherwise after
        // the look-up, so re-running a file spends no time (and no random nonces) on people already known.
        let sealEarly = known == nil && !options.dryRun
        let count = max(1, min(16, 4 * ProcessInfo.processInfo.activeProcessorCount))
        let size = (rows.count + count - 1) / count
        let parts: [Part] = try await withThrowingTaskGroup(of: (Int, Part).self) { group in
            for index in 0..<count where index * size < rows.count {
                let range = (index * size)..<min(rows.count, (index + 1) * size)
                group.addTask {
                    (index, Self.check(rows, range, columns: columns, county: county, today: today, net: net, scope: scope, sealer: sealer, seal: sealEarly))
                }
            }
            var out = [Part](repeating: Part(), count: count)
            for try await (index, part) in group { out[index] = part }
            return out
        }

        // The same person twice in the file, in file order; then the rows an interrupted run already wrote
        // (checked for duplicates, not written again).
        var rejected: [(position: Int, problems: [RowProblem])] = []
        var dropped = [Set<Int>](repeating: [], count: parts.count)
        for (p, part) in parts.enumerated() {
            rejected += part.refused
            var c = 0, m = 0
            while c < part.numbers.count || m < part.misplaced.count {
                if m < part.misplaced.count, c == part.numbers.count || part.misplaced[m].position < part.positions[c] {
                    let row = part.misplaced[m]
                    m += 1
                    let first = seen.insert(row.key, row: rows[row.position].number)
                    rejected.append((row.position, [first.map(Self.duplicate(of:)) ?? row.problem]))
                } else {
                    if let first = seen.insert(part.keys[c], row: part.numbers[c]) {
                        rejected.append((part.positions[c], [Self.duplicate(of: first)]))
                        dropped[p].insert(c)
                    } else if part.numbers[c] <= skipThrough {
                        dropped[p].insert(c)
                    }
                    c += 1
                }
            }
        }
        rejected.sort { $0.position < $1.position }

        let sealLate = !sealEarly && !options.dryRun, undropped = dropped
        let found = Task { () async throws -> Found in
            _ = try? await previous?.value
            var found = Found()
            if let known {
                var indexes: [String] = []
                for (p, part) in parts.enumerated() {
                    for (c, resident) in part.residents.enumerated() where !undropped[p].contains(c) { indexes.append(resident.idIndex) }
                }
                found.existing = try await known.lookUp(indexes)
            }
            guard sealLate else { return found }
            let sealing = sealer.bulk()
            for (p, part) in parts.enumerated() {
                var sealed: [Int: (id: String, phone: String?)] = [:]
                for (c, resident) in part.residents.enumerated() where !undropped[p].contains(c) && found.existing[resident.idIndex] == nil {
                    sealed[c] = (sealing.seal(part.people[c].citizenID.value), part.people[c].phone.map { sealing.seal($0.value) })
                }
                found.sealed.append(sealed)
            }
            return found
        }
        return Screened(rows: rows, parts: parts, dropped: dropped, rejected: rejected, found: found)
    }

    /// Reports a screened batch's refused rows, and once its look-up is done merges the rows of people the
    /// registry knows: what is left is new people. Writes nothing.
    private func settle(_ batch: Screened, net: NetIndex, options: ImportOptions, skipThrough: Int, report: inout ImportReport,
                        reportWriter: inout ReportWriter) async throws -> Prepared? {
        var batch = batch
        let rows = batch.rows
        let found = try await batch.found.value
        var freshRejected = 0
        for (position, problems) in batch.rejected where rows[position].number > skipThrough {
            freshRejected += 1
            try reportWriter.add(row: rows[position].number, problems: problems, cells: rows[position].cells)
        }
        report.rows += rows.reduce(0) { $0 + ($1.number > skipThrough ? 1 : 0) }
        report.rejected += freshRejected
        guard let lastRow = rows.last?.number, lastRow > skipThrough else { return nil }

        var prepared = Prepared(lastRow: lastRow, rejected: freshRejected)
        if !found.existing.isEmpty {
            for (p, part) in batch.parts.enumerated() {
                for (c, resident) in part.residents.enumerated() where !batch.dropped[p].contains(c) {
                    guard let old = found.existing[resident.idIndex] else { continue }
                    batch.dropped[p].insert(c)
                    try merge(part.people[c], as: resident, into: old, row: rows[part.positions[c]], net: net, prepared: &prepared,
                              report: &report, reportWriter: &reportWriter)
                }
            }
        }
        for (p, sealed) in found.sealed.enumerated() {
            for (c, values) in sealed {
                batch.parts[p].residents[c].idSealed = values.id
                batch.parts[p].residents[c].phoneSealed = values.phone
            }
        }
        // Everyone else is new: the parts' arrays are taken whole when nothing was dropped (the usual case).
        for (p, part) in batch.parts.enumerated() {
            let dropped = batch.dropped[p]
            prepared.newPeople.append(dropped.isEmpty ? part.residents
                                      : part.residents.indices.filter { !dropped.contains($0) }.map { part.residents[$0] })
            prepared.created += prepared.newPeople[p].count
        }
        report.created += prepared.created
        report.updated += prepared.updated
        return options.dryRun ? nil : prepared
    }

    static func duplicate(of first: Int) -> RowProblem {
        RowProblem(.citizenID, "与第\(first)行的身份证号重复 (same ID number as row \(first))")
    }

    /// Checks, seals and places `rows[range]` (one task's share of a batch).
    private static func check(_ rows: [Row], _ range: Range<Int>, columns: ImportColumnIndex, county: RegionCode, today: CivilDate,
                              net: NetIndex, scope: RegionCode?, sealer: Sealer, seal: Bool) -> Part {
        let sealing = seal ? sealer.bulk() : nil
        var memo = ResidentRowValidator.Memo()
        var part = Part()
        part.numbers.reserveCapacity(range.count); part.positions.reserveCapacity(range.count); part.keys.reserveCapacity(range.count)
        part.residents.reserveCapacity(range.count); part.people.reserveCapacity(range.count)
        for position in range {
            let p: ImportedResident
            switch ResidentRowValidator.validate(cells: rows[position].cells, index: columns, county: county, today: today, memo: &memo) {
            case .failure(let problems): part.refused.append((position, problems.list)); continue
            case .success(let checked): p = checked
            }
            let (index, key) = sealer.blindIndexAndKey(p.citizenID.value)
            guard let building = net.buildings[p.building.value] else {
                part.misplaced.append((position, key, RowProblem(.building, "楼栋\(p.building)在本县的网格中不存在 (no such building in the net)")))
                continue
            }
            if let scope, !p.building.isWithin(scope) {
                part.misplaced.append((position, key, RowProblem(.building, "楼栋\(p.building)不在您的负责范围\(scope)内 (outside your scope)")))
                continue
            }
            guard let household = net.household(building: building.id, room: p.room) else {
                part.misplaced.append((position, key, RowProblem(.room, "房号“\(p.room)”在楼栋\(p.building)中不存在 (no such dwelling in the building)")))
                continue
            }
            let address = p.address ?? building.address + p.room
            part.numbers.append(rows[position].number)
            part.positions.append(position)
            part.keys.append(key)
            part.residents.append(NewResident(
                household: household, building: building.id, name: p.name, sex: p.sex.rawValue, birthDate: p.birthDate.iso,
                ethnicity: p.ethnicity ?? "未填写", relation: (p.relation ?? .other).rawValue, idSealed: sealing?.seal(p.citizenID.value) ?? "",
                idIndex: index, idMasked: p.citizenID.masked, phoneSealed: sealing.flatMap { s in p.phone.map { s.seal($0.value) } },
                phoneIndex: p.phone.map { sealer.blindIndex($0.value) }, phoneMasked: p.phone?.masked, address: address,
                registeredAddress: p.registeredAddress ?? address, tags: (p.tags ?? []).map(\.rawValue)))
            part.people.append(p)
        }
        return part
    }

    /// A row for a person the registry knows: their changed fields, with history (or a refusal for the dead).
    private func merge(_ p: ImportedResident, as resident: NewResident, into old: Existing, row: Row, net: NetIndex,
                       prepared: inout Prepared, report: inout ImportReport, reportWriter: inout ReportWriter) throws {
        // The registry's own rule (as for a move-in recorded by hand): the dead do not come back by import.
        if old.status == .deceased {
            let problems = [RowProblem(.citizenID, "此人已登记死亡,如有误请先在居民页核实 (recorded as deceased)")]
            report.rejected += 1
            prepared.rejected += 1
            try reportWriter.add(row: row.number, problems: problems, cells: row.cells)
            return
        }
        // The row was placed, so its building is in the net.
        let building = net.buildings[p.building.value]!
        let changes = Self.changes(old: old, new: p, household: resident.household, building: resident.building,
                                   address: building.address + p.room, place: building.name + p.room, sealer: store.sealer)
        if changes.isEmpty { report.unchanged += 1 } else {
            prepared.updated += 1
            prepared.updates.append(Update(id: old.id, changes: changes, tags: changes.contains { $0.field == "tags" } ? p.tags : nil,
                                           arrival: old.status == .movedOut ? resident.household : nil))
        }
        if p.name != old.name {
            report.conflicts += 1
            try reportWriter.add(row: row.number, problems: [RowProblem(.name, "与登记信息不同:原“\(old.name)”,现“\(p.name)”,已按文件更新 (differs from the registry; updated)")],
                                 cells: row.cells)
        }
    }

    static let residentColumns = ["id", "household_id", "building_id", "name", "sex", "birth_date", "ethnicity", "relation",
                                  "id_sealed", "id_index", "id_masked", "phone_sealed", "phone_index", "phone_masked",
                                  "address", "registered_address"]
    static let eventColumns = ["resident_id", "at", "kind", "field", "old_value", "new_value", "source", "actor"]

    /// One changed field: the columns it sets and, for the history, its old and new value (masked for phones).
    /// A person who had moved out and is back is one `moved_in` event (no field), as when recorded by hand.
    struct Change: Sendable {
        var kind = "updated"
        let field: String?
        let set: [(column: String, value: RawValue)]
        let old: String
        let new: String
    }

    /// The fields the file changes; values the file leaves empty keep the registry's.
    private static func changes(old: Existing, new p: ImportedResident, household: Int64, building: Int64, address: String,
                                place: String, sealer: Sealer) -> [Change] {
        var out: [Change] = []
        let newAddress = p.address ?? address
        // Back from elsewhere: present again, in the file's dwelling, with where they were and where they are now.
        let returning = old.status == .movedOut
        if returning {
            out.append(Change(kind: LifeEvent.moveIn.kind, field: nil,
                              set: [("status", .text(ResidentStatus.present.rawValue)), ("household_id", .int(household)),
                                    ("building_id", .int(building)), ("address", .text(newAddress))],
                              old: "\(ResidentStatus.movedOut.label) · \(old.place)", new: place))
        }
        if p.name != old.name { out.append(Change(field: "name", set: [("name", .text(p.name))], old: old.name, new: p.name)) }
        if let e = p.ethnicity, e != old.ethnicity { out.append(Change(field: "ethnicity", set: [("ethnicity", .text(e))], old: old.ethnicity, new: e)) }
        if let phone = p.phone {
            let index = sealer.blindIndex(phone.value)
            if index != old.phoneIndex {
                out.append(Change(field: "phone", set: [("phone_sealed", .text(sealer.seal(phone.value))), ("phone_index", .text(index)),
                                                        ("phone_masked", .text(phone.masked))],
                                  old: old.phoneMasked ?? "", new: phone.masked))
            }
        }
        if !returning, household != old.householdID {
            out.append(Change(field: "household", set: [("household_id", .int(household)), ("building_id", .int(building))],
                              old: String(old.householdID), new: String(household)))
        }
        if let r = p.relation, r.rawValue != old.relation {
            out.append(Change(field: "relation", set: [("relation", .text(r.rawValue))], old: old.relation, new: r.rawValue))
        }
        if !returning, newAddress != old.address { out.append(Change(field: "address", set: [("address", .text(newAddress))], old: old.address, new: newAddress)) }
        if let reg = p.registeredAddress, reg != old.registeredAddress {
            out.append(Change(field: "registered_address", set: [("registered_address", .text(reg))], old: old.registeredAddress, new: reg))
        }
        // Tags live in their own table; the transaction replaces them.
        if let tags = p.tags, Set(tags) != Set(old.tags) {
            out.append(Change(field: "tags", set: [], old: old.tags.map(\.label).joined(separator: "、"), new: tags.map(\.label).joined(separator: "、")))
        }
        return out
    }

    /// A connection of the import's own for reading, past SQLKit's rows (decoding by column name had been a
    /// fifth of the CPU of re-importing a file of known people on SQLite, and most of it on PostgreSQL): where
    /// the net's dwellings are loaded, and where an import that is not a first load finds the people it already
    /// knows, by blind ID index, with their tags. Used by one query at a time.
    fileprivate enum Reader: Sendable {
        case sqlite(RawSQLite)
        case postgres(PostgresConnection)

        static func open(_ location: DatabaseLocation) async throws -> Reader {
            switch location {
            case .sqlite(let path): .sqlite(try RawSQLite(path: path, cacheKiB: 8_192))
            case .postgres(let url): .postgres(try await ImportWriter.connect(url, id: 4))
            }
        }

        func close() async {
            switch self {
            case .sqlite(let db): db.close()
            case .postgres(let c): try? await c.close()
            }
        }

        /// Every dwelling of the net, by building and room.
        func dwellings() async throws -> [NetIndex.Dwelling: Int64] {
            // Sized first: growing to ~340,000 entries rehashed it a dozen times.
            let count = "SELECT COUNT(*) FROM households", sql = "SELECT id, building_id, room FROM households"
            switch self {
            case .sqlite(let db):
                return try await NIOThreadPool.singleton.runIfActive {
                    var map = [NetIndex.Dwelling: Int64](minimumCapacity: Int(try db.int(count) ?? 0))
                    try db.query(sql) { c in map[NetIndex.Dwelling(building: c.int(1), room: c.text(2) ?? "")] = c.int(0) }
                    return map
                }
            case .postgres(let c):
                var size = 0
                for try await n in try await c.query(PostgresQuery(unsafeSQL: count), logger: ImportWriter.logger).decode(Int64.self) { size = Int(n) }
                var map = [NetIndex.Dwelling: Int64](minimumCapacity: size)
                for try await row in try await c.query(PostgresQuery(unsafeSQL: sql), logger: ImportWriter.logger) {
                    var cells = PostgresCells(row)
                    let id = try cells.int(), building = try cells.int()
                    map[NetIndex.Dwelling(building: building, room: try cells.string())] = id
                }
                return map
            }
        }

        static let columns = """
            SELECT r.id, r.id_index, r.name, r.ethnicity, r.phone_index, r.phone_masked, r.household_id, r.relation, r.address,
                r.registered_address, r.status, b.name || h.room AS place
            FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
            """

        func lookUp(_ indexes: [String]) async throws -> [String: Existing] {
            guard !indexes.isEmpty else { return [:] }
            switch self {
            case .sqlite(let db):
                // One bind for the whole batch (a JSON array), not thousands: the statement stays small.
                let list = ResidentImporter.jsonArray(indexes)
                return try await NIOThreadPool.singleton.runIfActive {
                    var rows = Rows()
                    try db.query("\(Self.columns) WHERE r.id_index IN (SELECT value FROM json_each(?))", [.text(list)]) { c in
                        rows.add(c.int(0), c.text(1) ?? "", c.text(2) ?? "", c.text(3) ?? "", c.text(4), c.text(5), c.int(6), c.text(7) ?? "",
                                  c.text(8) ?? "", c.text(9) ?? "", c.text(10) ?? "", c.text(11) ?? "")
                    }
                    guard !rows.byID.isEmpty else { return rows.people }
                    let ids = "[" + rows.byID.keys.map(String.init).joined(separator: ",") + "]"
                    try db.query("SELECT resident_id, tag FROM resident_tags WHERE resident_id IN (SELECT value FROM json_each(?))",
                                 [.text(ids)]) { c in rows.tag(c.int(0), c.text(1) ?? "") }
                    return rows.people
                }
            case .postgres(let c):
                var rows = Rows()
                // `IN (SELECT unnest(…))`, not `= ANY(…)`: with statistics the planner took the array for a large
                // set and hash-joined every household (170 ms a batch of 5,000 against 30 ms).
                var query = PostgresQuery(unsafeSQL: "\(Self.columns) WHERE r.id_index IN (SELECT unnest($1::text[]))")
                query.binds.append(indexes, context: .default)
                for try await row in try await c.query(query, logger: ImportWriter.logger) {
                    var cells = PostgresCells(row)
                    rows.add(try cells.int(), try cells.string(), try cells.string(), try cells.string(), try cells.text(), try cells.text(),
                             try cells.int(), try cells.string(), try cells.string(), try cells.string(), try cells.string(), try cells.string())
                }
                guard !rows.byID.isEmpty else { return rows.people }
                var tags = PostgresQuery(unsafeSQL: "SELECT resident_id, tag FROM resident_tags WHERE resident_id = ANY($1)")
                tags.binds.append(Array(rows.byID.keys), context: .default)
                for try await (id, tag) in try await c.query(tags, logger: ImportWriter.logger).decode((Int64, String).self) { rows.tag(id, tag) }
                return rows.people
            }
        }

        /// The people found, by blind ID index, and the index of each by id (for their tags).
        private struct Rows {
            var people: [String: Existing] = [:]
            var byID: [Int64: String] = [:]

            mutating func add(_ id: Int64, _ index: String, _ name: String, _ ethnicity: String, _ phoneIndex: String?, _ phoneMasked: String?,
                              _ household: Int64, _ relation: String, _ address: String, _ registered: String, _ status: String, _ place: String) {
                byID[id] = index
                people[index] = Existing(id: id, name: name, ethnicity: ethnicity, phoneIndex: phoneIndex, phoneMasked: phoneMasked,
                                         householdID: household, relation: relation, address: address, registeredAddress: registered,
                                         status: ResidentStatus(rawValue: status) ?? .present, place: place)
            }

            mutating func tag(_ id: Int64, _ tag: String) {
                if let index = byID[id], let tag = ResidentTag(rawValue: tag) { people[index]?.tags.append(tag) }
            }
        }
    }

    /// Blind indexes (hex) as a JSON array.
    static func jsonArray(_ hex: [String]) -> String {
        var out = "["
        out.reserveCapacity(hex.count * 35 + 2)
        for (i, h) in hex.enumerated() { if i > 0 { out += "," }; out += "\""; out += h; out += "\"" }
        return out + "]"
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

/// The ID numbers (blind-index keys) met so far in a file and the row of each, for reporting duplicates.
/// An open-addressing table of two flat arrays: a county's million keys take ~18 MB here against ~48 MB
/// at the peak of a `[UInt64: Int]` (16-byte entries, power-of-two growth that holds both tables).
/// Keys are HMAC output, uniformly spread: their high bits pick the slot.
struct SeenIDs {
    private var keys: [UInt64]
    /// Row number + 1 (0: empty slot), so a key of 0 needs no special case.
    private var rows: [UInt32]
    private(set) var count = 0

    init(expected: Int) {
        let capacity = max(1_024, expected + expected / 2)
        keys = [UInt64](repeating: 0, count: capacity)
        rows = [UInt32](repeating: 0, count: capacity)
    }

    /// Records `key` at `row`; returns the row it was first seen at, if it was.
    mutating func insert(_ key: UInt64, row: Int) -> Int? {
        if (count + 1) * 5 > keys.count * 4 { grow() } // at most 80 % full: probes stay short
        var i = slot(key, keys.count)
        while rows[i] != 0 {
            if keys[i] == key { return Int(rows[i]) - 1 }
            i = i + 1 == keys.count ? 0 : i + 1
        }
        keys[i] = key
        rows[i] = UInt32(truncatingIfNeeded: row + 1)
        count += 1
        return nil
    }

    private func slot(_ key: UInt64, _ capacity: Int) -> Int { Int(key.multipliedFullWidth(by: UInt64(capacity)).high) }

    private mutating func grow() {
        let capacity = keys.count + keys.count / 2
        var newKeys = [UInt64](repeating: 0, count: capacity), newRows = [UInt32](repeating: 0, count: capacity)
        for j in 0..<keys.count where rows[j] != 0 {
            var i = slot(keys[j], capacity)
            while newRows[i] != 0 { i = i + 1 == capacity ? 0 : i + 1 }
            newKeys[i] = keys[j]; newRows[i] = rows[j]
        }
        keys = newKeys; rows = newRows
    }
}

/// Buildings and dwellings of the whole net, for resolving rows without a query each.
struct NetIndex: Sendable {
    struct Building: Sendable { let id: Int64; let name: String; let address: String }
    struct Dwelling: Hashable, Sendable { let building: Int64; let room: String }
    let buildings: [String: Building]
    /// One flat table (not a table per building): a county has ~340,000 dwellings.
    let households: [Dwelling: Int64]

    func household(building: Int64, room: String) -> Int64? { households[Dwelling(building: building, room: room)] }

    static func load(_ database: Database) async throws -> NetIndex {
        var buildings: [String: Building] = [:]
        for r in try await database.reader.raw("SELECT b.id, b.number, b.name, b.address, g.code FROM buildings b JOIN regions g ON g.id = b.grid_id").all() {
            let code = try r.decode(column: "code", as: String.self) + String(try r.decode(column: "number", as: Int.self)).leftPadded(3)
            buildings[code] = Building(id: try r.decode(column: "id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                                       address: try r.decode(column: "address", as: String.self))
        }
        // Read on a connection of the import's own: decoding ~340,000 rows by column name through SQLKit took
        // longer than anything else before the file's first row was read.
        let reader = try await ResidentImporter.Reader.open(database.location)
        let households: [Dwelling: Int64]
        do { households = try await reader.dwellings() } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return NetIndex(buildings: buildings, households: households)
    }
}

/// The import's own connection for writing batches: a plain `sqlite3` handle with
/// prepared statements, or a PostgreSQL connection that loads rows with `COPY`.
/// Each batch, with the run's progress, is one transaction.
final class ImportWriter: Sendable {
    private enum Connection: @unchecked Sendable {
        case sqlite(RawSQLite)
        /// Batches are written on the first connection; ids are reserved on the second, while a batch is
        /// written (a sequence stands outside transactions), from the residents' id sequence (its OID, looked up once).
        case postgres(PostgresConnection, ids: PostgresConnection, sequence: Int64)
    }

    private let connection: Connection
    /// Whether this import is a first load (it sets indexes aside); any other refuses to write while one runs.
    private let firstLoad: Bool
    /// SQLite: batches share a transaction until this many rows are in it. Every commit rewrites each index page
    /// it touched, and the ID and phone indexes are touched at random, so few large commits cost far less than
    /// many small ones. The run's progress is written in the same transaction, so a killed import still resumes
    /// exactly after the last commit.
    private let commitRows: Int
    private let pending = PendingRows()
    private let untrimmed = PendingRows()
    private final class PendingRows: @unchecked Sendable { var rows = 0 } // only touched by the one write in flight
    static let logger = Logger(label: "gridwork.import", factory: { _ in SwiftLogNoOpLogHandler() })

    private init(_ connection: Connection, commitRows: Int, firstLoad: Bool) {
        self.connection = connection; self.commitRows = commitRows; self.firstLoad = firstLoad
    }

    static func open(_ location: DatabaseLocation, commitRows: Int, firstLoad: Bool) async throws -> ImportWriter {
        switch location {
        case .sqlite(let path):
            // Page cache: random inserts into the ID and phone indexes re-read and spill pages when it is small (at
            // 16 MB sys time doubled on 1.01 M rows), so 24 MB. A first load has both set aside and only appends
            // (rows, history, tags all in id order): 8 MB, leaving room under the 300 MB target for batches in flight.
            let cache = firstLoad ? 8_192 : 24_576
            return ImportWriter(.sqlite(try RawSQLite(path: path, cacheKiB: cache)), commitRows: commitRows, firstLoad: firstLoad)
        case .postgres(let url):
            let c = try await connect(url, id: 1)
            let ids: PostgresConnection
            do { ids = try await connect(url, id: 2) } catch {
                try? await c.close()
                throw error
            }
            do {
                var sequence: Int64 = 0
                for try await oid in try await c.query("SELECT pg_get_serial_sequence('residents', 'id')::regclass::oid::bigint", logger: logger)
                    .decode(Int64.self) { sequence = oid }
                return ImportWriter(.postgres(c, ids: ids, sequence: sequence), commitRows: commitRows, firstLoad: firstLoad)
            } catch {
                try? await c.close()
                try? await ids.close()
                throw error
            }
        }
    }

    /// A connection of the import's own, outside the store's pool.
    static func connect(_ url: String, id: Int) async throws -> PostgresConnection {
        try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(),
                                             configuration: try SQLPostgresConfiguration(url: url).coreConfiguration, id: id, logger: logger)
    }

    /// Commits what is written so far (SQLite keeps a transaction open across batches).
    func finish() async throws {
        if case .sqlite(let db) = connection { try await NIOThreadPool.singleton.runIfActive { try db.commit() } }
    }

    /// Closes the connection; an open transaction is rolled back.
    func close() async {
        switch connection {
        case .sqlite(let db): try? await NIOThreadPool.singleton.runIfActive { db.rollback(); db.close() }
        case .postgres(let c, let ids, _): try? await c.close(); try? await ids.close()
        }
    }

    /// glibc's `malloc_trim` (not in Swift's Glibc module), looked up once; nil on other C libraries.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static let insertResident = "INSERT INTO residents (\(ResidentImporter.residentColumns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: 16).joined(separator: ", ")))"
    static let insertEvent = "INSERT INTO resident_events (\(ResidentImporter.eventColumns.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    static let insertTag = "INSERT INTO resident_tags (resident_id, tag) VALUES (?, ?)"
    static let createdEvents = """
        INSERT INTO resident_events (\(ResidentImporter.eventColumns.joined(separator: ", ")))
        SELECT id, ?1, 'created', NULL, NULL, NULL, ?2, ?3 FROM residents WHERE id >= ?4 AND id < ?5 ORDER BY id
        """
    /// The same on PostgreSQL, whose ids come from a sequence others use too: from the batch's ids as one array.
    static let createdEventsOfIDs = """
        INSERT INTO resident_events (\(ResidentImporter.eventColumns.joined(separator: ", ")))
        SELECT unnest($1::bigint[]), $2, 'created', NULL, NULL, NULL, $3, $4
        """
    /// A vacant dwelling someone moves back into is lived in again (as `RegistryStore.recordArrival` does).
    static let reoccupy = "UPDATE households SET occupancy = 'owner_occupied' WHERE id = ? AND occupancy = 'vacant'"
    static let progress = """
        UPDATE import_runs SET rows_done = ?, created = created + ?, updated = updated + ?, rejected = rejected + ? WHERE id = ?
        """
    static let deleteTags = "DELETE FROM resident_tags WHERE resident_id = ?"

    /// A known person's changed columns.
    static func update(_ sets: [(column: String, value: RawValue)], id: Int64) -> (sql: String, values: [RawValue]) {
        ("UPDATE residents SET \(sets.map { "\($0.column) = ?" }.joined(separator: ", ")) WHERE id = ?", sets.map(\.value) + [.int(id)])
    }

    static func progressValues(_ prepared: ResidentImporter.Prepared, runID: Int64) -> [RawValue] {
        [.int(Int64(prepared.lastRow)), .int(Int64(prepared.created)), .int(Int64(prepared.updated)), .int(Int64(prepared.rejected)), .int(runID)]
    }

    /// A batch made ready before its turn to write. On PostgreSQL its ids are reserved and its COPY text
    /// built while the batch before it is still being written, so our work and the server's overlap. On
    /// SQLite there is nothing to do before: its writes bind each value as they go.
    struct Staged: Sendable {
        let prepared: ResidentImporter.Prepared
        var copies: [(table: String, columns: [String], text: ByteBuffer)] = []
        /// PostgreSQL: the new people's ids, for their created events (`createdEventsOfIDs`, not a COPY row each),
        /// and when the batch was staged (its update events carry the same time).
        var created: [Int64] = []
        var at = ""
    }

    func stage(_ prepared: ResidentImporter.Prepared, runID: Int64, actor: String) async throws -> Staged {
        guard case .postgres(_, let ids, let sequence) = connection else { return Staged(prepared: prepared) }
        return try await Self.stage(prepared, ids: ids, sequence: sequence, source: "import:\(runID)", actor: actor)
    }

    /// Writes one staged batch and the run's progress in one transaction, after the statements `first`
    /// (a first load's `SetAside.drop`, with its first batch).
    func write(_ staged: Staged, runID: Int64, actor: String, first: [String] = []) async throws {
        let source = "import:\(runID)", prepared = staged.prepared
        switch connection {
        case .sqlite(let db):
            let pending = pending, commitRows = commitRows, firstLoad = firstLoad
            try await NIOThreadPool.singleton.runIfActive {
                try db.within {
                    if !first.isEmpty, try db.int(ResidentImporter.SetAside.anyResident) != nil { throw ResidentImporter.SetAside.someoneRegistered }
                    for sql in first { try db.exec(sql) }
                    try Self.write(prepared, db: db, runID: runID, source: source, actor: actor)
                    // Asked after writing, as a hand registration does (see the PostgreSQL writer).
                    if !firstLoad, try db.int(ResidentImporter.SetAside.recordedAny) != nil { throw ResidentImporter.SetAside.duringFirstLoad }
                }
                pending.rows += prepared.rows
                if pending.rows >= commitRows { try db.commit(); pending.rows = 0 }
            }
            trimNow(after: prepared)
        case .postgres(let c, _, _):
            try await Self.write(staged, connection: c, runID: runID, actor: actor, first: first, firstLoad: firstLoad)
            trimNow(after: prepared)
        }
    }

    /// Every ~20,000 rows, hands the memory freed since back to the system. Batches are built on the
    /// cooperative threads and freed on the writer's, so glibc's per-thread arenas keep growing with
    /// free holes the next batch does not fit: on 1.01 M rows the peak RSS was ~40 MB higher without this.
    /// A trim takes a few milliseconds.
    private func trimNow(after prepared: ResidentImporter.Prepared) {
        untrimmed.rows += prepared.rows
        guard untrimmed.rows >= 20_000 else { return }
        untrimmed.rows = 0
        _ = Self.mallocTrim?(0)
    }

    private static func write(_ prepared: ResidentImporter.Prepared, db: RawSQLite, runID: Int64, source: String, actor: String) throws {
        do {
            let now = Timestamp.now()
            // This transaction holds the only write lock.
            var id = try db.int("SELECT COALESCE(MAX(id), 0) + 1 FROM residents") ?? 1
            for r in prepared.residents {
                try db.run(insertResident, count: 16) { bind in
                    bind(1, .int(id)); bind(2, .int(r.household)); bind(3, .int(r.building)); bind(4, .text(r.name))
                    bind(5, .text(r.sex)); bind(6, .text(r.birthDate)); bind(7, .text(r.ethnicity)); bind(8, .text(r.relation))
                    bind(9, .text(r.idSealed)); bind(10, .text(r.idIndex)); bind(11, .text(r.idMasked)); bind(12, .text(r.phoneSealed))
                    bind(13, .text(r.phoneIndex)); bind(14, .text(r.phoneMasked)); bind(15, .text(r.address)); bind(16, .text(r.registeredAddress))
                }
                for tag in r.tags { try db.run(insertTag, [[.int(id), .text(tag)]]) }
                id += 1
            }
            // Each new person's "created" event, in one statement over the ids just given (not a step per person).
            if prepared.created > 0 {
                try db.run(createdEvents, [[.text(now), .text(source), .text(actor), .int(id - Int64(prepared.created)), .int(id)]])
            }
            for u in prepared.updates {
                let sets = u.changes.flatMap(\.set)
                if !sets.isEmpty {
                    let update = update(sets, id: u.id)
                    try db.run(update.sql, [update.values])
                }
                try db.run(insertEvent, u.changes.map { c in
                    [.int(u.id), .text(now), .text(c.kind), .text(c.field), .text(c.old), .text(c.new), .text(source), .text(actor)]
                })
                if let home = u.arrival { try db.run(reoccupy, [[.int(home)]]) }
                if let tags = u.tags {
                    try db.run(deleteTags, [[.int(u.id)]])
                    try db.run(insertTag, tags.map { [.int(u.id), .text($0.rawValue)] })
                }
            }
            try db.run(progress, [progressValues(prepared, runID: runID)])
        }
    }

    /// Runs one statement, written as for SQLite: each `?` becomes PostgreSQL's `$1`, `$2`, … in order.
    private static func query(_ c: PostgresConnection, _ sql: String, _ values: [RawValue] = []) async throws {
        var numbered = "", n = 0
        for ch in sql {
            if ch == "?" { n += 1; numbered += "$\(n)" } else { numbered.append(ch) }
        }
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .int(let n): binds.append(n)
            case .text(let t): binds.append(t)
            case .null: binds.appendNull()
            }
        }
        for try await _ in try await c.query(PostgresQuery(unsafeSQL: numbered, binds: binds), logger: logger) {}
    }

    private static func exists(_ c: PostgresConnection, _ sql: String) async throws -> Bool {
        var any = false
        for try await _ in try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) { any = true }
        return any
    }

    private static func stage(_ prepared: ResidentImporter.Prepared, ids connection: PostgresConnection, sequence: Int64,
                              source: String, actor: String) async throws -> Staged {
        let now = Timestamp.now()
        var ids: [Int64] = []
        if prepared.created > 0 {
            // The sequence by its OID, looked up once: named in the query, `pg_get_serial_sequence` ran once per
            // id. The ids come back as one array, not a row each.
            let rows = try await connection.query("""
                SELECT array_agg(id ORDER BY id) FROM (SELECT nextval(\(sequence)::oid::regclass) AS id FROM generate_series(1, \(prepared.created))) n
                """, logger: logger)
            for try await list in rows.decode([Int64].self) { ids = list }
        }
        var residents = CopyText(capacity: prepared.created * 600)
        var tags = CopyText()
        var events = CopyText()
        for (r, id) in zip(prepared.residents, ids) {
            residents.field(id); residents.field(r.household); residents.field(r.building); residents.field(r.name)
            residents.field(r.sex); residents.field(r.birthDate); residents.field(r.ethnicity); residents.field(r.relation)
            residents.field(r.idSealed); residents.field(r.idIndex); residents.field(r.idMasked); residents.field(r.phoneSealed)
            residents.field(r.phoneIndex); residents.field(r.phoneMasked); residents.field(r.address); residents.field(r.registeredAddress)
            residents.endRow()
            for tag in r.tags { tags.field(id); tags.field(tag); tags.endRow() }
        }
        for u in prepared.updates {
            for change in u.changes {
                events.field(u.id); events.field(now); events.field(change.kind); events.field(change.field); events.field(change.old)
                events.field(change.new); events.field(source); events.field(actor); events.endRow()
            }
            // (`write` deletes the person's old tags first.)
            for tag in u.tags ?? [] { tags.field(u.id); tags.field(tag.rawValue); tags.endRow() }
        }
        // Residents first: tags and events refer to them.
        let copies = [("residents", ResidentImporter.residentColumns, residents), ("resident_tags", ["resident_id", "tag"], tags),
                      ("resident_events", ResidentImporter.eventColumns, events)]
        return Staged(prepared: prepared, copies: copies.filter { $0.2.buffer.readableBytes > 0 }.map { ($0.0, $0.1, $0.2.buffer) },
                      created: ids, at: now)
    }

    private static func write(_ staged: Staged, connection c: PostgresConnection, runID: Int64, actor: String, first: [String],
                              firstLoad: Bool) async throws {
        let prepared = staged.prepared
        try await query(c, "BEGIN")
        do {
            if !first.isEmpty {
                // Registering by hand (or another import) waits for this transaction, then sees what it set aside.
                // The strongest lock at once: the drops below need it, and taking a weaker one first could deadlock
                // with a registration that has read residents and not yet inserted.
                try await query(c, "LOCK TABLE residents IN ACCESS EXCLUSIVE MODE")
                if try await exists(c, ResidentImporter.SetAside.anyResident) { throw ResidentImporter.SetAside.someoneRegistered }
            }
            for sql in first { try await query(c, sql) }
            for u in prepared.updates {
                let sets = u.changes.flatMap(\.set)
                if !sets.isEmpty {
                    let update = update(sets, id: u.id)
                    try await query(c, update.sql, update.values)
                }
                if let home = u.arrival { try await query(c, reoccupy, [.int(home)]) }
                if u.tags != nil { try await query(c, deleteTags, [.int(u.id)]) }
            }
            for copy in staged.copies {
                try await c.copyFrom(table: copy.table, columns: copy.columns, logger: logger) { writer in try await writer.write(copy.text) }
            }
            if !staged.created.isEmpty {
                var binds = PostgresBindings(capacity: 4)
                binds.append(staged.created); binds.append(staged.at); binds.append("import:\(runID)"); binds.append(actor)
                for try await _ in try await c.query(PostgresQuery(unsafeSQL: createdEventsOfIDs, binds: binds), logger: logger) {}
            }
            // Asked after writing, as a hand registration does: a first load that started meanwhile is seen now.
            if !firstLoad, try await exists(c, ResidentImporter.SetAside.recordedAny) { throw ResidentImporter.SetAside.duringFirstLoad }
            try await query(c, progress, progressValues(prepared, runID: runID))
            try await query(c, "COMMIT")
        } catch {
            try? await query(c, "ROLLBACK")
            throw error
        }
    }
}

/// A PostgreSQL row's cells in order, read without decoding the row as a tuple (PostgresNIO's variadic generics
/// look up generic metadata for every cell: a sixth of a PostgreSQL re-import's CPU): text as its UTF-8 bytes,
/// numbers decoded as PostgresNIO does.
struct PostgresCells {
    private var iterator: PostgresRow.Iterator
    private static let missing = StoreError.invalid(field: "query", reason: "a column is missing")

    init(_ row: PostgresRow) { iterator = row.makeIterator() }

    /// A column that may be NULL.
    mutating func text() throws -> String? {
        guard let cell = iterator.next() else { throw Self.missing }
        return cell.bytes.map { String(buffer: $0) }
    }

    /// A column that is never NULL.
    mutating func string() throws -> String {
        guard let text = try text() else { throw StoreError.invalid(field: "query", reason: "a NOT NULL column was NULL") }
        return text
    }

    mutating func int() throws -> Int64 {
        guard let cell = iterator.next() else { throw Self.missing }
        return try cell.decode(Int64.self)
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

