import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

extension RegionDetail: ResponseEncodable {}
extension BuildingDetail: ResponseEncodable {}
extension NetStats: ResponseEncodable {}

/// The net (一张网): county → township → community → grid → building, as pages and as JSON.
struct NetController: Sendable {
    let app: AppContext

    func register(on router: Router<BasicRequestContext>) {
        router.get("/", use: countyPage)
        router.get("/net/{code}", use: netPage)
        let api = router.group("/api/v1")
        api.get("/net", use: county)
        api.get("/stats", use: stats)
        api.get("/regions/{code}", use: region)
        api.get("/buildings/{code}", use: building)
    }

    // MARK: API

    /// The county at the top of the net.
    @Sendable func county(_ request: Request, context: BasicRequestContext) async throws -> RegionDetail {
        try await app.store.net.region(try await countyCode())
    }

    /// Counts of the whole net.
    @Sendable func stats(_ request: Request, context: BasicRequestContext) async throws -> NetStats {
        try await app.store.net.stats()
    }

    /// A county, township, community or grid with its children.
    @Sendable func region(_ request: Request, context: BasicRequestContext) async throws -> RegionDetail {
        let code = try Self.code(context)
        guard code.level != .building else {
            throw AppError.badRequest("这是楼栋代码,请使用 /api/v1/buildings/\(code) (this is a building code; use /api/v1/buildings/\(code))")
        }
        return try await app.store.net.region(code)
    }

    /// A building with its staff and households.
    @Sendable func building(_ request: Request, context: BasicRequestContext) async throws -> BuildingDetail {
        let code = try Self.code(context)
        guard code.level == .building else {
            throw AppError.badRequest("楼栋代码应为18位,实际\(code.value.count)位 (a building code has 18 digits, got \(code.value.count))")
        }
        return try await app.store.net.building(code)
    }

    // MARK: pages

    /// 县 page: the home page.
    @Sendable func countyPage(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try await page(for: try await countyCode())
    }

    /// Any node of the net by its code.
    @Sendable func netPage(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try await page(for: try Self.code(context))
    }

    private func page(for code: RegionCode) async throws -> Response {
        if code.level == .building {
            return app.pages.response(page: BuildingPage(try await app.store.net.building(code)), template: "building")
        }
        return app.pages.response(page: RegionPage(try await app.store.net.region(code)), template: "region")
    }

    private func countyCode() async throws -> RegionCode {
        guard let code = try await app.store.net.county() else {
            throw AppError(status: .serviceUnavailable, code: "empty", message: "尚未载入县的数据,请先运行 gridwork seed (no county loaded yet; run gridwork seed)")
        }
        return code
    }

    static func code(_ context: BasicRequestContext) throws -> RegionCode {
        let text = context.parameters.get("code") ?? ""
        do { return try RegionCode(text) } catch {
            throw AppError.badRequest("区划代码“\(text.prefix(40))”无效:\(error.reason)", code: "invalid_code")
        }
    }
}
