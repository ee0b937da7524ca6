import Foundation
import KubeAPI
import Logging

/// The API semantics of one kind over the store: identity and timestamps, defaulting, validation,
/// optimistic concurrency, subresources, graceful and finalized deletion, list and watch with selectors.
/// Controllers call it directly; the HTTP layer calls it through `ResourceEndpoint`.
public final class ResourceRegistry<T: ServedObject>: Sendable {
    /// `binding` is the one write that may set a pod's `spec.nodeName`: spec and status are taken as given
    /// (the node and the PodScheduled condition in one write), identity is carried over, fields are
    /// validated, but the update rules that make the spec immutable do not apply.
    public enum Subresource: Sendable { case main, status, binding }

    let store: any ObjectStore
    let hooks: any RegistryHooks<T>
    let deletion: any DeletionPolicy<T>
    let env: RegistryEnvironment
    /// Checks that a namespace exists and accepts new objects; nil for cluster-scoped kinds.
    let namespaceGate: (@Sendable (String) async throws -> Void)?

    public var info: ResourceInfo { T.resourceInfo }

    public init(store: any ObjectStore, hooks: any RegistryHooks<T> = NoHooks<T>(),
                deletion: any DeletionPolicy<T> = ImmediateDeletion<T>(), env: RegistryEnvironment = RegistryEnvironment(),
                namespaceGate: (@Sendable (String) async throws -> Void)? = nil) {
        self.store = store; self.hooks = hooks; self.deletion = deletion; self.env = env; self.namespaceGate = namespaceGate
    }

    func key(_ namespace: String?, _ name: String) -> String { StoreKey.key(info, namespace: namespace, name: name) }

    static func decode(_ stored: StoredObject) throws -> T { try KubeJSON.decode(T.self, from: stored.value) }

    /// The object as stored at `revision` (what decoding the stored bytes would give, without decoding).
    static func stamped(_ object: T, revision: Int64) -> T {
        var copy = object
        copy.metadata.resourceVersion = String(revision)
        copy.setTypeMeta()
        return copy
    }

    static func encode(_ object: T, revision: Int64) throws -> Data {
        var copy = object
        copy.metadata.resourceVersion = String(revision)
        copy.setTypeMeta()
        return try KubeJSON.encode(copy)
    }

    // MARK: read

    public func get(namespace: String?, name: String) async throws -> T {
        do {
            guard let stored = try await store.get(key(namespace, name)) else { throw Status.notFound(info, name: name) }
            return try Self.decode(stored)
        } catch { throw statusError(error, info, name: name) }
    }

    /// Raw stored bytes (already carrying apiVersion, kind, resourceVersion): the fast path for GET.
    public func getRaw(namespace: String?, name: String) async throws -> Data {
        guard let stored = try await store.get(key(namespace, name)) else { throw Status.notFound(info, name: name) }
        return stored.value
    }

    public func list(namespace: String?, options: ListOptions = ListOptions()) async throws -> (items: [T], resourceVersion: Int64) {
        do {
            let (objects, revision) = try await store.list(prefix: StoreKey.prefix(info, namespace: namespace))
            var items: [T] = []
            items.reserveCapacity(objects.count)
            for stored in objects {
                let object = try Self.decode(stored)
                if matches(object, options) { items.append(object) }
            }
            return (items, revision)
        } catch { throw statusError(error, info, name: "") }
    }

    func matches(_ object: T, _ options: ListOptions) -> Bool {
        if let selector = options.labelSelector, !selector.matches(object.metadata.labels ?? [:]) { return false }
        if let selector = options.fieldSelector, !selector.matches(object.selectableFields) { return false }
        return true
    }

    /// A page of a list as the stored bytes (no decoding unless a selector needs it): the fast path
    /// behind every JSON list, so a relist of 50,000 pods costs a copy, not 50,000 decodes.
    /// `limit`/`continue` page by key; later pages come from the current state (changes after the
    /// first page's resourceVersion are delivered again by a watch from it, so informers converge).
    public func listRaw(namespace: String?, options: ListOptions = ListOptions()) async throws -> RawList {
        do {
            var cursor = ContinueToken?.none
            if let token = options.continueToken, !token.isEmpty {
                guard let decoded = ContinueToken(token) else { throw Status.badRequest("continue key is not valid") }
                cursor = decoded
            }
            let (objects, revision) = try await store.list(prefix: StoreKey.prefix(info, namespace: namespace))
            let limit = options.limit.flatMap { $0 > 0 ? $0 : nil } ?? Int.max
            var items: [Data] = []
            var lastKey: String?
            var more = false
            for stored in objects {
                if let cursor, stored.key <= cursor.startAfter { continue }
                guard try selects(stored.value, options) else { continue }
                if items.count == limit { more = true; break }
                items.append(stored.value)
                lastKey = stored.key
            }
            let listRevision = cursor?.revision ?? revision
            let next = more ? lastKey.map { ContinueToken(revision: listRevision, startAfter: $0).encoded } : nil
            return RawList(items: items, resourceVersion: listRevision, continueToken: next)
        } catch { throw statusError(error, info, name: "") }
    }

