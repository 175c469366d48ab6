/// An optional whose key the JSON form always carries: `null` when absent, never a missing key.
///
/// Synthesized `Codable` skips a nil optional (`encodeIfPresent`); the faces' JSON contract (the
/// OpenAPI schemas, the page) names every key of a ``BackupInfo`` or a status with `null` for
/// "none". Marking such a property `@ExplicitNull` keeps the synthesized conformance and writes
/// the `null`, so no type needs a hand-written `encode(to:)` for it. Decoding accepts the key
/// absent or `null` alike, as synthesized decoding of an optional does.
@propertyWrapper
public struct ExplicitNull<Value> {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }
}

extension ExplicitNull: Equatable where Value: Equatable {}
extension ExplicitNull: Sendable where Value: Sendable {}

extension ExplicitNull: Encodable where Value: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension ExplicitNull: Decodable where Value: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }
}

extension KeyedDecodingContainer {
    /// An ``ExplicitNull`` property whose key is missing decodes as nil, like a plain optional.
    public func decode<Value: Decodable>(
        _ type: ExplicitNull<Value>.Type, forKey key: Key
    ) throws -> ExplicitNull<Value> {
        ExplicitNull(wrappedValue: try decodeIfPresent(Value.self, forKey: key))
    }
}
