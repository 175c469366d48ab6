import Foundation
import Metrics

/// The metrics the core records as its work ends, through swift-metrics: every name, label and
/// histogram bucket is named here once. The server exports them (Prometheus, `GET /metrics`);
/// the CLI records into whatever factory the process has (none by default: nothing is kept).
///
/// Labels hold only low-cardinality values (a type, a scope, a status), never an id.
public struct BackupMetrics: Sendable {
    /// The metrics' names, as Prometheus shows them.
    public enum Name {
        /// Counter `{type, scope, status}`: backups that ended (succeeded, failed, cancelled).
        public static let backups = "backup_backups_total"
        /// Histogram `{type, scope}`: how long a backup took, whatever its end.
        public static let duration = "backup_duration_seconds"
        /// Histogram `{scope}`: the size of each completed bundle.
        public static let size = "backup_size_bytes"
        /// Counter: the bytes of the bundles completed backups wrote.
        public static let writtenBytes = "backup_written_bytes_total"
        /// Counter `{result}`: verifications that ended (verified, failed, missing, error).
        public static let verifications = "backup_verifications_total"
        /// Counter: verifications that found a bundle damaged or gone (failed or missing).
        public static let verificationFailures = "backup_verification_failures_total"
        /// Counter `{status}`: off-site uploads that ended (succeeded, failed, cancelled).
        public static let offsiteUploads = "backup_offsite_uploads_total"
        /// Counter `{where}`: backups retention deleted (`local` bundles, `offsite` copies).
        public static let retentionDeleted = "backup_retention_deleted_total"
    }

    /// How a backup or an upload ended, as the `status` label says it.
    public enum Outcome: String, Sendable, CaseIterable {
        case succeeded, failed, cancelled
    }

    /// How a verification ended, as the `result` label says it.
    public enum VerificationOutcome: String, Sendable, CaseIterable {
        /// The bundle is whole.
        case verified
        /// The bundle differs from what it claims.
        case failed
        /// The bundle file is gone.
        case missing
        /// The verification could not run to a verdict (an I/O error, a store that did not answer).
        case error
    }

    /// Where retention deleted a backup, as the `where` label says it.
    public enum RetentionPlace: String, Sendable, CaseIterable {
        case local, offsite
    }

    /// Buckets of ``Name/duration``: a database of a few megabytes takes under a second, a
    /// large one hours.
    public static let durationBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60),
        .seconds(120), .seconds(300), .seconds(600), .seconds(1800), .seconds(3600), .seconds(7200),
        .seconds(14400), .seconds(28800),
    ]

    /// Buckets of ``Name/size``, in bytes: 1 KiB to 1 TiB, ×4 or ×8 apart.
    public static let sizeBuckets: [Double] = [
        1_024, 8_192, 65_536, 1_048_576, 8_388_608, 67_108_864, 268_435_456, 1_073_741_824, 4_294_967_296,
        17_179_869_184, 68_719_476_736, 274_877_906_944, 1_099_511_627_776,
    ]

    /// Each metric's help text, for an exposition that shows one (swift-metrics carries none).
    public static let help: [String: String] = [
        Name.backups: "Backups that ended, by type, scope and status (succeeded, failed, cancelled)",
        Name.duration: "How long each backup took, in seconds, by type and scope",
        Name.size: "The size of each completed bundle, in bytes, by scope",
        Name.writtenBytes: "Bytes of the bundles completed backups wrote",
        Name.verifications: "Verifications that ended, by result (verified, failed, missing, error)",
        Name.verificationFailures: "Verifications that found a bundle damaged or gone",
        Name.offsiteUploads: "Off-site uploads that ended, by status (succeeded, failed, cancelled)",
        Name.retentionDeleted: "Backups retention deleted, by where (local bundles, offsite copies)",
    ]

    /// The buckets of every duration histogram (swift-metrics `Timer`), by name, for a backend
    /// that asks (Prometheus' factory takes them by label).
    public static let durationHistograms: [String: [Duration]] = [Name.duration: durationBuckets]
    /// The buckets of every value histogram (an aggregating `Recorder`), by name.
    public static let valueHistograms: [String: [Double]] = [Name.size: sizeBuckets]

    private let factory: (any MetricsFactory)?

    /// - Parameter factory: where the metrics go; nil: the process's (`MetricsSystem.factory`,
    ///   read when a metric is recorded, so a later bootstrap is honoured).
    public init(factory: (any MetricsFactory)? = nil) {
        self.factory = factory
    }

    private var resolved: any MetricsFactory { factory ?? MetricsSystem.factory }

    /// Makes every counter series exist at zero (Prometheus' advice: a `rate()` or an
    /// `increase()` then sees the first event, and a scrape names every counter before it first
    /// counts). The histograms appear with their first observation.
    public func registerCounters() {
        let factory = resolved
        for type in BackupType.allCases where type != .imported {
            for scope in BackupScope.allCases {
                for outcome in Outcome.allCases {
                    _ = Counter(
                        label: Name.backups,
                        dimensions: [("type", type.rawValue), ("scope", scope.rawValue), ("status", outcome.rawValue)],
                        factory: factory)
                }
            }
        }
        _ = Counter(label: Name.writtenBytes, factory: factory)
        for result in VerificationOutcome.allCases {
            _ = Counter(label: Name.verifications, dimensions: [("result", result.rawValue)], factory: factory)
        }
        _ = Counter(label: Name.verificationFailures, factory: factory)
        for outcome in Outcome.allCases {
            _ = Counter(label: Name.offsiteUploads, dimensions: [("status", outcome.rawValue)], factory: factory)
        }
        for place in RetentionPlace.allCases {
            _ = Counter(label: Name.retentionDeleted, dimensions: [("where", place.rawValue)], factory: factory)
        }
    }

    /// A backup ended: counted by type, scope and outcome, its duration recorded; a completed
    /// one's bundle size and bytes too.
    func backupEnded(
        type: BackupType, scope: BackupScope, outcome: Outcome, duration: TimeInterval, bundleBytes: Int64?
    ) {
        let factory = resolved
        Counter(
            label: Name.backups,
            dimensions: [("type", type.rawValue), ("scope", scope.rawValue), ("status", outcome.rawValue)],
            factory: factory
        ).increment()
        Metrics.Timer(
            label: Name.duration, dimensions: [("type", type.rawValue), ("scope", scope.rawValue)], factory: factory
        )
        .recordSeconds(max(0, duration))
        guard outcome == .succeeded, let bundleBytes else { return }
        Recorder(label: Name.size, dimensions: [("scope", scope.rawValue)], aggregate: true, factory: factory)
            .record(bundleBytes)
        Counter(label: Name.writtenBytes, factory: factory).increment(by: bundleBytes)
    }

    /// A verification ended.
    func verificationEnded(_ result: VerificationOutcome) {
        let factory = resolved
        Counter(label: Name.verifications, dimensions: [("result", result.rawValue)], factory: factory).increment()
        if result == .failed || result == .missing {
            Counter(label: Name.verificationFailures, factory: factory).increment()
        }
    }

    /// An off-site upload ended.
    func uploadEnded(_ outcome: Outcome) {
        Counter(label: Name.offsiteUploads, dimensions: [("status", outcome.rawValue)], factory: resolved)
            .increment()
    }

    /// Retention deleted `count` backups at `place`.
    func retentionDeleted(_ count: Int, at place: RetentionPlace) {
        guard count > 0 else { return }
        Counter(label: Name.retentionDeleted, dimensions: [("where", place.rawValue)], factory: resolved)
            .increment(by: Int64(count))
    }
}
