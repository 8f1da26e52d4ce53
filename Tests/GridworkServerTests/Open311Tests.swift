import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// Open311 GeoReport v2 as an outside system uses it: discover, list the kinds of matter, report one with an
/// api_key (by point, building code or address), read it back in JSON and XML — and every bad request refused
/// in the spec's error format, creating nothing.
@Suite struct Open311Tests {
    static let grid = "430524001001001"

    /// A point inside the demo grid (the middle of its rectangle).
    static func inside(_ store: Store, grid: String = grid) async throws -> (lat: Double, long: Double) {
        let ring = try #require(try await store.net.region(try RegionCode(grid)).boundary)
        let corners = ring.dropLast()
        return (corners.map { $0[1] }.reduce(0, +) / Double(corners.count), corners.map { $0[0] }.reduce(0, +) / Double(corners.count))
    }

    static func key(_ store: Store, scope: String = "430524", areas: Set<String> = ["open311"]) async throws -> String {
        try await store.accounts.addToken(name: "crm-\(scope)-\(areas.sorted().joined())", scope: try RegionCode(scope), areas: areas, actor: .commandLine)
    }

    static func form(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
    }

    static func count(_ store: Store) async throws -> Int {
        try await store.database.reader.raw("SELECT COUNT(*) AS n FROM cases").first()!.decode(column: "n", as: Int.self)
    }

    static func list(_ a: Answer) -> [[String: Any]] { a.json as? [[String: Any]] ?? [] }

    /// Posts a request and returns its id.
    static func post(_ client: any TestClientProtocol, _ pairs: [(String, String)], format: String = "json") async throws -> (Answer, String?) {
        let a = try await client.send("/open311/v2/requests.\(format)", method: .post, body: form(pairs))
        return (a, list(a).first?["service_request_id"] as? String)
    }

    @Test func discoveryServicesAndDefinitionsInJSONAndXML() async throws {
        try await withApp { client, _, store in
            let categories = try await store.cases.categories()
            // discovery
            let discovery = try await client.get("/open311/discovery.json")
            #expect(discovery.status == .ok && discovery.contentType.hasPrefix("application/json"))
            let endpoints = (discovery.json as? [String: Any])?["endpoints"] as? [[String: Any]]
            #expect(endpoints?.first?["specification"] as? String == "http://wiki.open311.org/GeoReport_v2")
            #expect((endpoints?.first?["url"] as? String)?.hasSuffix("/open311/v2") == true)
            #expect(endpoints?.first?["formats"] as? [String] == ["text/xml", "application/json"])
            let discoveryXML = try await client.get("/open311/discovery.xml")
            #expect(discoveryXML.contentType.hasPrefix("text/xml") && discoveryXML.text.contains("<formats><format>text/xml</format>"))
            // services
            let services = try await client.get("/open311/v2/services.json")
            #expect(services.status == .ok && services.contentType == "application/json; charset=utf-8")
            let list = Self.list(services)
            #expect(list.count == categories.count)
            let charging = try #require(list.first { $0["service_code"] as? String == "0202" })
            #expect(charging["service_name"] as? String == "电动车违规充电")
            #expect(charging["group"] as? String == "安全隐患")
            #expect(charging["metadata"] as? Bool == true && charging["type"] as? String == "realtime")
            let description = charging["description"] as? String ?? ""
            #expect(description.contains("车辆移出楼道") && description.contains("1个工作日") && description.contains("2工作小时"))
            #expect((charging["keywords"] as? String)?.contains("网格员") == true)
            let xml = try await client.get("/open311/v2/services.xml")
            #expect(xml.status == .ok && xml.contentType == "text/xml; charset=utf-8")
            #expect(xml.text.hasPrefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service><service_code>0101</service_code>"))
            #expect(xml.text.components(separatedBy: "<service>").count - 1 == categories.count)
            // a definition
            let definition = try await client.get("/open311/v2/services/0202.json")
            let attributes = (definition.json as? [String: Any])?["attributes"] as? [[String: Any]] ?? []
            #expect((definition.json as? [String: Any])?["service_code"] as? String == "0202")
            #expect(attributes.map { $0["code"] as? String } == ["building_code", "severity"])
            #expect(attributes[0]["datatype"] as? String == "string" && attributes[0]["required"] as? Bool == false)
            #expect(attributes[1]["datatype"] as? String == "singlevaluelist" && attributes[1]["order"] as? Int == 2)
            let values = attributes[1]["values"] as? [[String: Any]] ?? []
            #expect(values.map { $0["key"] as? String } == ["general", "large", "major", "extraordinary"])
            #expect(values.map { $0["name"] as? String } == ["一般", "较大", "重大", "特别重大"])
            let definitionXML = try await client.get("/open311/v2/services/0202.xml")
            #expect(definitionXML.text.contains("<value><key>major</key><name>重大</name></value>"))
            // unknown code, unknown format
            let unknown = try await client.get("/open311/v2/services/9999.json")
            #expect(unknown.status == .notFound && Self.list(unknown).first?["code"] as? Int == 404)
            let csv = try await client.get("/open311/v2/services.csv")
            #expect(csv.status == .badRequest && csv.text.contains("<errors><error><code>400</code><description>不支持的格式"))
        }
    }

