import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

/// Issue #7 in the store: errands, the public directory, helpers and training.
@Suite struct ServicesStoreTests {
    static let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
    static let community = Viewer(userID: 0, login: "c430524001001", role: .communityStaff, scope: try! RegionCode("430524001001"))
    static let worker = Viewer(userID: 0, login: "gw430524001001001", role: .gridWorker, scope: try! RegionCode("430524001001001"))
    static let head = Viewer(userID: 0, login: "bh430524001001001001", role: .buildingHead, scope: try! RegionCode("430524001001001001"))
    static let otherHead = Viewer(userID: 0, login: "bh430524101001001001", role: .buildingHead, scope: try! RegionCode("430524101001001001"))
    static let building = try! RegionCode("430524001001001001")
    static let phone = MobilePhone("13807391234")!

    static func pension(_ phone: MobilePhone? = phone) -> ErrandRequest {
        ErrandRequest(kind: "pension", room: "1单元101", personName: "王奶奶", phone: phone, note: "腿脚不便")
    }

    @Test func anErrandIsAskedDoneTrackedRatedAndCounted() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let made = try await store.errands.request(Self.pension(), building: Self.building, by: nil, key: "e-1", now: 1_000)
            #expect(try await store.errands.request(Self.pension(), building: Self.building, by: nil, key: "e-1", now: 1_001) == made)   // a retry
            // the building head has it, with a notice; another building's head does not even see it
            #expect(try await store.errands.list(Self.head).map(\.id) == [made.id])
            #expect(try await store.cases.notices(Self.head).first?.text.contains("养老资格认证") == true)
            await #expect(throws: StoreError.notFound(what: "代办事项 (errand)", key: String(made.id))) {
                try await store.errands.detail(made.id, actor: .viewer(Self.otherHead))
            }
            // the steps
            var v = 1
            for action: ErrandAction in [.accept, .start, .wait(office: "桃花坪街道社保所"), .resume, .finish(note: "已完成认证")] {
                v = try await store.errands.act(action, on: made.id, version: v, actor: .viewer(Self.head), now: 2_000 + Int64(v))
            }
            // a stale version is a conflict, not a lost step
            await #expect(throws: StoreError.self) { try await store.errands.act(.accept, on: made.id, version: 1, actor: .viewer(Self.head)) }
            // the resident follows it with code and phone, and rates it; the wrong phone sees nothing
            let resident = ErrandActor.requester(code: made.code, phone: Self.phone)
            #expect(try await store.errands.find(code: made.code.lowercased(), phone: Self.phone) == made.id)
            await #expect(throws: StoreError.self) { try await store.errands.find(code: made.code, phone: MobilePhone("13900000000")!) }
            let seen = try await store.errands.detail(made.id, actor: resident)
            #expect(seen.row.state == .done && seen.actions == ["rate"] && seen.steps.map(\.action) == ["request", "accept", "start", "wait", "resume", "finish"])
            v = try await store.errands.act(.rate(score: 5, comment: "谢谢"), on: made.id, version: v, actor: resident)
            // told at each step? the building head is told of the rating
            #expect(try await store.cases.notices(Self.head).first?.text.contains("评价") == true)
            // the figures count it for the person who did it, on time
            let figures = try await store.errands.figures(under: try RegionCode("430524001001"), from: 0, to: 10_000, viewer: Self.community)
            #expect(figures.count == 1 && figures[0].login == Self.head.login && figures[0].done == 1 && figures[0].onTime == 1 && figures[0].averageRating == 5)
        }
    }

    @Test func errandsOutsideScopeOrWithBadAttachmentsChangeNothing() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // a building head records at another building's door; a photo that is a script; an unknown errand; no phone without an account
            await #expect(throws: StoreError.self) { try await store.errands.request(Self.pension(), building: Self.otherHead.scope, by: Self.head) }
            await #expect(throws: StoreError.self) {
                try await store.errands.request(Self.pension(), building: Self.building, photos: [Array("<?php ?>".utf8)], by: Self.head)
            }
            var unknown = Self.pension()
            unknown.kind = "passport"
            await #expect(throws: StoreError.self) { try await store.errands.request(unknown, building: Self.building, by: Self.head) }
            await #expect(throws: StoreError.self) { try await store.errands.request(Self.pension(nil), building: Self.building, by: nil) }
            #expect(try await store.database.reader.raw("SELECT COUNT(*) AS n FROM errands").first()!.decode(column: "n", as: Int.self) == 0)
            // recorded at the door by the building head, with a real photo; a resident with an account sees theirs
            let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2]
            let made = try await store.errands.request(Self.pension(nil), building: Self.building, photos: [jpeg], by: Self.head)
            #expect(try await store.errands.photo(try await store.errands.detail(made.id, actor: .viewer(Self.head)).photos[0], of: made.id,
                                                  actor: .viewer(Self.head)).bytes == jpeg)
            // the county edits the catalogue; nobody else may
            try await store.errands.saveKind(ErrandKind(code: "residence", name: "居住证办理", documents: "身份证;租房合同", days: 15), viewer: Self.county, address: "t")
            #expect(try await store.errands.kinds().contains { $0.code == "residence" })
            await #expect(throws: StoreError.self) {
                try await store.errands.saveKind(ErrandKind(code: "x", name: "某事", documents: "材料", days: 1), viewer: Self.community, address: "t")
            }
            await #expect(throws: StoreError.self) {
                try await store.errands.saveKind(ErrandKind(code: "bad code", name: "某事", documents: "材料", days: 1), viewer: Self.county, address: "t")
            }
        }
    }

    @Test func theDirectoryShowsWhoAnswersForABuildingAndFollowsChanges() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            guard case .building(let b) = try await store.directory.lookup(Self.building) else { Issue.record("not a building"); return }
            #expect(b.staff.map(\.role) == [.buildingHead, .gridWorker, .gridLeader] && b.duties.count == 8 && b.range.hasPrefix("1–"))
            #expect(b.community.name == "江湾社区" && b.township.name == "桃花坪街道")
            // a new building head shows at once; the change is audited; a grid worker may not make it
            try await store.directory.setStaff(.buildingHead, at: Self.building, name: "张新", sex: .male, phone: "0739-8221234",
                                               viewer: Self.community, address: "t")
            guard case .building(let after) = try await store.directory.lookup(Self.building) else { return }
            #expect(after.staff[0].name == "张新" && after.staff[0].workPhone == "0739-8221234")
            await #expect(throws: StoreError.self) {
                try await store.directory.setStaff(.buildingHead, at: Self.building, name: "李四", sex: .male, phone: "13900000000", viewer: Self.worker, address: "t")
            }
            await #expect(throws: StoreError.self) {
                try await store.directory.setStaff(.gridWorker, at: try RegionCode("430524001001001"), name: "王五", sex: .male, phone: "12345",
                                                   viewer: Self.community, address: "t")
            }
            // the duty list is the county's
            try await store.directory.setDuties(["入户走访", "隐患排查"], viewer: Self.county, address: "t")
            #expect(try await store.directory.duties() == ["入户走访", "隐患排查"])
            await #expect(throws: StoreError.self) { try await store.directory.setDuties([], viewer: Self.county, address: "t") }
            await #expect(throws: StoreError.self) { try await store.directory.setDuties(["x"], viewer: Self.community, address: "t") }
            // a building moved to another grid: its old code (printed in the stairwell) says where it went
            let moved = try await store.net.moveBuilding(Self.building, to: try RegionCode("430524001001002"), actor: .commandLine)
            #expect(try await store.directory.lookup(Self.building) == .moved(from: Self.building, to: moved))
            await #expect(throws: StoreError.self) { try await store.directory.lookup(try RegionCode("430524001001001999")) }
            // search by address, by code, and with SQL in it
            #expect(try await store.directory.search(moved.value).map(\.code) == [moved])
            #expect(try await store.directory.search("' OR 1=1 --").isEmpty)
            #expect(try await store.directory.search("%").isEmpty)
            #expect(try await AuditLog.verify(store.database).brokenAt == nil)
        }
    }

    @Test func helpersAreRegisteredAndTheirHelpIsCounted() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let grid = try RegionCode("430524001001001")
            let v = try await store.helpers.addVolunteer(grid: grid, name: "李师傅", phone: MobilePhone("13907391111")!, skills: "水电维修",
                                                         availability: "周末", viewer: Self.worker, address: "t")
            await #expect(throws: StoreError.self) {   // another grid
                try await store.helpers.addVolunteer(grid: try RegionCode("430524001001002"), name: "王师傅", phone: MobilePhone("13907392222")!,
                                                     skills: "", availability: "", viewer: Self.worker, address: "t")
            }
            // a unit needs a real credit code, once
            let code = try await store.database.reader.raw("SELECT credit_code FROM organisations LIMIT 1").first()!.decode(column: "credit_code", as: String.self)
            await #expect(throws: StoreError.self) {
                try await store.helpers.addUnit(community: try RegionCode("430524001001"), name: "实验小学", creditCode: String(code.dropLast()) + "0",
                                                kind: "学校", services: "假期托管", contact: "", viewer: Self.community, address: "t")
            }
            let u = try await store.helpers.addUnit(community: try RegionCode("430524001001"), name: "实验小学", creditCode: code, kind: "学校",
                                                    services: "假期托管", contact: "王老师", viewer: Self.community, address: "t")
            await #expect(throws: StoreError.conflict("该统一社会信用代码已登记为共建单位 (this credit code is already registered)")) {
                try await store.helpers.addUnit(community: try RegionCode("430524001001"), name: "实验小学", creditCode: code, kind: "学校",
                                                services: "假期托管", contact: "", viewer: Self.community, address: "t")
            }
            // help on an errand and in the community, with hours; the building head sees the helpers of the grid
            let errand = try await store.errands.request(Self.pension(), building: Self.building, by: nil)
            try await store.helpers.record(.volunteer(v), for: .errand(errand.id), hours: 1.5, note: "陪同", viewer: Self.head, address: "t")
            try await store.helpers.record(.unit(u), for: .none, hours: 3, note: "义诊", viewer: Self.community, address: "t")
            await #expect(throws: StoreError.self) {
                try await store.helpers.record(.volunteer(v), for: .none, hours: 30, note: "", viewer: Self.worker, address: "t")
            }
            await #expect(throws: StoreError.self) {
                try await store.helpers.record(.volunteer(v), for: .none, hours: 1, note: "", viewer: Self.otherHead, address: "t")
            }
            let listed = try await store.helpers.volunteers(under: grid, viewer: Self.head)
            #expect(listed.count == 1 && listed[0].hours == 1.5 && listed[0].times == 1 && listed[0].phoneMasked == "139****1111")
            #expect(try await store.helpers.units(under: grid, viewer: Self.worker).map(\.hours) == [3])
            #expect(try await store.helpers.contributions(for: .errand(errand.id)).map(\.helperName) == ["李师傅"])
            #expect(try await store.helpers.available(near: grid).count == 2)
        }
    }

    @Test func trainingIsRecordedAndTheOverdueAreNamed() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let today = CivilDate(year: 2026, month: 11, day: 29)!
            let overdueBefore = try await store.training.overdue(Self.community, today: today)
            #expect(overdueBefore.contains { $0.login == Self.worker.login } && overdueBefore.contains { $0.login == Self.head.login })
            let id = try await store.training.addCourse(topic: "消防安全知识", day: CivilDate(year: 2026, month: 11, day: 20)!, hours: 16, trainer: "消防大队",
                                                        mandatory: true, audience: "all", viewer: Self.community, address: "t")
            await #expect(throws: StoreError.self) {
                try await store.training.addCourse(topic: "x", day: today, hours: 0, trainer: "", mandatory: false, audience: "all", viewer: Self.community, address: "t")
            }
            await #expect(throws: StoreError.self) {   // grid workers do not run courses
                try await store.training.addCourse(topic: "法律常识", day: today, hours: 2, trainer: "司法所", mandatory: false, audience: "all", viewer: Self.worker, address: "t")
            }
            let roster = try await store.training.roster(id, viewer: Self.community)
            #expect(roster.contains { $0.login == Self.head.login } && !roster.contains { $0.login == Self.otherHead.login })
            try await store.training.recordAttendance(id, logins: [Self.worker.login, Self.head.login], viewer: Self.community, address: "t")
            await #expect(throws: StoreError.self) {
                try await store.training.recordAttendance(id, logins: [Self.otherHead.login], viewer: Self.community, address: "t")
            }
            #expect(try await store.training.record(of: Self.head.login).map(\.id) == [id])
            let after = try await store.training.overdue(Self.community, today: today)
            #expect(!after.contains { $0.login == Self.worker.login } && !after.contains { $0.login == Self.head.login } && after.count == overdueBefore.count - 2)
            // a year later the hours no longer count
            #expect(try await store.training.overdue(Self.community, today: CivilDate(year: 2027, month: 11, day: 21)!).count == overdueBefore.count)
            #expect(try await store.training.courses(Self.otherHead).isEmpty)
        }
    }
}
