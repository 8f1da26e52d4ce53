import Foundation
import Hummingbird
import Prometheus

/// Health, metrics, the API contract and the stylesheet.
struct SystemController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz", use: health)
        router.get("/metrics", use: metrics)
        router.get("/openapi.yaml", use: openAPI)
        router.get("/static/app.css", use: stylesheet)
        router.get("/static/import.js", use: script)
        router.get("/static/campaign.js", use: script)
    }

    @Sendable func script(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard let js = app.pages.scripts[name] else { throw AppError.notFound("页面不存在 (no such page)") }
        return Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                        body: .init(byteBuffer: ByteBuffer(string: js)))
    }

    /// Liveness: the process answers.
    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
    }

    /// Prometheus text exposition.
    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: app.metrics.emitToBuffer())))
    }

    /// The hand-written OpenAPI 3.1 document.
    @Sendable func openAPI(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: app.pages.openAPI)))
    }

    @Sendable func stylesheet(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(string: app.pages.stylesheet)))
    }
}
