import ArgumentParser
import BackupCore
import Foundation

struct RemoteCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the incremental repository in the bucket (every index, every chunk's pack).",
        discussion: """
            Reads every index under offsite.prefix/repository/ and the trailer of every pack (ranged \
            GETs), and reports each chunk an index names that no pack holds. With \
            --read-data-subset, the chosen packs are also downloaded and read whole: the object's \
            SHA-256 must be its name and every chunk must hash right. Trusts nothing in this data \
            directory's catalog, so it also checks a bucket from a new machine. An encrypted \
            repository needs a key that opens the repository's key (the data directory's, \
            --identity or --passphrase-file). Exit 3 when anything is wrong, naming each problem.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var keys: KeyOptions

    @Option(
        help: ArgumentHelp(
            "Also read these packs whole: N/T (part N of T: run 1/T to T/T to read every pack once) or P% (at random).",
            valueName: "N/T|P%"))
    var readDataSubset: String?

    func validate() throws {
        if let readDataSubset, ReadDataSubset(parsing: readDataSubset) == nil {
            throw ValidationError(
                "--read-data-subset takes N/T (1 ≤ N ≤ T) or P% (0 < P ≤ 100), not '\(readDataSubset)'")
        }
    }

    func run() async throws {
        let service = try keys.apply(to: try global.existingService())
        let subset = readDataSubset.flatMap(ReadDataSubset.init(parsing:))
        let report = try await global.withProgress { progress in
            try await BlockingWork.run { () async throws(BackupError) in
                try await service.checkRemoteRepository(readDataSubset: subset, progress: progress)
            }
        }
        let output = global.output
        if global.json {
            output.printJSON(report)
        } else {
            output.line(
                "bucket repository: \(report.indexes) indexes, \(report.packs) packs, "
                    + "\(report.chunkReferences) chunk references; \(report.packsRead) packs read whole "
                    + "(\(ByteCount.format(report.bytesRead)))")
            for problem in report.problems { output.line("problem: \(problem)") }
            if report.problems.isEmpty { output.line("bucket repository: OK") }
        }
        guard report.problems.isEmpty else {
            throw BackupError.verificationFailed(
                reason: "the bucket's repository has \(report.problems.count) problem(s)")
        }
    }
}
