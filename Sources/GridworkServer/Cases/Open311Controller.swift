import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) over the closed loop, so a hotline's CRM, a
/// city app or any other outside system can list the kinds of matter, report one and follow it.
///
/// Choices where the spec leaves room:
/// - One service per 小类; `service_code` is the category code, `group` the 大类. Every service has the same
///   two optional attributes (`building_code`, `severity`), so `metadata` is true throughout.
/// - Requests are created synchronously (`type` realtime): `service_request_id` is the case id. A token lookup
///   (`/tokens/{token}`) therefore treats the token as the id and answers with both.
/// - A POST needs an `api_key`: a Gridwork API token granted the `open311` area whose region covers the place.
///   Reads need none and show public data only: no reporter, phone, tracking code or timeline notes; the address of
///   a household's matter is its building's, without the room.
/// - Location: `address_id` (an 18-digit building code) or `attribute[building_code]` win over `lat`/`long`, which win
///   over `address_string`; an address string alone must name one building of the net.
/// - `email` is not kept (there is no sealed place for it; reporters are reached by phone); `media_url` is appended to
///   the description and never fetched.
/// - GET requests: newest first, at most 1000; without dates, the last 90 days; a range may not exceed 90 days.
/// - Errors follow the spec's codes: 403 bad or missing api_key, 404 unknown resource or service_code, 400 for the rest
///   (including failures the client cannot fix, which are also logged). Descriptions are Chinese, then English.
struct Open311Controller: Sendable {
    let app: AppContext

    static let area = "open311"
    static let specification = "http://wiki.open311.org/GeoReport_v2"
    static let maxResults = 1000
    static let maxSpan: Int64 = 90 * 86_400
    /// The spec limits descriptions to 4000 characters; a matter here holds at most 2000.
    static let maxDescription = 2000

    func register(on router: Router<AppRequestContext>) {
        router.get("/open311/discovery.{format}", use: discovery)
        router.get("/open311/v2/services.{format}", use: services)
        router.get("/open311/v2/services/{file}", use: serviceDefinition)
        router.post("/open311/v2/requests.{format}", use: postRequest)
        router.get("/open311/v2/requests.{format}", use: requests)
        router.get("/open311/v2/requests/{file}", use: request)
        router.get("/open311/v2/tokens/{file}", use: token)
    }

    // MARK: routes

    /// Service discovery: where the GeoReport v2 endpoint is and what it speaks.
    @Sendable func discovery(_ request: Request, context: AppRequestContext) async throws -> Response {
        await answer(request, context, format: context.parameters.get("format")) { format in
            let changed = try await app.store.cases.categoriesChangedAt() ?? Self.introduced
            let endpoint = O311.object([
                ("specification", .string(Self.specification)), ("url", .string(Self.base(request) + "/open311/v2")),
                ("changeset", .string(changed)), ("type", .string("production")),
                ("formats", .list(item: "format", [.string(Format.xml.mime), .string(Format.json.mime)])),
            ])
            return Document(root: "discovery", .object([
                ("changeset", .string(changed)),
                ("contact", .string("县社会治理综合指挥中心 (county grid-governance centre): \(Self.base(request))/")),
                ("key_service", .string("接口密钥由县管理员签发:gridwork token add --areas open311 (API keys are issued by the county administrator)")),
                ("endpoints", .list(item: "endpoint", [endpoint])),
            ]))
        }
    }

    /// GET Service List: one service per kind of matter.
    @Sendable func services(_ request: Request, context: AppRequestContext) async throws -> Response {
        await answer(request, context, format: context.parameters.get("format")) { _ in
            let categories = try await app.store.cases.categories()
            return Document(root: "services", .list(item: "service", categories.map { c in
                .object([
                    ("service_code", .string(c.code)), ("service_name", .string(c.name)), ("description", .string(Self.describe(c))),
                    ("metadata", .bool(true)), ("type", .string("realtime")),
                    ("keywords", .string([c.name, c.groupName, c.responsible.label].joined(separator: ","))), ("group", .string(c.groupName)),
                ])
            }))
        }
    }

