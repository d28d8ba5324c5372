import Foundation
import Synchronization

extension EnquiriesBenchmark {
    /// One rate's figures.
    struct Step: Sendable {
        let rate: Int
        let started: Int
        let served: Int
        let failures: [String: Int]
        let seconds: Double
        let offer: [Double]
        let accept: [Double]
        let visitorToStaff: [Double]

        var servedRate: Double { Double(served) / max(seconds, 0.001) }
        var offerP50: Double { percentile(offer, 0.5) }
        var offerP99: Double { percentile(offer, 0.99) }
        var acceptP99: Double { percentile(accept, 0.99) }
        var visitorToStaffP99: Double { percentile(visitorToStaff, 0.99) }

        var summary: String {
            let failed = failures.isEmpty ? "none failed" : failures.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
            return "rate \(rate)/s: \(started) started, \(served) served in \(String(format: "%.1f", seconds)) s (\(Int(servedRate))/s); "
                + "offer p50 \(Int(offerP50)) p99 \(Int(offerP99)) ms, accept p99 \(Int(acceptP99)) ms, visitor→staff p99 \(Int(visitorToStaffP99)) ms; \(failed)"
        }
    }

    /// What one step's enquiries measured, as they finish.
    final class Tally: Sendable {
        private let state = Mutex<(offer: [Double], accept: [Double], visitorToStaff: [Double], served: Int, failures: [String: Int])>(([], [], [], 0, [:]))

        func served(offer: Double, accept: Double, visitorToStaff: Double) {
            state.withLock {
                $0.offer.append(offer)
                $0.accept.append(accept)
                $0.visitorToStaff.append(visitorToStaff)
                $0.served += 1
            }
        }

        func failed(_ what: String) { state.withLock { $0.failures[what, default: 0] += 1 } }

        func step(rate: Int, started: Int, seconds: Double) -> Step {
            state.withLock {
                Step(rate: rate, started: started, served: $0.served, failures: $0.failures, seconds: seconds, offer: $0.offer, accept: $0.accept, visitorToStaff: $0.visitorToStaff)
            }
        }
    }

    /// Starts one enquiry per visitor at `rate` a second and waits (bounded) for all of them.
    func runStep(rate: Int, visitors: [Visitor], first: Int, tokens: [String], client: EnquiriesClient, waiters: Waiters) async -> Step {
        let tally = Tally()
        let start = ContinuousClock.now + .milliseconds(50)
        let interval = Duration.seconds(1) / rate
        await withTaskGroup(of: Void.self) { group in
            for (offset, visitor) in visitors.enumerated() {
                try? await Task.sleep(until: start + interval * offset)
                group.addTask {
                    await serve(visitor, number: first + offset, tokens: tokens, client: client, waiters: waiters, tally: tally)
                }
            }
        }
        let seconds = Double((ContinuousClock.now - start).components.seconds) + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
        return tally.step(rate: rate, started: visitors.count, seconds: seconds)
    }

    /// One enquiry's life: the visitor's first message, the first offer seen accepted by its
    /// staff member, the room subscribed, a second message timed to that session, the close.
    private func serve(_ visitor: Visitor, number: Int, tokens: [String], client: EnquiriesClient, waiters: Waiters, tally: Tally) async {
        let enquiry = "\(visitor.id)-1"
        let opened = ContinuousClock.now
        do {
            try await call(urls[visitor.node] + "/v1/visitor/messages", .POST, token: visitor.token, body: #"{"text":"bench-open-\#(number)"}"#)
        } catch {
            return tally.failed("open")
        }
        guard let offer = await waiters.wait("offer:\(enquiry)", timeout: .seconds(30)) else { return tally.failed("no offer in 30 s") }
        let staff = offer.staff
        let node = urls[staff % urls.count]
        let accepting = ContinuousClock.now
        do {
            try await call(node + "/v1/enquiries/\(enquiry)/accept", .POST, token: tokens[staff])
        } catch {
            return tally.failed("accept")
        }
        let accepted = ContinuousClock.now
        // The owner joins the room through the outbox: subscribe until the session is let in.
        var subscribed = false
        for _ in 0..<100 where !subscribed {
            client.send(#"{"type":"subscribe","rooms":{"\#(enquiry)":0}}"#, staff: staff)
            if let answer = await waiters.wait("sub:\(enquiry):\(staff)", timeout: .seconds(5)), answer.staff >= 0 {
                subscribed = true
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        guard subscribed else { return tally.failed("room not joined") }
        let written = ContinuousClock.now
        do {
            try await call(urls[visitor.node] + "/v1/visitor/messages", .POST, token: visitor.token, body: #"{"text":"bench-probe-\#(number)"}"#)
        } catch {
            return tally.failed("second message")
        }
        guard let seen = await waiters.wait("probe:\(number)", timeout: .seconds(30)) else { return tally.failed("second message not seen in 30 s") }
        client.send(#"{"type":"unsubscribe","rooms":["\#(enquiry)"]}"#, staff: staff)
        do {
            try await call(node + "/v1/enquiries/\(enquiry)/close", .POST, token: tokens[staff])
        } catch {
            return tally.failed("close")
        }
        waiters.forget("offer:\(enquiry)")
        waiters.forget("sub:\(enquiry):\(staff)")
        tally.served(offer: Self.milliseconds(offer.at - opened), accept: Self.milliseconds(accepted - accepting), visitorToStaff: Self.milliseconds(seen.at - written))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
    }
}
