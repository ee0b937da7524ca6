// kproxy-cni: a CNI 1.1.0 plugin (bridge + veth, pod-CIDR IPAM). Reads CNI_* from the environment and
// the network config from stdin; writes a result or a CNI error as JSON on stdout; exits 1 on error.
import CNICore
import Values
#if canImport(Glibc)
import Glibc
#endif

// A delegated plugin may exit before reading its stdin: our write then fails with EPIPE (handled where
// it happens) instead of killing this process by signal before it can print a CNI error.
signal(SIGPIPE, SIG_IGN)
let environment = ProcessIO.environment()
let stdinBytes = ProcessIO.readAll(fd: 0)
var answerVersion = CNIVersion.current.description

do throws(CNIError) {
    let env = try CNIEnvironment(environment)
    if env.command == .version {
        ProcessIO.writeLine(CNIVersion.versionInfo().serialized())
        exit(0)
    }
    let conf = try NetConf(bytes: stdinBytes)
    answerVersion = conf.cniVersion.description
    let invocation = Invocation(env: env, conf: conf, stdin: stdinBytes, environment: environment)
    let output: JSONValue?
    if conf.type == Invocation.pluginType {
        output = try BridgePlugin(invocation).run()
    } else {
        output = try IPAMPlugin(invocation).run()
    }
    if let output { ProcessIO.writeLine(output.serialized()) }
    exit(0)
} catch {
    ProcessIO.writeLine(error.json(cniVersion: answerVersion).serialized())
    exit(1)
}
