import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import BackupAPI

@Suite("Off-site failures map to 502 with their kind")
struct OffsiteErrorTests {
    @Test("offsite_failed is a bad gateway whose body names the kind", arguments: OffsiteFailure.Kind.allCases)
    func mapping(_ kind: OffsiteFailure.Kind) {
        let error = BackupError.offsite(OffsiteFailure(kind: kind, detail: "what failed"))
        let mapped = APIError(error)
        #expect(mapped.status.code == 502)
        #expect(mapped.code == "offsite_failed")
        #expect(mapped.kind == kind.rawValue)
        #expect(mapped.message == "off-site storage: what failed")
        #expect(APIError(.notFound(id: "x")).kind == nil)
    }
}
