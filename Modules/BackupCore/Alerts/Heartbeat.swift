import Foundation

/// The dead man's switch's URLs, by the healthchecks.io convention: the URL itself after a
/// success, `<url>/fail` after a failure (`/fail` appended to the path, a query kept).
enum Heartbeat {
    /// The URL to request after a backup that `succeeded` or not; nil when `text` is no URL.
    static func url(_ text: String, succeeded: Bool) -> URL? {
        guard var components = URLComponents(string: text) else { return nil }
        if !succeeded {
            var path = components.percentEncodedPath
            while path.hasSuffix("/") { path.removeLast() }
            components.percentEncodedPath = path + "/fail"
        }
        return components.url
    }
}