    @Test func aPointInAGridBecomesAMatterReadBackWithItsDeadline() async throws {
        try await withApp { client, _, store in
            // setup
            let key = try await Self.key(store)
            let p = try await Self.inside(store)
            // act
            let (made, id) = try await Self.post(client, [
                ("api_key", key), ("service_code", "0202"), ("lat", String(p.lat)), ("long", String(p.long)),
                ("address_string", "桃洪镇某小区2单元楼道"), ("description", "楼道里有电动车在充电,线拉到三楼"),
                ("first_name", "小明"), ("last_name", "王"), ("phone", "138-0739-1234"), ("email", "wang@example.com"),
                ("media_url", "https://example.com/p/1.jpg"), ("attribute[severity]", "major"),
            ])
            // check
            #expect(made.status == .ok, "\(made.text)")
            let answer = try #require(Self.list(made).first)
            let caseID = try #require(id.flatMap { Int64($0) })
            #expect((answer["service_notice"] as? String)?.contains("查询码") == true)
            #expect(answer["account_id"] is NSNull)
            let row = try #require(try await store.database.reader.raw("""
                SELECT c.channel, c.severity, c.reporter_name, c.reporter_phone_masked, c.reporter_phone_sealed, c.description, g.code
                FROM cases c JOIN regions g ON g.id = c.grid_id WHERE c.id = \(bind: caseID)
                """).first())
            #expect(try row.decode(column: "channel", as: String.self) == "open311")
            #expect(try row.decode(column: "severity", as: String.self) == "major")
            #expect(try row.decode(column: "code", as: String.self) == Self.grid)
            #expect(try row.decode(column: "reporter_name", as: String.self) == "王小明")
            #expect(try row.decode(column: "reporter_phone_masked", as: String.self) == "138****1234")
            #expect(try row.decode(column: "reporter_phone_sealed", as: String.self).contains("13807391234") == false)
            #expect(try row.decode(column: "description", as: String.self).contains("https://example.com/p/1.jpg"))

            let all = try await client.get("/open311/v2/requests.json")
            #expect(all.status == .ok)
            let mine = try #require(Self.list(all).first { $0["service_request_id"] as? String == id })
            #expect(mine["status"] as? String == "open" && mine["service_code"] as? String == "0202")
            #expect(mine["service_name"] as? String == "电动车违规充电" && mine["agency_responsible"] as? String == "网格员")
            #expect((mine["expected_datetime"] as? String)?.hasSuffix("+08:00") == true)
            #expect((mine["requested_datetime"] as? String)?.count == 25)
            #expect(mine["lat"] as? Double == p.lat && mine["long"] as? Double == p.long)
            #expect(mine["address"] as? String == "桃洪镇某小区2单元楼道" && mine["address_id"] is NSNull)
            for secret in ["王小明", "13807391234", "138****1234", "wang@example.com"] { #expect(!all.text.contains(secret), "\(secret)") }

            let one = try await client.get("/open311/v2/requests/\(caseID).xml")
            #expect(one.status == .ok && one.text.contains("<service_request_id>\(caseID)</service_request_id><status>open</status>"))
            #expect(one.text.contains("<expected_datetime>") && one.text.contains("<lat>\(p.lat)</lat>"))
            let token = try await client.get("/open311/v2/tokens/\(caseID).json")
            #expect(Self.list(token).first?["service_request_id"] as? String == id && Self.list(token).first?["token"] as? String == id)
        }
    }

    @Test func aBuildingCodeOrItsAddressLocatesTheMatter() async throws {
        try await withApp { client, _, store in
            // setup: a building whose address no other building shares
            let key = try await Self.key(store)
            let r = try #require(try await store.database.reader.raw("""
                SELECT b.address, b.number, g.code FROM buildings b JOIN regions g ON g.id = b.grid_id
                WHERE b.address IN (SELECT address FROM buildings GROUP BY address HAVING COUNT(*) = 1) ORDER BY b.id LIMIT 1
                """).first())
            let address = try r.decode(column: "address", as: String.self)
            let building = try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self))
            // act: by address_id, answered in XML
            let byID = try await client.send("/open311/v2/requests.xml", method: .post, body: Self.form([
                ("api_key", key), ("service_code", "0301"), ("address_id", building.value), ("description", "楼下垃圾三天没人清运"),
            ]))
            #expect(byID.status == .ok, "\(byID.text)")
            let id = try #require(byID.text.components(separatedBy: "<service_request_id>").dropFirst().first?.components(separatedBy: "<").first)
            #expect(byID.text.contains("<account_id/>"))
            let read = try #require(Self.list(try await client.get("/open311/v2/requests/\(id).json")).first)
            #expect(read["address_id"] as? String == building.value && read["address"] as? String == address)
            #expect(read["lat"] is NSNull)
            // act: by the address as a person writes it (more specific than the building)
            let (byAddress, other) = try await Self.post(client, [
                ("api_key", key), ("service_code", "0401"), ("address_string", address + " 3单元门口"), ("description", "门口路灯不亮已经一周"),
            ])
            #expect(byAddress.status == .ok, "\(byAddress.text)")
            let again = try #require(Self.list(try await client.get("/open311/v2/requests/\(other ?? "0").json")).first)
            #expect(again["address_id"] as? String == building.value)
            // An address of nowhere is refused, and says what to send instead.
            let (nowhere, _) = try await Self.post(client, [
                ("api_key", key), ("service_code", "0401"), ("address_string", "北京市海淀区中关村大街1号"), ("description", "门口路灯不亮"),
            ])
            #expect(nowhere.status == .badRequest && nowhere.text.contains("address_id"))
        }
    }

    @Test func badRequestsAreRefusedInTheSpecsFormatAndCreateNothing() async throws {
        try await withApp { client, _, store in
            // setup
            let key = try await Self.key(store)
            let netOnly = try await Self.key(store, areas: ["net"])
            let otherTownship = try await Self.key(store, scope: "430524101")
            let p = try await Self.inside(store)
            let good: [(String, String)] = [("service_code", "0301"), ("lat", String(p.lat)), ("long", String(p.long)), ("description", "垃圾堆在路边")]
            let before = try await Self.count(store)
            func refused(_ pairs: [(String, String)], _ status: HTTPResponse.Status, _ text: String, format: String = "json") async throws {
                let (a, _) = try await Self.post(client, pairs, format: format)
                #expect(a.status == status, "\(pairs.map(\.0)): \(a.status) \(a.text)")
                if format == "json" {
                    let e = Self.list(a).first
                    #expect(e?["code"] as? Int == Int(status.code) && (e?["description"] as? String)?.contains(text) == true, "\(a.text)")
                } else {
                    #expect(a.text.contains("<errors><error><code>\(status.code)</code><description>") && a.text.contains(text), "\(a.text)")
                }
            }
            // act and check
            try await refused(good, .forbidden, "api_key")
            try await refused([("api_key", "gw_not-a-real-key")] + good, .forbidden, "invalid api_key")
            try await refused([("api_key", "gw_not-a-real-key")] + good, .forbidden, "api_key", format: "xml")
            try await refused([("api_key", netOnly)] + good, .forbidden, "open311")
            try await refused([("api_key", otherTownship)] + good, .forbidden, "does not cover")
            try await refused([("api_key", key)] + good.filter { $0.0 != "service_code" }, .badRequest, "service_code was not provided")
            try await refused([("api_key", key), ("service_code", "9999")] + good.dropFirst(), .notFound, "service_code 9999 not found")
            try await refused([("api_key", key)] + good.filter { $0.0 != "description" }, .badRequest, "description")
            try await refused([("api_key", key), ("service_code", "0301"), ("description", "垃圾堆在路边")], .badRequest, "location parameter")
            try await refused([("api_key", key), ("service_code", "0301"), ("lat", "0"), ("long", "0"), ("description", "垃圾堆在路边")],
                              .badRequest, "no grid of the county")
            try await refused([("api_key", key), ("service_code", "0301"), ("lat", "abc"), ("long", "111.1"), ("description", "垃圾堆在路边")],
                              .badRequest, "lat/long")
            try await refused([("api_key", key), ("service_code", "0301"), ("lat", "27.1"), ("description", "垃圾堆在路边")], .badRequest, "both")
            try await refused([("api_key", key), ("attribute[severity]", "apocalyptic")] + good, .badRequest, "severity")
            try await refused([("api_key", key), ("address_id", "123")] + good, .badRequest, "18-digit")
            try await refused([("api_key", key), ("address_id", "430524001001001999")] + good, .badRequest, "no such building")
            try await refused([("api_key", key), ("phone", "12345")] + good, .badRequest, "phone")
            #expect(try await Self.count(store) == before)
            // Reading what does not exist.
            let missing = try await client.get("/open311/v2/requests/999999.json")
            #expect(missing.status == .notFound && Self.list(missing).first?["code"] as? Int == 404)
            let word = try await client.get("/open311/v2/requests/abc.xml")
            #expect(word.status == .notFound && word.text.contains("<code>404</code>"))
            let token = try await client.get("/open311/v2/tokens/999999.xml")
            #expect(token.status == .notFound && token.contentType.hasPrefix("text/xml"))
            let format = try await client.get("/open311/v2/requests/1.yaml")
            #expect(format.status == .badRequest)
            let badDate = try await client.get("/open311/v2/requests.json?start_date=yesterday")
            #expect(badDate.status == .badRequest && (Self.list(badDate).first?["description"] as? String)?.contains("start_date") == true)
            let tooLong = try await client.get("/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z")
            #expect(tooLong.status == .badRequest && tooLong.text.contains("90"))
            let badStatus = try await client.get("/open311/v2/requests.json?status=pending")
            #expect(badStatus.status == .badRequest)
        }
    }

    @Test func requestsFilterByIDCodeStatusAndDate() async throws {
        try await withApp { client, _, store in
            // setup: three matters, one of them closed
            let key = try await Self.key(store)
            let p = try await Self.inside(store)
            var ids: [String] = []
            for code in ["0202", "0301", "0301"] {
                let (a, id) = try await Self.post(client, [("api_key", key), ("service_code", code), ("lat", String(p.lat)), ("long", String(p.long)),
                                                           ("description", "测试事项\(code)的描述")])
                #expect(a.status == .ok, "\(a.text)")
                ids.append(try #require(id))
            }
            let now = Clock.now(), closing = Int64(ids[2])!
            try await store.database.transaction { db in
                try await db.raw("UPDATE cases SET state = 'closed', closed_at = \(bind: now), due_at = NULL WHERE id = \(bind: closing)").run()
            }
            // act and check
            let closed = Self.list(try await client.get("/open311/v2/requests.json?status=closed"))
            #expect(closed.contains { $0["service_request_id"] as? String == ids[2] })
            #expect(closed.allSatisfy { $0["status"] as? String == "closed" })
            #expect(closed.first { $0["service_request_id"] as? String == ids[2] }?["expected_datetime"] is NSNull)
            let open = Self.list(try await client.get("/open311/v2/requests.json?status=open"))
            #expect(open.contains { $0["service_request_id"] as? String == ids[0] } && !open.contains { $0["service_request_id"] as? String == ids[2] })
            #expect(open.allSatisfy { $0["status"] as? String == "open" })
            let both = Self.list(try await client.get("/open311/v2/requests.json?status=open,closed&service_code=0301"))
            #expect(Set(both.compactMap { $0["service_request_id"] as? String }).isSuperset(of: [ids[1], ids[2]]))
            #expect(both.allSatisfy { $0["service_code"] as? String == "0301" })
            let charging = Self.list(try await client.get("/open311/v2/requests.json?service_code=0202"))
            #expect(charging.map { $0["service_request_id"] as? String } == [ids[0]])
            // service_request_id overrides every other argument.
            let picked = Self.list(try await client.get("/open311/v2/requests.json?service_request_id=\(ids[0]),\(ids[2])&status=open"))
            #expect(Set(picked.compactMap { $0["service_request_id"] as? String }) == [ids[0], ids[2]])
            // Dates: newest first; nothing in a window of the future.
            let future = Self.list(try await client.get("/open311/v2/requests.json?start_date=2999-01-01&end_date=2999-02-01"))
            #expect(future.isEmpty)
            let today = Self.list(try await client.get("/open311/v2/requests.json?start_date=\(Self.isoDay(now - 86_400))T00:00:00%2B08:00"))
            #expect(today.prefix(3).map { $0["service_request_id"] as? String } == ids.reversed())
            let xml = try await client.get("/open311/v2/requests.xml?service_code=0202")
            #expect(xml.text.contains("<service_requests><request><service_request_id>\(ids[0])</service_request_id>"))
        }
    }

    @Test func markupInADescriptionIsEscapedInBothFormats() async throws {
        try await withApp { client, _, store in
            let key = try await Self.key(store)
            let p = try await Self.inside(store)
            let text = "路灯<坏了> & \"很急\"\n第二行 'x'"
            let (_, id) = try await Self.post(client, [("api_key", key), ("service_code", "0401"), ("lat", String(p.lat)), ("long", String(p.long)),
                                                       ("description", text)])
            let id_ = try #require(id)
            let json = try #require(Self.list(try await client.get("/open311/v2/requests/\(id_).json")).first)
            #expect(json["description"] as? String == text)
            let xml = try await client.get("/open311/v2/requests/\(id_).xml")
            #expect(xml.text.contains("<description>路灯&lt;坏了&gt; &amp; &quot;很急&quot;\n第二行 &apos;x&apos;</description>"))
            #expect(!xml.text.contains("<坏了>"))
        }
    }

    static func isoDay(_ instant: Int64) -> String { CivilDate(daysSinceEpoch: WorkCalendar.localDay(instant)).iso }
}
