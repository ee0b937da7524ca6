import Foundation
import GRDB

/// The SQLite side of ``SQLiteStore``: schema, loading at open, persisting committed batches,
/// reading old history and compacting it. Every function here is one SQL pass; no caching.
///
/// Tables: `objects` (the current state, one row per key), `events` (the history: one row per
/// revision, with the previous state so watches can resume after a restart) and `meta` (one row:
/// the last revision ever assigned and the compacted revision).
enum StoreDatabase {
    /// What ``load(_:historyLimit:)`` reads at open.
    struct Snapshot: Sendable {
        var objects: [StoredObject]
        var lastRevision: Int64
        var compactedRevision: Int64
        /// The newest events (at most `historyLimit`), oldest first.
        var recentEvents: [StoreEvent]
        /// The revision after which `recentEvents` hold every retained event.
        var recentFloor: Int64
    }

    /// Opens (creating when needed) the database at `path`: WAL journal, `synchronous=FULL`
    /// so every acknowledged commit survives power loss and `kill -9`, and a busy timeout.
    static func open(path: String) throws -> DatabasePool {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.journalMode = .wal
        config.label = "kproxy.store"
        let pool = try DatabasePool(path: path, configuration: config)
        // DatabasePool sets synchronous=NORMAL with WAL; FULL makes each commit fsync the WAL.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS objects(
                    key TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL,
                    mod_revision INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS events(
                    revision INTEGER PRIMARY KEY NOT NULL,
                    key TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL,
                    prev_value BLOB,
                    prev_create_revision INTEGER,
                    prev_mod_revision INTEGER
                );
                CREATE TABLE IF NOT EXISTS meta(
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    last_revision INTEGER NOT NULL,
                    compacted_revision INTEGER NOT NULL
                );
                INSERT OR IGNORE INTO meta(id, last_revision, compacted_revision) VALUES (1, 0, 0);
                """)
        }
        return pool
    }

    /// Reads the current objects, the meta row and the newest `historyLimit` events.
    static func load(_ pool: DatabasePool, historyLimit: Int) throws -> Snapshot {
        try pool.read { db in
            let meta = try Row.fetchOne(db, sql: "SELECT last_revision, compacted_revision FROM meta WHERE id = 1")
            let last: Int64 = meta?[0] ?? 0
            let compacted: Int64 = meta?[1] ?? 0
            var objects: [StoredObject] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT key, value, create_revision, mod_revision FROM objects")
            while let row = try rows.next() {
                objects.append(StoredObject(key: row[0], value: row[1], createRevision: row[2], modRevision: row[3]))
            }
            var recent = try fetchEvents(db, sql: "SELECT * FROM (\(eventColumns) WHERE revision > ? ORDER BY revision DESC LIMIT ?) ORDER BY revision",
                                         arguments: [compacted, historyLimit], prefix: "")
            let floor: Int64
            if recent.count < historyLimit {
                floor = compacted
            } else {
                floor = (recent.first?.revision ?? compacted + 1) - 1
            }
            recent.reserveCapacity(historyLimit)
            return Snapshot(objects: objects, lastRevision: last, compactedRevision: compacted,
                            recentEvents: recent, recentFloor: floor)
        }
    }

    /// Writes one committed batch: the history rows, the current-state rows and the last revision.
    /// Runs inside the caller's transaction.
    static func persist(_ events: [StoreEvent], lastRevision: Int64, in db: Database) throws {
        let insertEvent = try db.cachedStatement(sql: """
            INSERT INTO events(revision, key, kind, value, create_revision, prev_value, prev_create_revision, prev_mod_revision)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let upsert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO objects(key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)
            """)
        let remove = try db.cachedStatement(sql: "DELETE FROM objects WHERE key = ?")
        for event in events {
            let object = event.object
            try insertEvent.execute(arguments: [
                object.modRevision, object.key, kindCode(event.kind), object.value, object.createRevision,
                event.previous?.value, event.previous?.createRevision, event.previous?.modRevision,
            ])
            switch event.kind {
            case .added, .modified:
                try upsert.execute(arguments: [object.key, object.value, object.createRevision, object.modRevision])
            case .deleted:
                try remove.execute(arguments: [object.key])
            }
        }
        try db.execute(sql: "UPDATE meta SET last_revision = MAX(last_revision, ?) WHERE id = 1", arguments: [lastRevision])
    }

    /// Events under `prefix` with revision > `after`, read in one snapshot together with the
    /// meta row, so the caller knows up to which revision the answer is complete.
    static func history(_ pool: DatabasePool, after: Int64, prefix: String) async throws
        -> (events: [StoreEvent], lastRevision: Int64, compactedRevision: Int64)
    {
        try await pool.read { db in
            let meta = try Row.fetchOne(db, sql: "SELECT last_revision, compacted_revision FROM meta WHERE id = 1")
            let last: Int64 = meta?[0] ?? 0
            let compacted: Int64 = meta?[1] ?? 0
            guard after >= compacted else { return ([], last, compacted) }
            let events = try fetchEvents(db, sql: "\(eventColumns) WHERE revision > ? ORDER BY revision",
                                         arguments: [after], prefix: prefix)
            return (events, last, compacted)
        }
    }

    /// Deletes history rows with revision <= `revision` and records it as the compacted revision.
    /// Returns the compacted revision now in force (never lowered).
    static func compact(_ pool: DatabasePool, through revision: Int64) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(sql: "UPDATE meta SET compacted_revision = MAX(compacted_revision, ?) WHERE id = 1",
                           arguments: [revision])
            let compacted = try Int64.fetchOne(db, sql: "SELECT compacted_revision FROM meta WHERE id = 1") ?? 0
            try db.execute(sql: "DELETE FROM events WHERE revision <= ?", arguments: [compacted])
            return compacted
        }
    }

    private static let eventColumns = """
        SELECT revision, key, kind, value, create_revision, prev_value, prev_create_revision, prev_mod_revision FROM events
        """

    private static func fetchEvents(_ db: Database, sql: String, arguments: StatementArguments, prefix: String) throws -> [StoreEvent] {
        var events: [StoreEvent] = []
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let key: String = row[1]
            guard key.hasPrefix(prefix) else { continue }
            let object = StoredObject(key: key, value: row[3], createRevision: row[4], modRevision: row[0])
            var previous: StoredObject?
            if let value: Data = row[5], let create: Int64 = row[6], let mod: Int64 = row[7] {
                previous = StoredObject(key: key, value: value, createRevision: create, modRevision: mod)
            }
            events.append(StoreEvent(kind: kind(from: row[2]), object: object, previous: previous))
        }
        return events
    }

    private static func kindCode(_ kind: StoreEvent.Kind) -> Int {
        switch kind {
        case .added: 0
        case .modified: 1
        case .deleted: 2
        }
    }

    private static func kind(from code: Int) -> StoreEvent.Kind {
        switch code {
        case 0: .added
        case 1: .modified
        default: .deleted
        }
    }
}