    /// GET Service Definition: the attributes a request of this kind may carry.
    @Sendable func serviceDefinition(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (code, format) = Self.split(context.parameters.get("file"))
        return await answer(request, context, format: format) { _ in
            guard let category = try await app.store.cases.categories().first(where: { $0.code == code }) else {
                throw Open311Error(404, "没有编号为\(code)的服务类别 (service_code \(code) not found)")
            }
            return Document(root: "service_definition", .object([
                ("service_code", .string(category.code)),
                ("attributes", .list(item: "attribute", Self.attributes)),
            ]))
        }
    }

    /// POST Service Request: an outside system reports a matter with its api_key.
    @Sendable func postRequest(_ request: Request, context: AppRequestContext) async throws -> Response {
        var collecting = request
        let body = try? await collecting.collectBody(upTo: context.maxUploadSize)
        return await answer(request, context, format: context.parameters.get("format")) { _ in
            guard let body else { throw Open311Error(413, "提交的内容过大(上限64KB) (request body larger than 64 KB)") }
            var form = Form.parse(String(buffer: body))
            for (key, value) in request.uri.queryParameters where form[String(key)] == nil { form[String(key)] = String(value) }
            let grant = try await self.grant(form["api_key"], request: request, context: context)
            let text: (String) -> String = { (form[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
            // service_code
            let code = text("service_code")
            guard !code.isEmpty else { throw Open311Error(400, "缺少必填字段 service_code (service_code was not provided)") }
            guard let category = try await app.store.cases.categories().first(where: { $0.code == code }) else {
                throw Open311Error(404, "没有编号为\(code)的服务类别 (service_code \(code) not found)")
            }
            // what happened
            var description = text("description")
            guard !description.isEmpty else { throw Open311Error(400, "缺少必填字段 description:请写清发生了什么 (description was not provided)") }
            guard (4...Self.maxDescription).contains(description.count) else {
                throw Open311Error(400, "description 应为4到\(Self.maxDescription)字 (description must be 4 to \(Self.maxDescription) characters)")
            }
            let severityText = text("attribute[severity]")
            guard let severity = severityText.isEmpty ? Severity.general : Severity(rawValue: severityText)
                ?? Severity.allCases.first(where: { $0.label == severityText }) else {
                throw Open311Error(400, "attribute[severity] 应为 general、large、major 或 extraordinary (unknown severity \(severityText))")
            }
            let media = text("media_url")
            if !media.isEmpty {
                guard media.count <= 500, let url = URL(string: media), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
                    throw Open311Error(400, "media_url 应为 http(s) 链接,最长500字符 (media_url must be an http(s) URL of at most 500 characters)")
                }
                description += "\n附件链接 (media_url): \(media)"
            }
            // who reported it
            let first = text("first_name"), last = text("last_name")
            let ascii = (first + last).allSatisfy(\.isASCII)
            let name = ascii ? [first, last].filter { !$0.isEmpty }.joined(separator: " ") : last + first
            guard name.count <= 20 else { throw Open311Error(400, "first_name 与 last_name 合计最多20字 (name at most 20 characters)") }
            var phone: MobilePhone?
            let phoneText = text("phone").filter { !" -()".contains($0) }
            if !phoneText.isEmpty {
                guard let p = MobilePhone(phoneText) else { throw Open311Error(400, "phone 应为11位手机号 (phone must be an 11-digit mainland mobile number)") }
                phone = p
            }
            // where
            let location = try await self.location(form, text: text)
            let report = CaseReport(category: category.code, severity: severity, title: String(text("description").prefix(20)),
                                    description: description, reporterName: name.isEmpty ? "匿名居民" : name, reporterPhone: phone,
                                    channel: .open311)
            let made: (id: Int64, code: String)
            do {
                made = try await app.store.cases.reportFromOutside(report, at: location, grant: grant)
            } catch let e as OutsideTokenScope {
                try await app.store.audit(actor: context.actor, action: "access.denied", target: "open311:\(e.grid)", detail: "token:\(grant.name)")
                throw Open311Error(403, "该api_key无权在网格\(e.grid)上报事项 (the api_key's region does not cover this location)")
            }
            let notice = "已收到,查询码\(made.code)。" + Self.notice(category) + " (received; tracking code \(made.code))"
            return Document(root: "service_requests", .list(item: "request", [.object([
                ("service_request_id", .string(String(made.id))), ("service_notice", .string(notice)), ("account_id", .string(nil)),
            ])]))
        }
    }

    /// GET Service Requests: public facts of matters, filtered.
    @Sendable func requests(_ request: Request, context: AppRequestContext) async throws -> Response {
        await answer(request, context, format: context.parameters.get("format")) { _ in
            let q = request.uri.queryParameters
            let text: (String) -> String = { (q.get($0).map { String($0) } ?? "").trimmingCharacters(in: .whitespaces) }
            let now = Clock.now()
            var filter = PublicCaseFilter(from: now - Self.maxSpan, to: now, limit: Self.maxResults)
            if !text("service_request_id").isEmpty {
                filter.ids = try Self.list(text("service_request_id")).map { item in
                    guard let id = Int64(item), id > 0 else { throw Open311Error(400, "service_request_id 应为数字,以逗号分隔 (service_request_id must be numbers, comma separated)") }
                    return id
                }
            } else {
                if !text("service_code").isEmpty { filter.categories = Self.list(text("service_code")) }
                let start = try Self.instant(text("start_date"), field: "start_date")
                let end = try Self.instant(text("end_date"), field: "end_date")
                switch (start, end) {
                case (let s?, let e?): (filter.from, filter.to) = (s, e)
                case (let s?, nil): (filter.from, filter.to) = (s, s + Self.maxSpan)
                case (nil, let e?): (filter.from, filter.to) = (e - Self.maxSpan, e)
                case (nil, nil): break
                }
                guard filter.from <= filter.to else { throw Open311Error(400, "start_date 不能晚于 end_date (start_date is after end_date)") }
                guard filter.to - filter.from <= Self.maxSpan else {
                    throw Open311Error(400, "查询时间范围不能超过90天 (the date range may not span more than 90 days)")
                }
                let statuses = Set(Self.list(text("status")).map { $0.lowercased() })
                guard statuses.isSubset(of: ["open", "closed"]) else { throw Open311Error(400, "status 应为 open 或 closed (status must be open or closed)") }
                if statuses.count == 1 { filter.open = statuses.contains("open") }
            }
            let cases = try await app.store.cases.publicCases(filter)
            let notices = try await Self.notices(app.store)
            return Document(root: "service_requests", .list(item: "request", cases.map { Self.publicRequest($0, notices: notices) }))
        }
    }

    /// GET Service Request: one matter's public facts.
    @Sendable func request(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (idText, format) = Self.split(context.parameters.get("file"))
        return await answer(request, context, format: format) { _ in
            let now = Clock.now()
            guard let id = Int64(idText), id > 0,
                  let found = try await app.store.cases.publicCases(PublicCaseFilter(ids: [id], from: 0, to: now, limit: 1)).first else {
                throw Open311Error(404, "没有编号为\(idText)的服务请求 (service_request_id \(idText) not found)")
            }
            return Document(root: "service_requests", .list(item: "request", [Self.publicRequest(found, notices: try await Self.notices(app.store))]))
        }
    }

    /// GET service_request_id from a token: requests are created synchronously, so the token is the id.
    @Sendable func token(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (token, format) = Self.split(context.parameters.get("file"))
        return await answer(request, context, format: format) { _ in
            guard let id = Int64(token), id > 0,
                  try await app.store.cases.publicCases(PublicCaseFilter(ids: [id], from: 0, to: Clock.now(), limit: 1)).first != nil else {
                throw Open311Error(404, "没有该令牌对应的服务请求 (token \(token) not found)")
            }
            return Document(root: "service_requests", .list(item: "request", [.object([
                ("service_request_id", .string(String(id))), ("token", .string(token)),
            ])]))
        }
    }

    // MARK: pieces

    /// The api_key's grant, or a 403 (audited, like a rejected API token).
    private func grant(_ key: String?, request: Request, context: AppRequestContext) async throws -> TokenGrant {
        guard let key, !key.isEmpty else { throw Open311Error(403, "缺少api_key (api_key was not provided)") }
        guard let grant = try await app.store.accounts.grant(forToken: key) else {
            try await app.store.audit(actor: context.actor, action: "token.rejected", target: request.uri.path)
            throw Open311Error(403, "api_key无效或已吊销 (invalid api_key received -- can't proceed with create_request)")
        }
        guard grant.areas.contains(Self.area) else {
            try await app.store.audit(actor: context.actor, action: "access.denied", target: request.uri.path, detail: "token:\(grant.name) lacks open311")
            throw Open311Error(403, "该api_key未被授予open311接口 (this api_key is not granted the open311 area)")
        }
        return grant
    }

    /// The place of a request: a building code, a point, or an address that names one building.
    private func location(_ form: [String: String], text: (String) -> String) async throws -> CaseLocation {
        let addressID = text("address_id"), attributeBuilding = text("attribute[building_code]")
        if !addressID.isEmpty && !attributeBuilding.isEmpty && addressID != attributeBuilding {
            throw Open311Error(400, "address_id 与 attribute[building_code] 不一致 (address_id and attribute[building_code] differ)")
        }
        let buildingText = addressID.isEmpty ? attributeBuilding : addressID
        if !buildingText.isEmpty {
            let field = addressID.isEmpty ? "attribute[building_code]" : "address_id"
            guard let code = try? RegionCode(buildingText), code.level == .building else {
                throw Open311Error(400, "\(field) 应为18位楼栋编码 (\(field) must be an 18-digit building code)")
            }
            return .building(code)
        }
        let latText = text("lat"), longText = text("long"), address = text("address_string")
        if !latText.isEmpty || !longText.isEmpty {
            guard !latText.isEmpty, !longText.isEmpty else { throw Open311Error(400, "lat 与 long 须同时提供 (lat and long must both be sent)") }
            guard let lat = Double(latText), let long = Double(longText), lat.isFinite, long.isFinite,
                  (-90...90).contains(lat), (-180...180).contains(long) else {
                throw Open311Error(400, "lat/long 应为WGS84经纬度数值 (lat/long must be WGS84 degrees within range)")
            }
            guard address.count <= 200 else { throw Open311Error(400, "address_string 最多200字 (address_string at most 200 characters)") }
            return .point(latitude: lat, longitude: long, address: address)
        }
        guard !address.isEmpty else {
            throw Open311Error(400, "缺少位置:须提供 lat 与 long、address_string 或 address_id 之一 (a location parameter was not provided)")
        }
        let found = try await app.store.cases.buildings(matching: address)
        let contained = found.filter(\.contained)
        if let best = contained.first, contained.dropFirst().first.map({ $0.address.count < best.address.count }) ?? true {
            return .building(best.code)
        }
        if contained.isEmpty, found.count == 1 { return .building(found[0].code) }
        if found.isEmpty {
            throw Open311Error(400, "无法将地址“\(address.prefix(60))”定位到本县的楼栋或网格,请提供 lat/long 或 address_id (address_string matches no building of the county; send lat/long or address_id)")
        }
        throw Open311Error(400, "地址“\(address.prefix(60))”对应多个楼栋,请写得更具体或提供 address_id (address_string matches \(found.count) buildings; be more specific)")
    }

    static let introduced = "2025-11-29T00:00:00Z"

    static let attributes: [O311] = [
        .object([
            ("variable", .bool(true)), ("code", .string("building_code")), ("datatype", .string("string")), ("required", .bool(false)),
            ("datatype_description", .string("18位楼栋编码,如430524001001001001 (an 18-digit building code)")), ("order", .int(1)),
            ("description", .string("事发楼栋的编码,可在楼栋门口的二维码或网格员处获得 (the building where it happens)")),
        ]),
        .object([
            ("variable", .bool(true)), ("code", .string("severity")), ("datatype", .string("singlevaluelist")), ("required", .bool(false)),
            ("datatype_description", .string("不填为一般 (general when omitted)")), ("order", .int(2)),
            ("description", .string("事件等级 (how serious it is)")),
            ("values", .list(item: "value", Severity.allCases.map { s in .object([("key", .string(s.rawValue)), ("name", .string(s.label))]) })),
        ]),
    ]

    /// A category in words, with its closing condition and clocks.
    static func describe(_ c: CaseCategory) -> String {
        "\(c.groupName)·\(c.name):" + notice(c)
    }

    static func notice(_ c: CaseCategory) -> String {
        "由\(c.responsible.label)负责,\(c.accept)内受理,\(c.handle)内处置;结案条件:\(c.closing)。"
    }

    /// What each kind of matter promises, by code.
    static func notices(_ store: Store) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await store.cases.categories().map { ($0.code, notice($0)) })
    }

