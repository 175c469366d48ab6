import ArgumentParser

/// `backup remote …`: the off-site copy in the S3 bucket.
struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "Work with the off-site copy in the S3 bucket.",
        subcommands: [
            RemoteTestCommand.self, RemoteListCommand.self, RemotePushCommand.self, RemotePullCommand.self,
            RemotePruneCommand.self, RemoteCheckCommand.self,
        ])
}
