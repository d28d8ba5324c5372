/// The Enquiry Overview over some days' indexes: the rows a filter keeps, oldest first, with
/// counts and average times over them. Pure: the gateway reads the day indexes
/// (`EnquirySummary.index(day:)`) and writes the answer.
public struct EnquiryOverview: Sendable, Equatable {
    /// What to keep: every field given must match (`staff`: among those who served it).
    public struct Filter: Sendable, Equatable {
        public var status: EnquiryStatus?
        public var source: String?
        public var destination: String?
        public var staff: String?

        public init(status: EnquiryStatus? = nil, source: String? = nil, destination: String? = nil, staff: String? = nil) {
            self.status = status
            self.source = source
            self.destination = destination
            self.staff = staff
        }

        func keeps(_ summary: EnquirySummary) -> Bool {
            if let status, summary.status != status { return false }
            if let source, summary.source.rawValue != source { return false }
            if let destination, summary.destination?.rawValue != destination { return false }
            if let staff, !summary.servedBy.contains(where: { $0.rawValue == staff }) { return false }
            return true
        }
    }

    public struct Row: Sendable, Equatable {
        public let id: String
        public let summary: EnquirySummary
    }

    /// Open (offered or accepted), queued, missed offers (summed), served (closed after
    /// someone accepted), and every row.
    public struct Counts: Sendable, Equatable {
        public var open = 0
        public var queued = 0
        public var missed = 0
        public var served = 0
        public var total = 0

        public init(open: Int = 0, queued: Int = 0, missed: Int = 0, served: Int = 0, total: Int = 0) {
            (self.open, self.queued, self.missed, self.served, self.total) = (open, queued, missed, served, total)
        }
    }

    public let rows: [Row]
    public let counts: Counts
    public let averageWaitingMilliseconds: Int64?
    public let averageHandlingMilliseconds: Int64?

    /// The longest span one overview reads, in days.
    public static let maxDays = 31

    /// `listings` are the day indexes' entries (enquiry id to encoded summary); an entry that
    /// does not decode is left out.
    public init(listings: [[String: [UInt8]]], filter: Filter) {
        var rows: [Row] = []
        for listing in listings {
            for (id, bytes) in listing {
                guard let summary = try? EnquirySummary.decode(bytes), filter.keeps(summary) else { continue }
                rows.append(Row(id: id, summary: summary))
            }
        }
        rows.sort { ($0.summary.openedAt, $0.id) < ($1.summary.openedAt, $1.id) }
        self.rows = rows
        var counts = Counts(total: rows.count)
        for row in rows {
            switch row.summary.status {
            case .offered, .accepted: counts.open += 1
            case .queued: counts.queued += 1
            case .closed: if !row.summary.servedBy.isEmpty { counts.served += 1 }
            }
            counts.missed += Int(row.summary.missed)
        }
        self.counts = counts
        averageWaitingMilliseconds = Self.average(rows.compactMap(\.summary.waitingMilliseconds))
        averageHandlingMilliseconds = Self.average(rows.compactMap(\.summary.handlingMilliseconds))
    }

    /// The start of every UTC day from `from` to `to`, both included: 1 to `maxDays` of them.
    public static func days(from: Timestamp, to: Timestamp) throws(DomainError) -> [Timestamp] {
        let first = Timestamp(utcDay: from.utcDay) ?? from
        let count = (to.milliseconds - first.milliseconds) / 86_400_000 + 1
        guard (1...Int64(maxDays)).contains(count) else {
            throw DomainError(.invalidArgument, "from and to (yyyy-mm-dd) span 1 to \(maxDays) days, from first")
        }
        return (0..<count).map { first.adding(milliseconds: $0 * 86_400_000) }
    }

    private static func average(_ values: [Int64]) -> Int64? { values.isEmpty ? nil : values.reduce(0, +) / Int64(values.count) }
}
