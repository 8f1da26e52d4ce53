import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct RegistryStoreTests {
    static let grid = "430524001001001"
    static let worker = Viewer(userID: 0, login: "gw-test", role: .gridWorker, scope: try! RegionCode(grid))
    static let otherWorker = Viewer(userID: 0, login: "gw-other", role: .gridWorker, scope: try! RegionCode("430524101001001"))
    static let head = Viewer(userID: 0, login: "bh-test", role: .buildingHead, scope: try! RegionCode(grid + "001"))
    static let today = CivilDate(year: 2026, month: 11, day: 29)!

    /// The first resident of the grid's first building, and their household.
    static func someone(_ store: Store) async throws -> (id: Int64, household: Int64) {
        let r = try await store.database.reader.raw("""
            SELECT r.id, r.household_id FROM residents r JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            WHERE g.code = \(bind: grid) AND b.number = 1 ORDER BY r.id LIMIT 1
            """).first()!
        return (try r.decode(column: "id", as: Int64.self), try r.decode(column: "household_id", as: Int64.self))
    }

    @Test func aMoveOutKeepsThePersonWithTheEventInTheirHistory() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, household) = try await Self.someone(store)
            let before = try await store.net.stats().residents
            // act
            try await store.registry.recordDeparture(.moveOut(destination: "广东省深圳市南山区"), resident: id, viewer: Self.worker,
                                                     address: "127.0.0.1", today: Self.today)
            // check: still on record, no longer counted or listed, history and audit written
            let (person, history) = try await store.registry.resident(id, viewer: Self.worker)
            #expect(person.status == .movedOut)
            #expect(history.first?.kind == "moved_out" && history.first?.new == "广东省深圳市南山区" && history.first?.actor == "gw-test")
            #expect(try await store.net.stats().residents == before - 1)
            let listed = try await store.residents.residents(inBuilding: try RegionCode(Self.grid + "001"), viewer: Self.worker)
            #expect(!listed.contains { $0.id == id })
            let home = try await store.registry.household(household, viewer: Self.worker)
            #expect(home.former.map(\.person.id) == [id])
            let audit = try await AuditLog.search(store.database, query: "registry.moved_out")
            #expect(audit.first?.target == "resident:\(id)")
            // A second departure is refused with a reason and changes nothing.
            await #expect(throws: StoreError.self) {
                try await store.registry.recordDeparture(.death(on: Self.today), resident: id, viewer: Self.worker, address: "x", today: Self.today)
            }
            #expect(try await store.registry.resident(id, viewer: Self.worker).person.status == .movedOut)
        }
    }

    @Test func theLastPersonLeavingMakesTheDwellingVacantAndABirthFillsIt() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, household) = try await Self.someone(store)
            for member in try await store.registry.household(household, viewer: Self.worker).members {
                try await store.registry.recordDeparture(.death(on: Self.today), resident: member.person.id, viewer: Self.worker,
                                                         address: "x", today: Self.today)
            }
            #expect(try await store.registry.household(household, viewer: Self.worker).occupancy == .vacant)
            #expect(try await store.registry.resident(id, viewer: Self.worker).person.status == .deceased)
            // act: a baby registered in the dwelling
            let baby = CitizenID(region: "430524", birth: CivilDate(year: 2026, month: 11, day: 1)!, sequence: 998, sex: .female)
            let person = try NewResident.parse(["event": "birth", "name": "刘小禾", "id_number": baby.value, "relation": "daughter"], today: Self.today)
            let newID = try await store.registry.recordArrival(person, household: household, viewer: Self.worker, address: "x", today: Self.today)
            // check
            let home = try await store.registry.household(household, viewer: Self.worker)
            #expect(home.members.map(\.person.id) == [newID])
            #expect(home.members.first?.person.idMasked == baby.masked && home.members.first?.person.sex == .female)
            #expect(home.occupancy == .ownerOccupied)
            #expect(home.history.first?.kind == "born")
            // The same baby cannot be born twice.
            await #expect(throws: StoreError.self) {
                try await store.registry.recordArrival(person, household: household, viewer: Self.worker, address: "x", today: Self.today)
            }
        }
    }

    @Test func someoneKnownWhoMovesInIsMovedNotCopied() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, _) = try await Self.someone(store)
            let plain = try await store.residents.unmask(.citizenID, of: id, viewer: Self.worker, address: "x")
            let target = try await store.database.reader.raw("""
                SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE g.code = \(bind: Self.grid) AND b.number = 2 ORDER BY h.id LIMIT 1
                """).first()!.decode(column: "id", as: Int64.self)
            let count = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM residents").first()!.decode(column: "n", as: Int.self)
            // act
            let person = try NewResident.parse(["event": "move_in", "name": "任意", "id_number": plain, "relation": "other", "origin": "本县"], today: Self.today)
            let movedID = try await store.registry.recordArrival(person, household: target, viewer: Self.worker, address: "x", today: Self.today)
            // check
            #expect(movedID == id)
            #expect(try await store.database.reader.raw("SELECT COUNT(*) AS n FROM residents").first()!.decode(column: "n", as: Int.self) == count)
            let (detail, history) = try await store.registry.resident(id, viewer: Self.worker)
            #expect(detail.householdID == target && detail.building.value == Self.grid + "002" && detail.person.relation == .other)
            #expect(history.first?.kind == "moved_in")
        }
    }

    @Test func outsideScopeOrRoleNothingIsReadOrChanged() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, household) = try await Self.someone(store)
            await #expect(throws: StoreError.notFound(what: "居民 (resident)", key: String(id))) {
                try await store.registry.resident(id, viewer: Self.otherWorker)
            }
            await #expect(throws: StoreError.self) { try await store.registry.household(household, viewer: Self.otherWorker) }
            // A building head reads their building but records nothing: they report to the grid worker.
            #expect(try await store.registry.resident(id, viewer: Self.head).person.person.id == id)
            await #expect(throws: StoreError.self) {
                try await store.registry.recordDeparture(.moveOut(destination: "x"), resident: id, viewer: Self.head, address: "x", today: Self.today)
            }
            await #expect(throws: StoreError.self) {
                try await store.registry.setOccupancy(.rented, household: household, viewer: Self.otherWorker, address: "x")
            }
            #expect(try await store.registry.household(household, viewer: Self.worker).occupancy != .vacant)
            let (person, history) = try await store.registry.resident(id, viewer: Self.worker)
            #expect(person.status == .present && history.isEmpty)
        }
    }

    @Test func searchFindsByEachCriterionWithinScopeOnly() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, _) = try await Self.someone(store)
            let (person, _) = try await store.registry.resident(id, viewer: Self.worker)
            let plainID = try await store.residents.unmask(.citizenID, of: id, viewer: Self.worker, address: "x")
            func find(_ form: [String: String], as viewer: Viewer = Self.worker) async throws -> [Int64] {
                try await store.registry.search(try ResidentQuery.parse(form), viewer: viewer, today: Self.today).hits.map(\.person.id)
            }
            #expect(try await find(["id": plainID]) == [id])
            #expect(try await find(["id": person.person.idMasked]).contains(id))
            #expect(try await find(["name": person.person.name]).contains(id))
            let age = person.person.birthDate.years(until: Self.today)
            #expect(try await find(["name": person.person.name, "min_age": String(age), "max_age": String(age)]).contains(id))
            #expect(try await !find(["name": person.person.name, "min_age": String(age + 1)]).contains(id))
            #expect(try await find(["address": "%"]).isEmpty) // a % typed in matches itself, not everything
            // Another grid's worker finds no one of this grid, even by exact ID.
            #expect(try await find(["id": plainID], as: Self.otherWorker).isEmpty)
            // Tags: everyone found carries the tag.
            let lonely = try await store.registry.search(try ResidentQuery.parse(["tag": "elderly_alone"]), viewer: Self.worker, today: Self.today).hits
            #expect(lonely.allSatisfy { $0.person.tags.contains(.elderlyAlone) })
            // A department asking for a tag outside its duty learns nothing.
            let fire = Viewer(userID: 0, login: "dept-fire", role: .departmentOfficer, scope: .county("430524"), department: .fire)
            #expect(try await find(["tag": "elderly_alone"], as: fire).isEmpty)
        }
    }

    @Test func organisationsNeedAUniqueCreditCodeInScope() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let form = ["name": "桃花坪示范超市", "credit_code": "91350100M000100Y43", "kind": "company", "address": "桃花坪街道1号",
                        "contact": "李明", "contact_phone": "0739-8222110"]
            let o = try NewOrganisation.parse(form)
            let grid = try RegionCode(Self.grid)
            let before = try await store.organisations.list(under: grid, viewer: Self.worker).total
            try await store.organisations.add(o, grid: grid, viewer: Self.worker, address: "x")
            let list = try await store.organisations.list(under: grid, viewer: Self.worker)
            #expect(list.total == before + 1 && list.rows.contains { $0.creditCode == "91350100M000100Y43" && $0.grid == grid })
            // The same code twice is a conflict; another grid's worker cannot register here.
            await #expect(throws: StoreError.self) { try await store.organisations.add(o, grid: grid, viewer: Self.worker, address: "x") }
            await #expect(throws: StoreError.self) { try await store.organisations.add(o, grid: grid, viewer: Self.otherWorker, address: "x") }
            await #expect(throws: StoreError.self) { try await store.organisations.list(under: grid, viewer: Self.otherWorker) }
            #expect(try await store.organisations.list(under: grid, viewer: Self.worker).total == before + 1)
        }
    }
}
