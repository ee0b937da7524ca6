import Foundation

/// `coordination.k8s.io/v1 Lease`: node heartbeats in `kube-node-lease` (one per node, named after it,
/// owned by its Node) and leader election.
public struct Lease: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "coordination.k8s.io", version: "v1", kind: "Lease", resource: "leases",
                                                  singular: "lease", namespaced: true)
    /// The namespace of node heartbeats.
    public static let nodeLeaseNamespace = "kube-node-lease"
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = LeaseSpec()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta, spec: LeaseSpec) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec
    }

    public static let codedFields: [CodedField<Lease>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind),
         .always("metadata", \.metadata), .always("spec", \.spec)]

    /// When the holder last renewed (or acquired) it; nil when it never did or the time does not parse.
    public var lastRenewal: Date? { (spec.renewTime ?? spec.acquireTime).flatMap(KubeTime.parse) }
}

/// `Lease.spec`. Times are `MicroTime`s (RFC 3339 with microseconds).
public struct LeaseSpec: FieldCoded, Hashable, Sendable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int?
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: Int?
    public var strategy: String?
    public var preferredHolder: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public static let codedFields: [CodedField<LeaseSpec>] = [.optional("holderIdentity", \.holderIdentity),
         .optional("leaseDurationSeconds", \.leaseDurationSeconds), .optional("acquireTime", \.acquireTime),
         .optional("renewTime", \.renewTime), .optional("leaseTransitions", \.leaseTransitions),
         .optional("strategy", \.strategy), .optional("preferredHolder", \.preferredHolder)]
}

public extension KubeTime {
    /// `metav1.MicroTime`: UTC with six fractional digits (`2026-12-04T18:30:41.123456Z`).
    static func formatMicro(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        let seconds = Date(timeIntervalSince1970: TimeInterval(micros / 1_000_000))
        let whole = seconds.formatted(Date.ISO8601FormatStyle())  // "…:41Z"
        let fraction = String(micros % 1_000_000)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }
}
