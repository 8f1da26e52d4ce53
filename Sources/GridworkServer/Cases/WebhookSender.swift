import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GridworkStore
import Logging
import ServiceLifecycle

/// Sends the grids' queued webhook messages: every few seconds, claims what is due (a lease, so several
/// processes never send one twice at once), posts it, and records delivered / retry later / dead.
struct WebhookSender: Service {
    let store: Store
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatRounds(every: interval, logger: logger, failure: "webhook delivery failed") { _ = try await sendDue() }
    }

    /// Sends everything due now; returns how many were delivered.
    @discardableResult
    func sendDue() async throws -> Int {
        var delivered = 0
        for d in try await store.webhooks.claimDue() {
            let error = await Self.post(d)
            try await store.webhooks.finish(d.id, error: error)
            if error == nil { delivered += 1 }
        }
        return delivered
    }

    /// Posts one message; nil when the receiver took it (2xx, and for WeChat Work an `errcode` of 0).
    static func post(_ d: DueDelivery) async -> String? {
        guard let url = URL(string: d.url) else { return "地址无效 (bad URL)" }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.httpBody = d.body
        for (name, value) in d.headers { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else { return "HTTP \(status)" }
            if d.kind == .wecom, let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let code = answer["errcode"] as? Int, code != 0 {
                return "errcode \(code): \(answer["errmsg"] as? String ?? "")"
            }
            return nil
        } catch {
            return String(describing: error).prefix(200).description
        }
    }
}
