import Foundation
import KubeAPI
import Testing
@testable import KubeClient

@Suite struct KubeClientHTTPTests {
    static let widgetA = #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a","namespace":"default","resourceVersion":"5"},"color":"red"}"#

    /// Runs `body` with a client pointed at a scripted server; shuts both down.
    func withServer(auth: ClientConfig.Auth = .bearerToken("t0k"),
                    _ respond: @escaping @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Response,
                    _ body: (KubeClient, ScriptedHTTPServer) async throws -> Void) async throws {
        let server = try await ScriptedHTTPServer.start(respond)
        let url = try #require(URL(string: server.baseURL + "/prefix/"))
        let client = try KubeClient(config: ClientConfig(server: url, auth: auth, requestTimeout: .seconds(10)))
        do { try await body(client, server) } catch { try? await client.shutdown(); try? await server.stop(); throw error }
        try await client.shutdown()
        try await server.stop()
    }

    @Test func getSendsHeadersAndDecodes() async throws {
        try await withServer({ _ in .init(json: Self.widgetA) }) { client, server in
            let a = try await client.get(Widget.self, name: "a", namespace: "default")
            #expect(a == Widget("a", rv: "5", color: "red"))
            let r = try #require(server.requests.first)
            #expect(r.method == .GET)
            #expect(r.uri == "/prefix/apis/example.com/v1/namespaces/default/widgets/a")
            #expect(r.headers["Accept"] == ["application/json"])
            #expect(r.headers["User-Agent"] == ["kproxy/\(ClientConfig.version)"])
            #expect(r.headers["Authorization"] == ["Bearer t0k"])
        }
    }

