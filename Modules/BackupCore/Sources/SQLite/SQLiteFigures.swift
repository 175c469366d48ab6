/// What the manifest records about a SQLite source: where it was, and the snapshot's figures.
public struct SQLiteFigures: Codable, Equatable, Sendable {
    /// The protected database's path when the backup was taken.
    public var path: String
    /// The SQLite library that took the snapshot.
    public var sqliteVersion: String
    public var pageSize: Int
    public var pageCount: Int
    public var userVersion: Int

    public init(path: String, sqliteVersion: String, pageSize: Int, pageCount: Int, userVersion: Int) {
        self.path = path
        self.sqliteVersion = sqliteVersion
        self.pageSize = pageSize
        self.pageCount = pageCount
        self.userVersion = userVersion
    }

    enum CodingKeys: String, CodingKey {
        case path
        case sqliteVersion = "sqlite_version"
        case pageSize = "page_size"
        case pageCount = "page_count"
        case userVersion = "user_version"
    }
}
