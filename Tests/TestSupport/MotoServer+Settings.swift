import BackupCore
import Foundation

extension MotoServer {
    /// An environment without the runner's own AWS credentials: the tests' come from the
    /// settings only.
    public static let noEnvironment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""]

    /// Points `directory` at this server's bucket with `backup settings set offsite.…` (the real
    /// executable), the secret (`secret`, else the server's own) read from standard input, as an
    /// operator would; returns the command's result.
    public func configure(
        _ directory: TemporaryDirectory, with backup: ChildProcess, enabled: Bool = true,
        secret: String? = nil, extra: [String] = []
    ) throws -> ChildProcess.Result {
        let fields = [
            "offsite.endpoint=\(endpoint.absoluteString)", "offsite.region=\(region)", "offsite.bucket=\(bucket)",
            "offsite.prefix=backups", "offsite.path_style=true", "offsite.access_key_id=\(credentials.accessKeyID)",
            "offsite.secret_access_key=-",
        ]
        return try backup.run(
            ["settings", "set"] + (enabled ? ["offsite.enabled=true"] : []) + fields + extra
                + ["--yes", "--data-dir", directory.path],
            environment: Self.noEnvironment, input: (secret ?? credentials.secretAccessKey) + "\n")
    }
}
