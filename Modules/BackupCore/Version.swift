/// The version of Backup Manager, written into every bundle's manifest.
public enum BackupManagerVersion {
    public static let current = "0.1.0"
}