    static func publicRequest(_ c: PublicCase, notices: [String: String]) -> O311 {
        .object([
            ("service_request_id", .string(String(c.id))), ("status", .string(c.isOpen ? "open" : "closed")),
            ("status_notes", .string("\(c.state.label) (\(c.state.rawValue))")),
            ("service_name", .string(c.categoryName)), ("service_code", .string(c.category)), ("description", .string(c.description)),
            ("agency_responsible", .string(c.agency)), ("service_notice", .string(notices[c.category])),
            ("requested_datetime", .string(w3c(c.reportedAt))), ("updated_datetime", .string(w3c(c.updatedAt))),
            ("expected_datetime", .string(c.dueAt.map(w3c))), ("address", .string(c.address)),
            ("address_id", .string(c.building?.value)), ("lat", .double(c.latitude)), ("long", .double(c.longitude)),
        ])
    }

    /// `0202.json` → ("0202", "json").
    static func split(_ file: String?) -> (name: String, format: String?) {
        guard let file, let dot = file.lastIndex(of: ".") else { return (file ?? "", nil) }
        return (String(file[..<dot]), String(file[file.index(after: dot)...]))
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func base(_ request: Request) -> String {
        let host = request.head.authority ?? "localhost"
        return (AccessController.secure(request) ? "https://" : "http://") + host
    }

    /// An instant as W3C date-time in Beijing time: 2025-11-29T09:30:00+08:00.
    static func w3c(_ instant: Int64) -> String {
        let day = WorkCalendar.localDay(instant)
        let date = CivilDate(daysSinceEpoch: day)
        let seconds = instant + WorkCalendar.offset - day * 86_400
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : String(n) }
        return date.iso + "T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))+08:00"
    }

