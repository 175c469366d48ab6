/// A plain text table with aligned columns. Widths count visible characters, so cells may
/// carry colour escapes.
struct Table {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers, sizes).
    var rightAligned: Set<Int> = []

    func render() -> String {
        var widths = headers.map(Self.visibleWidth)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], Self.visibleWidth(cell))
            }
        }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: max(0, widths[index] - Self.visibleWidth(cell)))
                if rightAligned.contains(index) { return padding + cell }
                return index == row.count - 1 ? cell : cell + padding
            }.joined(separator: "  ")
        }
        return ([format(headers)] + rows.map(format)).joined(separator: "\n")
    }

    /// The width of `text` without ANSI escape sequences.
    static func visibleWidth(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                width += 1
            }
        }
        return width
    }
}
