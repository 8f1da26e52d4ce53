import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// The registry's pages as a grid worker uses them: search, a resident's and a household's page,
/// recording changes, exports, organisations — and every bad input refused with its reason.
@Suite struct RegistryRoutesTests {
    static let worker = "gw430524001001001"

    static func someone(_ store: Store) async throws -> (id: Int64, household: Int64, name: String) {
        let r = try await store.database.reader.raw("""
            SELECT r.id, r.household_id, r.name FROM residents r JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            WHERE g.code = '430524001001001' AND b.number = 1 ORDER BY r.id LIMIT 1
            """).first()!
        return (try r.decode(column: "id", as: Int64.self), try r.decode(column: "household_id", as: Int64.self),
                try r.decode(column: "name", as: String.self))
    }

    @Test func searchingByNameFindsThePersonAndBadCriteriaAreNamed() async throws {
        try await withApp { client, _, store in
            let me = try await client.login(Self.worker)
            let person = try await Self.someone(store)
            let name = person.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let found = try await client.send("/registry/search", method: .post, as: me, body: "_csrf=\(me.csrf)&name=\(name)")
            #expect(found.status == .ok)
            #expect(found.text.contains("/registry/residents/\(person.id)"))
            let bad = try await client.send("/registry/search", method: .post, as: me, body: "_csrf=\(me.csrf)&min_age=90&max_age=20")
            #expect(bad.status == .badRequest && bad.text.contains("最小年龄不能大于最大年龄"))
            let empty = try await client.send("/registry/search", method: .post, as: me, body: "_csrf=\(me.csrf)&name=")
            #expect(empty.status == .badRequest && empty.text.contains("请至少填写一个条件"))
            let html = try await client.send("/registry/search", method: .post, as: me, body: "_csrf=\(me.csrf)&name=%3Cscript%3E")
            #expect(html.status == .ok && !html.text.contains("<script>") && html.text.contains("&lt;script&gt;"))
        }
    }

    @Test func aMoveOutRecordedOnThePageShowsInTheHistory() async throws {
        try await withApp { client, _, store in
            let me = try await client.login(Self.worker)
            let person = try await Self.someone(store)
            let page = try await client.get("/registry/residents/\(person.id)", as: me)
            #expect(page.status == .ok && page.text.contains("登记迁出"))
            // Bad input first: a death tomorrow, an unknown event. Nothing changes.
            let tomorrow = try await client.send("/registry/residents/\(person.id)/departure", method: .post, as: me,
                                                 body: "_csrf=\(me.csrf)&event=death&date=2999-01-01")
            #expect(tomorrow.status == .badRequest && tomorrow.text.contains("死亡日期"))
            #expect(try await store.registry.resident(person.id, viewer: Self.viewer(store)).person.status == .present)
            // act
            let moved = try await client.send("/registry/residents/\(person.id)/departure", method: .post, as: me,
                                              body: "_csrf=\(me.csrf)&event=move_out&destination=%E9%95%BF%E6%B2%99%E5%B8%82")
            // check
            #expect(moved.status == .ok && moved.text.contains("已迁出") && moved.text.contains("迁往 长沙市"))
            let again = try await client.send("/registry/residents/\(person.id)/departure", method: .post, as: me,
                                              body: "_csrf=\(me.csrf)&event=move_out&destination=x")
            #expect(again.status == .conflict)
            let household = try await client.get("/registry/households/\(person.household)", as: me)
            #expect(household.text.contains("曾在本户") && household.text.contains("迁出"))
        }
    }

    @Test func aBirthWithAWrongCheckCharacterIsRefusedAndAGoodOneLands() async throws {
        try await withApp { client, _, store in
            let me = try await client.login(Self.worker)
            let person = try await Self.someone(store)
            let baby = CitizenID(region: "430524", birth: CivilDate.today().adding(years: -1), sequence: 996, sex: .female)
            let wrong = String(baby.value.dropLast()) + (baby.value.last == "1" ? "2" : "1")
            let before = try await store.net.stats().residents
            let refused = try await client.send("/registry/households/\(person.household)/arrival", method: .post, as: me,
                                                body: "_csrf=\(me.csrf)&event=birth&name=%E5%88%98%E5%B0%8F%E7%A6%BE&id_number=\(wrong)&relation=daughter")
            #expect(refused.status == .badRequest && refused.text.contains("校验码"))
            #expect(try await store.net.stats().residents == before)
            let landed = try await client.send("/registry/households/\(person.household)/arrival", method: .post, as: me,
                                               body: "_csrf=\(me.csrf)&event=birth&name=%E5%88%98%E5%B0%8F%E7%A6%BE&id_number=\(baby.value)&relation=daughter")
            #expect(landed.status == .ok && landed.text.contains("刘小禾") && landed.text.contains("出生登记"))
            #expect(try await store.net.stats().residents == before + 1)
            let rented = try await client.send("/registry/households/\(person.household)/occupancy", method: .post, as: me,
                                               body: "_csrf=\(me.csrf)&occupancy=rented")
            #expect(rented.status == .ok && rented.text.contains("已改为出租"))
        }
    }

