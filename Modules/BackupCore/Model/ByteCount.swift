/// Human-readable byte counts (binary units), shared by messages and the CLI's tables.
public enum ByteCount {
    /// Formats `bytes` as `512 B`, `1.5 KiB`, `20.3 MiB`, `1.20 GiB`.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let digits = abs(value) < 10 ? 2 : (abs(value) < 100 ? 1 : 0)
        return "\(rounded(value, digits)) \(units[unit])"
    }

    private static func rounded(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded() / scale
        var text = "\(scaled)"
        if digits == 0, text.hasSuffix(".0") { text.removeLast(2) }
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...].count
            if fraction < digits { text += String(repeating: "0", count: digits - fraction) }
        }
        return text
    }
}
