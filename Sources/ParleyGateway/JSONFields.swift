/// The fields of a JSON request body (`JSONObjectReader`), taken by name with the gateway's
/// errors: a required field that is absent is `missing field`; a field present with `null` is
/// refused rather than read as absent (optional fields are absent or have a value, as the API's
/// schema says); a value of another type is `has the wrong type`. Fields the body type does not
/// take are ignored.
struct JSONFields {
    let values: [String: JSONObjectReader.Value]
    /// Where these fields are in the body (`rule.conditions[0].`), for error messages.
    var path = ""

    func string(_ name: String) throws(GatewayError) -> String { try required(name, optionalString(name)) }

    func optionalString(_ name: String) throws(GatewayError) -> String? {
        guard let value = try present(name) else { return nil }
        guard case let .string(string) = value else { throw wrongType(name) }
        return string
    }

    func unsignedInteger(_ name: String) throws(GatewayError) -> UInt64 { try required(name, optionalUnsignedInteger(name)) }

    /// A whole number from 0 to 2^64 - 1; written with a fraction or an exponent (`3.0`,
    /// `1e2`) it is taken when its value is exactly a whole number up to 2^53.
    func optionalUnsignedInteger(_ name: String) throws(GatewayError) -> UInt64? {
        guard let value = try present(name) else { return nil }
        switch value {
        case let .integer(text):
            guard let number = UInt64(text) else { throw wrongType(name) }
            return number
        case let .number(text):
            guard let number = Double(text), number >= 0, number <= 9_007_199_254_740_992, number.rounded(.towardZero) == number else {
                throw wrongType(name)
            }
            return UInt64(number)
        default:
            throw wrongType(name)
        }
    }

    func strings(_ name: String) throws(GatewayError) -> [String] { try required(name, optionalStrings(name)) }

    func optionalStrings(_ name: String) throws(GatewayError) -> [String]? {
        guard let value = try present(name) else { return nil }
        guard case let .array(elements) = value else { throw wrongType(name) }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard case let .string(string) = element else { throw wrongType(name) }
            strings.append(string)
        }
        return strings
    }

    func optionalBool(_ name: String) throws(GatewayError) -> Bool? {
        guard let value = try present(name) else { return nil }
        guard case let .bool(flag) = value else { throw wrongType(name) }
        return flag
    }

    /// A nested object's fields, read with the same rules.
    func optionalObject(_ name: String) throws(GatewayError) -> JSONFields? {
        guard let value = try present(name) else { return nil }
        guard case let .object(fields) = value else { throw wrongType(name) }
        return JSONFields(values: fields, path: path + name + ".")
    }

    func object(_ name: String) throws(GatewayError) -> JSONFields { try required(name, optionalObject(name)) }

    /// An array of objects, each read with the same rules.
    func optionalObjects(_ name: String) throws(GatewayError) -> [JSONFields]? {
        guard let value = try present(name) else { return nil }
        guard case let .array(elements) = value else { throw wrongType(name) }
        var objects: [JSONFields] = []
        for (index, element) in elements.enumerated() {
            guard case let .object(fields) = element else { throw wrongType(name) }
            objects.append(JSONFields(values: fields, path: path + name + "[\(index)]."))
        }
        return objects
    }

    func objects(_ name: String) throws(GatewayError) -> [JSONFields] { try required(name, optionalObjects(name)) }

    private func required<Wanted>(_ name: String, _ value: Wanted?) throws(GatewayError) -> Wanted {
        guard let value else { throw GatewayError.invalidArgument("missing field \(path)\(name)") }
        return value
    }

    /// The field's value; nil when absent; `must not be null` when null.
    private func present(_ name: String) throws(GatewayError) -> JSONObjectReader.Value? {
        guard let value = values[name] else { return nil }
        guard value != .null else { throw GatewayError.invalidArgument("field \(path)\(name) must not be null") }
        return value
    }

    private func wrongType(_ name: String) -> GatewayError { GatewayError.invalidArgument("field \(path)\(name) has the wrong type") }
}