    /// A W3C date-time (`2025-11-29T09:30:00+08:00`, `…Z`, seconds and fractions optional) or a date (Beijing midnight).
    static func instant(_ text: String, field: String) throws -> Int64? {
        guard !text.isEmpty else { return nil }
        let problem = Open311Error(400, "\(field) 应为W3C格式的日期时间,如2025-11-29T00:00:00+08:00 (\(field) must be a W3C date-time)")
        let chars = Array(text)
        guard chars.count >= 10, let date = CivilDate(iso: String(chars[0..<10])) else { throw problem }
        if chars.count == 10 { return date.daysSinceEpoch * 86_400 - WorkCalendar.offset }
        guard chars[10] == "T" || chars[10] == "t" else { throw problem }
        var rest = String(chars[11...])
        var offset: Int64
        if rest.hasSuffix("Z") || rest.hasSuffix("z") {
            offset = 0; rest.removeLast()
        } else {
            guard rest.count > 6 else { throw problem }
            let zone = Array(rest.suffix(6))
            guard zone[0] == "+" || zone[0] == "-", zone[3] == ":", let h = Int64(String(zone[1...2])), let m = Int64(String(zone[4...5])),
                  h <= 14, m < 60 else { throw problem }
            offset = (h * 3600 + m * 60) * (zone[0] == "-" ? -1 : 1)
            rest.removeLast(6)
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), let hour = Int64(parts[0]), let minute = Int64(parts[1]), parts[0].count == 2, parts[1].count == 2,
              hour < 24, minute < 60 else { throw problem }
        var second: Int64 = 0
        if parts.count == 3 {
            let whole = parts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard whole[0].count == 2, let s = Int64(whole[0]), s < 61,
                  whole.count == 1 || (!whole[1].isEmpty && whole[1].allSatisfy({ $0.isASCII && $0.isNumber })) else { throw problem }
            second = s
        }
        return date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offset
    }

