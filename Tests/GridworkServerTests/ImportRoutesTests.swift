import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ImportRoutesTests {
    @Test func uploadPreviewConfirmAndFollow() async throws {
        try await withApp { client, _, store in
            let worker = try await client.login("gw430524001001001")
            let id = CitizenID(region: "430524", birth: CivilDate(year: 1937, month: 7, day: 7)!, sequence: 901, sex: .male).value
            let csv = """
                姓名,公民身份号码,楼栋,房号
                网上导入,\(id),430524001001001001,1单元101室
                越界,\(CitizenID(region: "430524", birth: CivilDate(year: 1937, month: 7, day: 8)!, sequence: 903, sex: .male).value),430524001001002001,1单元101室
                """
            let before = try await store.net.stats().residents
            let preview = try await client.send("/registry/import/upload", method: .post, as: worker,
                                                headers: [.init("X-CSRF-Token")!: worker.csrf], body: csv, contentType: "text/csv")
            #expect(preview.status == .ok)
            let json = try #require(preview.json as? [String: Any])
            #expect(json["created"] as? Int == 1 && json["rejected"] as? Int == 1)
            let digest = try #require(json["digest"] as? String)
            let report = try await client.get("/registry/import/\(digest)/report.csv?preview=1", as: worker)
            #expect(report.text.contains("不在您的负责范围"))
            #expect(try await store.net.stats().residents == before) // a preview writes nothing

            let confirm = try await client.send("/registry/import/\(digest)/confirm", method: .post, as: worker, body: "_csrf=\(worker.csrf)")
            #expect(confirm.status == .seeOther)
            var finished = false
            for _ in 0..<100 where !finished {
                let page = try await client.get("/registry/import/\(digest)", as: worker)
                finished = page.text.contains("导入完成")
                if !finished { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(finished)
            #expect(try await store.net.stats().residents == before + 1)
            let final = try await client.get("/registry/import/\(digest)/report.csv", as: worker)
            #expect(final.status == .ok && final.contentType.hasPrefix("text/csv"))
        }
    }

    @Test func theWizardIsLinkedForImportersOnly() async throws {
        try await withApp { client, _ in
            let worker = try await client.login("gw430524001001001")
            #expect(try await client.get("/me", as: worker).text.contains("href=\"/registry/import\""))
            let head = try await client.login("bh430524001001001001")
            #expect(!(try await client.get("/me", as: head).text.contains("href=\"/registry/import\"")))
            #expect(try await client.get("/registry/import", as: head).status == .forbidden)
        }
    }
}
