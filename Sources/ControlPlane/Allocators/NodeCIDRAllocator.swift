import KubeAPI
import Values

/// Node IPAM failures, worded like upstream's `cidrset`.
public enum NodeCIDRError: Error, Hashable, Sendable, CustomStringConvertible {
    case noRemainingCIDRs
    case invalidMaskSize(clusterPrefix: Int, nodeMaskSize: Int)
    case outOfRange(CIDR, cluster: CIDR)

    public var description: String {
        switch self {
        case .noRemainingCIDRs:
            "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
        case .invalidMaskSize(let cluster, let node):
            "invalid node CIDR mask size \(node): it must be longer than the cluster CIDR's /\(cluster), by at most 16 bits, and fit the address family"
        case .outOfRange(let cidr, let cluster):
            "cidr \(cidr) is out of the range of cluster cidr \(cluster)"
        }
    }
}

/// Hands out per-node pod CIDRs: the i-th subnet of length `nodeMaskSize` of the cluster
/// CIDR, scanning round-robin from the last allocation like upstream's `cidrset`.
public struct NodeCIDRAllocator: Hashable, Sendable {
    public let clusterCIDR: CIDR
    public let nodeMaskSize: Int
    private var used: BitmapAllocator
    private var nextCandidate = 0
    /// Which node holds which subnet index (only for allocations made or occupied with a node).
    public private(set) var byNode: [String: CIDR] = [:]

    /// Fails unless `nodeMaskSize` is longer than the cluster prefix by at most 16 bits.
    public init(clusterCIDR: CIDR, nodeMaskSize: Int) throws(NodeCIDRError) {
        let diff = nodeMaskSize - clusterCIDR.prefixLength
        guard diff > 0, diff <= 16, nodeMaskSize <= clusterCIDR.family.bitWidth else {
            throw .invalidMaskSize(clusterPrefix: clusterCIDR.prefixLength, nodeMaskSize: nodeMaskSize)
        }
        self.clusterCIDR = clusterCIDR
        self.nodeMaskSize = nodeMaskSize
        self.used = BitmapAllocator(size: 1 << diff)
    }

    /// Number of node subnets in the cluster CIDR.
    public var capacity: Int { used.size }
    /// Number of subnets in use.
    public var usedCount: Int { used.count }

    /// The subnet for `node`: its existing one, or the next free one.
    public mutating func allocate(for node: String) throws(NodeCIDRError) -> CIDR {
        if let existing = byNode[node] { return existing }
        guard let i = used.firstFree(in: 0..<used.size, from: nextCandidate),
              let cidr = clusterCIDR.subnet(ofPrefix: nodeMaskSize, at: UInt64(i)) else {
            throw .noRemainingCIDRs
        }
        used.allocate(i)
        nextCandidate = (i + 1) % used.size
        byNode[node] = cidr
        return cidr
    }

    /// Marks `cidr` used (at start-up, from existing Nodes' `spec.podCIDRs`). A prefix wider
    /// than the node mask occupies every node subnet it covers.
    public mutating func occupy(_ cidr: CIDR, node: String? = nil) throws(NodeCIDRError) {
        let range = try indices(of: cidr)
        for i in range { used.allocate(i) }
        if let node, cidr.prefixLength >= nodeMaskSize, let subnet = clusterCIDR.subnet(ofPrefix: nodeMaskSize, at: UInt64(range.lowerBound)) {
            byNode[node] = subnet
        }
    }

    /// Frees `cidr` (and forgets which node held it).
    public mutating func release(_ cidr: CIDR) throws(NodeCIDRError) {
        for i in try indices(of: cidr) { used.release(i) }
        byNode = byNode.filter { !cidr.overlaps($0.value) }
    }

    /// Frees the subnet `node` holds, if any.
    public mutating func release(node: String) {
        guard let cidr = byNode.removeValue(forKey: node), let i = clusterCIDR.subnetIndex(of: cidr) else { return }
        used.release(Int(i))
    }

    /// True if the node subnet containing `cidr`'s network address is in use.
    public func isOccupied(_ cidr: CIDR) -> Bool {
        guard let range = try? indices(of: cidr) else { return false }
        return range.allSatisfy { used.has($0) }
    }

    /// The node-subnet indices a prefix covers.
    private func indices(of cidr: CIDR) throws(NodeCIDRError) -> Range<Int> {
        guard clusterCIDR.contains(cidr) else { throw .outOfRange(cidr, cluster: clusterCIDR) }
        if cidr.prefixLength >= nodeMaskSize {
            guard let subnet = CIDR(address: cidr.network, prefixLength: nodeMaskSize),
                  let i = clusterCIDR.subnetIndex(of: subnet) else { throw .outOfRange(cidr, cluster: clusterCIDR) }
            return Int(i)..<(Int(i) + 1)
        }
        guard let first = clusterCIDR.subnetIndex(of: cidr) else { throw .outOfRange(cidr, cluster: clusterCIDR) }
        let count = 1 << (nodeMaskSize - cidr.prefixLength)
        let start = Int(first) << (nodeMaskSize - cidr.prefixLength)
        return start..<(start + count)
    }
}
