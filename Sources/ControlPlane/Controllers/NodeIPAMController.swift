import Foundation
import KubeAPI
import Logging
import Values

/// Gives every Node a pod CIDR from the cluster CIDR (`spec.podCIDR` and `spec.podCIDRs`) and takes it
/// back when the Node goes, as kube-controller-manager's node IPAM (range allocator) does.
actor NodeIPAMController {
    private let nodes: ResourceRegistry<Node>
    private var allocator: NodeCIDRAllocator
    private var held: [String: CIDR] = [:]  // node name → its range
    private var waiting: Set<String> = []   // nodes that found no free range; retried when one is freed
    private let logger: Logger
    private let reporter: SyncReporter?
    private let events: (any EventSink)?

    init(nodes: ResourceRegistry<Node>, clusterCIDR: CIDR, maskSize: Int, logger: Logger, readiness: ReadinessChecks? = nil,
         events: (any EventSink)? = nil) throws {
        self.nodes = nodes
        self.events = events
        self.reporter = readiness.map { SyncReporter($0, "informer-sync/nodeipam-controller/nodes") }
        self.allocator = try NodeCIDRAllocator(clusterCIDR: clusterCIDR, nodeMaskSize: maskSize)
        self.logger = logger
    }

    func run() async {
        await informLoop(nodes, logger: logger, reporter: reporter,
                         onSync: { all in await self.sync(all) },
                         onEvent: { type, node in await self.handle(type, node) })
    }

    private func sync(_ all: [Node]) async {
        for node in all { occupy(node) }
        for node in all where (node.spec.podCIDR ?? "").isEmpty { await assign(node.name) }
    }

    private func handle(_ type: WatchEventType, _ node: Node) async {
        switch type {
        case .deleted:
            waiting.remove(node.name)
            if let cidr = held.removeValue(forKey: node.name) {
                try? allocator.release(cidr)
                for name in waiting.sorted() { await assign(name) }
            }
        case .added, .modified:
            occupy(node)
            if (node.spec.podCIDR ?? "").isEmpty { await assign(node.name) }
        default: break
        }
    }

    /// Records a range a Node already has (set by us earlier, or by an administrator).
    private func occupy(_ node: Node) {
        guard held[node.name] == nil, let text = node.spec.podCIDR, let cidr = CIDR(text), allocator.clusterCIDR.contains(cidr) else { return }
        do {
            try allocator.occupy(cidr, node: node.name)
            held[node.name] = cidr
        } catch {
            logger.warning("node \(node.name) has pod CIDR \(text) that conflicts with another node: \(error)")
        }
    }

    private func assign(_ name: String) async {
        guard held[name] == nil else { return }
        let cidr: CIDR
        do { cidr = try allocator.allocate(for: name) } catch {
            logger.error("no pod CIDR left for node \(name): \(error)")
            waiting.insert(name)
            // Upstream's range allocator records the same.
            await events?.record(EventRecord(involvedObject: Self.reference(name), type: .normal, reason: "CIDRNotAvailable",
                                             message: "Node \(name) status is now: CIDRNotAvailable"))
            return
        }
        waiting.remove(name)
        held[name] = cidr
        do {
            _ = try await nodes.guaranteedUpdate(namespace: nil, name: name) { node in
                var copy = node
                if (copy.spec.podCIDR ?? "").isEmpty {
                    copy.spec.podCIDR = cidr.description
                    copy.spec.podCIDRs = [cidr.description]
                }
                return copy
            }
            logger.info("node \(name) gets pod CIDR \(cidr)")
        } catch {
            held[name] = nil
            try? allocator.release(cidr)
            logger.warning("assigning pod CIDR to node \(name) failed: \(error)")
            await events?.record(EventRecord(involvedObject: Self.reference(name), type: .warning, reason: "CIDRAssignmentFailed",
                                             message: "Node \(name) status is now: CIDRAssignmentFailed"))
        }
    }

    private static func reference(_ node: String) -> ObjectReference {
        ObjectReference(kind: "Node", name: node, uid: node, apiVersion: "v1")
    }
}
