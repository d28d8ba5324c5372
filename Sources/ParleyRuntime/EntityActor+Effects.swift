import ParleyDomain

/// A command of another entity's effect, as the outbox relay delivers it.
public struct EffectCommand: Sendable, Equatable {
    public let origin: EffectOrigin
    /// The command, in the target kind's encoding.
    public let payload: [UInt8]

    public init(origin: EffectOrigin, payload: [UInt8]) {
        self.origin = origin
        self.payload = payload
    }
}

extension EntityActor {
    /// Applies a run of effects' commands (each from `Caller.entity(source)`) in one log
    /// entry: each decided on top of the ones before, each applied once (a repeated origin
    /// is skipped), a refused or unreadable one skipped for good (its origin still recorded,
    /// so it is never tried again). Returns once the entry is committed.
    func handleEffects(_ commands: [(origin: EffectOrigin, command: Rules.Command?)]) async throws(RuntimeError) {
        let start = try activeState()
        var next = start
        var decision = Decision<Rules.Event>()
        var applied: [EffectOrigin] = []
        var repeated = false
        var nextSoft = soft
        for (origin, command) in commands {
            let seen = max(try appliedSeq(from: origin.source), applied.last { $0.source == origin.source }?.seq ?? 0)
            guard origin.seq > seen else {
                repeated = true
                continue
            }
            applied.append(origin)
            guard let command else {
                context.logger.warning("an unreadable effect command; skipping it", metadata: ["entity": "\(entity)", "source": "\(origin.source)"])
                continue
            }
            do {
                let context = DecisionContext(caller: .entity(origin.source), now: self.context.clock.now(), entity: entity)
                guard case let .decided(decided) = try host.decide(command, on: next, committed: committedState ?? start, soft: &nextSoft, context: context) else { continue }
                for event in decided.events { next.apply(event) }
                decision.events += decided.events
                decision.effects += decided.effects
            } catch {
                context.logger.warning("an effect was refused; skipping it", metadata: ["entity": "\(entity)", "source": "\(origin.source)", "error": "\(error)"])
            }
        }
        soft = nextSoft
        if applied.isEmpty {
            if repeated { try await settled() }
            return
        }
        _ = try await commit(decision, on: start, origins: applied, command: nil)
    }
}