    // MARK: create

    public func create(_ input: T, namespace: String?, dryRun: Bool = false) async throws -> T {
        var object = input
        let name = object.metadata.name ?? ""
        do {
            if info.namespaced {
                let ns = namespace ?? object.metadata.namespace ?? "default"
                if let given = object.metadata.namespace, !given.isEmpty, given != ns {
                    throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
                }
                object.metadata.namespace = ns
                try await namespaceGate?(ns)
            } else {
                object.metadata.namespace = nil
            }
            if (object.metadata.name ?? "").isEmpty, let base = object.metadata.generateName, !base.isEmpty {
                object.metadata.name = NameGenerator.generate(base: base)
            }
            object.metadata.uid = env.newUID()
            object.metadata.creationTimestamp = KubeTime.format(env.now())
            object.metadata.resourceVersion = nil
            object.metadata.deletionTimestamp = nil
            object.metadata.deletionGracePeriodSeconds = nil
            object.metadata.generation = 1
            object.metadata.managedFields = nil
            object.applyDefaults()
            let causes = object.validate()
            if !causes.isEmpty { throw Status.invalid(info, name: object.metadata.name ?? name, causes: causes) }
            try await hooks.prepareCreate(&object)
            if dryRun {
                await hooks.rollbackCreate(object)
                return object
            }
            let ready = object
            do {
                let stored = try await store.create(key(object.metadata.namespace, object.metadata.name ?? "")) { revision in
                    try Self.encode(ready, revision: revision)
                }
                await hooks.didCreate(ready)
                return Self.stamped(ready, revision: stored.modRevision)
            } catch {
                await hooks.rollbackCreate(ready)
                throw error
            }
        } catch { throw statusError(error, info, name: object.metadata.name ?? name) }
    }

    // MARK: update

