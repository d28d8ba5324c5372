import ParleyDomain
import Testing

/// The Enquiry Overview's filters, order, counts and averages, and its span of days.
@Suite("Enquiry Overview")
struct EnquiryOverviewTests {
    let day = Timestamp(utcDay: "2026-03-08")!

    func summary(
        _ status: EnquiryStatus, openedAfter minutes: Int64, source: String = "web", destination: String? = "support", servedBy: [String] = [],
        missed: UInt32 = 0, waited: Int64? = nil, handled: Int64? = nil
    ) -> [UInt8] {
        var summary = EnquirySummary(EnquiryState(key: "e"))
        summary.status = status
        summary.source = ChannelID(unchecked: source)
        summary.destination = destination.map(DestinationID.init(unchecked:))
        summary.servedBy = servedBy.map(StaffID.init(unchecked:))
        summary.missed = missed
        summary.openedAt = day.adding(milliseconds: minutes * 60_000)
        summary.acceptedAt = waited.map { summary.openedAt.adding(milliseconds: $0) }
        summary.closedAt = handled.flatMap { handled in summary.acceptedAt.map { $0.adding(milliseconds: handled) } }
        return summary.encoded
    }

    @Test func rowsAreFilteredOrderedAndCounted() {
        let first: [String: [UInt8]] = [
            "b": summary(.closed, openedAfter: 5, servedBy: ["ann"], missed: 1, waited: 2_000, handled: 60_000),
            "a": summary(.accepted, openedAfter: 5, servedBy: ["bob"], waited: 4_000),
            "c": summary(.queued, openedAfter: 1, destination: "sales"),
            "junk": [0xFF, 0x00],
        ]
        let second: [String: [UInt8]] = ["d": summary(.closed, openedAfter: 1_500, source: "line", missed: 2), "e": summary(.offered, openedAfter: 1_450)]
        let all = EnquiryOverview(listings: [first, second], filter: .init())
        #expect(all.rows.map(\.id) == ["c", "a", "b", "e", "d"], "oldest first, ties by id; what does not decode is left out")
        #expect(all.counts == EnquiryOverview.Counts(open: 2, queued: 1, missed: 3, served: 1, total: 5), "a close nobody accepted is not served")
        #expect(all.averageWaitingMilliseconds == 3_000 && all.averageHandlingMilliseconds == 60_000)
        #expect(EnquiryOverview(listings: [first, second], filter: .init(status: .closed)).rows.map(\.id) == ["b", "d"])
        #expect(EnquiryOverview(listings: [first, second], filter: .init(source: "line")).rows.map(\.id) == ["d"])
        #expect(EnquiryOverview(listings: [first, second], filter: .init(destination: "sales")).rows.map(\.id) == ["c"])
        let bob = EnquiryOverview(listings: [first, second], filter: .init(staff: "bob"))
        #expect(bob.rows.map(\.id) == ["a"] && bob.averageHandlingMilliseconds == nil)
    }

    @Test func aSpanIsOneToThirtyOneDaysFromTheFirst() throws {
        #expect(try EnquiryOverview.days(from: day, to: day.adding(milliseconds: 13 * 3_600_000)) == [day])
        let month = try EnquiryOverview.days(from: day, to: day.adding(milliseconds: 30 * 86_400_000))
        #expect(month.count == 31 && month.last?.utcDay == "2026-04-07")
        #expect(throws: DomainError.self) { try EnquiryOverview.days(from: day, to: day.adding(milliseconds: 31 * 86_400_000)) }
        #expect(throws: DomainError.self) { try EnquiryOverview.days(from: day.adding(milliseconds: 86_400_000), to: day) }
    }
}