    // MARK: answering

    enum Format: String {
        case json, xml
        var mime: String { self == .json ? "application/json" : "text/xml" }
    }

    /// Runs `body` and answers in the requested format; every failure becomes the spec's error list.
    private func answer(_ request: Request, _ context: AppRequestContext, format text: String?,
                        _ body: (Format) async throws -> Document) async -> Response {
        // An unknown extension is answered in XML, the format every GeoReport client must read.
        guard let format = text.flatMap({ Format(rawValue: $0.lowercased()) }) else {
            return Self.render(Document.errors(400, "不支持的格式“\(text ?? "")”,请用 .json 或 .xml (unknown format; use .json or .xml)"),
                               as: .xml, status: .badRequest)
        }
        do {
            return Self.render(try await body(format), as: format, status: .ok)
        } catch let e as Open311Error {
            return Self.render(Document.errors(e.code, e.description), as: format, status: HTTPResponse.Status(code: e.code))
        } catch StoreError.invalid(let field, let reason) {
            return Self.render(Document.errors(400, "\(field):\(reason)"), as: format, status: .badRequest)
        } catch StoreError.notFound(let what, let key) {
            return Self.render(Document.errors(404, "未找到\(what) \(key) (not found)"), as: format, status: .notFound)
        } catch {
            context.logger.error("open311 request failed", metadata: ["path": .string(request.uri.path), "error": .string(String(reflecting: error))])
            return Self.render(Document.errors(400, "服务暂时无法处理该请求,请稍后重试或联系管理员 (general service error; try again or notify us)"),
                               as: format, status: .badRequest)
        }
    }

