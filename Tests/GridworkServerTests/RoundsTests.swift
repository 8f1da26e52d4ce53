@testable import GridworkServer
import GridworkStore
import Logging
import Testing

/// Keeps what a logger was asked to log, for tests that check what the operator would read.
struct KeptLog: LogHandler {
    typealias Lines = Locked<[(level: Logger.Level, message: String)]>
    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lines.withLock { $0.append((event.level, "\(event.message)")) } }
}

@Suite struct RoundsTests {
    struct Broken: Error {}
    struct Interrupted: Error {}

    /// A failing round is logged and tried again — a `CancellationError` from a round nobody cancelled too, or
    /// the clock would stop unseen. The cancellation that stops the loop is not logged, whether the round ends
    /// with `CancellationError` or with its own error once cancelled (as a database call may).
    @Test(arguments: [false, true])
    func aFailedRoundIsLoggedAndTheStopIsNot(ownError: Bool) async throws {
        let lines = KeptLog.Lines([]), rounds = Locked(0)
        let logger = Logger(label: "test") { _ in KeptLog(lines: lines) }
        let (waiting, started) = AsyncStream<Void>.makeStream()
        let loop = Task {
            defer { started.finish() } // a loop that ends early fails the checks below rather than hanging the test
            try await repeatRounds(every: .milliseconds(1), logger: logger, failure: "round failed") {
                // Rounds 1 and 2 fail, round 3 succeeds, round 4 waits until the loop is cancelled.
                switch rounds.withLock({ $0 += 1; return $0 }) {
                case 1: throw Broken()
                case 2: throw CancellationError()
                case 3: return
                default:
                    started.yield()
                    do { try await Task.sleep(for: .seconds(3600)) } catch { throw ownError ? Interrupted() : error }
                }
            }
        }
        for await _ in waiting { break }
        loop.cancel()
        try await loop.value
        let logged = lines.withLock { $0 }
        #expect(logged.count == 2)
        #expect(logged.allSatisfy { $0.level == .error && $0.message == "round failed" })
        #expect(rounds.withLock { $0 } == 4)
    }
}
