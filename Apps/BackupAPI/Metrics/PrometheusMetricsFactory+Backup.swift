import BackupCore
import Prometheus

extension PrometheusMetricsFactory {
    /// A factory over `registry` with the histogram buckets ``BackupMetrics`` names.
    static func backupManager(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = BackupMetrics.durationHistograms
        factory.valueHistogramBuckets = BackupMetrics.valueHistograms
        return factory
    }
}
