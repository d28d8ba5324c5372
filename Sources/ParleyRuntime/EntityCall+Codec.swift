import ParleyCluster
import ParleyDomain

/// The binary form of entity calls and their answers between nodes: a format version byte,
/// then a tag and the fields in a fixed order (domain values in their own codecs). Tags are
/// part of the peer protocol: add new ones, never renumber; a change old nodes cannot read
/// takes a new format version.
enum EntityCallCodec {
    /// 2: staff and channel calls became generic `command`/`read` calls, and a refusal
    /// carries its category. 3: so did the room calls, and a command asks for its answer
    /// (`CallAnswer`). Nodes of another format refuse each other's calls whole.
    static let formatVersion: UInt8 = 3

    /// Tags 1 to 18 were the per-kind calls before the entity seam made them `command`/`read`
    /// calls; they stay unused.
    private enum CallTag: UInt8 {
        case command = 19, read, fireTimer, applyEffects
    }

    /// Tags 1 to 7 and 9 to 13 were per-kind replies; those travel as `bytes` now.
    private enum ReplyTag: UInt8 {
        case bytes = 8
        case done = 14
    }

    private enum Status: UInt8 { case ok = 0, failed }

    private enum ErrorTag: UInt8 { case rejected = 1, unavailable, internalFailure, servedElsewhere }

    static func encode(_ call: EntityCall) -> [UInt8] {
        var writer = BinaryWriter(capacity: 128)
        writer.write(formatVersion)
        func tag(_ tag: CallTag) { writer.write(tag.rawValue) }
        switch call {
        case let .command(entity, caller, payload, origin, answer):
            tag(.command)
            entity.encode(into: &writer)
            caller.encode(into: &writer)
            writer.write(bytes: payload)
            writer.write(origin != nil)
            origin?.encode(into: &writer)
            writer.write(answer.rawValue)
        case let .read(entity, caller, name, payload):
            tag(.read)
            entity.encode(into: &writer)
            caller.encode(into: &writer)
            writer.write(name)
            writer.write(bytes: payload)
        case let .applyEffects(entity, commands):
            tag(.applyEffects)
            entity.encode(into: &writer)
            writer.writeVarint(UInt64(commands.count))
            for command in commands {
                command.origin.encode(into: &writer)
                writer.write(bytes: command.payload)
            }
        case let .fireTimer(entity, tag: timer, deadline):
            tag(.fireTimer)
            entity.encode(into: &writer)
            writer.write(timer)
            writer.write(deadline.milliseconds)
        }
        return writer.bytes
    }

    static func decodeCall(_ bytes: [UInt8]) throws(DecodingError) -> EntityCall {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        let call: EntityCall
        switch try reader.read(CallTag.self, "entity call tag") {
        case .command:
            let entity = try EntityID.decode(from: &reader)
            let caller = try Caller.decode(from: &reader)
            let payload = try reader.readBytes()
            let origin = try reader.readBool() ? try EffectOrigin.decode(from: &reader) : nil
            call = .command(entity, caller: caller, payload: payload, origin: origin, answer: try reader.read(CallAnswer.self, "call answer"))
        case .read:
            let entity = try EntityID.decode(from: &reader)
            let caller = try Caller.decode(from: &reader)
            let name = try reader.readString()
            call = .read(entity, caller: caller, name: name, payload: try reader.readBytes())
        case .applyEffects:
            let entity = try EntityID.decode(from: &reader)
            var commands: [EffectCommand] = []
            for _ in 0..<(try reader.readCount(atMost: 100_000, of: "effect commands")) {
                let origin = try EffectOrigin.decode(from: &reader)
                commands.append(EffectCommand(origin: origin, payload: try reader.readBytes()))
            }
            call = .applyEffects(entity, commands)
        case .fireTimer:
            let entity = try EntityID.decode(from: &reader)
            let timer = try reader.readString()
            call = .fireTimer(entity, tag: timer, deadline: Timestamp(milliseconds: try reader.readInt64()))
        }
        try reader.expectEnd()
        return call
    }

    static func encode(_ result: Result<EntityReply, RuntimeError>) -> [UInt8] {
        var writer = BinaryWriter(capacity: 256)
        writer.write(formatVersion)
        switch result {
        case let .success(reply):
            writer.write(Status.ok.rawValue)
            encode(reply, into: &writer)
        case let .failure(error):
            writer.write(Status.failed.rawValue)
            encode(error, into: &writer)
        }
        return writer.bytes
    }

    static func decodeResult(_ bytes: [UInt8]) throws(DecodingError) -> Result<EntityReply, RuntimeError> {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        let result: Result<EntityReply, RuntimeError> =
            switch try reader.read(Status.self, "call status") {
            case .ok: .success(try decodeReply(&reader))
            case .failed: .failure(try decodeError(&reader))
            }
        try reader.expectEnd()
        return result
    }

    private static func expectVersion(_ reader: inout BinaryReader) throws(DecodingError) {
        let version = try reader.readUInt8()
        guard version == formatVersion else { throw DecodingError("entity call format \(version) (this node reads \(formatVersion))") }
    }

    private static func encode(_ reply: EntityReply, into writer: inout BinaryWriter) {
        func tag(_ tag: ReplyTag) { writer.write(tag.rawValue) }
        switch reply {
        case let .bytes(bytes):
            tag(.bytes)
            writer.write(bytes: bytes)
        case .done:
            tag(.done)
        }
    }

    private static func decodeReply(_ reader: inout BinaryReader) throws(DecodingError) -> EntityReply {
        switch try reader.read(ReplyTag.self, "entity reply tag") {
        case .bytes: return .bytes(try reader.readBytes())
        case .done: return .done
        }
    }

    private static func encode(_ error: RuntimeError, into writer: inout BinaryWriter) {
        switch error {
        case let .rejected(domain):
            writer.write(ErrorTag.rejected.rawValue)
            domain.encode(into: &writer)
        case let .unavailable(code, message):
            writer.write(ErrorTag.unavailable.rawValue)
            writer.write([code, message])
        case let .internalFailure(code, message):
            writer.write(ErrorTag.internalFailure.rawValue)
            writer.write([code, message])
        case let .servedElsewhere(partition, serving):
            writer.write(ErrorTag.servedElsewhere.rawValue)
            writer.write(partition.rawValue)
            writer.write(serving)
        }
    }

    private static func decodeError(_ reader: inout BinaryReader) throws(DecodingError) -> RuntimeError {
        func pair() throws(DecodingError) -> (String, String) {
            let texts = try reader.readStrings()
            guard texts.count == 2 else { throw DecodingError("an error has a code and a message") }
            return (texts[0], texts[1])
        }
        switch try reader.read(ErrorTag.self, "error kind") {
        case .rejected: return .rejected(try DomainError.decode(from: &reader))
        case .unavailable:
            let (code, message) = try pair()
            return .unavailable(code: code, message: message)
        case .internalFailure:
            let (code, message) = try pair()
            return .internalFailure(code: code, message: message)
        case .servedElsewhere:
            let partition = PartitionID(try reader.readUInt16())
            return .servedElsewhere(partition, serving: try reader.readString())
        }
    }
}
