import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// The directory and errands refuse bad input clearly, reveal nothing private and change nothing.
@Suite struct ServiceRoutesTests {
    @Test func thePublicDirectoryHandlesUnknownCodesHostileSearchesAndMovedBuildings() async throws {
        try await withApp { client, _, store in
            let unknown = try await client.get("/directory/buildings/430524001001001999")
            #expect(unknown.status == .notFound && unknown.text.contains("没有编码为") && unknown.text.contains("name=\"q\""))
            let garbage = try await client.get("/directory/buildings/%3Cimg%20src%3Dx%3E")
            #expect(garbage.status == .notFound && !garbage.text.contains("<img src=x>"))
            let hostile = try await client.get("/directory?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            #expect(hostile.status == .ok && !hostile.text.contains("<script>alert") && hostile.text.contains("&lt;script&gt;"))
            let sql = try await client.get("/directory?q=%27%20OR%201%3D1%20--")
            #expect(sql.status == .ok && sql.text.contains("没有找到"))
            // a real building: staff and duties, no resident's data
            let grid = try await client.get("/directory/grids/430524001001001")
            #expect(grid.status == .ok && grid.text.contains("· 楼栋长 ") && !grid.text.contains("DirectoryPerson"))
            let page = try await client.get("/directory/buildings/430524001001001001")
            #expect(page.status == .ok && page.text.contains("楼栋长") && page.text.contains("网格职责") && !page.text.contains("****"))
            let notice = try await client.get("/directory/buildings/430524001001001001/notice")
            #expect(notice.text.contains("<svg") && notice.text.contains("notice-sheet") && !notice.text.contains("class=\"bar\""))
            // a community's notices: one sheet per building
            let buildings = try await store.database.reader.raw("""
                SELECT COUNT(*) AS n FROM buildings b JOIN regions g ON g.id = b.grid_id WHERE g.code LIKE '430524001001%'
                """).first()!.decode(column: "n", as: Int.self)
            let all = try await client.get("/directory/communities/430524001001/notices")
            #expect(all.text.components(separatedBy: "<article class=\"notice-sheet\">").count - 1 == buildings)
            // moved (by the command line, behind the server's back — a page read before would stand for up to a second):
            // the old code explains and points on, its notice redirects
            let moved = try await store.net.moveBuilding(try RegionCode("430524001001001003"), to: try RegionCode("430524001001002"), actor: .commandLine)
            let old = try await client.get("/directory/buildings/430524001001001003")
            #expect(old.status == .ok && old.text.contains("楼栋编码已变更") && old.text.contains("/directory/buildings/\(moved)"))
            let oldNotice = try await client.get("/directory/buildings/430524001001001003/notice")
            #expect(oldNotice.status == .seeOther && oldNotice.headers[.location] == "/directory/buildings/\(moved)/notice")
        }
    }

    @Test func aStaffChangeShowsOnTheCachedPublicPageAtOnce() async throws {
        try await withApp { client, _, _ in
            let before = try await client.get("/directory/buildings/430524001001001002")
            #expect(!before.text.contains("张新"))
            let office = try await client.login("c430524001001")
            let bad = try await client.send("/directory/grids/430524001001001/staff", method: .post, as: office,
                                            body: "_csrf=\(office.csrf)&role=building_head&target=430524001001001002&name=%E5%BC%A0%E6%96%B0&sex=male&phone=123")
            #expect(bad.status == .badRequest && bad.text.contains("工作电话"))
            let outside = try await client.send("/directory/grids/430524001001001/staff", method: .post, as: office,
                                                body: "_csrf=\(office.csrf)&role=building_head&target=430524101001001001&name=%E5%BC%A0%E6%96%B0&sex=male&phone=13912345678")
            #expect(outside.status == .badRequest)
            let good = try await client.send("/directory/grids/430524001001001/staff", method: .post, as: office,
                                             body: "_csrf=\(office.csrf)&role=building_head&target=430524001001001002&name=%E5%BC%A0%E6%96%B0&sex=male&phone=13912345678")
            #expect(good.status == .ok && good.text.contains("已更新"))
            let after = try await client.get("/directory/buildings/430524001001001002")
            #expect(after.text.contains("张新") && after.text.contains("13912345678"))
        }
    }

    @Test func errandRequestsOutsideScopeOrWithWrongAttachmentsAreRefused() async throws {
        try await withApp { client, _, store in
            let head = try await client.login("bh430524001001001001")
            let base: [(String, String)] = [("_csrf", head.csrf), ("kind", "pension"), ("name", "王奶奶"), ("room", "101"), ("key", "t-1")]
            let (outside, t1) = CaseRoutesTests.multipart(base + [("building", "430524101001001001")])
            let refused = try await client.send("/errands/new", method: .post, as: head, body: outside, contentType: t1)
            #expect(refused.status == .badRequest && refused.text.contains("只能为本人负责范围内的居民代办"))
            let (fake, t2) = CaseRoutesTests.multipart(base + [("building", "430524001001001001")], file: ("photo", "id.jpg", Array("<?php echo 1; ?>".utf8)))
            let badPhoto = try await client.send("/errands/new", method: .post, as: head, body: fake, contentType: t2)
            #expect(badPhoto.status == .badRequest && badPhoto.text.contains("不是图片"))
            let (noName, t3) = CaseRoutesTests.multipart(base.filter { $0.0 != "name" } + [("building", "430524001001001001")])
            #expect(try await client.send("/errands/new", method: .post, as: head, body: noName, contentType: t3).status == .badRequest)
            #expect(try await store.database.reader.raw("SELECT COUNT(*) AS n FROM errands").first()!.decode(column: "n", as: Int.self) == 0)
            // the good one, twice (a retry), is one errand; the tracking page finds it only with the right phone
            let (good, t4) = CaseRoutesTests.multipart(base + [("building", "430524001001001001"), ("phone", "13807391234")])
            let first = try await client.send("/errands/new", method: .post, as: head, body: good, contentType: t4)
            _ = try await client.send("/errands/new", method: .post, as: head, body: good, contentType: t4)
            #expect(first.status == .ok && first.text.contains("trackcode"))
            #expect(try await store.database.reader.raw("SELECT COUNT(*) AS n FROM errands").first()!.decode(column: "n", as: Int.self) == 1)
            let code = String(first.text.split(separator: "class=\"trackcode\">")[1].prefix { $0 != "<" })
            let anonymous = try await client.get("/errands/track")
            let token = anonymous.csrfField ?? "", cookie = anonymous.cookie("gw_csrf") ?? ""
            let wrong = try await client.send("/errands/track", method: .post, headers: [.cookie: "gw_csrf=\(cookie)"],
                                              body: "_csrf=\(token)&code=\(code)&phone=13900000000")
            #expect(wrong.status == .notFound && !wrong.text.contains("王奶奶"))
            let right = try await client.send("/errands/track", method: .post, headers: [.cookie: "gw_csrf=\(cookie)"],
                                              body: "_csrf=\(token)&code=\(code)&phone=13807391234")
            #expect(right.status == .ok && right.text.contains("养老资格认证") && right.text.contains("撤销"))
        }
    }
}
