import Testing
@testable import GridworkCore

@Suite struct CaseMachineTests {
    let worker = Assignee.person("gw430524001001001")

    func run(_ steps: [(CaseAction, Capacity)], from start: CaseSnapshot = CaseSnapshot(), now: Int64 = 1_000) throws -> CaseSnapshot {
        var s = start
        for (action, capacity) in steps { s = try CaseMachine.apply(action, to: s, as: capacity, now: now) }
        return s
    }

    @Test func theWholeLoopFromReportToRating() throws {
        let s = try run([(.accept, .dispatcher), (.file, .dispatcher), (.dispatch(to: worker), .dispatcher), (.take, .assignee),
                         (.reportDone(note: "已清运"), .assignee), (.verify(passed: true, note: ""), .dispatcher), (.rate(score: 5, comment: "快"), .reporter)])
        #expect(s.state == .closed && s.rating == 5 && s.closedAt == 1_000 && s.assignee == worker && s.reworks == 0)
    }

    @Test func aFailedCheckIsReworkAndAnUnhappyReporterMayReopenWithinAWeek() throws {
        var s = try run([(.accept, .dispatcher), (.file, .dispatcher), (.dispatch(to: worker), .dispatcher), (.take, .assignee),
                         (.reportDone(note: "好了"), .assignee), (.verify(passed: false, note: "现场仍有垃圾"), .dispatcher)])
        #expect(s.state == .handling && s.reworks == 1)
        s = try run([(.reportDone(note: "再次清运"), .assignee), (.verify(passed: true, note: ""), .dispatcher), (.rate(score: 1, comment: "又堆了"), .reporter)], from: s)
        let reopened = try CaseMachine.apply(.reopen(reason: "又堆了"), to: s, as: .reporter, now: 1_000 + 6 * 86_400)
        #expect(reopened.state == .handling && reopened.reworks == 2 && reopened.rating == nil)
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.reopen(reason: "x"), to: s, as: .reporter, now: 1_000 + 8 * 86_400) }
    }

    @Test func stepsOutOfOrderOrByTheWrongPersonAreRefused() {
        let reported = CaseSnapshot()
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.file, to: reported, as: .dispatcher, now: 0) }
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.accept, to: reported, as: [.reporter, .assignee], now: 0) }
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.decline(reason: " "), to: reported, as: .dispatcher, now: 0) }
        let done = CaseSnapshot(state: .done, assignee: worker)
        // The handler does not check their own work.
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.verify(passed: true, note: ""), to: done, as: .assignee, now: 0) }
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.rate(score: 6, comment: ""), to: CaseSnapshot(state: .closed), as: .reporter, now: 0) }
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.rate(score: 4, comment: ""), to: CaseSnapshot(state: .closed, rating: 5), as: .reporter, now: 0) }
    }

    @Test func extensionsGoToTheLevelAboveAndGiveBackReturnsToTheDispatcher() throws {
        var s = CaseSnapshot(state: .handling, assignee: worker)
        s = try CaseMachine.apply(.requestExtension(days: 3, reason: "等配件"), to: s, as: .assignee, now: 0)
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.requestExtension(days: 2, reason: "x"), to: s, as: .assignee, now: 0) }
        #expect(throws: CaseRefusal.self) { try CaseMachine.apply(.decideExtension(approved: true), to: s, as: .assignee, now: 0) }
        s = try CaseMachine.apply(.decideExtension(approved: true), to: s, as: .supervisor, now: 0)
        #expect(s.extensionGranted == 3 && s.extensionRequested == nil)
        s = try CaseMachine.apply(.giveBack(reason: "不属于本网格"), to: s, as: .assignee, now: 0)
        #expect(s.state == .filed && s.assignee == nil)
        #expect(CaseMachine.available(to: .dispatcher, on: s, now: 0).contains("dispatch"))
        #expect(!CaseMachine.available(to: .assignee, on: s, now: 0).contains("dispatch"))
    }

    @Test func suspendingRemembersWhereItWas() throws {
        var s = CaseSnapshot(state: .handling, assignee: worker)
        s = try CaseMachine.apply(.suspend(reason: "等待法院判决"), to: s, as: .supervisor, now: 0)
        #expect(s.state == .suspended)
        s = try CaseMachine.apply(.resume, to: s, as: .dispatcher, now: 0)
        #expect(s.state == .handling && s.suspendedFrom == nil)
    }

    @Test func assigneesReadBackFromTheirStoredForm() {
        #expect(Assignee("user:gw1") == .person("gw1") && Assignee("dept:fire") == .department(.fire))
        #expect(Assignee("dept:bank") == nil && Assignee("user:") == nil && Assignee.department(.health).description == "dept:health")
        #expect(Responsible("dept:fire") == .department(.fire) && Responsible("grid_worker") == .gridWorker && Responsible("mayor") == nil)
    }
}

