import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite struct DepartmentRoutesTests {
    @Test func aDepartmentSeesItsShareWithBuildingHeads() async throws {
        try await withApp { client, _, store in
            let officer = try await client.login("dept-civil_affairs")
            let me = try await client.get("/me", as: officer)
            #expect(me.text.contains("href=\"/registry/departments/civil_affairs\""))
            let page = try await client.get("/registry/departments/civil_affairs", as: officer)
            #expect(page.status == .ok)
            #expect(page.text.contains("楼栋长"))
            #expect(!page.text.contains("重点青少年")) // a police tag, not civil affairs'
            // The count on the page is the registry's own count of people with a civil-affairs tag.
            let expected = try await store.database.reader.raw("""
                SELECT COUNT(DISTINCT resident_id) AS n FROM resident_tags
                WHERE tag IN ('elderly_alone', 'disability', 'low_income', 'left_behind_child')
                """).first()!.decode(column: "n", as: Int.self)
            #expect(page.text.contains("共 \(expected.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))) 人"))
            let viewer = try #require(try await store.accounts.session(officer.cookie)?.viewer)
            let list = try await store.residents.dutyList(.civilAffairs, viewer: viewer)
            #expect(list.total == expected)
            #expect(list.rows.allSatisfy { !$0.tags.isEmpty && Set($0.tags).isSubset(of: Policy.departmentTags[.civilAffairs]!) })
            #expect(list.rows.allSatisfy { $0.buildingHead != nil })
            // Another department's list is not theirs to read.
            #expect(try await client.get("/registry/departments/police", as: officer).status == .notFound)
        }
    }
}
