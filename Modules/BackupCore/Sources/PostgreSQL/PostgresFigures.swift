/// What the manifest records about a PostgreSQL source (under the source's `postgresql` key).
public struct PostgresFigures: Codable, Equatable, Sendable {
    /// The connection URL with the password removed.
    public var url: String
    /// The database dumped (`current_database()` on the server).
    public var database: String
    /// The server's `server_version`.
    public var serverVersion: String
    /// `pg_dump --version`'s version.
    public var pgDumpVersion: String

    public init(url: String, database: String, serverVersion: String, pgDumpVersion: String) {
        self.url = url
        self.database = database
        self.serverVersion = serverVersion
        self.pgDumpVersion = pgDumpVersion
    }

    enum CodingKeys: String, CodingKey {
        case url, database
        case serverVersion = "server_version"
        case pgDumpVersion = "pg_dump_version"
    }
}
