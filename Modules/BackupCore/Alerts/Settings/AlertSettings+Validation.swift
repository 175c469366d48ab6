import Foundation

extension AlertSettings {
    /// Every field's problem, keyed by its JSON path (`alerts.telegram_chat_id`); empty when valid.
    public var problems: [String: String] {
        var fields: [String: String] = [:]
        if let chatID = telegramChatID, !chatID.isEmpty, !Self.isChatID(chatID) {
            fields["alerts.telegram_chat_id"] = "must be a numeric chat id (negative for groups) or @channelname"
        }
        if let problem = Self.apiBaseProblem(telegramAPIBase) {
            fields["alerts.telegram_api_base"] = problem
        }
        return fields
    }

    /// The settings as stored: an empty chat id is none, the base without a trailing `/`.
    var normalized: AlertSettings {
        var settings = self
        if settings.telegramChatID?.isEmpty == true { settings.telegramChatID = nil }
        while settings.telegramAPIBase.hasSuffix("/") { settings.telegramAPIBase.removeLast() }
        return settings
    }

    /// `-1001234567890`, `42` or `@channel_name` (5 to 64 characters).
    static func isChatID(_ text: String) -> Bool {
        if text.hasPrefix("@") {
            let name = text.dropFirst()
            return (4...64).contains(name.count) && name.first?.isLetter == true
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        return (1...20).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// What is wrong with `text` as the Bot API's base: a webhook's rules (``WebhookTarget``),
    /// no query or fragment (the method is appended to the path), and https unless the host is
    /// this machine (the token travels in the URL: plain http only where nobody listens between).
    static func apiBaseProblem(_ text: String) -> String? {
        if let problem = WebhookTarget.problem(with: text) { return problem }
        guard let components = URLComponents(string: text), components.query == nil, components.fragment == nil
        else { return "must not have a query or fragment" }
        if components.scheme?.lowercased() == "http", !Self.isLoopback(components.host ?? "") {
            return "must be https unless the host is loopback (127.0.0.1, ::1, localhost)"
        }
        return nil
    }

    /// `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(_ rawHost: String) -> Bool {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" { return true }
        guard let address = WebhookTarget.literalAddress(host) else { return false }
        if address.count == 4 { return address[0] == 127 }
        return address == [UInt8](repeating: 0, count: 15) + [1]
    }
}
