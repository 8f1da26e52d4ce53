import Foundation
import GridworkStore
import Logging
import ServiceLifecycle

/// Tells live dashboards that a campaign changed. A change made by this process is published at once; on
/// PostgreSQL every process also hears `NOTIFY campaigns` (sent in the answer's own transaction) through
/// `CampaignListener`, so a dashboard served by one process follows answers taken by another. Each
/// subscriber holds at most one pending signal: a burst of answers costs one re-count, not one per answer.
actor CampaignFeed {
    private var subscribers: [Int64: [UUID: AsyncStream<Void>.Continuation]] = [:]

    /// A stream that yields once now and again after every change of campaign `id`.
    func subscribe(_ id: Int64) -> (token: UUID, stream: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let token = UUID()
        continuation.yield()
        if closed { continuation.finish(); return (token, stream) }
        subscribers[id, default: [:]][token] = continuation
        return (token, stream)
    }

    func unsubscribe(_ id: Int64, _ token: UUID) {
        subscribers[id]?.removeValue(forKey: token)?.finish()
        if subscribers[id]?.isEmpty == true { subscribers[id] = nil }
    }

    func publish(_ id: Int64) {
        for c in (subscribers[id] ?? [:]).values { c.yield() }
    }

    /// Wakes one subscriber (its heartbeat); false once it has gone.
    func poke(_ id: Int64, _ token: UUID) -> Bool {
        guard let c = subscribers[id]?[token] else { return false }
        c.yield()
        return true
    }

    var count: Int { subscribers.values.reduce(0) { $0 + $1.count } }

    /// Ends every live stream: the server is shutting down and must not wait for dashboards left open.
    func closeAll() {
        for list in subscribers.values { for c in list.values { c.finish() } }
        subscribers = [:]
        closed = true
    }

    /// Set once shut down: a dashboard that connects now gets one event and the end.
    private(set) var closed = false
}