    static func render(_ document: Document, as format: Format, status: HTTPResponse.Status) -> Response {
        let text = format == .json ? document.value.json : "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + document.value.xml(document.root) + "\n"
        return Response(status: status, headers: [.contentType: "\(format.mime); charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// An Open311 error: its HTTP status (also the body's code) and a description, Chinese first.
struct Open311Error: Error, Sendable {
    let code: Int
    let description: String
    init(_ code: Int, _ description: String) { self.code = code; self.description = description }
}

/// A response: its XML root element and its value (the JSON is the value alone, as the Spark convention maps it).
struct Document: Sendable {
    let root: String
    let value: O311
    init(root: String, _ value: O311) { self.root = root; self.value = value }

    static func errors(_ code: Int, _ description: String) -> Document {
        Document(root: "errors", .list(item: "error", [.object([("code", .int(code)), ("description", .string(description))])]))
    }
}

/// The little tree both formats are written from: ordered keys, lists that name their items (for XML).
indirect enum O311: Sendable {
    case string(String?)
    case bool(Bool)
    case int(Int)
    case double(Double?)
    case object([(String, O311)])
    case list(item: String, [O311])

    var json: String {
        switch self {
        case .string(let s?): Self.jsonString(s)
        case .string(nil), .double(nil): "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d?): d.isFinite ? String(d) : "null"
        case .object(let pairs): "{" + pairs.map { Self.jsonString($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        case .list(_, let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        }
    }

    /// The element `name` holding this value; nil values are empty elements (`<account_id/>`, as the spec shows).
    func xml(_ name: String) -> String {
        switch self {
        case .string(nil), .double(nil): "<\(name)/>"
        case .string(let s?): "<\(name)>\(Self.xmlEscaped(s))</\(name)>"
        case .bool(let b): "<\(name)>\(b)</\(name)>"
        case .int(let i): "<\(name)>\(i)</\(name)>"
        case .double(let d?): d.isFinite ? "<\(name)>\(d)</\(name)>" : "<\(name)/>"
        case .object(let pairs): "<\(name)>" + pairs.map { $0.1.xml($0.0) }.joined() + "</\(name)>"
        case .list(let item, let items): "<\(name)>" + items.map { $0.xml(item) }.joined() + "</\(name)>"
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // U+2028/2029 are valid JSON but break JavaScript that evals it.
            case _ where u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Escapes markup and drops characters XML 1.0 cannot carry at all (controls other than tab and line breaks).
    static func xmlEscaped(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            case _ where u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF: continue
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
