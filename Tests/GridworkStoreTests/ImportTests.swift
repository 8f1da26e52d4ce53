import Foundation
import GridworkCore
import GridworkDemo
@testable import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct ImportTests {
    static let header = "姓名,公民身份号码,性别,联系电话,楼栋,单元,房号,人员类别"
    static let building = "430524001001001001"

    /// A new person (not in the sample) born in 1936, with sequence `n`.
    static func newID(_ n: Int, sex: Sex = .male) -> String {
        CitizenID(region: "430524", birth: CivilDate(year: 1936, month: 3, day: 3)!, sequence: sex == .male ? 2 * n + 1 : 2 * n + 2, sex: sex).value
    }

    static func write(_ lines: [String], encoding: String.Encoding = .utf8, bom: Bool = false) -> String {
        let path = TestDatabase.scratchDirectory().appendingPathComponent("residents.csv").path
        var data = bom ? Data([0xEF, 0xBB, 0xBF]) : Data()
        data.append(lines.joined(separator: "\r\n").data(using: encoding)!)
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    static func count(_ store: Store) async throws -> Int { try await store.net.stats().residents }

    static var options: ImportOptions {
        var o = ImportOptions()
        o.today = CivilDate(year: 2026, month: 11, day: 29)!
        return o
    }

    @Test func anExcelWorkbookImportsLikeItsCSVWithExcelRowNumbers() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: a workbook with a blank first row, a gap row and one bad row
            let path = TestDatabase.scratchDirectory().appendingPathComponent("residents.xlsx").path
            var sheet = try XLSXWriter(path: path, sheetName: "居民")
            try sheet.append([])
            try sheet.append(Self.header.split(separator: ",").map(String.init))
            try sheet.append(["张老大", Self.newID(411), "男", "13812342151", Self.building, "1", "101", "独居老人"])   // row 3
            try sheet.append([])                                                                                       // row 4, blank
            try sheet.append(["王三", "430524193603030012", "男", "", Self.building, "1", "101", ""])                    // row 5, bad
            try sheet.append(["李二", Self.newID(412, sex: .female), "女", "", Self.building, "1", "102", ""])           // row 6
            try sheet.close()
            let before = try await Self.count(store)
            // act
            let report = try await ResidentImporter(store: store).run(file: path, options: Self.options, actor: .commandLine)
            // check
            #expect(report.encoding == "XLSX" && report.rows == 3 && report.created == 2 && report.rejected == 1)
            #expect(try await Self.count(store) == before + 2)
            let text = try String(contentsOfFile: try #require(report.reportFile), encoding: .utf8)
            #expect(text.contains("\n5,") && text.contains("校验码"))
            // A workbook that is not one: its reason, nothing written.
            let broken = TestDatabase.scratchDirectory().appendingPathComponent("broken.xlsx").path
            FileManager.default.createFile(atPath: broken, contents: Data([0x50, 0x4B, 0x03, 0x04, 1, 2, 3]))
            await #expect(throws: StoreError.self) { try await ResidentImporter(store: store).run(file: broken, options: Self.options, actor: .commandLine) }
            #expect(try await Self.count(store) == before + 2)
        }
    }

    @Test func goodRowsGoInAndEveryBadRowGetsItsReason() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await Self.count(store)
            let file = Self.write([
                Self.header,
                "张老大,\(Self.newID(401)),男,13812342151,\(Self.building),1,101,独居老人",   // 2 good
                "李二,\(Self.newID(402, sex: .female)),女,,\(Self.building),1,102,",          // 3 good
                "王三,430524193603030012,男,,\(Self.building),1,101,",                       // 4 wrong check character
                "赵四,\(Self.newID(403)),女,,\(Self.building),1,101,",                        // 5 sex disagrees
                "钱五,\(Self.newID(404)),男,,430524001001001999,1,101,",                      // 6 unknown building
                "孙六,\(Self.newID(405)),男,,110105001001001001,1,101,",                      // 7 another county
                "周七,\(Self.newID(406)),男,,\(Self.building),9,909,",                        // 8 unknown dwelling
                "=HYPERLINK(\"http://x\"),\(Self.newID(407)),男,,\(Self.building),1,101,",   // 9 formula
                "张老大,\(Self.newID(401)),男,,\(Self.building),1,101,",                      // 10 duplicate of row 2
                "吴八,430524203601010019,男,,\(Self.building),1,101,",                       // 11 born in the future
            ])
            let report = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            #expect(report.rows == 10 && report.created == 2 && report.rejected == 8)
            #expect(try await Self.count(store) == before + 2)
            let text = try String(contentsOfFile: try #require(report.reportFile), encoding: .utf8)
            for (row, reason) in [(4, "校验码"), (5, "性别"), (6, "不存在"), (7, "不属于本县"), (8, "房号"), (9, "公式"), (10, "与第2行"), (11, "晚于今天")] {
                #expect(text.contains("\(row),") && text.contains(reason), "row \(row): \(reason)")
            }
            // The formula comes back neutralised, not live.
            #expect(text.contains("\"'=HYPERLINK("))
            // Sealed like every other resident, and tagged.
            let worker = Viewer(userID: 0, login: "t", role: .gridWorker, scope: try RegionCode("430524001001001"))
            let list = try await store.residents.residents(inBuilding: try RegionCode(Self.building), viewer: worker)
            let added = try #require(list.first { $0.name == "张老大" })
            #expect(added.tags == [.elderlyAlone])
            #expect(try await store.residents.unmask(.citizenID, of: added.id, viewer: worker, address: "t") == Self.newID(401))
        }
    }

    @Test func aKnownPersonIsUpdatedWithHistoryNotDuplicated() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let row = try await store.database.reader.raw("""
                SELECT r.id, r.name, r.id_sealed, r.phone_masked, h.room FROM residents r JOIN households h ON h.id = r.household_id
                WHERE r.building_id = (SELECT MIN(id) FROM buildings) AND r.phone_sealed IS NOT NULL ORDER BY r.id LIMIT 1
                """).first()!
            let id = try store.sealer.open(try row.decode(column: "id_sealed", as: String.self))
            let name = try row.decode(column: "name", as: String.self)
            let room = try row.decode(column: "room", as: String.self)
            let residentID = try row.decode(column: "id", as: Int64.self)
            let before = try await Self.count(store)
            let file = Self.write([Self.header, "\(name),\(id),,19912345678,\(Self.building),,\(room),"])
            let first = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            #expect(first.updated == 1 && first.created == 0)
            #expect(try await Self.count(store) == before)
            let events = try await store.database.reader.raw("SELECT field, old_value, new_value FROM resident_events WHERE resident_id = \(bind: residentID)").all()
            #expect(events.count == 1)
            #expect(try events.first?.decode(column: "field", as: String.self) == "phone")
            #expect(try events.first?.decode(column: "new_value", as: String.self) == "199****5678")
            // The same file again changes nothing.
            let again = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            #expect(again.unchanged == 1 && again.updated == 0 && again.created == 0)
            // A different name is applied and reported as a conflict.
            let renamed = Self.write([Self.header, "改名后,\(id),,,\(Self.building),,\(room),"])
            let third = try await ResidentImporter(store: store).run(file: renamed, options: Self.options, actor: .commandLine)
            #expect(third.conflicts == 1 && third.updated == 1)
        }
    }

    @Test func anInterruptedImportResumesAndConverges() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await Self.count(store)
            let lines = [Self.header] + (440..<480).map { "新居民\($0),\(Self.newID($0)),,,\(Self.building),1,101," }
            let file = Self.write(lines)
            var options = Self.options
            options.batchSize = 10
            // As if killed after the first two batches (rows 2–21) had committed.
            let dry = Self.write(Array(lines.prefix(21)))
            _ = try await ResidentImporter(store: store).run(file: dry, options: options, actor: .commandLine)
            let digest = try ResidentImporter.digest(of: file)
            try await store.database.transaction { db in
                try await db.raw("""
                    INSERT INTO import_runs (file_name, file_digest, actor, rows_done, started_at) VALUES ('residents.csv', \(bind: digest), 'cli', 21, '2026-11-29T00:00:00Z')
                    """).run()
            }
            let resumed = try await ResidentImporter(store: store).run(file: file, options: options, actor: .commandLine)
            #expect(resumed.resumedFrom == 21)
            #expect(resumed.created == 20 && resumed.rows == 20)
            #expect(try await Self.count(store) == before + 40)
            let rerun = try await ResidentImporter(store: store).run(file: file, options: options, actor: .commandLine)
            #expect(rerun.created == 0 && rerun.unchanged == 40)
            #expect(try await Self.count(store) == before + 40)
        }
    }

    /// The database refusing a batch part-way (here a test trigger refuses one person in the second of four
    /// batches): the batch before it stays committed, the failed one and those queued behind it are not
    /// written at all, the run's progress points just after the last commit, and running the file again
    /// (once the database accepts it) resumes there and converges.
    @Test func aBatchTheDatabaseRefusesStopsTheBatchesBehindIt() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await Self.count(store)
            let lines = [Self.header] + (300..<340).map { "\($0 == 315 ? "故障" : "流水居民\($0)"),\(Self.newID($0)),,,\(Self.building),1,101," }
            let file = Self.write(lines)
            var options = Self.options
            options.batchSize = 10
            options.commitRows = 10
            let refuse = TestDatabase.isPostgres
                ? ["""
                   CREATE FUNCTION gw_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN IF NEW.name = '故障' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$
                   """, "CREATE TRIGGER gw_test_refuse BEFORE INSERT ON residents FOR EACH ROW EXECUTE FUNCTION gw_test_refuse()"]
                : ["CREATE TRIGGER gw_test_refuse BEFORE INSERT ON residents WHEN NEW.name = '故障' BEGIN SELECT RAISE(ABORT, 'refused by test'); END"]
            try await store.database.transaction { db in for sql in refuse { try await db.raw(SQLQueryString(sql)).run() } }

            // act
            await #expect(throws: (any Error).self) {
                _ = try await ResidentImporter(store: store).run(file: file, options: options, actor: .commandLine)
            }

            // check: rows 2–11 (the first batch) in; nothing from rows 12–41
            #expect(try await Self.count(store) == before + 10)
            let written = try await store.database.reader.raw("SELECT name FROM residents WHERE name LIKE '流水居民%' ORDER BY name").all()
                .map { try $0.decode(column: "name", as: String.self) }
            #expect(written == (300..<310).map { "流水居民\($0)" })
            let status = try await ResidentImporter(store: store).status(digest: try ResidentImporter.digest(of: file))
            #expect(status?.rowsDone == 11 && status?.created == 10)

            // Accepted again: the rerun resumes after row 11 and the file converges.
            let drop = TestDatabase.isPostgres ? ["DROP TRIGGER gw_test_refuse ON residents", "DROP FUNCTION gw_test_refuse()"] : ["DROP TRIGGER gw_test_refuse"]
            try await store.database.transaction { db in for sql in drop { try await db.raw(SQLQueryString(sql)).run() } }
            let rerun = try await ResidentImporter(store: store).run(file: file, options: options, actor: .commandLine)
            #expect(rerun.resumedFrom == 11 && rerun.created == 30)
            #expect(try await Self.count(store) == before + 40)
        }
    }

    /// Into a registry that has people, new rows are sealed after the look-up: sealed all the same, and a
    /// second run of the file (everyone known, nothing changed) rewrites no one.
    @Test func newPeopleInAKnownRegistryAreSealedAndARerunRewritesNoOne() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let lines = [Self.header] + (200..<203).map { "再导居民\($0),\(Self.newID($0)),,1390000\(1000 + $0),\(Self.building),1,101," }
            let file = Self.write(lines)
            let first = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            #expect(first.created == 3)
            func sealed() async throws -> [String: (id: String, phone: String)] {
                var out: [String: (id: String, phone: String)] = [:]
                for r in try await store.database.reader.raw("SELECT name, id_sealed, phone_sealed, id_index, phone_index FROM residents WHERE name LIKE '再导居民%'").all() {
                    let id = try r.decode(column: "id_sealed", as: String.self), phone = try r.decode(column: "phone_sealed", as: String.self)
                    #expect(try r.decode(column: "id_index", as: String.self) == store.sealer.blindIndex(try store.sealer.open(id)))
                    #expect(try r.decode(column: "phone_index", as: String.self) == store.sealer.blindIndex(try store.sealer.open(phone)))
                    out[try r.decode(column: "name", as: String.self)] = (try store.sealer.open(id), try store.sealer.open(phone))
                }
                return out
            }
            let opened = try await sealed()
            #expect(opened["再导居民201"]?.id == Self.newID(201) && opened["再导居民201"]?.phone == "13900001201")
            #expect(opened.count == 3)
            let boxes = try await store.database.reader.raw("SELECT id_sealed FROM residents WHERE name LIKE '再导居民%' ORDER BY id").all()
                .map { try $0.decode(column: "id_sealed", as: String.self) }
            // The second run: its own run (a changed file), everyone known and unchanged.
            let again = try await ResidentImporter(store: store).run(file: Self.write(lines + [""]), options: Self.options, actor: .commandLine)
            #expect(again.created == 0 && again.unchanged == 3)
            let after = try await store.database.reader.raw("SELECT id_sealed FROM residents WHERE name LIKE '再导居民%' ORDER BY id").all()
                .map { try $0.decode(column: "id_sealed", as: String.self) }
            #expect(after == boxes)
        }
    }

    /// A batch's people are looked up (and its new ones sealed) while the next batch is checked: with batches
    /// of 24 rows, split into parts of two or three, every batch is settled beside the checking of the next,
    /// and the outcome and the report are still the file's, row by row, each new person sealed as their own.
    @Test func batchesLookedUpWhileTheNextIsCheckedSettleInFileOrder() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: two known people of the sample building, and a file of 40 new people with five rows among them
            let known = try await store.database.reader.raw("""
                SELECT r.id, r.name, r.id_sealed, h.room FROM residents r JOIN households h ON h.id = r.household_id
                WHERE r.building_id = (SELECT MIN(id) FROM buildings) ORDER BY r.id LIMIT 2
                """).all().map { r in
                    (id: try r.decode(column: "id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                     number: try store.sealer.open(try r.decode(column: "id_sealed", as: String.self)), room: try r.decode(column: "room", as: String.self))
                }
            try #require(known.count == 2)
            let (a, b) = (known[0], known[1])
            func newcomer(_ i: Int) -> (name: String, id: String, phone: String?) {
                ("流水新人\(i)", Self.newID(455 + i), i.isMultiple(of: 2) ? "139000015\(String(format: "%02d", i))" : nil)
            }
            let special: [Int: String] = [
                3: "\(a.name),\(a.number),,19912345678,\(Self.building),,\(a.room),",   // known: a new phone
                10: "王三,430524193603030012,男,,\(Self.building),1,101,",                 // wrong check character
                17: "改了名字,\(b.number),,,\(Self.building),,\(b.room),",                 // known: renamed (a conflict)
                25: "\(newcomer(5).name),\(newcomer(5).id),,,\(Self.building),1,101,",     // the same as newcomer 5
                33: "\(a.name),\(a.number),,,\(Self.building),,\(a.room),",              // the same as the row of a's phone
            ]
            var lines = [Self.header], rowOf: [Int: Int] = [:], rowOfNewcomer: [Int: Int] = [:] // Excel's row numbers
            for i in 0..<40 {
                if let line = special[i] { lines.append(line); rowOf[i] = lines.count }
                let n = newcomer(i)
                lines.append("\(n.name),\(n.id),,\(n.phone ?? ""),\(Self.building),1,\(i.isMultiple(of: 3) ? 102 : 101),")
                rowOfNewcomer[i] = lines.count
            }
            let before = try await Self.count(store)
            var options = Self.options
            options.batchSize = 24
            options.commitRows = 30
            // act
            let report = try await ResidentImporter(store: store).run(file: Self.write(lines), options: options, actor: .commandLine)
            // check: counts, the report in file order, the known people, and every new person sealed as themselves
            #expect(report.rows == 45 && report.created == 40 && report.updated == 2 && report.rejected == 3 && report.conflicts == 1)
            #expect(try await Self.count(store) == before + 40)
            let text = try String(contentsOfFile: try #require(report.reportFile), encoding: .utf8)
            let reported = text.split(whereSeparator: \.isNewline).dropFirst().compactMap { Int($0.prefix { $0 != "," }) }
            #expect(reported == [10, 17, 25, 33].map { rowOf[$0]! })
            #expect(text.contains("校验码") && text.contains("与第\(rowOfNewcomer[5]!)行") && text.contains("与第\(rowOf[3]!)行") && text.contains("原“\(b.name)”"))
            let phone = try await store.database.reader.raw("SELECT phone_masked FROM residents WHERE id = \(bind: a.id)").first()!
            #expect(try phone.decode(column: "phone_masked", as: String?.self) == "199****5678")
            let rows = try await store.database.reader.raw("SELECT name, id_sealed, id_index, phone_sealed FROM residents WHERE name LIKE '流水新人%'").all()
            #expect(rows.count == 40)
            for row in rows {
                let name = try row.decode(column: "name", as: String.self)
                let n = newcomer(try #require(Int(name.dropFirst(4))))
                #expect(try store.sealer.open(try row.decode(column: "id_sealed", as: String.self)) == n.id, "\(name)")
                #expect(try row.decode(column: "id_index", as: String.self) == store.sealer.blindIndex(n.id), "\(name)")
                #expect(try row.decode(column: "phone_sealed", as: String?.self).map { try store.sealer.open($0) } == n.phone, "\(name)")
            }
        }
    }

    @Test func aDryRunReadingAheadReportsWhatTheImportThenDoes() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: 30 new people in batches of 7, with blank lines, a bad row and a person twice across batches
            var lines = [Self.header + ",备注"], rowOf: [String: Int] = [:] // Excel's row numbers
            for i in 0..<30 {
                if i == 8 || i == 9 || i == 21 { lines.append("") }
                let id = i == 19 ? Self.newID(400) : Self.newID(400 + i) // row of 19: the same person as the row of 0
                lines.append(i == 12 ? "预读坏行,430524193603030012,,,\(Self.building),1,101,," : "预读\(i),\(id),,,\(Self.building),1,101,,")
                rowOf["\(i)"] = lines.count
            }
            // then the row of 1 again, with a long remark (a column not imported), until the file is longer than
            // one read (`ImportFile.chunkSize`), so that batches also end and begin across reads
            let again = lines[rowOf["1"]! - 1] + String(repeating: "备", count: 700)
            let copies = ImportFile.chunkSize / again.utf8.count + 50
            lines += Array(repeating: again, count: copies)
            let file = Self.write(lines)
            let folder = TestDatabase.scratchDirectory()
            var dry = Self.options
            dry.dryRun = true
            dry.batchSize = 7
            dry.reportPath = folder.appendingPathComponent("dry.report.csv").path
            var real = dry
            real.dryRun = false
            real.reportPath = folder.appendingPathComponent("real.report.csv").path
            let before = try await Self.count(store)
            // act
            let preview = try await ResidentImporter(store: store).run(file: file, options: dry, actor: .commandLine)
            let afterPreview = try await Self.count(store)
            let report = try await ResidentImporter(store: store).run(file: file, options: real, actor: .commandLine)
            // check: the preview wrote nothing and foretold the import, row for row
            #expect(afterPreview == before)
            #expect(preview.rows == 30 + copies && preview.created == 28 && preview.rejected == 2 + copies)
            #expect(report.rows == preview.rows && report.created == preview.created && report.rejected == preview.rejected)
            #expect(try await Self.count(store) == before + 28)
            let foretold = try String(contentsOfFile: try #require(preview.reportFile), encoding: .utf8)
            #expect(try String(contentsOfFile: try #require(report.reportFile), encoding: .utf8) == foretold)
            let reported = foretold.split(whereSeparator: \.isNewline).dropFirst().compactMap { Int($0.prefix { $0 != "," }) }
            #expect(reported == [rowOf["12"]!, rowOf["19"]!] + Array(lines.count - copies + 1...lines.count))
            #expect(foretold.contains("与第\(rowOf["0"]!)行") && foretold.contains("与第\(rowOf["1"]!)行"))
        }
    }

    /// The residents' tables' indexes (and on PostgreSQL their foreign keys), name and definition.
    static func indexes(_ store: Store) async throws -> [String] {
        let sql: SQLQueryString = TestDatabase.isPostgres
            ? """
                SELECT indexname || ': ' || indexdef AS d FROM pg_indexes WHERE tablename IN ('residents', 'resident_events', 'resident_tags')
                UNION ALL SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
                WHERE contype = 'f' AND conrelid::regclass::text IN ('residents', 'resident_events', 'resident_tags') ORDER BY 1
                """
            : "SELECT name || ': ' || COALESCE(sql, '') AS d FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('residents', 'resident_events', 'resident_tags') ORDER BY 1"
        return try await store.database.reader.raw(sql).all().map { try $0.decode(column: "d", as: String.self) }
    }

    @Test func aFirstLoadEndsWithEveryIndexAsTheMigrationsMadeIt() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            var demo = TestDatabase.demo
            demo.withResidents = false
            try await DemoSeeder.seed(into: store, options: demo)
            let before = try await Self.indexes(store)
            #expect(before.contains { $0.hasPrefix("residents_phone: ") } && before.count >= 6)
            if TestDatabase.isPostgres { #expect(before.contains { $0.hasPrefix("resident_events_resident_id_fkey: FOREIGN KEY") }) }
            var options = Self.options
            options.batchSize = 10
            options.commitRows = 10 // SQLite commits each batch too, so the failure below comes after a committed set-aside
            let lines = [Self.header] + (150..<180).map { "首批居民\($0),\(Self.newID($0)),,1380000\(1000 + $0),\(Self.building),1,101,独居老人" }

            // A first load (no residents yet) that stops with an error after three batches were written.
            let broken = Self.write(lines + ["断开,\"430524"])
            await #expect(throws: StoreError.self) {
                _ = try await ResidentImporter(store: store).run(file: broken, options: options, actor: .commandLine)
            }
            #expect(try await Self.indexes(store) == before)

            // The same file whole: every row in once, found by phone and tag, and the indexes as before.
            // (SQLite rolled the stopped load back whole; PostgreSQL kept its committed batches, now merged.)
            let report = try await ResidentImporter(store: store).run(file: Self.write(lines), options: options, actor: .commandLine)
            #expect(report.created + report.unchanged == 30 && report.rejected == 0)
            #expect(try await Self.count(store) == 30)
            #expect(try await Self.indexes(store) == before)
            let byPhone = try await store.database.reader.raw("""
                SELECT COUNT(*) AS n FROM residents WHERE phone_index = \(bind: store.sealer.blindIndex("13800001160"))
                """).first()!.decode(column: "n", as: Int.self)
            #expect(byPhone == 1)
            let tagged = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM resident_tags WHERE tag = 'elderly_alone'").first()!
            #expect(try tagged.decode(column: "n", as: Int.self) == 30)

            // An import killed after its first commit (which set them aside) and before its end: the next open builds them.
            let setAside = ResidentImporter.SetAside(store.database.kind)
            try await store.database.transaction { db in
                for sql in setAside.drop { try await db.raw(SQLQueryString(sql)).run() }
            }
            #expect(try await Self.indexes(store) != before)
            let recorded = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM import_set_aside").first()!.decode(column: "n", as: Int.self)
            #expect(recorded == (TestDatabase.isPostgres ? 9 : 6))
            try await Store.using(store.database.location, environment: TestDatabase.environment) { (reopened: Store) async throws in
                #expect(try await Self.indexes(reopened) == before)
                let left = try await reopened.database.reader.raw("SELECT COUNT(*) AS n FROM import_set_aside").first()!.decode(column: "n", as: Int.self)
                #expect(left == 0)
            }
        }
    }

    /// While a first load has the unique ID index set aside, nothing else may add a resident: a hand
    /// registration and another import are refused with the reason, and write nothing. Afterwards both work.
    @Test func whileAFirstLoadHasTheIDIndexAsideNoOneElseAddsAResident() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: a running first load's claim and first commit, as it leaves the database until its end
            let indexes = try await Self.indexes(store)
            let claim = try await ResidentImporter.SetAside.Claim.take(store.database.location)
            let setAside = ResidentImporter.SetAside(store.database.kind)
            try await store.database.transaction { db in
                for sql in setAside.drop { try await db.raw(SQLQueryString(sql)).run() }
            }
            let before = try await Self.count(store)
            // A second first load cannot claim the database, and an open (any gridwork command) leaves the load's indexes to it.
            await #expect(throws: ResidentImporter.SetAside.duringFirstLoad) {
                _ = try await ResidentImporter.SetAside.Claim.take(store.database.location)
            }
            #expect(try await ResidentImporter.SetAside.Claim.isHeld(store.database))
            try await Store.using(store.database.location, environment: TestDatabase.environment) { _ in }
            #expect(try await Self.indexes(store) != indexes)
            let household = try await store.database.reader.raw("""
                SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE g.code = \(bind: String(Self.building.prefix(15))) AND b.number = 1 ORDER BY h.id LIMIT 1
                """).first()!.decode(column: "id", as: Int64.self)
            let worker = Viewer(userID: 0, login: "gw-test", role: .gridWorker, scope: try RegionCode(String(Self.building.prefix(15))))
            let person = try NewResident.parse(["event": "move_in", "name": "赵新来", "id_number": Self.newID(491), "relation": "other",
                                                "origin": "湖南省长沙市"], today: Self.options.today)
            let file = Self.write([Self.header, "钱新来,\(Self.newID(492)),,,\(Self.building),1,101,"])

            // act and check: both refused with the reason, nothing written
            do {
                _ = try await store.registry.recordArrival(person, household: household, viewer: worker, address: "x", today: Self.options.today)
                Issue.record("a hand registration went in during a first load")
            } catch let error as StoreError {
                #expect(error == ResidentImporter.SetAside.duringFirstLoad && error.message.hasPrefix("操作冲突"))
            }
            await #expect(throws: ResidentImporter.SetAside.duringFirstLoad) {
                _ = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            }
            #expect(try await Self.count(store) == before)

            // The load dies (its claim let go, its indexes still aside): the next registration builds them and goes in.
            await claim.release()
            #expect(try await !ResidentImporter.SetAside.Claim.isHeld(store.database))
            _ = try await store.registry.recordArrival(person, household: household, viewer: worker, address: "x", today: Self.options.today)
            #expect(try await Self.indexes(store) == indexes)
            #expect(try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine).created == 1)
            #expect(try await Self.count(store) == before + 2)
        }
    }

    /// An import that finds what a dead first load set aside builds it before it writes (a server that
    /// went on running is not left refusing imports), and a first load lets go of its claim when it ends.
    @Test func anImportAfterAFirstLoadThatDiedBuildsItsIndexesFirst() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let indexes = try await Self.indexes(store)
            let before = try await Self.count(store)
            try await store.database.transaction { db in
                for sql in ResidentImporter.SetAside(store.database.kind).drop { try await db.raw(SQLQueryString(sql)).run() }
            }
            let file = Self.write([Self.header, "钱后来,\(Self.newID(493)),,,\(Self.building),1,101,"])
            #expect(try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine).created == 1)
            #expect(try await Self.indexes(store) == indexes)
            #expect(try await Self.count(store) == before + 1)
        }
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            var demo = TestDatabase.demo
            demo.withResidents = false
            try await DemoSeeder.seed(into: store, options: demo)
            let file = Self.write([Self.header, "首批\(494),\(Self.newID(494)),,,\(Self.building),1,101,"])
            #expect(try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine).created == 1)
            #expect(try await !ResidentImporter.SetAside.Claim.isHeld(store.database))
            // taken again: the load let go of it
            await (try await ResidentImporter.SetAside.Claim.take(store.database.location)).release()
        }
    }

    /// A first load decides it is one before its first commit; should someone be registered in between,
    /// that commit finds them, fails, and sets nothing aside (the unique index keeps them once).
    @Test func aFirstLoadThatFindsSomeoneRegisteredFailsAndSetsNothingAside() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await Self.indexes(store)
            let writer = try await ImportWriter.open(store.database.location, commitRows: 1, firstLoad: true)
            let staged = try await writer.stage(ResidentImporter.Prepared(), runID: 0, actor: "test")
            await #expect(throws: ResidentImporter.SetAside.someoneRegistered) {
                try await writer.write(staged, runID: 0, actor: "test", first: ResidentImporter.SetAside(store.database.kind).drop)
            }
            await writer.close()
            #expect(try await Self.indexes(store) == before)
            let recorded = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM import_set_aside").first()!.decode(column: "n", as: Int.self)
            #expect(recorded == 0)
        }
    }

    /// The two halves of the guard, each run for real against the other held open on a second connection
    /// (PostgreSQL runs them at once; SQLite's single writer runs them one after the other, as the tests above do).
    /// A registration that has inserted but not committed makes a first load's first commit wait, then fail.
    @Test(.enabled(if: TestDatabase.isPostgres)) func aFirstLoadWaitsForARegistrationInFlightThenFails() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            var demo = TestDatabase.demo
            demo.withResidents = false
            try await DemoSeeder.seed(into: store, options: demo)
            let indexes = try await Self.indexes(store)
            let (proceed, go) = AsyncStream<Void>.makeStream()
            let (inserted, didInsert) = AsyncStream<Void>.makeStream()
            // The registration, paused between its insert and its check (`RegistryStore.recordArrival`'s order).
            let registration = Task {
                try await store.database.transaction { db in
                    try await db.raw("""
                        INSERT INTO residents (household_id, building_id, name, sex, birth_date, ethnicity, relation, id_sealed, id_index,
                            id_masked, address, registered_address)
                        SELECT id, building_id, '赵先来', 'male', '1936-03-03', '汉族', 'head', 'sealed', 'race-index', '430524********0011', '', ''
                        FROM households ORDER BY id LIMIT 1
                        """).run()
                    didInsert.yield()
                    for await _ in proceed { break }
                    try await ResidentImporter.SetAside.refuseDuringFirstLoad(db)
                }
            }
            for await _ in inserted { break }
            let writer = try await ImportWriter.open(store.database.location, commitRows: 1, firstLoad: true)
            let staged = try await writer.stage(ResidentImporter.Prepared(), runID: 0, actor: "test")
            let load = Task { try await writer.write(staged, runID: 0, actor: "test", first: ResidentImporter.SetAside(store.database.kind).drop) }
            #expect(try await Self.someoneWaitsForALock(store))
            go.yield()
            try await registration.value
            await #expect(throws: ResidentImporter.SetAside.someoneRegistered) { try await load.value }
            await writer.close()
            #expect(try await Self.indexes(store) == indexes)
            #expect(try await Self.count(store) == 1)
        }
    }

    /// A registration that comes while a first load's first commit holds the table waits for it, then is refused.
    @Test(.enabled(if: TestDatabase.isPostgres)) func aRegistrationWaitsForAFirstLoadsFirstCommitThenIsRefused() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await Self.count(store)
            // (Read first: the first commit's dropping of a foreign key locks the households too.)
            let household = try await store.database.reader.raw("SELECT id FROM households ORDER BY id LIMIT 1").first()!.decode(column: "id", as: Int64.self)
            let claim = try await ResidentImporter.SetAside.Claim.take(store.database.location)
            let (proceed, go) = AsyncStream<Void>.makeStream()
            let (locked, didLock) = AsyncStream<Void>.makeStream()
            // The load's first commit as `ImportWriter` writes it, paused before it commits.
            let load = Task {
                try await store.database.transaction { db in
                    try await db.raw("LOCK TABLE residents IN ACCESS EXCLUSIVE MODE").run()
                    for sql in ResidentImporter.SetAside(store.database.kind).drop { try await db.raw(SQLQueryString(sql)).run() }
                    didLock.yield()
                    for await _ in proceed { break }
                }
            }
            for await _ in locked { break }
            let person = try NewResident.parse(["event": "move_in", "name": "赵后来", "id_number": Self.newID(495), "relation": "other",
                                                "origin": "湖南省长沙市"], today: Self.options.today)
            let admin = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: try RegionCode("430524"))
            let registration = Task {
                try await store.registry.recordArrival(person, household: household, viewer: admin, address: "x", today: Self.options.today)
            }
            #expect(try await Self.someoneWaitsForALock(store))
            go.yield()
            try await load.value
            await #expect(throws: ResidentImporter.SetAside.duringFirstLoad) { _ = try await registration.value }
            await claim.release()
            try await ResidentImporter.SetAside.restore(store.database)
            #expect(try await Self.count(store) == before)
        }
    }

    /// A database named through a symlink is claimed once: the lock file lies beside the real file.
    @Test(.enabled(if: !TestDatabase.isPostgres)) func aClaimThroughASymlinkIsSeenThroughTheRealPath() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            guard case .sqlite(let path) = store.database.location else { return }
            let link = TestDatabase.scratchDirectory().appendingPathComponent("county.sqlite").path
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
            let claim = try await ResidentImporter.SetAside.Claim.take(.sqlite(path: link))
            #expect(try await ResidentImporter.SetAside.Claim.isHeld(store.database))
            await #expect(throws: ResidentImporter.SetAside.duringFirstLoad) {
                _ = try await ResidentImporter.SetAside.Claim.take(store.database.location)
            }
            await claim.release()
            #expect(try await !ResidentImporter.SetAside.Claim.isHeld(store.database))
        }
    }

    /// Two processes finding the same dead load's record at once (two registrations, a server and a command)
    /// build each thing once between them, and neither reports a failure.
    @Test func twoRestorersAtOnceBothSucceed() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let indexes = try await Self.indexes(store)
            try await store.database.transaction { db in
                for sql in ResidentImporter.SetAside(store.database.kind).drop { try await db.raw(SQLQueryString(sql)).run() }
            }
            // (On PostgreSQL each runs on a connection of its own from the pool; SQLite's writer takes them in turn.)
            async let one = ResidentImporter.SetAside.restoreIfAbandoned(store.database)
            async let two = ResidentImporter.SetAside.restoreIfAbandoned(store.database)
            let (a, b) = try await (one, two)
            #expect(a && b)
            #expect(try await Self.indexes(store) == indexes)
        }
    }

    /// True once a transaction waits for a lock on a table of this database (polled for up to ten seconds).
    static func someoneWaitsForALock(_ store: Store) async throws -> Bool {
        for _ in 0..<200 {
            let waiting = try await store.database.reader.raw("""
                SELECT 1 AS one FROM pg_locks WHERE NOT granted AND locktype = 'relation'
                    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)
                .first()
            if waiting != nil { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func encodingsAndHeaders() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let gbk = Self.write([Self.header, "国标,\(Self.newID(481)),,,\(Self.building),1,101,"], encoding: String.Encoding(rawValue: 0x8000_0632))
            let r1 = try await ResidentImporter(store: store).run(file: gbk, options: Self.options, actor: .commandLine)
            #expect(r1.encoding == "GB18030" && r1.created == 1)
            let bom = Self.write([Self.header, "带BOM,\(Self.newID(482)),,,\(Self.building),1,101,"], bom: true)
            let r2 = try await ResidentImporter(store: store).run(file: bom, options: Self.options, actor: .commandLine)
            #expect(r2.encoding == "UTF-8" && r2.created == 1)
            let odd = Self.write(["名字X,身份证号,楼栋,房号", "映射,\(Self.newID(483)),\(Self.building),1单元101室"])
            await #expect(throws: StoreError.self) { _ = try await ResidentImporter(store: store).run(file: odd, options: Self.options, actor: .commandLine) }
            var mapped = Self.options
            mapped.mapping = ["名字X": .name]
            #expect(try await ResidentImporter(store: store).run(file: odd, options: mapped, actor: .commandLine).created == 1)
            let empty = Self.write([])
            await #expect(throws: StoreError.self) { _ = try await ResidentImporter(store: store).run(file: empty, options: Self.options, actor: .commandLine) }
            let broken = Self.write([Self.header, "\"断开,\(Self.newID(484)),,,\(Self.building),1,101,"])
            await #expect(throws: StoreError.self) { _ = try await ResidentImporter(store: store).run(file: broken, options: Self.options, actor: .commandLine) }
            var dry = Self.options
            dry.dryRun = true
            let before = try await Self.count(store)
            let dryFile = Self.write([Self.header, "试一下,\(Self.newID(485)),,,\(Self.building),1,101,"])
            #expect(try await ResidentImporter(store: store).run(file: dryFile, options: dry, actor: .commandLine).created == 1)
            #expect(try await Self.count(store) == before)
        }
    }

    @Test func exportsAreMaskedNeutralisedAndReimportable() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            try await store.database.transaction { db in
                try await db.raw("UPDATE residents SET name = '=HYPERLINK(\"http://evil\")' WHERE id = (SELECT MIN(id) FROM residents)").run()
            }
            let path = TestDatabase.scratchDirectory().appendingPathComponent("out.csv").path
            let grid = Viewer(userID: 0, login: "gw", role: .gridWorker, scope: try RegionCode("430524001001001"))
            let n = try await ResidentExporter(store: store).export(to: path, viewer: grid, unmasked: false, address: "t")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(3) == Data([0xEF, 0xBB, 0xBF]))
            #expect(text.contains("姓名,公民身份号码,性别"))
            #expect(text.contains("430524********"))
            #expect(text.contains("\"'=HYPERLINK("))
            #expect(!text.contains("430524101")) // another township's buildings are outside the grid
            #expect(n == text.split(separator: "\r\n").count - 1)
            let head = Viewer(userID: 0, login: "bh", role: .buildingHead, scope: try RegionCode(Self.building))
            await #expect(throws: StoreError.self) { try await ResidentExporter(store: store).export(to: path, viewer: head, unmasked: true, address: "t") }
            // Unmasked, the file goes back in and changes nothing.
            try await ResidentExporter(store: store).export(to: path, viewer: grid, unmasked: true, address: "t")
            var options = Self.options
            options.today = CivilDate.today()
            let back = try await ResidentImporter(store: store).run(file: path, options: options, actor: .commandLine)
            // The neutralised name comes back as plain text (with its apostrophe): a changed name, reported.
            #expect(back.created == 0 && back.rejected == 0, "\(back)")
            #expect(back.updated == 1 && back.conflicts == 1, "\(back)")
            #expect(back.unchanged == n - 1, "\(back)")
            #expect(try await AuditLog.search(store.database, query: "export.unmasked").count == 1)
        }
    }

    /// Batches committed together (SQLite) or one by one (PostgreSQL): every created person has a history row and
    /// tags, the run's counters add up, and rows_done is the last row.
    @Test func batchesSharingACommitKeepHistoryTagsAndProgress() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await Self.count(store)
            let lines = [Self.header] + (360..<397).map { "批量\($0),\(Self.newID($0)),,13812342151,\(Self.building),1,101,独居老人" }
                + ["坏行,430524193603030012,,,\(Self.building),1,101,"]
            let file = Self.write(lines)
            var options = Self.options
            options.batchSize = 10
            options.commitRows = 25
            let report = try await ResidentImporter(store: store).run(file: file, options: options, actor: .commandLine)
            #expect(report.created == 37 && report.rejected == 1 && report.rows == 38)
            #expect(try await Self.count(store) == before + 37)
            let run = try await store.database.reader.raw("SELECT rows_done, created, rejected, finished_at FROM import_runs ORDER BY id DESC LIMIT 1").first()!
            #expect(try run.decode(column: "rows_done", as: Int.self) == 39)
            #expect(try run.decode(column: "created", as: Int.self) == 37)
            #expect(try run.decode(column: "rejected", as: Int.self) == 1)
            #expect(try run.decode(column: "finished_at", as: String?.self) != nil)
            let events = try await store.database.reader.raw("""
                SELECT COUNT(*) AS n FROM resident_events e JOIN residents r ON r.id = e.resident_id WHERE r.name LIKE '批量%' AND e.kind = 'created'
                """).first()!.decode(column: "n", as: Int.self)
            #expect(events == 37)
            let tags = try await store.database.reader.raw("""
                SELECT COUNT(*) AS n FROM resident_tags t JOIN residents r ON r.id = t.resident_id WHERE r.name LIKE '批量%' AND t.tag = 'elderly_alone'
                """).first()!.decode(column: "n", as: Int.self)
            #expect(tags == 37)
            // Sealed with bulk-drawn nonces, and found by the same blind index as everywhere else.
            let row = try await store.database.reader.raw("SELECT id_sealed, id_index, phone_sealed FROM residents WHERE name = '批量360'").first()!
            #expect(try store.sealer.open(try row.decode(column: "id_sealed", as: String.self)) == Self.newID(360))
            #expect(try row.decode(column: "id_index", as: String.self) == store.sealer.blindIndex(Self.newID(360)))
            #expect(try store.sealer.open(try row.decode(column: "phone_sealed", as: String.self)) == "13812342151")
            // Nothing twice on a re-run.
            let again = try await ResidentImporter(store: store).run(file: file, options: options, actor: .commandLine)
            #expect(again.created == 0 && again.unchanged == 37)
            #expect(try await Self.count(store) == before + 37)
        }
    }

    /// Someone recorded as moved out who is in the file again is back: present, in the file's dwelling,
    /// with a `moved_in` event from where they were to where they are now; their old dwelling left as it was.
    @Test func aPersonWhoHadMovedOutIsBroughtBackWithAMoveInEvent() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: a person of the sample building moved out of 1单元101室; 1单元102室 is vacant
            let row = try await store.database.reader.raw("""
                SELECT r.id, r.name, r.id_sealed, r.household_id, b.name || h.room AS place FROM residents r
                JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = r.building_id
                WHERE r.building_id = (SELECT MIN(id) FROM buildings) AND h.room <> '1单元102室' ORDER BY r.id LIMIT 1
                """).first()!
            let residentID = try row.decode(column: "id", as: Int64.self)
            let id = try store.sealer.open(try row.decode(column: "id_sealed", as: String.self))
            let name = try row.decode(column: "name", as: String.self)
            let oldPlace = try row.decode(column: "place", as: String.self)
            let target = try await store.database.reader.raw("""
                SELECT h.id, b.name || h.room AS place FROM households h JOIN buildings b ON b.id = h.building_id
                WHERE h.building_id = (SELECT MIN(id) FROM buildings) AND h.room = '1单元102室'
                """).first()!
            let targetID = try target.decode(column: "id", as: Int64.self)
            try await store.database.transaction { db in
                try await db.raw("UPDATE residents SET status = 'moved_out' WHERE id = \(bind: residentID)").run()
                try await db.raw("UPDATE households SET occupancy = 'vacant' WHERE id = \(bind: targetID)").run()
            }
            let before = try await Self.count(store)
            // act
            let file = Self.write([Self.header, "\(name),\(id),,,\(Self.building),1,102,"])
            let report = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            // check
            #expect(report.updated == 1 && report.created == 0 && report.rejected == 0, "\(report)")
            #expect(try await Self.count(store) == before + 1) // counted as present again, not added twice
            let now = try await store.database.reader.raw("SELECT status, household_id, address FROM residents WHERE id = \(bind: residentID)").first()!
            #expect(try now.decode(column: "status", as: String.self) == "present")
            #expect(try now.decode(column: "household_id", as: Int64.self) == targetID)
            #expect(try now.decode(column: "address", as: String.self).hasSuffix("1单元102室"))
            let events = try await store.database.reader.raw("""
                SELECT kind, field, old_value, new_value, source FROM resident_events WHERE resident_id = \(bind: residentID) ORDER BY id
                """).all()
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(try event.decode(column: "kind", as: String.self) == "moved_in")
            #expect(try event.decode(column: "field", as: String?.self) == nil)
            #expect(try event.decode(column: "old_value", as: String.self) == "已迁出 · \(oldPlace)")
            #expect(try event.decode(column: "new_value", as: String.self) == (try target.decode(column: "place", as: String.self)))
            let runID = try await store.database.reader.raw("SELECT MAX(id) AS id FROM import_runs").first()!.decode(column: "id", as: Int64.self)
            #expect(try event.decode(column: "source", as: String.self) == "import:\(runID)")
            let occupancy = try await store.database.reader.raw("SELECT occupancy FROM households WHERE id = \(bind: targetID)").first()!
            #expect(try occupancy.decode(column: "occupancy", as: String.self) == "owner_occupied")
            // The same file again: present and home already, nothing to do.
            let again = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            #expect(again.unchanged == 1 && again.updated == 0, "\(again)")
        }
    }

    /// A row for someone recorded as deceased changes nothing and says why, on the ID number.
    @Test func aRowForADeceasedPersonIsRejectedWithItsReason() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let row = try await store.database.reader.raw("""
                SELECT r.id, r.name, r.id_sealed, r.household_id, r.address FROM residents r
                WHERE r.building_id = (SELECT MIN(id) FROM buildings) ORDER BY r.id LIMIT 1
                """).first()!
            let residentID = try row.decode(column: "id", as: Int64.self)
            let id = try store.sealer.open(try row.decode(column: "id_sealed", as: String.self))
            let name = try row.decode(column: "name", as: String.self)
            try await store.database.transaction { db in
                try await db.raw("UPDATE residents SET status = 'deceased' WHERE id = \(bind: residentID)").run()
            }
            let file = Self.write([Self.header, "\(name),\(id),,13812342151,\(Self.building),1,102,",
                                   "新来的,\(Self.newID(498)),,,\(Self.building),1,102,"])
            let report = try await ResidentImporter(store: store).run(file: file, options: Self.options, actor: .commandLine)
            #expect(report.rows == 2 && report.rejected == 1 && report.created == 1 && report.updated == 0, "\(report)")
            let text = try String(contentsOfFile: try #require(report.reportFile), encoding: .utf8)
            #expect(text.contains("2,公民身份号码,\"此人已登记死亡,如有误请先在居民页核实 (recorded as deceased)\""), "\(text)")
            let now = try await store.database.reader.raw("SELECT status, household_id, phone_sealed FROM residents WHERE id = \(bind: residentID)").first()!
            #expect(try now.decode(column: "status", as: String.self) == "deceased")
            #expect(try now.decode(column: "household_id", as: Int64.self) == (try row.decode(column: "household_id", as: Int64.self)))
            let events = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM resident_events WHERE resident_id = \(bind: residentID)").first()!
            #expect(try events.decode(column: "n", as: Int.self) == 0)
            let run = try await store.database.reader.raw("SELECT rejected, created FROM import_runs ORDER BY id DESC LIMIT 1").first()!
            #expect(try run.decode(column: "rejected", as: Int.self) == 1 && (try run.decode(column: "created", as: Int.self)) == 1)
        }
    }
}
