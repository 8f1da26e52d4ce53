import GridworkStore
import Logging
import ServiceLifecycle

/// Runs beside the web server: once a minute, escalates every matter past its red point one level up and
/// tells that level. Several server processes may run it at once — each escalation is claimed with a
/// check on the matter's current level, so a matter moves up once — and a restart loses nothing, since the
/// clock is the database's deadlines, not this loop's memory.
struct CaseClock: Service {
    let store: Store
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let escalated = try await store.cases.escalateOverdue()
                    if escalated > 0 { logger.info("escalated overdue matters", metadata: ["count": "\(escalated)"]) }
                } catch {
                    logger.error("escalation failed", metadata: ["error": "\(error)"])
                }
                // Cancelled at shutdown: end quietly (a thrown CancellationError would make the process exit 1).
                try? await Task.sleep(for: interval)
            }
        }
    }
}
