import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler writing one JSON object per line to standard error (or any file
/// descriptor): `time` (RFC 3339 in UTC, milliseconds), `level`, `label`, `message`, `source`,
/// then the metadata flattened into the same object (`backup_id`, `job`, `error`, …; nested
/// dictionaries and arrays stay JSON objects and arrays, every other value is a string). A
/// metadata key that would shadow one of the five fixed keys is written as `metadata.KEY`.
/// Each line is built whole, then written under one process-wide lock, so lines from
/// concurrent tasks never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    private let output: Int32

    /// A handler for the logger `label`, writing to `output` (standard error unless a test
    /// passes a pipe).
    public init(label: String, output: Int32 = STDERR_FILENO, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.output = output
        self.metadataProvider = metadataProvider ?? LoggingSystem.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        let line = Self.line(
            time: Date(), level: event.level, label: label, message: event.message.description,
            source: event.source, metadata: merged)
        Self.write(line, to: output)
    }

    /// The JSON line (with its newline) for one event.
    public static func line(
        time: Date, level: Logger.Level, label: String, message: String, source: String, metadata: Logger.Metadata
    ) -> String {
        var json = "{\"time\":\"\(timestamp(time))\",\"level\":\"\(level.rawValue)\",\"label\":"
        appendString(label, to: &json)
        json += ",\"message\":"
        appendString(message, to: &json)
        json += ",\"source\":"
        appendString(source, to: &json)
        for key in metadata.keys.sorted() {
            json += ","
            appendString(reserved.contains(key) ? "metadata." + key : key, to: &json)
            json += ":"
            appendValue(metadata[key]!, to: &json)
        }
        json += "}\n"
        return json
    }

    private static let reserved: Set<String> = ["time", "level", "label", "message", "source"]

    /// `2026-11-26T10:57:04.123Z`, built from the UTC calendar fields (no formatter, no locale).
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.quotientAndRemainderFlooring(by: 1000).quotient)
        var fields = tm()
        gmtime_r(&seconds, &fields)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let millis = Int32(milliseconds.quotientAndRemainderFlooring(by: 1000).remainder)
        return "\(padded(fields.tm_year + 1900, 4))-\(padded(fields.tm_mon + 1, 2))-\(padded(fields.tm_mday, 2))"
            + "T\(padded(fields.tm_hour, 2)):\(padded(fields.tm_min, 2)):\(padded(fields.tm_sec, 2))"
            + ".\(padded(millis, 3))Z"
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to json: inout String) {
        switch value {
        case .string(let text):
            appendString(text, to: &json)
        case .stringConvertible(let convertible):
            appendString(convertible.description, to: &json)
        case .dictionary(let dictionary):
            json += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { json += "," }
                appendString(key, to: &json)
                json += ":"
                appendValue(dictionary[key]!, to: &json)
            }
            json += "}"
        case .array(let values):
            json += "["
            for (index, element) in values.enumerated() {
                if index > 0 { json += "," }
                appendValue(element, to: &json)
            }
            json += "]"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    private static func appendString(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }

    /// One lock for every handler of the process: a line is written whole before the next.
    private static let writing = Mutex(())

    private static func write(_ line: String, to output: Int32) {
        let bytes = Array(line.utf8)
        writing.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(output, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

extension Int64 {
    /// Division rounding towards negative infinity (times before 1970 keep a positive remainder).
    fileprivate func quotientAndRemainderFlooring(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
