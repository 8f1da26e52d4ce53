import Logging
import ServiceLifecycle

/// The loop behind the server's background work (the case clock, webhook delivery): does one round, waits
/// `interval`, and again, until graceful shutdown. A round that fails is logged and the next round tries again.
/// The cancellation that ends the loop — at shutdown, or when the server never started because its port was
/// taken — is not a failure: it is not logged, so the one line the operator reads is the real reason.
func repeatRounds(every interval: Duration, logger: Logger, failure: Logger.Message,
                  _ round: @escaping @Sendable () async throws -> Void) async throws {
    try await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await round()
            } catch {
                // Whatever a cancelled round throws (`CancellationError`, a database's own error) is the stop. A
                // `CancellationError` while the loop runs on is a failed round: logged, and tried again.
                if Task.isCancelled { break }
                logger.error(failure, metadata: ["error": "\(error)"])
            }
            // Cancelled at shutdown: end quietly (a thrown CancellationError would make the process exit 1).
            try? await Task.sleep(for: interval)
        }
    }
}
