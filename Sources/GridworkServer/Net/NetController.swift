import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

extension RegionDetail: ResponseEncodable {}
extension BuildingDetail: ResponseEncodable {}
extension NetStats: ResponseEncodable {}

/// The residents of a building as the API returns them.
struct BuildingResidents: ResponseEncodable {
    let building: RegionCode
    let residents: [ResidentView]
}

struct UnmaskRequest: Decodable { let field: String }
struct Unmasked: ResponseEncodable { let resident: Int64; let field: String; let value: String }

/// The net (一张网): county → township → community → grid → building, as pages and as JSON.
/// Public data for everyone; residents only for viewers whose scope covers them.
struct NetController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/", use: countyPage)
        router.get("/net/{code}", use: netPage)
        router.post("/net/{code}/unmask", use: unmaskOnPage)
        let api = router.group("/api/v1")
        api.get("/net", use: county)
        api.get("/stats", use: stats)
        api.get("/regions/{code}", use: region)
        api.get("/buildings/{code}", use: building)
        api.get("/buildings/{code}/residents", use: residents)
        api.post("/residents/{id}/unmask", use: unmask)
    }

    // MARK: API

    /// The county at the top of the net.
    @Sendable func county(_ request: Request, context: AppRequestContext) async throws -> RegionDetail {
        try await app.store.net.region(try await countyCode())
    }

    /// Counts of the whole net.
    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> NetStats {
        try await app.store.net.stats()
    }

    /// A county, township, community or grid with its children.
    @Sendable func region(_ request: Request, context: AppRequestContext) async throws -> RegionDetail {
        let code = try Self.code(context)
        guard code.level != .building else {
            throw AppError.badRequest("这是楼栋代码,请使用 /api/v1/buildings/\(code) (this is a building code; use /api/v1/buildings/\(code))")
        }
        return try await app.store.net.region(code)
    }

    /// A building with its staff and households.
    @Sendable func building(_ request: Request, context: AppRequestContext) async throws -> BuildingDetail {
        try await app.store.net.building(try Self.buildingCode(context))
    }

    /// The residents of a building, masked, for a viewer whose scope covers it (404 otherwise).
    @Sendable func residents(_ request: Request, context: AppRequestContext) async throws -> BuildingResidents {
        let viewer = try context.requireArea("residents")
        let code = try Self.buildingCode(context)
        let list = try await app.denyingOutOfScope(context, target: "building:\(code)") {
            try await app.store.residents.residents(inBuilding: code, viewer: viewer)
        }
        return BuildingResidents(building: code, residents: list)
    }

    /// Reveals one sealed field (audited). Browser sessions must send `X-CSRF-Token`.
    @Sendable func unmask(_ request: Request, context: AppRequestContext) async throws -> Unmasked {
        let viewer = try context.requireArea("residents")
        try await Form.checkHeader(request, context: context, store: app.store)
        let id = try context.positiveID()
        let body = try await request.decode(as: UnmaskRequest.self, context: context)
        let field = try Self.field(body.field)
        let value = try await app.denyingOutOfScope(context, target: "resident:\(id)") {
            try await app.store.residents.unmask(field, of: id, viewer: viewer, address: context.address)
        }
        return Unmasked(resident: id, field: field.rawValue, value: value)
    }

    // MARK: pages

    /// 县 page: the home page.
    @Sendable func countyPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(for: try await countyCode(), context: context)
    }

    /// Any node of the net by its code; a building shows its residents to viewers in scope.
    @Sendable func netPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(for: try Self.code(context), context: context)
    }

    /// The building page again, with one field of one resident revealed (audited).
    @Sendable func unmaskOnPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        guard context.session != nil, let viewer = context.viewer else {
            throw AppError(status: .unauthorized, code: "unauthenticated", message: "请先登录 (please log in)")
        }
        let code = try Self.buildingCode(context)
        guard let id = form["resident"].flatMap(Int64.init) else { throw AppError.badRequest("缺少居民编号 (resident is required)") }
        let field = try Self.field(form["field"] ?? "")
        let value = try await app.denyingOutOfScope(context, target: "resident:\(id)") {
            try await app.store.residents.unmask(field, of: id, viewer: viewer, address: context.address)
        }
        return try await page(for: code, context: context, revealed: .init(resident: id, field: field, value: value))
    }

    private func page(for code: RegionCode, context: AppRequestContext, revealed: BuildingPage.Revealed? = nil) async throws -> Response {
        if code.level == .building {
            let detail = try await app.store.net.building(code)
            var residents: [ResidentView]?
            if context.session != nil, let viewer = context.viewer {
                residents = try? await app.store.residents.residents(inBuilding: code, viewer: viewer)
            }
            let page = BuildingPage(detail, residents: residents, viewer: context.viewer, revealed: revealed)
            return app.pages.response(page: page, template: "building", context: context)
        }
        let viewer = context.session == nil ? nil : context.viewer
        return app.pages.response(page: RegionPage(try await app.store.net.region(code), viewer: viewer), template: "region", context: context)
    }

    private func countyCode() async throws -> RegionCode {
        guard let code = try await app.store.net.county() else {
            throw AppError(status: .serviceUnavailable, code: "empty", message: "尚未载入县的数据,请先运行 gridwork seed (no county loaded yet; run gridwork seed)")
        }
        return code
    }

    static func code(_ context: AppRequestContext) throws -> RegionCode {
        let text = context.parameters.get("code") ?? ""
        do { return try RegionCode(text) } catch {
            throw AppError.badRequest("区划代码“\(text.prefix(40))”无效:\(error.reason)", code: "invalid_code")
        }
    }

    static func buildingCode(_ context: AppRequestContext) throws -> RegionCode {
        let code = try code(context)
        guard code.level == .building else {
            throw AppError.badRequest("楼栋代码应为18位,实际\(code.value.count)位 (a building code has 18 digits, got \(code.value.count))")
        }
        return code
    }

    static func field(_ text: String) throws -> Policy.SealedField {
        guard let field = Policy.SealedField(rawValue: text) else {
            throw AppError.badRequest("field 应为 id_number 或 phone,实际“\(text.prefix(20))” (field must be id_number or phone)", code: "invalid_field")
        }
        return field
    }
}