@Suite struct WorkCalendarTests {
    /// 2026-11-30 is a Monday; 08:30 Beijing is 00:30 UTC.
    static func beijing(_ y: Int, _ m: Int, _ d: Int, _ hour: Int, _ minute: Int = 0) -> Int64 {
        CivilDate(year: y, month: m, day: d)!.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60) - WorkCalendar.offset
    }

    @Test func datesAndWeekdaysFromDayNumbers() {
        #expect(CivilDate(daysSinceEpoch: 0) == CivilDate(year: 1970, month: 1, day: 1)!)
        #expect(CivilDate(year: 2026, month: 11, day: 30)!.weekday == 1)
        #expect(CivilDate(year: 2024, month: 2, day: 29)!.daysSinceEpoch == 19_782)
        #expect(CivilDate(daysSinceEpoch: 19_782) == CivilDate(year: 2024, month: 2, day: 29)!)
    }

    @Test func workingHoursSkipLunchNightsAndWeekends() {
        let cal = WorkCalendar()
        // Friday 11:00 + 2 working hours: 11:00–12:00, then 14:00–15:00.
        #expect(cal.adding(workingMinutes: 120, to: Self.beijing(2026, 11, 27, 11)) == Self.beijing(2026, 11, 27, 15))
        // Friday 17:00 + 1 hour: half an hour Friday, half an hour Monday morning.
        #expect(cal.adding(workingMinutes: 60, to: Self.beijing(2026, 11, 27, 17)) == Self.beijing(2026, 11, 30, 9))
        // Reported on a Saturday night: the clock starts Monday 08:30.
        #expect(cal.adding(workingMinutes: 30, to: Self.beijing(2026, 11, 28, 22)) == Self.beijing(2026, 11, 30, 9))
        // One working day from Monday 10:00 is Tuesday 10:00.
        #expect(cal.adding(workingDays: 1, to: Self.beijing(2026, 11, 30, 10)) == Self.beijing(2026, 12, 1, 10))
    }

    @Test func holidaysAreSkippedAndMakeUpDaysWorked() {
        let cal = WorkCalendar.china2026
        // 30 Sept 2026 (Wednesday) 16:30 + 2 working hours: National Day week is off, 8 Oct resumes.
        #expect(cal.adding(workingMinutes: 120, to: Self.beijing(2026, 9, 30, 16, 30)) == Self.beijing(2026, 10, 8, 9, 30))
        #expect(cal.isWorkingDay(CivilDate(year: 2026, month: 10, day: 10)!)) // a Saturday worked in exchange
        #expect(!cal.isWorkingDay(CivilDate(year: 2026, month: 10, day: 5)!))
    }

    @Test func everyDefaultCategoryHasAGroupAndSensibleClocks() {
        let all = CaseCategory.defaults
        #expect(Set(all.map(\.code)).count == all.count)
        #expect(Set(all.map(\.group)).count == 8)
        #expect(all.allSatisfy { $0.code.count == 4 && $0.accept.amount > 0 && $0.handle.amount > 0 && $0.yellowPercent < $0.redPercent })
        let due = Deadline(2, .workingDays).due(from: Self.beijing(2026, 11, 30, 9), calendar: WorkCalendar(), extraDays: 1)
        #expect(due == Self.beijing(2026, 12, 3, 9))
    }
}
