import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// The loop's pages refuse bad input with its reason and change nothing.
@Suite struct CaseRoutesTests {
    static func count(_ store: Store) async throws -> Int {
        try await store.database.reader.raw("SELECT COUNT(*) AS n FROM cases").first()!.decode(column: "n", as: Int.self)
    }

    /// A multipart body as a browser sends it.
    static func multipart(_ fields: [(String, String)], file: (name: String, filename: String, bytes: [UInt8])? = nil) -> (String, String) {
        let boundary = "----gridworkTestBoundary7MA4YWxk"
        var body = ""
        for (k, v) in fields { body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n" }
        if let file {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: image/jpeg\r\n\r\n"
            body += String(decoding: file.bytes, as: UTF8.self) + "\r\n"
        }
        body += "--\(boundary)--\r\n"
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    @Test func aFakePhotoOrAnUnknownCategoryIsRefusedAndNothingIsFiled() async throws {
        try await withApp { client, _, store in
            let me = try await client.login("gw430524001001001")
            let base: [(String, String)] = [("_csrf", me.csrf), ("building", "430524001001001001"), ("category", "0301"),
                                            ("description", "楼下垃圾三天没人清运"), ("channel", "grid_worker")]
            let (fake, type) = Self.multipart(base, file: ("photo", "scene.jpg", Array("<?php echo 1; ?>".utf8)))
            let refused = try await client.send("/report", method: .post, as: me, body: fake, contentType: type)
            #expect(refused.status == .badRequest && refused.text.contains("不是图片"))
            let (unknown, type2) = Self.multipart(base.map { $0.0 == "category" ? ("category", "9999") : $0 })
            let refused2 = try await client.send("/report", method: .post, as: me, body: unknown, contentType: type2)
            #expect(refused2.status == .badRequest && refused2.text.contains("9999"))
            let (staffOnly, type3) = Self.multipart(base.map { $0.0 == "channel" ? ("channel", "open311") : $0 })
            let refused3 = try await client.send("/report", method: .post, as: me, body: staffOnly, contentType: type3)
            #expect(refused3.status == .badRequest && refused3.text.contains("来源"))
            #expect(try await Self.count(store) == 0)
            // The good form files one matter, even when the browser sends it twice.
            let (good, type4) = Self.multipart(base + [("key", "retry-1")])
            let first = try await client.send("/report", method: .post, as: me, body: good, contentType: type4)
            let second = try await client.send("/report", method: .post, as: me, body: good, contentType: type4)
            #expect(first.status == .ok && second.status == .ok && first.text.contains("查询码"))
            #expect(try await Self.count(store) == 1)
        }
    }

    @Test func figuresAndSettingsExplainBadValues() async throws {
        try await withApp { client, _, store in
            let admin = try await client.login("admin")
            let period = try await client.get("/cases/figures?from=2026-12-01&to=2026-01-01", as: admin)
            #expect(period.status == .badRequest && period.text.contains("日期范围无效"))
            let code = try await client.get("/cases/figures?in=43x", as: admin)
            #expect(code.status == .badRequest)
            let ok = try await client.get("/cases/figures?in=430524", as: admin)
            #expect(ok.status == .ok && ok.text.contains("桃花坪街道") && ok.text.contains("受理率"))
            let csv = try await client.get("/cases/figures.csv?in=430524", as: admin)
            #expect(csv.status == .ok && csv.bytes.starts(with: [0xEF, 0xBB, 0xBF]) && csv.text.contains("合计"))
            let bad = try await client.send("/cases/settings/categories/0202", method: .post, as: admin,
                                            body: "_csrf=\(admin.csrf)&responsible=grid_worker&accept_amount=0&accept_unit=working_hours&handle_amount=1&handle_unit=working_days&verify_amount=1&verify_unit=working_days&yellow=80&red=100&closing=%E7%85%A7%E7%89%87")
            #expect(bad.status == .badRequest && bad.text.contains("时限"))
            let before = try await store.cases.categories().first { $0.code == "0202" }
            let good = try await client.send("/cases/settings/categories/0202", method: .post, as: admin,
                                             body: "_csrf=\(admin.csrf)&responsible=grid_worker&accept_amount=3&accept_unit=working_hours&handle_amount=2&handle_unit=working_days&verify_amount=1&verify_unit=working_days&yellow=70&red=100&closing=%E8%BD%A6%E8%BE%86%E7%A7%BB%E5%87%BA")
            #expect(good.status == .ok && good.text.contains("已保存"))
            let after = try await store.cases.categories().first { $0.code == "0202" }
            #expect(before?.accept.amount == 2 && after?.accept.amount == 3 && after?.yellowPercent == 70)
        }
    }

    @Test func theInboxShowsTheMostUrgentFirstAndEveryChangeAtOnce() async throws {
        try await withApp { client, _, store in
            let me = try await client.login("gw430524001001001")
            let other = try await client.login("gw430524101001001")
            let empty = try await client.get("/cases", as: me)
            #expect(empty.status == .ok && empty.text.contains("没有待办事项"))
            // setup: 35 reports at once at the worker's building
            let building = try RegionCode("430524001001001001"), cases = store.cases
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<35 {
                    group.addTask {
                        try await cases.report(CaseReport(category: "0301", title: "垃圾\(i)", description: "楼下垃圾三天没人清运", reporterName: "刘阿姨",
                                                          reporterPhone: nil, channel: .gridWorker), at: .building(building), by: nil).id
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            // check: the first 30 and a way to all; the page read again is the same; another grid's worker sees none of it
            let cards = { (page: Answer) in page.text.components(separatedBy: "class=\"card").count - 1 }
            let first = try await client.get("/cases", as: me)
            #expect(cards(first) == 30 && first.text.contains("/cases?all=1"))
            let again = try await client.get("/cases", as: me)
            #expect(again.text == first.text)
            let all = try await client.get("/cases?all=1", as: me)
            #expect(cards(all) == 35 && !all.text.contains("/cases?all=1"))
            #expect(try await client.get("/cases", as: other).text.contains("没有待办事项"))
            // act: one is taken in (its new clock sends it down the list); the next look is built again, not the page kept from before
            #expect(!again.text.contains("已受理"))
            _ = try await cases.act(.accept, on: ids[0], version: 1, actor: .viewer(Viewer(userID: 0, login: me.login, role: .gridWorker,
                                                                                          scope: try RegionCode("430524001001001"))))
            let after = try await client.get("/cases", as: me)
            #expect(after.text != again.text && cards(after) == 30)
            #expect(try await client.get("/cases?all=1", as: me).text.contains("已受理"))
        }
    }
}
