/// Bech32 (BIP 173) as age uses it: no limit on the length of the data part, all upper or all
/// lower case, the checksum always computed over the lower-case string.
enum Bech32 {
    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
    /// Each byte's value in ``alphabet``, or -1.
    private static let values: [Int8] = {
        var values = [Int8](repeating: -1, count: 128)
        for (index, character) in alphabet.enumerated() { values[Int(character)] = Int8(index) }
        return values
    }()

    /// `hrp`, the separator `1`, `data` in 5-bit groups and the checksum, in lower case.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let hrp = Array(hrp.lowercased().utf8)
        let groups = regroup(data, from: 8, to: 5, pad: true)!
        let checksum = self.checksum(hrp: hrp, groups: groups)
        return String(
            decoding: hrp + [UInt8(ascii: "1")] + (groups + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The human-readable part (in the string's own case) and the data of `text`, or why it is not
    /// valid Bech32. The reason never repeats `text` (it may be a secret key).
    static func decode(_ text: String) -> Result<(hrp: String, data: [UInt8]), Bech32Failure> {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 >= 33 && $0 <= 126 }) else {
            return .failure(Bech32Failure("it holds a character that is not printable ASCII"))
        }
        let lower = Array(text.lowercased().utf8)
        guard lower == bytes || Array(text.uppercased().utf8) == bytes else {
            return .failure(Bech32Failure("it mixes upper and lower case"))
        }
        guard let separator = lower.lastIndex(of: UInt8(ascii: "1")), separator > 0,
            lower.count - separator - 1 >= 6
        else { return .failure(Bech32Failure("it is not Bech32 (no separator or too short)")) }
        var groups: [UInt8] = []
        groups.reserveCapacity(lower.count - separator - 1)
        for character in lower[(separator + 1)...] {
            let value = values[Int(character)]
            guard value >= 0 else {
                return .failure(Bech32Failure("it holds a character Bech32 does not use"))
            }
            groups.append(UInt8(value))
        }
        let hrp = Array(lower[..<separator])
        guard polymod(expand(hrp) + groups) == 1 else {
            return .failure(Bech32Failure("its checksum does not match (a character is wrong or missing)"))
        }
        guard let data = regroup(Array(groups.dropLast(6)), from: 5, to: 8, pad: false) else {
            return .failure(Bech32Failure("its data part has invalid padding"))
        }
        return .success((String(decoding: bytes[..<separator], as: UTF8.self), data))
    }

    private static func checksum(hrp: [UInt8], groups: [UInt8]) -> [UInt8] {
        let value = polymod(expand(hrp) + groups + [0, 0, 0, 0, 0, 0]) ^ 1
        return (0..<6).map { UInt8((value >> (5 * (5 - UInt32($0)))) & 31) }
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { check ^= generator[bit] }
        }
        return check
    }

    /// Regroups bits (8 to 5 with padding to encode, 5 to 8 without to decode); nil when the
    /// leftover bits are not a zero padding shorter than a group.
    private static func regroup(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0
        var bits = 0
        var result: [UInt8] = []
        result.reserveCapacity(data.count * from / to + 1)
        let mask = (1 << to) - 1
        for value in data {
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                result.append(UInt8((accumulator >> bits) & mask))
            }
            accumulator &= (1 << bits) - 1
        }
        if pad {
            if bits > 0 { result.append(UInt8((accumulator << (to - bits)) & mask)) }
        } else if bits >= from || accumulator != 0 {
            return nil
        }
        return result
    }
}

/// Why a string is not valid Bech32, in words fit for a field's reason.
struct Bech32Failure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
