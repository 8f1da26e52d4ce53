import Foundation
import GridworkTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct NetRoutesTests {
    @Test func theHomePageWalksDownToABuilding() async throws {
        try await withApp { client, _ in
            let home = try await client.get("/")
            #expect(home.status == .ok)
            #expect(home.contentType.hasPrefix("text/html"))
            #expect(home.text.contains("隆回县"))
            #expect(home.text.contains("href=\"/net/430524001\""))
            #expect(home.text.contains("桃花坪街道"))

            let township = try await client.get("/net/430524001")
            #expect(township.text.contains("href=\"/net/430524001001\""))
            let community = try await client.get("/net/430524001001")
            #expect(community.text.contains("网格员"))
            let grid = try await client.get("/net/430524001001001")
            #expect(grid.text.contains("网格长"))
            #expect(grid.text.contains("<svg class=\"map\""))
            #expect(grid.text.contains("href=\"/net/430524001001001001\""))
            let building = try await client.get("/net/430524001001001001")
            #expect(building.status == .ok)
            #expect(building.text.contains("楼栋长"))
            #expect(building.text.contains("单元"))
        }
    }

    @Test func pagesShowNoResidentData() async throws {
        try await withApp { client, _ in
            let page = try await client.get("/net/430524001001001001")
            // Masked ID numbers start with the county code and a row of stars; none may appear.
            #expect(!page.text.contains("430524********"))
            #expect(!page.text.contains("****"))
            let api = try await client.get("/api/v1/buildings/430524001001001001")
            #expect(!api.text.contains("****"))
            #expect(!api.text.contains("name\":\"户主"))
        }
    }

    @Test func theAPIServesTheSameTree() async throws {
        try await withApp { client, _ in
            let net = try await client.get("/api/v1/net")
            #expect(net.status == .ok)
            let county = net.json as? [String: Any]
            let region = county?["region"] as? [String: Any]
            #expect(region?["code"] as? String == "430524")
            #expect((county?["children"] as? [Any])?.count == 2)

            let stats = try await client.get("/api/v1/stats").json as? [String: Int]
            #expect(stats?["grids"] == 6)
            #expect(stats?["buildingHeads"] == 40)
            let counts = region?["counts"] as? [String: Int]
            #expect(counts?["residents"] == stats?["residents"])
        }
    }

    @Test(arguments: [
        ("/api/v1/regions/abc", 400, "invalid_code"),
        ("/api/v1/regions/430524400", 400, "invalid_code"),
        ("/api/v1/regions/4305240010", 400, "invalid_code"),
        ("/api/v1/regions/430524001999", 404, "not_found"),
        ("/api/v1/regions/430524001001001001", 400, "bad_request"),
        ("/api/v1/buildings/430524001", 400, "bad_request"),
        ("/api/v1/buildings/430524001001001999", 404, "not_found"),
        ("/api/v1/nothing", 404, "not_found"),
    ])
    func badInputGetsAClearJSONError(uri: String, status: Int, code: String) async throws {
        try await withApp { client, _ in
            let answer = try await client.get(uri)
            #expect(Int(answer.status.code) == status)
            #expect(answer.contentType.hasPrefix("application/json"))
            let error = (answer.json as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["code"] as? String == code)
            let message = error?["message"] as? String ?? ""
            // Chinese first, then English in brackets.
            #expect(message.unicodeScalars.first.map { $0.value > 0x2E80 } == true, "\(message)")
            #expect(message.contains("("))
        }
    }

    @Test func badCodesInPagesGetAnErrorPage() async throws {
        try await withApp { client, _ in
            let answer = try await client.get("/net/12ab")
            #expect(answer.status == .badRequest)
            #expect(answer.contentType.hasPrefix("text/html"))
            #expect(answer.text.contains("区划代码"))
            #expect(answer.text.contains("回到全县首页"))
            let missing = try await client.get("/no/such/page")
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("页面不存在"))
        }
    }

    @Test func healthMetricsAndStylesheet() async throws {
        try await withApp { client, _ in
            let health = try await client.get("/healthz")
            #expect(health.status == .ok)
            #expect(health.text == "ok\n")
            _ = try await client.get("/api/v1/stats")
            let metrics = try await client.get("/metrics")
            #expect(metrics.contentType.hasPrefix("text/plain"))
            #expect(metrics.text.contains("gridwork_http_requests_total{route=\"/api/v1/stats\",method=\"GET\",status=\"200\"} 1"))
            let css = try await client.get("/static/app.css")
            #expect(css.contentType.hasPrefix("text/css"))
            #expect(css.text.contains("@media print"))
        }
    }
}
