import Foundation

/// What a ``JobRunner`` tells its subscribers.
public enum RunnerEvent: Equatable, Sendable {
    /// A job of this process made progress or ended.
    case job(JobStatus)
    /// The catalog changed: records were added, removed or updated, here or by another process.
    case catalog(CatalogChange)
}

/// A change to the catalog, as `/api/events` reports it: enough for a face to reload its list
/// and totals, and to show a backup that another process is making.
public struct CatalogChange: Encodable, Equatable, Sendable {
    /// How many backup records the catalog holds now.
    public var count: Int
    /// The backup another process (the CLI) is making right now, with the progress that process
    /// stores in the catalog at each whole percent; nil when there is none.
    @ExplicitNull public var foreignJob: BackupInfo?

    public init(count: Int, foreignJob: BackupInfo?) {
        self.count = count
        self.foreignJob = foreignJob
    }

    enum CodingKeys: String, CodingKey {
        case count
        case foreignJob = "foreign_job"
    }
}

extension JobRunner {
    /// Polls the catalog every `interval` through a ``CatalogWatcher`` of its own and publishes a
    /// ``RunnerEvent/catalog(_:)`` after each change, until the task is cancelled.
    public nonisolated func watchCatalog(every interval: Duration) async throws(BackupError) {
        let watcher = try CatalogWatcher(url: service.dataDirectory.catalog)
        defer { watcher.close() }
        await watchCatalog(with: watcher, every: interval)
    }

    /// ``watchCatalog(every:)`` with a given watcher: changes are counted from its creation.
    public nonisolated func watchCatalog(with watcher: CatalogWatcher, every interval: Duration) async {
        while !Task.isCancelled {
            if (try? await watcher.poll()) == true { await catalogDidChange() }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// Publishes the catalog's current ``CatalogChange`` to every subscriber.
    public nonisolated func catalogDidChange() async {
        let change = await catalogChange()
        await publish(.catalog(change))
    }

    /// The catalog as a change event shows it now (also the first event a new subscriber gets).
    ///
    /// A `pending` or `running` record belongs to another process only when this runner has no
    /// job (its own job's records, a restore's safety backup included, are its own) and someone
    /// holds the job lock (else it was left behind by a process that died, and the next holder
    /// of the lock marks it failed). The records are read first (GRDB's async reads, off the
    /// actor), this runner's job after: a job of ours that started in between has its record
    /// read and is seen as ours; one that ended in between has released the lock.
    public nonisolated func catalogChange() async -> CatalogChange {
        let catalog = service.catalog
        let count = (try? await catalog.async.stats().count) ?? 0
        let running = (try? await catalog.async.records(status: .running)) ?? []
        let pending = (try? await catalog.async.records(status: .pending)) ?? []
        guard await !hasJob, let record = (running + pending).first else {
            return CatalogChange(count: count, foreignJob: nil)
        }
        let lock = service.dataDirectory.jobLock.path
        guard await BlockingWork.run({ AdvisoryLock.isHeld(at: lock) }) else {
            return CatalogChange(count: count, foreignJob: nil)
        }
        return CatalogChange(count: count, foreignJob: record.info)
    }
}