    /// PUT: replaces the object (or only its status). A non-empty `metadata.resourceVersion` must match
    /// the stored one (409 otherwise); an empty one is an unconditional update, as upstream allows for these kinds.
    public func update(_ input: T, namespace: String?, name: String, subresource: Subresource = .main, dryRun: Bool = false) async throws -> T {
        if let given = input.metadata.name, given != name {
            throw Status.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        let expected = input.metadata.resourceVersion.flatMap { $0.isEmpty ? nil : $0 }
        return try await guaranteedUpdate(namespace: namespace, name: name, subresource: subresource, dryRun: dryRun) { current in
            if let expected, expected != current.metadata.resourceVersion { throw Status.conflict(self.info, name: name) }
            return input
        }
    }

    /// Read-modify-write with retries on concurrent writes: `mutate` gets the current object and returns the
    /// desired one (PATCH applies its patch there). Identity, timestamps and — depending on the subresource —
    /// spec or status are carried over from the current object as upstream's strategies do.
    public func guaranteedUpdate(namespace: String?, name: String, subresource: Subresource = .main, dryRun: Bool = false,
                                 mutate: @Sendable (T) throws -> T) async throws -> T {
        let objectKey = key(info.namespaced ? namespace : nil, name)
        for _ in 0..<Self.writeAttempts {
            do {
                guard let stored = try await store.getLatest(objectKey) else { throw Status.notFound(info, name: name) }
                let old = try Self.decode(stored)
                var object = try mutate(old)
                object = carryOver(into: object, from: old, subresource: subresource)
                object.applyDefaults()  // as upstream defaults every decoded body, PUT and PATCH results included
                // Hooks run before validation, as upstream's BeginUpdate: they fill in allocated values an update
                // omitted (a Service's clusterIP, nodePorts) and drop those its new type no longer holds.
                if subresource == .main { try await hooks.prepareUpdate(&object, old: old) }
                if subresource == .main, object.specChanged(from: old) {
                    object.metadata.generation = (old.metadata.generation ?? 1) + 1
                }
                // Stored objects are judged with today's defaults, as upstream defaults what it decodes from storage:
                // an object written before a default existed must not turn immutable-field violations.
                var defaultedOld = old
                defaultedOld.applyDefaults()
                let causes = subresource == .binding ? object.validate() + object.validateMetadataUpdate(from: defaultedOld)
                    : object.validateUpdate(from: defaultedOld)
                if !causes.isEmpty {
                    if subresource == .main { await hooks.rollbackUpdate(object, old: old) }
                    throw Status.invalid(info, name: name, causes: causes)
                }
                if dryRun {
                    if subresource == .main { await hooks.rollbackUpdate(object, old: old) }
                    return object
                }
                // Finalizers gone from an object marked for deletion: it goes now.
                if object.metadata.deletionTimestamp != nil, !hasPendingFinalizers(object), (object.metadata.deletionGracePeriodSeconds ?? 0) == 0 {
                    return try await removeNow(objectKey, expectedRevision: stored.modRevision, finalState: object)
                }
                let ready = object
                let expectedRevision = stored.modRevision
                do {
                    let result = try await store.update(objectKey) { current, revision in
                        guard current.modRevision == expectedRevision else { throw RetryUpdate() }
                        var unchanged = ready
                        unchanged.metadata.resourceVersion = old.metadata.resourceVersion
                        unchanged.setTypeMeta()
                        var oldTyped = old
                        oldTyped.setTypeMeta()
                        if unchanged == oldTyped { return nil }  // no-op updates keep the resourceVersion, as upstream
                        return try Self.encode(ready, revision: revision)
                    }
                    if subresource == .main { await hooks.didUpdate(ready, old: old) }
                    return result.modRevision == expectedRevision ? old : Self.stamped(ready, revision: result.modRevision)
                } catch {
                    if subresource == .main { await hooks.rollbackUpdate(ready, old: old) }
                    throw error
                }
            } catch is RetryUpdate {
                continue
            } catch { throw statusError(error, info, name: name) }
        }
        throw Status.conflict(info, name: name)
    }

    /// What an update may not change: identity, creation time, deletion state; for the main resource
    /// the status (kinds with a status subresource), for /status everything but status.
    func carryOver(into input: T, from old: T, subresource: Subresource) -> T {
        var object: T
        switch subresource {
        case .main:
            object = input
            if T.hasStatusSubresource { object = StatusCopier.withStatus(of: old, on: object) }
        case .binding:
            object = input
        case .status:
            object = StatusCopier.withStatus(of: input, on: old)
        }
        object.metadata.name = old.metadata.name
        object.metadata.namespace = old.metadata.namespace
        object.metadata.uid = old.metadata.uid
        object.metadata.creationTimestamp = old.metadata.creationTimestamp
        object.metadata.deletionTimestamp = old.metadata.deletionTimestamp
        object.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
        object.metadata.generation = old.metadata.generation
        object.metadata.resourceVersion = old.metadata.resourceVersion
        object.metadata.generateName = old.metadata.generateName
        return object
    }

    func hasPendingFinalizers(_ object: T) -> Bool {
        !(object.metadata.finalizers ?? []).isEmpty || deletion.hasPendingFinalization(object)
    }
}

/// Internal signal: the object changed between read and write; read again.
struct RetryUpdate: Error {}

extension ResourceRegistry {
    /// How often a read-modify-write (update, patch, delete) reads again after losing its compare-and-swap
    /// to another writer before it answers 409, as upstream's GuaranteedUpdate keeps retrying. Each loss
    /// means another write landed, and each retry reads what that write left once it is durable
    /// (`getLatest`), so the bound is reached only under a writer that never lets go; preconditions and a
    /// stale `resourceVersion` in the request are judged on every read and answer 409 at once.
    static var writeAttempts: Int { 1_000 }
}

/// One page of stored objects, encoded as upstream's `…List`.
public struct RawList: Sendable {
    public var items: [Data]
    public var resourceVersion: Int64
    public var continueToken: String?

    /// `{"apiVersion":…,"kind":"ServiceList","metadata":{…},"items":[…]}` from the stored bytes.
    public func encoded(_ info: ResourceInfo) -> Data {
        var out = Data()
        out.reserveCapacity(items.reduce(64) { $0 + $1.count + 1 })
        out.append(contentsOf: Array(#"{"apiVersion":"\#(info.apiVersion)","items":["#.utf8))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(item)
        }
        var meta = #""resourceVersion":"\#(resourceVersion)""#
        if let continueToken { meta = #""continue":"\#(continueToken)","# + meta }
        out.append(contentsOf: Array(#"],"kind":"\#(info.kind)List","metadata":{\#(meta)}}"#.utf8))
        return out
    }
}

/// The opaque `continue` value: the list's revision and the last key served, base64url-encoded.
struct ContinueToken {
    var revision: Int64
    var startAfter: String

    init(revision: Int64, startAfter: String) { self.revision = revision; self.startAfter = startAfter }

    init?(_ token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "\u{0}", maxSplits: 1).map(String.init)
        guard parts.count == 2, let revision = Int64(parts[0]) else { return nil }
        self.revision = revision
        self.startAfter = parts[1]
    }

    var encoded: String {
        Data("\(revision)\u{0}\(startAfter)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
