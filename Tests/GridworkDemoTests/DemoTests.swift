import Foundation
import GridworkCore
import GridworkDemo
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct DemoTests {
    struct Person: Equatable { let name: String; let sex: String; let birth: String; let id: String }

    static func people(_ store: Store, limit: Int? = nil) async throws -> [Person] {
        var q = store.database.reader.select().columns("name", "sex", "birth_date", "id_sealed").from("residents").orderBy("id")
        if let limit { q = q.limit(limit) }
        return try await q.all().map { r in
            Person(name: try r.decode(column: "name", as: String.self), sex: try r.decode(column: "sex", as: String.self),
                   birth: try r.decode(column: "birth_date", as: String.self),
                   id: try store.sealer.open(try r.decode(column: "id_sealed", as: String.self)))
        }
    }

    @Test func everyIDIsValidUniqueAndAgreesWithThePerson() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let people = try await Self.people(store)
            #expect(people.count > 2_500)
            var seen = Set<String>()
            for p in people {
                let id = try CitizenID(p.id)
                #expect(id.regionCode == "430524")
                #expect(id.birthDate.iso == p.birth)
                #expect(id.sex.rawValue == p.sex)
                #expect(seen.insert(p.id).inserted)
            }
        }
    }

    @Test func theSameSeedBuildsTheSameCounty() async throws {
        // setup: the template was built with TestDatabase.demo; build it again elsewhere
        let path = TestDatabase.scratchDirectory().appendingPathComponent("again.sqlite").path
        let again = try await Store.open(.sqlite(path: path), environment: TestDatabase.environment)
        do {
            try await DemoSeeder.seed(into: again, options: TestDatabase.demo)
            let rebuilt = try await Self.people(again, limit: 200)
            let rebuiltStats = try await again.net.stats()
            try await TestDatabase.withStore { (store: Store) async throws in
                let original = try await Self.people(store, limit: 200)
                let originalStats = try await store.net.stats()
                #expect(original == rebuilt)
                #expect(originalStats == rebuiltStats)
            }
            try await again.close()
        } catch {
            try? await again.close()
            throw error
        }
    }

    @Test func aDifferentSeedBuildsADifferentCounty() async throws {
        let path = TestDatabase.scratchDirectory().appendingPathComponent("other.sqlite").path
        let other = try await Store.open(.sqlite(path: path), environment: TestDatabase.environment)
        do {
            var options = TestDatabase.demo
            options.seed = 8
            try await DemoSeeder.seed(into: other, options: options)
            let names = try await Self.people(other, limit: 50).map(\.name)
            try await TestDatabase.withStore { (store: Store) async throws in
                let original = try await Self.people(store, limit: 50).map(\.name)
                #expect(original != names)
            }
            try await other.close()
        } catch {
            try? await other.close()
            throw error
        }
    }

    @Test func thePopulationLooksLikeACounty() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let people = try await Self.people(store)
            let ages = people.map { CivilDate(iso: $0.birth)!.years(until: CivilDate(year: 2026, month: 1, day: 1)!) }
            let children = Double(ages.filter { $0 < 15 }.count) / Double(ages.count)
            let elderly = Double(ages.filter { $0 >= 65 }.count) / Double(ages.count)
            #expect((0.08...0.30).contains(children), "children \(children)")
            #expect((0.08...0.30).contains(elderly), "elderly \(elderly)")
            #expect(ages.allSatisfy { (0...105).contains($0) })
            let men = Double(people.filter { $0.sex == "male" }.count) / Double(people.count)
            #expect((0.45...0.56).contains(men))
            // The commonest surnames lead, as in the published frequencies.
            var bySurname: [Character: Int] = [:]
            for p in people { bySurname[p.name.first!, default: 0] += 1 }
            let top = bySurname.sorted { $0.value > $1.value }.prefix(8).map(\.key)
            #expect(top.contains("王") && top.contains("李") && top.contains("张"))
            let sizes = try await store.database.reader.raw("SELECT household_id, COUNT(*) AS n FROM residents GROUP BY household_id").all()
                .map { try $0.decode(column: "n", as: Int.self) }
            let mean = Double(sizes.reduce(0, +)) / Double(sizes.count)
            #expect((2.5...3.5).contains(mean), "mean household \(mean)")
            #expect(sizes.allSatisfy { (1...6).contains($0) })
        }
    }

    @Test func absurdSizesAreRefusedBeforeAnythingIsWritten() async throws {
        #expect(DemoOptions(profile: .longhui, residents: -5).problem != nil)
        #expect(DemoOptions(profile: .longhui, residents: 50_000_000).problem != nil)
        #expect(DemoOptions(profile: .longhui, residents: 1_010_000).problem == nil)
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            await #expect(throws: StoreError.self) {
                try await DemoSeeder.seed(into: store, options: DemoOptions(profile: .sample, residents: 10))
            }
            #expect(try await store.net.isEmpty())
        }
    }
}