    @Test func errorStatusIsDecoded() async throws {
        let notFound = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"widgets.example.com \"x\" not found","reason":"NotFound","details":{"name":"x","group":"example.com","kind":"widgets"},"code":404}"#
        try await withServer({ r in r.uri.hasSuffix("/x") ? .init(status: 404, json: notFound) : .init(status: 502, ["bad gateway"]) }) { client, _ in
            do {
                _ = try await client.get(Widget.self, name: "x", namespace: "default")
                Issue.record("expected 404")
            } catch let e as KubeClientError {
                #expect(e.isNotFound)
                guard case .status(let s) = e else { Issue.record("\(e)"); return }
                #expect(s.reason == "NotFound" && s.details?.name == "x")
            }
            await #expect(throws: KubeClientError.self) { _ = try await client.get(Widget.self, name: "y", namespace: "default") }
            do { _ = try await client.get(Widget.self, name: "y") } catch let e as KubeClientError {
                #expect(e.statusCode == 502)
            }
        }
    }

    @Test func listFollowsContinueTokens() async throws {
        try await withServer({ r in
            if r.uri.contains("continue=page2") {
                return .init(json: #"{"kind":"WidgetList","metadata":{"resourceVersion":"99"},"items":[{"metadata":{"name":"b","namespace":"x","resourceVersion":"7"}}]}"#)
            }
            return .init(json: #"{"kind":"WidgetList","metadata":{"resourceVersion":"42","continue":"page2"},"items":[\#(Self.widgetA)]}"#)
        }) { client, server in
            let all = try await client.list(Widget.self, labelSelector: "app=web", resourceVersion: "0", limit: 1, allPages: true)
            #expect(all.items.map(\.key) == ["default/a", "x/b"])
            #expect(all.metadata.resourceVersion == "42")
            #expect(all.metadata.continue == nil)
            #expect(server.requests.map(\.uri) == [
                "/prefix/apis/example.com/v1/widgets?labelSelector=app%3Dweb&resourceVersion=0&limit=1",
                "/prefix/apis/example.com/v1/widgets?labelSelector=app%3Dweb&limit=1&continue=page2",
            ])
            let one = try await client.list(Widget.self, namespace: "default", limit: 1)
            #expect(one.items.count == 1 && one.metadata.continue == "page2")
        }
    }

    @Test func writesUseTheRightMethodsPathsAndContentTypes() async throws {
        try await withServer({ r in
            r.method == .DELETE
                ? .init(json: #"{"kind":"Status","apiVersion":"v1","status":"Success","code":200}"#)
                : .init(json: Self.widgetA)
        }) { client, server in
            var w = Widget("a", rv: "5")
            w.apiVersion = nil
            _ = try await client.create(w)
            _ = try await client.update(w)
            _ = try await client.updateStatus(w)
            _ = try await client.patch(Widget.self, name: "a", namespace: "default", patchType: .merge, body: ["color": "blue"])
            _ = try await client.patch(Widget.self, name: "a", namespace: "default", patchType: .json,
                                       body: [["op": "replace", "path": "/status", "value": nil]], subresource: "status")
            let result = try await client.delete(Widget.self, name: "a", namespace: "default",
                                                 options: DeleteOptions(gracePeriodSeconds: 0))
            guard case .deleted(let status) = result else { Issue.record("\(result)"); return }
            #expect(status.status == "Success")
            let rs = server.requests
            #expect(rs.map(\.method) == [.POST, .PUT, .PUT, .PATCH, .PATCH, .DELETE])
            #expect(rs.map(\.uri) == [
                "/prefix/apis/example.com/v1/namespaces/default/widgets",
                "/prefix/apis/example.com/v1/namespaces/default/widgets/a",
                "/prefix/apis/example.com/v1/namespaces/default/widgets/a/status",
                "/prefix/apis/example.com/v1/namespaces/default/widgets/a",
                "/prefix/apis/example.com/v1/namespaces/default/widgets/a/status",
                "/prefix/apis/example.com/v1/namespaces/default/widgets/a",
            ])
            #expect(rs[0].body.contains(#""apiVersion":"example.com/v1""#), "create sets the type meta")
            #expect(rs[0].headers["Content-Type"] == ["application/json"])
            #expect(rs[3].headers["Content-Type"] == ["application/merge-patch+json"])
            #expect(rs[3].body == #"{"color":"blue"}"#)
            #expect(rs[4].headers["Content-Type"] == ["application/json-patch+json"])
            #expect(rs[5].body.contains(#""gracePeriodSeconds":0"#))
        }
    }

    @Test func watchStreamsChunkedEventsUntilTheServerCloses() async throws {
        let lines = WatchStreamTests.stream
        let bytes = Array(lines.utf8)
        // Chunks cut mid-line and mid-UTF-8-free JSON at odd places.
        let cuts = [0, 10, 150, 151, 400, bytes.count]
        let chunks = zip(cuts, cuts.dropFirst()).map { String(decoding: bytes[$0..<$1], as: UTF8.self) }
        try await withServer({ _ in .init(chunks) }) { client, server in
            var events: [TypedWatchEvent<Widget>] = []
            for try await e in client.watch(Widget.self, namespace: "default", resourceVersion: "4",
                                            timeoutSeconds: 30, allowWatchBookmarks: true) {
                events.append(e)
            }
            #expect(events == WatchStreamTests.expected)
            #expect(server.requests.first?.uri ==
                    "/prefix/apis/example.com/v1/namespaces/default/widgets?resourceVersion=4&timeoutSeconds=30&watch=true&allowWatchBookmarks=true")
        }
    }

    @Test func watchWith410ThrowsExpired() async throws {
        let gone = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old","reason":"Expired","code":410}"#
        try await withServer({ _ in .init(status: 410, json: gone) }) { client, _ in
            do {
                for try await _ in client.watch(Widget.self, resourceVersion: "1") {}
                Issue.record("expected 410")
            } catch let e as KubeClientError {
                #expect(e.isExpired)
            }
        }
    }

    @Test func informerOverKubeListWatcher() async throws {
        let added = #"{"type":"ADDED","object":{"metadata":{"name":"c","namespace":"default","resourceVersion":"43"}}}"#
        try await withServer({ r in
            r.uri.contains("watch=true")
                ? .init([added + "\n"])
                : .init(json: #"{"metadata":{"resourceVersion":"42"},"items":[\#(Self.widgetA)]}"#)
        }) { client, server in
            let informer = Informer(KubeListWatcher<Widget>(client: client, namespace: "default"))
            let run = Task { await informer.run() }
            var events = informer.events.makeAsyncIterator()
            #expect(await events.next() == .added(Widget("a", rv: "5", color: "red")))
            #expect(await events.next() == .synced)
            guard case .added(let c) = await events.next() else { Issue.record("no ADDED"); return }
            #expect(c.key == "default/c")
            run.cancel()
            await run.value
            let uris = server.requests.map(\.uri)
            #expect(uris.first == "/prefix/apis/example.com/v1/namespaces/default/widgets?limit=500")
            #expect(uris.dropFirst().first?.hasPrefix("/prefix/apis/example.com/v1/namespaces/default/widgets?resourceVersion=42&timeoutSeconds=") == true)
            #expect(uris.dropFirst().first?.hasSuffix("&watch=true&allowWatchBookmarks=true") == true)
        }
    }

    @Test func bearerTokenFileIsSent() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try dir.write("token", "from-file\n")
        try await withServer(auth: .bearerTokenFile(path), { _ in .init(json: Self.widgetA) }) { client, server in
            _ = try await client.get(Widget.self, name: "a", namespace: "default")
            #expect(server.requests.first?.headers["Authorization"] == ["Bearer from-file"])
        }
    }
}
