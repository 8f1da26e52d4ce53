import Foundation
import GridworkCore
import GridworkStore
import Hummingbird
import Logging
import Prometheus

/// Where the server listens. Loopback by default: a county puts a proxy in front.
public struct ServerConfig: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) { self.host = host; self.port = port }
}

/// What every controller shares.
public struct AppContext: Sendable {
    public let store: Store
    public let pages: Pages
    public let metrics: PrometheusCollectorRegistry
    /// Live dashboards wait on it; answers and launches wake them.
    let feed: CampaignFeed
    /// Public directory pages as rendered for anonymous readers.
    let directory: PageCache
    /// Staff inbox pages as last rendered per session.
    let inboxes = InboxPages()
}

extension AppContext {
    /// Runs a scoped store call; a "not found" there is audited, since probing outside one's scope looks like an attack.
    func denyingOutOfScope<R>(_ context: AppRequestContext, target: String, _ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as StoreError {
            if case .notFound = error { try await store.audit(actor: context.actor, action: "access.denied", target: target) }
            throw error
        }
    }
}

/// Builds the router with every route of the app; tests call this and `app.test(.router)`.
public func buildRouter(store: Store) async throws -> Router<AppRequestContext> {
    try await buildRouter(store: store, feed: CampaignFeed(), directory: PageCache())
}

func buildRouter(store: Store, feed: CampaignFeed, directory: PageCache) async throws -> Router<AppRequestContext> {
    let app = AppContext(store: store, pages: try await Pages.load(), metrics: PrometheusCollectorRegistry(), feed: feed, directory: directory)
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(RequestMetrics(registry: app.metrics))
    router.middlewares.add(ErrorResponses(pages: app.pages))
    router.middlewares.add(Authenticate(store: store))
    SystemController(app: app).register(on: router)
    NetController(app: app).register(on: router)
    AccessController(app: app).register(on: router)
    AdminController(app: app).register(on: router)
    ImportController(app: app).register(on: router)
    DepartmentController(app: app).register(on: router)
    RegistryController(app: app).register(on: router)
    OrganisationController(app: app).register(on: router)
    CaseController(app: app).register(on: router)
    Open311Controller(app: app).register(on: router)
    CaseSettingsController(app: app).register(on: router)
    WebhookController(app: app).register(on: router)
    FiguresController(app: app).register(on: router)
    CampaignController(app: app).register(on: router)
    DirectoryController(app: app).register(on: router)
    ErrandController(app: app).register(on: router)
    HelperController(app: app).register(on: router)
    TrainingController(app: app).register(on: router)
    return router
}

/// Builds the application from a store and a listening address.
/// `onListening` runs once the port is bound.
public func buildApplication(store: Store, config: ServerConfig, logger: Logger,
                             onListening: @escaping @Sendable () async -> Void = {}) async throws -> some ApplicationProtocol {
    let feed = CampaignFeed(), directory = PageCache()
    let router = try await buildRouter(store: store, feed: feed, directory: directory)
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "Gridwork"),
        services: [CaseClock(store: store, interval: .seconds(60), logger: logger),
                   WebhookSender(store: store, interval: .seconds(5), logger: logger),
                   ChangeListener(store: store, feed: feed, directory: directory, logger: logger)],
        onServerRunning: { _ in await onListening() },
        logger: logger)
}
