import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// Campaign pages refuse bad input with its reason and change nothing; a door's answer is taken once.
@Suite struct CampaignRoutesTests {
    static func count(_ store: Store, _ table: String) async throws -> Int {
        try await store.database.reader.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self)
    }

    static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")
    }

    static let fire: [(String, String)] = [
        ("title", "消防隐患排查"), ("deadline", "2030-01-01"), ("instructions", "入户检查"), ("region", "430524001001001"), ("target", "region"),
        ("label_1", "电动车是否在室内或楼道充电"), ("kind_1", "yes_no"), ("required_1", "on"), ("finding_1", "是=0202"),
        ("label_2", "楼道或安全出口是否堵塞"), ("kind_2", "yes_no"), ("required_2", "on"),
    ]

    @Test func theBuilderExplainsWhatIsWrongAndADraftLaunchesOnce() async throws {
        try await withApp { client, _, store in
            let office = try await client.login("c430524001001")
            // the template fills the builder
            let prefilled = try await client.get("/campaigns/new?template=epidemic", as: office)
            #expect(prefilled.status == .ok && prefilled.text.contains("近14天是否到过通报的地点") && prefilled.text.contains("value=\"1=是\""))
            // bad input: no title; a question kind that does not exist; another community; a list in UTF-16
            let cases: [([(String, String)], String)] = [
                (Self.fire.map { $0.0 == "title" ? ("title", "") : $0 }, "任务名称"),
                (Self.fire.map { $0.0 == "kind_2" ? ("kind_2", "essay") : $0 }, "题型"),
                (Self.fire.map { $0.0 == "region" ? ("region", "430524001002001") : $0 }, "本人负责的范围"),
                (Self.fire.map { $0.0 == "deadline" ? ("deadline", "2020-01-01") : $0 }, "不能早于今天"),
            ]
            for (fields, reason) in cases {
                let refused = try await client.send("/campaigns/new", method: .post, as: office, body: "_csrf=\(office.csrf)&" + Self.form(fields))
                #expect(refused.status == .badRequest && refused.text.contains(reason), "\(reason)")
                #expect(refused.text.contains("消防隐患排查") || reason == "任务名称")   // what was typed comes back
            }
            let (utf16, type) = CaseRoutesTests.multipart([("_csrf", office.csrf)] + Self.fire.map { $0.0 == "target" ? ("target", "list") : $0 },
                                                          file: ("list", "list.csv", [0xFF, 0xFE, 0x31, 0x00]))
            let badList = try await client.send("/campaigns/new", method: .post, as: office, body: utf16, contentType: type)
            #expect(badList.status == .badRequest && badList.text.contains("编码"))
            #expect(try await Self.count(store, "campaigns") == 0)
            // "more rows" only re-renders
            let more = try await client.send("/campaigns/new", method: .post, as: office, body: "_csrf=\(office.csrf)&more=1&" + Self.form(Self.fire))
            #expect(more.status == .ok && more.text.contains("name=\"label_7\""))
            #expect(try await Self.count(store, "campaigns") == 0)
            // a good draft, then launch; a second launch is refused
            let made = try await client.send("/campaigns/new", method: .post, as: office, body: "_csrf=\(office.csrf)&" + Self.form(Self.fire))
            let location = made.headers[.location] ?? ""
            #expect(made.status == .seeOther && location.hasPrefix("/campaigns/"))
            let draft = try await client.get(location, as: office)
            #expect(draft.text.contains("发布前核对") && draft.text.contains("id=\"target-count\""))
            let launched = try await client.send(location + "/launch", method: .post, as: office, body: "_csrf=\(office.csrf)")
            let next = launched.headers[.location] ?? ""
            #expect(launched.status == .seeOther && next.hasPrefix(location + "?launched="))
            let shown = try await client.get(next, as: office)
            #expect(shown.text.contains("已发布:") && shown.text.contains("户分派到 7 栋楼"))
            let again = try await client.send(location + "/launch", method: .post, as: office, body: "_csrf=\(office.csrf)")
            #expect(again.status == .conflict && again.text.contains("任务已发布"))
            #expect(try await Self.count(store, "campaign_visits") > 0)
        }
    }

    @Test func aDoorIsAnsweredOnceAndBadAnswersAreExplainedInJSON() async throws {
        try await withApp { client, _, store in
            let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
            let draft = CampaignDraft(title: "消防隐患排查", instructions: "", deadline: CivilDate(year: 2030, month: 1, day: 1)!, form: CampaignTemplate.fire.form)
            let id = try await store.campaigns.create(draft, target: .region(try RegionCode("430524001001001")), viewer: county, address: "t")
            _ = try await store.campaigns.launch(id, viewer: county, address: "t")
            let head = try await client.login("bh430524001001001001")
            let list = try await client.get("/campaigns/\(id)/visits", as: head)
            #expect(list.status == .ok && list.text.contains("data-offline") && list.text.contains("不在家"))
            let visit = try await store.campaigns.checklist(id, viewer: county, building: try RegionCode("430524001001001001"))[0].id
            let json: HTTPFields = [.accept: "application/json"]
            func answer(_ body: String, as b: Browser = head) async throws -> Answer {
                try await client.send("/campaigns/\(id)/visits/\(visit)", method: .post, as: b, headers: json, body: "_csrf=\(b.csrf)&" + body)
            }
            // required answer missing; not an option; no outcome
            let missing = try await answer("outcome=answered&key=k-route-0001&q1=%E6%98%AF")
            #expect(missing.status == .badRequest && (missing.json as? [String: String])?["error"]?.contains("必答") == true)
            #expect(try await answer("outcome=answered&key=k-route-0002&q1=x&q2=x&q3=x").status == .badRequest)
            #expect(try await answer("key=k-route-0003").status == .badRequest)
            // another building's head: not found, and audited
            let other = try await client.login("bh430524101001001001")
            #expect(try await answer("outcome=not_home&key=k-route-0004", as: other).status == .notFound)
            #expect(try await Self.count(store, "campaign_answers") == 0)
            // the good answer, and its retry
            let body = "outcome=answered&key=k-route-0005&q1=%E6%98%AF&q2=%E5%90%A6&q3=%E6%AD%A3%E5%B8%B8"
            let first = try await answer(body), retry = try await answer(body)
            #expect(first.status == .ok && (first.json as? [String: String])?["repeated"] == "false")
            #expect(retry.status == .ok && (retry.json as? [String: String])?["repeated"] == "true")
            #expect(try await Self.count(store, "campaign_answers") == 1)
            // the live feed counts it; a building head cannot look at the whole grid
            let live = try await client.get("/campaigns/\(id)/live?once=1", as: head)
            #expect(live.text.hasPrefix("event: progress\ndata: ") && live.text.contains("\"done\":1") && live.contentType.hasPrefix("text/event-stream"))
            #expect(try await client.get("/campaigns/\(id)/live?once=1&node=430524001001001", as: head).status == .notFound)
            // the finding becomes a matter from the results page; the results export as CSV
            let worker = try await client.login("gw430524001001001")
            let results = try await client.get("/campaigns/\(id)/results?findings=1", as: worker)
            #expect(results.text.contains("需处置") && results.text.contains("/visits/\(visit)/case"))
            let made = try await client.send("/campaigns/\(id)/visits/\(visit)/case", method: .post, as: worker, body: "_csrf=\(worker.csrf)")
            #expect(made.status == .seeOther && (made.headers[.location] ?? "").hasPrefix("/cases/"))
            let csv = try await client.send("/campaigns/\(id)/export", method: .post, as: worker, body: "_csrf=\(worker.csrf)&format=csv")
            #expect(csv.status == .ok && csv.bytes.starts(with: [0xEF, 0xBB, 0xBF]) && csv.text.contains("电动车是否在室内或楼道充电"))
            // closed: answers are refused with the reason, nothing changes
            let office = try await client.login("c430524001001")
            #expect(try await client.send("/campaigns/\(id)/close", method: .post, as: office, body: "_csrf=\(office.csrf)").status == .seeOther)
            let late = try await answer("outcome=answered&key=k-route-0006&q1=%E5%90%A6&q2=%E5%90%A6&q3=%E6%AD%A3%E5%B8%B8")
            #expect(late.status == .badRequest && (late.json as? [String: String])?["error"]?.contains("任务已结束") == true)
            #expect(try await Self.count(store, "campaign_answers") == 1)
        }
    }
}
