import Foundation
import GRDB

/// Synchronous one-line queries for assertions (async tests would otherwise pick GRDB's
/// async overloads).
public enum TestDB {
    public static func strings(_ path: String, _ sql: String, readonly: Bool = false) throws -> [String] {
        var config = Configuration()
        config.readonly = readonly
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { try String.fetchAll($0, sql: sql) }
    }

    public static func int(_ path: String, _ sql: String) throws -> Int? {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { try Int.fetchOne($0, sql: sql) }
    }

    public static func execute(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql) }
    }

    /// Whether the invariants of ``SampleDatabase`` hold in the database at `path`.
    public static func invariantsHold(_ path: String) throws -> Bool {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try SampleDatabase.invariantsHold(in: queue)
    }
}
