import Foundation
import GridworkCore
@testable import GridworkServer
import GridworkStore
import GridworkTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import SQLKit
import Testing

/// What a local receiver got.
actor Received {
    var messages: [(path: String, headers: HTTPFields, body: Data)] = []
    func add(_ path: String, _ headers: HTTPFields, _ body: Data) { messages.append((path, headers, body)) }
}

@Suite struct WebhookTests {
    static let grid = "430524001001001"
    static let leader = Viewer(userID: 0, login: "gl430524001001001", role: .gridLeader, scope: try! RegionCode(grid))

    @Test func messagesReachTheRobotAndTheGatewayAndFailuresEndAsDeadLetters() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: a local receiver standing in for WeChat Work and an SMS gateway
            let received = Received()
            let router = Router()
            router.post("/robot") { request, context -> String in
                var request = request
                await received.add("/robot", request.headers, Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                return #"{"errcode":0,"errmsg":"ok"}"#
            }
            router.post("/gateway") { request, context -> String in
                var request = request
                await received.add("/gateway", request.headers, Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                return "ok"
            }
            router.post("/busy") { _, _ -> String in #"{"errcode":45009,"errmsg":"api freq out of limit"}"# }
            let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await receiver.test(.live) { client in
                let port = try #require(client.port)
                let grid = try RegionCode(Self.grid)
                let secret = "a-secret-of-20-chars"
                _ = try await store.webhooks.add(grid: grid, kind: .wecom, url: "http://127.0.0.1:\(port)/robot", secret: nil, viewer: Self.leader, address: "x")
                _ = try await store.webhooks.add(grid: grid, kind: .signed, url: "http://127.0.0.1:\(port)/gateway", secret: secret, viewer: Self.leader, address: "x")
                _ = try await store.webhooks.add(grid: grid, kind: .wecom, url: "http://127.0.0.1:\(port)/busy", secret: nil, viewer: Self.leader, address: "x")
                // Bad hooks are refused: not a URL; a signed hook without a secret; another grid.
                await #expect(throws: StoreError.self) {
                    try await store.webhooks.add(grid: grid, kind: .wecom, url: "javascript:alert(1)", secret: nil, viewer: Self.leader, address: "x")
                }
                await #expect(throws: StoreError.self) {
                    try await store.webhooks.add(grid: grid, kind: .signed, url: "http://127.0.0.1/x", secret: nil, viewer: Self.leader, address: "x")
                }
                await #expect(throws: StoreError.self) {
                    try await store.webhooks.add(grid: try RegionCode("430524101001001"), kind: .wecom, url: "http://127.0.0.1/x", secret: nil,
                                                 viewer: Self.leader, address: "x")
                }
                // act: a matter is reported in the grid
                let report = CaseReport(category: "0202", title: "楼道电动车充电", description: "2单元楼道电动车充电", reporterName: "刘阿姨",
                                        reporterPhone: MobilePhone("13807391234"), channel: .resident)
                _ = try await store.cases.report(report, at: .building(try RegionCode(Self.grid + "001")), by: nil)
                let sender = WebhookSender(store: store, interval: .seconds(5), logger: Logger(label: "test"))
                let delivered = try await sender.sendDue()
                // check: the robot got WeChat Work's text message, the gateway a body it can verify; no personal data left
                #expect(delivered == 2)
                let messages = await received.messages
                let robot = try #require(messages.first { $0.path == "/robot" })
                let json = try #require(try JSONSerialization.jsonObject(with: robot.body) as? [String: Any])
                #expect(json["msgtype"] as? String == "text")
                let content = try #require((json["text"] as? [String: Any])?["content"] as? String)
                #expect(content.contains("楼道电动车充电") && !content.contains("13807391234") && !content.contains("刘阿姨"))
                let gateway = try #require(messages.first { $0.path == "/gateway" })
                let timestamp = try #require(gateway.headers[.init("X-Gridwork-Timestamp")!].flatMap { Int64($0) })
                #expect(gateway.headers[.init("X-Gridwork-Signature")!] == "sha256=" + WebhookStore.signature(body: gateway.body, timestamp: timestamp, secret: secret))
                // The busy robot is retried with backoff, then given up and listed; a retry queues it again.
                var now = Clock.now()
                for _ in 0..<WebhookStore.maxAttempts {
                    now += 7200
                    for d in try await store.webhooks.claimDue(now: now) {
                        try await store.webhooks.finish(d.id, error: await WebhookSender.post(d), now: now)
                    }
                }
                let dead = try await store.webhooks.dead(Self.leader)
                #expect(dead.count == 1 && dead[0].attempts == WebhookStore.maxAttempts && dead[0].lastError.contains("45009"))
                try await store.webhooks.retry(delivery: dead[0].id, viewer: Self.leader)
                #expect(try await store.webhooks.dead(Self.leader).isEmpty)
                #expect(try await store.webhooks.list(Self.leader).map(\.pending).reduce(0, +) == 1)
            }
        }
    }
}
