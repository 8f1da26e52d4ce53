import Foundation
@testable import GridworkServer
import Logging
import Testing

/// Keeps what was logged, for tests that check what the operator would read.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(level: Logger.Level, message: String)] = []
    var all: [(level: Logger.Level, message: String)] { lock.withLock { lines } }
    func add(_ level: Logger.Level, _ message: String) { lock.withLock { lines.append((level, message)) } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(lines: self) }
    }

    struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.add(event.level, "\(event.message)") }
    }
}

/// Counts rounds and lets the test wait for one.
actor RoundCount {
    private(set) var count = 0
    private var waiting: [(Int, CheckedContinuation<Void, Never>)] = []
    func next() -> Int {
        count += 1
        for (n, c) in waiting where n <= count { c.resume() }
        waiting.removeAll { $0.0 <= count }
        return count
    }
    func reach(_ n: Int) async {
        if count >= n { return }
        await withCheckedContinuation { waiting.append((n, $0)) }
    }
}

@Suite struct RoundsTests {
    struct Broken: Error {}
    struct Interrupted: Error {}

    /// A failing round is logged and tried again; the cancellation that stops the loop is not logged, whether the
    /// round ends with `CancellationError` or with its own error once cancelled (as a database call may).
    @Test(arguments: [false, true])
    func aFailedRoundIsLoggedAndTheStopIsNot(ownError: Bool) async throws {
        let lines = LogLines(), rounds = RoundCount()
        let loop = Task {
            try await repeatRounds(every: .milliseconds(1), logger: lines.logger, failure: "round failed") {
                // Round 1 fails, round 2 succeeds, round 3 waits until the loop is cancelled.
                switch await rounds.next() {
                case 1: throw Broken()
                case 2: return
                default:
                    do { try await Task.sleep(for: .seconds(3600)) } catch { throw ownError ? Interrupted() : error }
                }
            }
        }
        await rounds.reach(3)
        loop.cancel()
        try await loop.value
        let logged = lines.all
        #expect(logged.count == 1)
        #expect(logged.first?.level == .error && logged.first?.message == "round failed")
        #expect(await rounds.count == 3)
    }
}
