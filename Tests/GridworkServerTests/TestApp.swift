import Foundation
import GridworkServer
import GridworkStore
import GridworkTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// Runs `body` against the app's router over a fresh seeded store; `routes` lists "METHOD /path" of every route.
func withApp(_ body: @escaping @Sendable (_ client: any TestClientProtocol, _ routes: [String]) async throws -> Void) async throws {
    try await TestDatabase.withStore { (store: Store) async throws in
        let router = try await buildRouter(store: store)
        let routes = router.routes.map { "\($0.method) \($0.path)" }
        let app = Application(router: router)
        try await app.test(.router) { client in try await body(client, routes) }
    }
}

struct Answer: Sendable {
    let status: HTTPResponse.Status
    let contentType: String
    let text: String
    var json: Any { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? [:] }
}

extension TestClientProtocol {
    func get(_ uri: String) async throws -> Answer {
        try await execute(uri: uri, method: .get) { r in
            Answer(status: r.status, contentType: r.headers[.contentType] ?? "", text: String(buffer: r.body))
        }
    }
}
