import Foundation

/// Builds a `NodeConfiguration`: the defaults, then a JSON config file, then `PARLEY_*`
/// environment variables (which win). Unknown keys and bad values are errors that name the
/// file or variable, the key and the reason.
public enum ConfigurationLoader {
    public static func load(file: String?, environment: [String: String]) throws(ConfigurationError) -> NodeConfiguration {
        var configuration = NodeConfiguration()
        if let file {
            try apply(file: file, to: &configuration)
        }
        for setting in Setting.all {
            guard let raw = environment[setting.environmentVariable] else { continue }
            do {
                try setting.apply(&configuration, .string(raw))
            } catch {
                throw ConfigurationError(source: "environment", key: setting.environmentVariable, reason: error.reason)
            }
        }
        do {
            try configuration.adoptOwnClusterEntry(keepingDataDirectory: environment[Setting.dataDirectoryVariable] != nil)
        } catch {
            throw ConfigurationError(source: file ?? "configuration", key: error.key, reason: error.reason)
        }
        return configuration
    }

    /// Every key a config file may hold, with its environment variable.
    public static var settings: [(key: String, environmentVariable: String)] {
        Setting.all.map { ($0.key, $0.environmentVariable) }
    }

    private static func apply(file: String, to configuration: inout NodeConfiguration) throws(ConfigurationError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ConfigurationError(source: file, key: nil, reason: "cannot be read (\((error as NSError).localizedDescription))")
        }
        let dictionary: [String: FileValue]
        do {
            dictionary = try JSONDecoder().decode([String: FileValue].self, from: data)
        } catch DecodingError.typeMismatch {
            throw ConfigurationError(source: file, key: nil, reason: "must hold a JSON object of settings")
        } catch {
            throw ConfigurationError(source: file, key: nil, reason: "is not valid JSON")
        }
        let known = Dictionary(uniqueKeysWithValues: Setting.all.map { ($0.key, $0) })
        for key in dictionary.keys.sorted() {
            guard let setting = known[key] else {
                throw ConfigurationError(source: file, key: key, reason: "is not a setting (known: \(Setting.all.map(\.key).joined(separator: ", ")))")
            }
            let value: Setting.Value
            switch dictionary[key] {
            case let .string(string)?: value = .string(string)
            case let .number(number)?: value = .number(number)
            case let .flag(flag)?: value = .flag(flag)
            case let .entries(entries)?: value = .entries(entries)
            default: throw ConfigurationError(source: file, key: key, reason: "must be a string, a number, a boolean or (nodes) a list of objects of strings")
            }
            do {
                try setting.apply(&configuration, value)
            } catch {
                throw ConfigurationError(source: file, key: key, reason: error.reason)
            }
        }
    }
}

/// A config file value as JSON spells it, keeping strings, numbers and the rest apart.
private enum FileValue: Decodable {
    case string(String)
    case number(Double)
    case flag(Bool)
    case entries([[String: String]])
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let entries = try? container.decode([[String: String]].self) {
            self = .entries(entries)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let flag = try? container.decode(Bool.self) {
            self = .flag(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .other
        }
    }
}
