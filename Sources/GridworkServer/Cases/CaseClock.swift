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
        try await repeatRounds(every: interval, logger: logger, failure: "escalation failed") {
            let escalated = try await store.cases.escalateOverdue()
            if escalated > 0 { logger.info("escalated overdue matters", metadata: ["count": "\(escalated)"]) }
        }
    }
}