    @Test func exportsAreMaskedSpreadsheetsAndAudited() async throws {
        try await withApp { client, _, store in
            let me = try await client.login(Self.worker)
            let csv = try await client.send("/registry/export", method: .post, as: me,
                                            body: "_csrf=\(me.csrf)&scope=430524001001001&format=csv")
            #expect(csv.status == .ok && csv.contentType.hasPrefix("text/csv"))
            #expect(csv.bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.count > 10 && lines.dropFirst().allSatisfy { $0.contains("********") })
            // The same people as Excel: a real XLSX read back.
            let xlsx = try await client.send("/registry/export", method: .post, as: me,
                                             body: "_csrf=\(me.csrf)&scope=430524001001001&format=xlsx")
            #expect(xlsx.status == .ok && xlsx.bytes.starts(with: [0x50, 0x4B]))
            let path = TestDatabase.scratchDirectory().appendingPathComponent("export.xlsx").path
            try Data(xlsx.bytes).write(to: URL(fileURLWithPath: path))
            var reader = try XLSXReader(path: path)
            var rows: [[String]] = []
            while let batch = try reader.next() { rows += batch }
            #expect(rows.count == lines.count)
            #expect(rows.first?.first == "姓名" && rows.dropFirst().allSatisfy { $0[1].contains("********") })
            // Outside scope: not found, nothing written; a bad format: its reason.
            let outside = try await client.send("/registry/export", method: .post, as: me, body: "_csrf=\(me.csrf)&scope=430524101&format=csv")
            #expect(outside.status == .notFound)
            let format = try await client.send("/registry/export", method: .post, as: me, body: "_csrf=\(me.csrf)&scope=430524001001001&format=pdf")
            #expect(format.status == .badRequest && format.text.contains("格式应为"))
            let audit = try await AuditLog.search(store.database, query: "export.masked")
            #expect(audit.count == 2)
        }
    }

    @Test func anOrganisationWithABadCreditCodeIsRefusedWithItsReason() async throws {
        try await withApp { client, _, store in
            let me = try await client.login(Self.worker)
            let base = "_csrf=\(me.csrf)&in=430524001001001&grid=430524001001001&name=%E7%A4%BA%E8%8C%83%E8%B6%85%E5%B8%82&kind=company"
                + "&address=%E6%A1%83%E8%8A%B1%E5%9D%AA1%E5%8F%B7&contact=%E6%9D%8E%E6%98%8E&contact_phone=0739-8222110"
            let bad = try await client.send("/registry/organisations", method: .post, as: me, body: base + "&credit_code=91350100M000100Y44")
            #expect(bad.status == .badRequest && bad.text.contains("校验位应为3"))
            let good = try await client.send("/registry/organisations", method: .post, as: me, body: base + "&credit_code=91350100M000100Y43")
            #expect(good.status == .ok && good.text.contains("91350100M000100Y43"))
            let twice = try await client.send("/registry/organisations", method: .post, as: me, body: base + "&credit_code=91350100M000100Y43")
            #expect(twice.status == .conflict)
            let viewer = try await Self.viewer(store)
            #expect(try await store.organisations.list(under: try RegionCode("430524001001001"), viewer: viewer).rows
                .filter { $0.creditCode == "91350100M000100Y43" }.count == 1)
        }
    }

    @Test func theAPIAnswersAResidentWithHistoryAsDocumented() async throws {
        try await withApp { client, _, store in
            let me = try await client.login(Self.worker)
            let person = try await Self.someone(store)
            let doc = try OpenAPITests.document(try await client.get("/openapi.yaml").text)
            let answer = try await client.get("/api/v1/residents/\(person.id)", as: me)
            #expect(answer.status == .ok)
            var problems: [String] = []
            OpenAPITests.validate(answer.json, against: try OpenAPITests.responseSchema(doc, path: "/api/v1/residents/{id}", status: "200"),
                                  in: doc, at: "/api/v1/residents/{id}", problems: &problems)
            #expect(problems.isEmpty, "\(problems.prefix(5))")
            #expect(!answer.text.contains(try await store.residents.unmask(.citizenID, of: person.id, viewer: try await Self.viewer(store), address: "x")))
        }
    }

    static func viewer(_ store: Store) async throws -> Viewer {
        Viewer(userID: 0, login: worker, role: .gridWorker, scope: try RegionCode("430524001001001"))
    }
}
