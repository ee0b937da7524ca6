import Foundation
import Glibc
import LinuxSystem

/// The state dir of one `kproxy up`: only the entries it makes are ever removed, and a lock held by the
/// running `kproxy up` (`up.lock`, flock) says whether the cluster is alive — a pid in a file can be reused
/// by an unrelated process after a crash or a reboot, a lock cannot outlive its holder.
enum StateDir {
    static let entries: Set<String> = ["up.json", "up.lock", "kubeconfig", "node-kubeconfig", "controlplane", "nodes", "run", "logs"]

    /// Whether the `kproxy up` of `dir` is running (holds the lock).
    static func isHeld(_ dir: String) -> Bool {
        let fd = open("\(dir)/up.lock", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Sys.close(fd) }
        let (rc, e) = Sys.retrying { flock(fd, LOCK_EX | LOCK_NB) }
        return rc != 0 && e == EWOULDBLOCK
    }

    /// Makes `plan`'s state dir ours: refuses a directory with foreign entries or a live cluster, removes
    /// the remains of a cluster whose `kproxy up` died, creates the layout and takes the lock (its
    /// descriptor is returned and must stay open while the cluster runs).
    static func claim(_ plan: UpPlan) throws(UpError) -> Int32 {
        let dir = plan.stateDir
        let fm = FileManager.default
        if let present = try? fm.contentsOfDirectory(atPath: dir) {
            let foreign = present.filter { !entries.contains($0) }.sorted()
            guard foreign.isEmpty else {
                throw .usage("--state-dir \(dir) holds files kproxy up did not make (\(foreign.prefix(3).joined(separator: ", "))\(foreign.count > 3 ? ", …" : "")); give an empty or new directory")
            }
            if isHeld(dir) {
                throw .failed("a cluster already runs with state dir \(dir); stop it with `kproxy down --state-dir \(dir)`")
            }
            if let data = fm.contents(atPath: plan.stateFile) {
                guard let old = try? JSONDecoder().decode(ClusterUp.Record.self, from: data) else {
                    throw .failed("\(plan.stateFile) is unreadable (written by another version?): remove the cluster's namespaces (ip netns list | grep kpup-) and the file by hand")
                }
                _ = Topology.remove(old.plan)  // a cluster whose kproxy up was killed
            }
            remove(dir, keepLogs: false)
        }
        for path in [dir, "\(dir)/logs", "\(dir)/run"] + plan.nodes.map({ plan.nodeDir($0.role) }) {
            do throws(SystemError) { try PrivateFiles.makeDirectory(path) } catch { throw .failed("\(error)") }
        }
        let fd = open("\(dir)/up.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .failed("open \(dir)/up.lock: \(String(cString: strerror(errno)))") }
        let (rc, e) = Sys.retrying { flock(fd, LOCK_EX | LOCK_NB) }
        guard rc == 0 else {
            Sys.close(fd)
            throw .failed("a cluster already runs with state dir \(dir) (lock: \(String(cString: strerror(e))))")
        }
        return fd
    }

    /// Removes the entries `kproxy up` makes (all but `logs` when `keepLogs`), then the directory if empty.
    static func remove(_ dir: String, keepLogs: Bool) {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where entries.contains(entry) && !(keepLogs && entry == "logs") {
            try? fm.removeItem(atPath: "\(dir)/\(entry)")
        }
        _ = rmdir(dir)
    }
}
