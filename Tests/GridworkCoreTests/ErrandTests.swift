import GridworkCore
import Testing

@Suite struct ErrandTests {
    @Test func anErrandGoesFromRequestToRatingAndRefusesStepsOutOfTurn() throws {
        var s = ErrandSnapshot(state: .requested)
        #expect(ErrandMachine.available(to: .handler, on: s) == ["accept", "decline"])
        #expect(ErrandMachine.available(to: .requester, on: s) == ["cancel"])
        s = try ErrandMachine.apply(.accept, to: s, as: .handler)
        s = try ErrandMachine.apply(.start, to: s, as: .handler)
        s = try ErrandMachine.apply(.wait(office: "街道社保所"), to: s, as: .handler)
        #expect(s.state == .waiting && ErrandMachine.available(to: .handler, on: s) == ["resume", "finish"])
        s = try ErrandMachine.apply(.finish(note: "已认证"), to: s, as: .handler)
        #expect(s.state == .done && ErrandMachine.available(to: .requester, on: s) == ["rate"])
        s = try ErrandMachine.apply(.rate(score: 5, comment: "谢谢"), to: s, as: .requester)
        #expect(s.rating == 5 && ErrandMachine.available(to: .requester, on: s).isEmpty)
        // refused: rating twice, a handler rating, a resident accepting, cancelling once work has started, a bad score
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.rate(score: 4, comment: ""), to: s, as: .requester) }
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.rate(score: 5, comment: ""), to: ErrandSnapshot(state: .done), as: .handler) }
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.accept, to: ErrandSnapshot(state: .requested), as: .requester) }
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.cancel, to: ErrandSnapshot(state: .inProgress), as: .requester) }
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.rate(score: 6, comment: ""), to: ErrandSnapshot(state: .done), as: .requester) }
        // each step that needs words asks for them
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.decline(reason: ""), to: ErrandSnapshot(state: .requested), as: .handler) }
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.wait(office: "x"), to: ErrandSnapshot(state: .inProgress), as: .handler) }
        #expect(throws: FormProblem.self) { try ErrandMachine.apply(.finish(note: ""), to: ErrandSnapshot(state: .inProgress), as: .handler) }
        #expect(try ErrandMachine.apply(.cancel, to: ErrandSnapshot(state: .accepted), as: .requester).state == .cancelled)
    }

    @Test func aRequestIsReadFromTheFormWithItsReasons() throws {
        let good = try ErrandRequest.parse(["kind": "pension", "name": " 王奶奶 ", "room": "1单元101", "phone": "13807391234", "note": ""], phoneRequired: true)
        #expect(good == ErrandRequest(kind: "pension", room: "1单元101", personName: "王奶奶", phone: MobilePhone("13807391234"), note: ""))
        func reason(_ form: [String: String], phoneRequired: Bool = true) -> String? {
            do { _ = try ErrandRequest.parse(form, phoneRequired: phoneRequired); return nil } catch { return error.field }
        }
        #expect(reason(["name": "王奶奶", "phone": "13807391234"]) == "事项 (errand)")
        #expect(reason(["kind": "pension", "name": "王", "phone": "13807391234"]) == "姓名 (name)")
        #expect(reason(["kind": "pension", "name": "<b>王奶奶</b>", "phone": "13807391234"]) == "姓名 (name)")
        #expect(reason(["kind": "pension", "name": "王奶奶", "phone": "12345"]) == "手机号 (phone)")
        #expect(reason(["kind": "pension", "name": "王奶奶"]) == "手机号 (phone)")
        #expect(reason(["kind": "pension", "name": "王奶奶"], phoneRequired: false) == nil)
        #expect(ErrandKind.defaults.count >= 5 && Set(ErrandKind.defaults.map(\.code)).count == ErrandKind.defaults.count)
    }
}
