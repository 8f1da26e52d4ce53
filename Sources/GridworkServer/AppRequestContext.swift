import GridworkCore
import GridworkStore
import Hummingbird
import NIOCore

/// Every request's context: who is acting (from a session cookie or an API
/// token), the session's CSRF token, and the peer address for the audit trail.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var viewer: Viewer?
    /// Set for a browser session (cookie), nil for anonymous requests and API tokens.
    public var session: SessionCredentials?
    /// Set when an API token authenticated the request.
    public var grant: TokenGrant?
    public let address: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        address = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Forms and uploads are small here; bigger bodies are refused before they are read.
    public var maxUploadSize: Int { 64 * 1024 }

    var actor: Actor { viewer.map { Actor($0, address: address) } ?? .anonymous(address) }

    /// A numeric path parameter (a resident, household, matter, photo, webhook): anything but a positive number is "not found".
    func positiveID(_ name: String = "id") throws -> Int64 {
        guard let id = parameters.get(name, as: Int64.self), id > 0 else {
            throw AppError.notFound("编号应为正整数 (\(name) must be a positive number)")
        }
        return id
    }
}

public struct SessionCredentials: Sendable {
    public let token: String
    public let csrf: String
}
