import Foundation
import Hummingbird
import ParleyDomain
import ParleyRuntime

/// One row of the Enquiry Overview.
struct OverviewRow: Encodable {
    let enquiryID: String
    let status: String
    let sourceID: String
    let sourceName: String
    let visitorName: String
    let destinationID: String?
    let owner: String?
    let servedBy: [String]
    let missed: UInt32
    let openedAt: String
    let acceptedAt: String?
    let closedAt: String?
    let waitingMs: Int64?
    let handlingMs: Int64?

    enum CodingKeys: String, CodingKey {
        case status, owner, missed
        case enquiryID = "enquiry_id"
        case sourceID = "source_id"
        case sourceName = "source_name"
        case visitorName = "visitor_name"
        case destinationID = "destination_id"
        case servedBy = "served_by"
        case openedAt = "opened_at"
        case acceptedAt = "accepted_at"
        case closedAt = "closed_at"
        case waitingMs = "waiting_ms"
        case handlingMs = "handling_ms"
    }

    init(id: String, _ summary: EnquirySummary) {
        enquiryID = id
        status = summary.status.name
        sourceID = summary.source.rawValue
        sourceName = summary.sourceName
        visitorName = summary.visitorName
        destinationID = summary.destination?.rawValue
        owner = summary.owner?.rawValue
        servedBy = summary.servedBy.map(\.rawValue)
        missed = summary.missed
        openedAt = RoomResponse.format(summary.openedAt)
        acceptedAt = summary.acceptedAt.map(RoomResponse.format)
        closedAt = summary.closedAt.map(RoomResponse.format)
        waitingMs = summary.waitingMilliseconds
        handlingMs = summary.handlingMilliseconds
    }

    static let csvHeader = "enquiry_id,status,source_id,source_name,visitor_name,destination_id,owner,served_by,missed,opened_at,accepted_at,closed_at,waiting_ms,handling_ms"

    var csv: String {
        let fields: [String] = [
            enquiryID, status, sourceID, sourceName, visitorName, destinationID ?? "", owner ?? "", servedBy.joined(separator: " "), String(missed), openedAt,
            acceptedAt ?? "", closedAt ?? "", waitingMs.map(String.init) ?? "", handlingMs.map(String.init) ?? "",
        ]
        return fields.map(Self.csvField).joined(separator: ",")
    }

    /// RFC 4180 quoting; a leading = + - @ is neutralised so spreadsheets do not run it.
    static func csvField(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// `GET /v1/enquiries`: the rows, and counts and times over them.
struct OverviewResponse: Encodable {
    struct Counts: Encodable {
        let open: Int
        let queued: Int
        let missed: Int
        let served: Int
        let total: Int
    }

    let from: String
    let to: String
    let counts: Counts
    let averageWaitingMs: Int64?
    let averageHandlingMs: Int64?
    let enquiries: [OverviewRow]

    enum CodingKeys: String, CodingKey {
        case from, to, counts, enquiries
        case averageWaitingMs = "average_waiting_ms"
        case averageHandlingMs = "average_handling_ms"
    }
}

extension Gateway {
    func addOverviewRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/enquiries") { request, _ -> Response in
            let caller = try await caller(of: request)
            let query = request.uri.queryParameters
            let to = try Self.day(query.get("to")) ?? runtime.now
            let from = try Self.day(query.get("from")) ?? to
            let days: [Timestamp]
            do {
                days = try EnquiryOverview.days(from: from, to: to)
            } catch let refusal as DomainError {
                throw GatewayError(.rejected(refusal))
            }
            let status = try query.get("status").map { raw throws(GatewayError) -> EnquiryStatus in
                guard let status = EnquiryStatus(name: raw) else { throw GatewayError.invalidArgument("status is offered, queued, accepted or closed") }
                return status
            }
            var listings: [[String: [UInt8]]] = []
            for day in days { listings.append(try await runtime.state(of: EnquirySummary.index(day: day), IndexState.self, by: caller.principal).entries) }
            let overview = EnquiryOverview(
                listings: listings, filter: .init(status: status, source: query.get("source_id"), destination: query.get("destination_id"), staff: query.get("staff_id")))
            let rows = overview.rows.map { OverviewRow(id: $0.id, $0.summary) }
            if try Self.format(query.get("format"), ["json", "csv"]) == "csv" {
                let body = ([OverviewRow.csvHeader] + rows.map(\.csv)).joined(separator: "\r\n") + "\r\n"
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"enquiries.csv\""],
                    body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            let counts = overview.counts
            return JSONBody.response(OverviewResponse(
                from: from.utcDay, to: to.utcDay,
                counts: .init(open: counts.open, queued: counts.queued, missed: counts.missed, served: counts.served, total: counts.total),
                averageWaitingMs: overview.averageWaitingMilliseconds, averageHandlingMs: overview.averageHandlingMilliseconds, enquiries: rows))
        }

        router.get("/v1/enquiries/:enquiryID/history") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.enquiryID(context)
            // Who may read the enquiry may download its conversation.
            let enquiry = try await runtime.state(of: id.rawValue, EnquiryState.self, by: caller.principal)
            guard enquiry.exists else { throw GatewayError(.notFound, code: DomainError.Code.enquiryNotFound.rawValue, "no enquiry \(id)") }
            var messages: [Message] = []
            var after: UInt64 = 0
            for _ in 0..<50 {
                let page = try await runtime.messages(in: enquiry.room, caller: .system, page: HistoryPage(after: after, limit: HistoryPage.maxLimit))
                messages += page
                guard let last = page.last, page.count == HistoryPage.maxLimit else { break }
                after = last.seq
            }
            if try Self.format(request.uri.queryParameters.get("format"), ["json", "text"]) == "text" {
                let lines = messages.map { message in
                    let who = message.author.visitor != nil ? "\(enquiry.start?.visitorName ?? "Visitor") (visitor)"
                        : message.author.isStaff ? message.author.rawValue : (enquiry.start?.sourceName ?? "Parley")
                    return "[\(RoomResponse.format(message.postedAt))] \(who): \(message.isRecalled ? "(recalled)" : message.text)"
                }
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .contentDisposition: "attachment; filename=\"\(id).txt\""],
                    body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
            }
            return JSONBody.response(HistoryResponse(roomID: enquiry.room.rawValue, messages: messages.map { MessageResponse($0, room: enquiry.room) }))
        }
    }

    /// The `format` asked for, one of `allowed` (the first when absent).
    static func format(_ raw: String?, _ allowed: [String]) throws(GatewayError) -> String {
        guard let raw else { return allowed[0] }
        guard allowed.contains(raw) else { throw GatewayError.invalidArgument("format is \(allowed.joined(separator: " or "))") }
        return raw
    }

    /// The start of day `raw` (yyyy-mm-dd, UTC); nil when absent.
    static func day(_ raw: String?) throws(GatewayError) -> Timestamp? {
        guard let raw else { return nil }
        guard let day = Timestamp(utcDay: raw) else { throw GatewayError.invalidArgument("a day is yyyy-mm-dd, from 1970-01-01, on the calendar") }
        return day
    }
}
