import Foundation
import KubeAPI

/// One decoded watch event for objects of type `T`.
public enum TypedWatchEvent<T: KubeObject>: Sendable, Hashable {
    case added(T)
    case modified(T)
    case deleted(T)
    /// A progress marker: everything up to this resourceVersion has been delivered.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with an error (410 Expired when the resourceVersion is too old).
    case error(Status)

    /// The resourceVersion this event moves the watcher to, if any.
    public var resourceVersion: String? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o): o.metadata.resourceVersion
        case .bookmark(let rv): rv
        case .error: nil
        }
    }

    /// Decodes one line of a watch stream (`{"type":"ADDED","object":{…}}`).
    public static func decode<Bytes: Collection<UInt8>>(line: Bytes) throws(KubeClientError) -> TypedWatchEvent<T> {
        let data = Data(line)
        let decoder = KubeJSON.decoder()
        do {
            let head = try decoder.decode(Head.self, from: data)
            switch head.type {
            case .added: return .added(try decoder.decode(Body<T>.self, from: data).object)
            case .modified: return .modified(try decoder.decode(Body<T>.self, from: data).object)
            case .deleted: return .deleted(try decoder.decode(Body<T>.self, from: data).object)
            case .bookmark:
                let rv = try decoder.decode(Body<BookmarkObject>.self, from: data).object.metadata?.resourceVersion
                return .bookmark(resourceVersion: rv ?? "")
            case .error:
                return .error(try decoder.decode(Body<Status>.self, from: data).object)
            }
        } catch {
            let preview = String(decoding: data.prefix(200), as: UTF8.self)
            throw .decoding("watch event for \(T.resourceInfo.kind): \(error) in \(preview)")
        }
    }

    private struct Head: Decodable { var type: WatchEventType }
    private struct Body<O: Decodable>: Decodable { var object: O }
    private struct BookmarkObject: Decodable {
        struct Meta: Decodable { var resourceVersion: String? }
        var metadata: Meta?
    }
}
