#!/usr/bin/env bash
# End-to-end suite: a two-node `kproxy up` cluster (everything in network namespaces it creates), real
# traffic from pods (kubectl exec) and from the external-client namespace, in one proxy mode:
#   1. Service features: ClusterIP TCP/UDP within and across nodes, NodePort on each node, externalIPs, a
#      LoadBalancer IP set in status by hand, externalTrafficPolicy Local (client address kept, local
#      endpoints only, health-check NodePort 200/503), internalTrafficPolicy Local, session affinity,
#      hairpin, a Service without endpoints refused at once, DNS (A, SRV, PTR, headless, ExternalName,
#      short names through the search path).
#   2. Churn: a client at 50 requests/s while the Deployment scales 2 → 10 → 2 and restarts; 0 failures.
#   3. Faults, one at a time under the same client and a DNS client: kill -9 of the control plane, of a
#      node's kproxy proxy, of a DNS pod's process, of kproxy node, and a node cut off and restored. For each:
#      failed requests during and after, time to recover; 0 failures after recovery, 0 acknowledged objects
#      lost.
#   4. Leaks: veths, IPAM addresses and pod namespaces match the running pods; after `kproxy down` nothing of
#      the cluster is left (namespaces, processes, files).
# Usage: hack/e2e.sh [--proxy-mode nftables|userspace]   (KPROXY_BIN: the kproxy binary; else a debug build)
# A report goes to stdout and to $E2E_REPORT (default /tmp/kproxy-e2e-<mode>.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=nftables
while [ $# -gt 0 ]; do
  case "$1" in
    --proxy-mode) mode="$2"; shift 2 ;;
    *) echo "usage: $0 [--proxy-mode nftables|userspace]" >&2; exit 2 ;;
  esac
done
case "$mode" in nftables|userspace) ;; *) echo "e2e: unknown proxy mode $mode" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "e2e: needs root (network namespaces)" >&2; exit 1; }
if [ -z "${KPROXY_BIN:-}" ]; then
  swift build --product kproxy && swift build --product kproxy-cni
  KPROXY_BIN="$(swift build --show-bin-path)/kproxy"
fi
bin="$KPROXY_BIN"
[ -x "$bin" ] && [ -x "$(dirname "$bin")/kproxy-cni" ] || { echo "e2e: no kproxy and kproxy-cni at $(dirname "$bin")" >&2; exit 1; }

run="$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
state="/tmp/kproxy-e2e-$run"
work="$(mktemp -d /tmp/kproxy-e2e-work.XXXXXX)"
report="${E2E_REPORT:-/tmp/kproxy-e2e-$mode.md}"
export KUBECONFIG="$state/kubeconfig"
kc() { kubectl --cache-dir "$work/kube-cache" --request-timeout=20s "$@"; }
say() { printf '%s\n' "$*" | tee -a "$report"; }
step() { printf '\n==> [%s] %s\n' "$(date +%T)" "$*"; }
fail() {
  echo "E2E FAILED ($mode): $*" >&2
  echo "--- logs (last lines) ---" >&2
  for f in "$state"/logs/*.log; do [ -f "$f" ] && { echo "## $f" >&2; tail -15 "$f" >&2; }; done
  exit 1
}
up_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
    kill -TERM "$up_pid"; wait "$up_pid"
  fi
  [ -f "$state/up.json" ] && "$bin" down --state-dir "$state" >/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A command that fails outside an explicit check still says where, with the daemons' logs, before the
# cluster (and its logs) is removed.
trap 'fail "line $LINENO: a command failed (exit $?)"' ERR
: >"$report"
say "# kproxy e2e, proxy mode $mode ($(date -u +%FT%TZ))"

# ---------------------------------------------------------------------------------------------------------
netns_before=$(ls /run/netns 2>/dev/null | sort)
step "kproxy up --nodes 2 --proxy-mode $mode --state-dir $state"
start=$(date +%s.%N)
"$bin" up --nodes 2 --proxy-mode "$mode" --state-dir "$state" --api-port 0 >"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 300); do
  grep -q '^cluster ready' "$work/up.log" && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; fail "kproxy up exited"; }
  sleep 0.1
done
grep -q '^cluster ready' "$work/up.log" || { cat "$work/up.log" >&2; fail "kproxy up not ready in 30 s"; }
cat "$work/up.log"
ready_s=$(echo "$(date +%s.%N) - $start" | bc)
say "- \`kproxy up\` ready (2 nodes Ready, DNS serving) in $(printf '%.1f' "$ready_s") s"
plan() { jq -r "$1" "$state/up.json"; }
ns_a=$(plan '.plan.nodes[0].netns'); ns_b=$(plan '.plan.nodes[1].netns'); ns_ext=$(plan '.plan.external.netns')
ip_a=$(plan '.plan.nodes[0].address'); ip_b=$(plan '.plan.nodes[1].address'); run_id=$(plan '.plan.runID')

# ---------------------------------------------------------------------------------------------------------
step "workloads"
cp hack/e2e/server.py hack/e2e/udp.py "$work/"
server="$work/server.py"; udp="$work/udp.py"
kc create namespace e2e >/dev/null
kc -n e2e apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: python
        command: [python3, $server]
        ports: [{containerPort: 8080}, {containerPort: 9090, protocol: UDP}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: solo}
spec:
  replicas: 1
  selector: {matchLabels: {app: solo}}
  template:
    metadata: {labels: {app: solo}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-a}
      containers:
      - name: solo
        image: python
        command: [python3, $server]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: echo, port: 90, targetPort: 9090, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: web.e2e.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: solo}
spec:
  selector: {app: solo}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: echo, port: 90, targetPort: 9090, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: solo-itp}
spec:
  selector: {app: solo}
  internalTrafficPolicy: Local
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  type: LoadBalancer
  selector: {app: web}
  externalIPs: [203.0.113.10]
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: solo-local}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: solo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: empty}
spec:
  selector: {app: nothing}
  ports: [{port: 80, targetPort: 8080}]
EOF
for node in a b; do
  kc -n e2e run "client-$node" --image=busybox --restart=Never \
    --overrides="{\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-$node\"}}}" --command -- sleep 100000 >/dev/null
done
# The LoadBalancer address, as a cloud controller would write it.
kc -n e2e patch service front --subresource=status --type=merge -p '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.20"}]}}}' >/dev/null
kc -n e2e rollout status deployment/web --timeout=60s >/dev/null || fail "web rollout"
kc -n e2e rollout status deployment/solo --timeout=60s >/dev/null || fail "solo rollout"
kc -n e2e wait --for=condition=Ready pod/client-a pod/client-b --timeout=60s >/dev/null || fail "client pods"
kc -n e2e get pods -o wide
# The external client reaches externalIPs and the LoadBalancer IP through node-a, as a router would send them.
ip -n "$ns_ext" route add 203.0.113.10/32 via "$ip_a"
ip -n "$ns_ext" route add 203.0.113.20/32 via "$ip_a"

svc_ip() { kc -n e2e get service "$1" -o jsonpath='{.spec.clusterIP}'; }
web_ip=$(svc_ip web); solo_ip=$(svc_ip solo)
solo_pod=$(kc -n e2e get pods -l app=solo -o jsonpath='{.items[0].metadata.name}')
in_pod() { local pod="$1"; shift; kc -n e2e exec "$pod" -- "$@"; }
# Wait until the proxies of both nodes serve every Service above (a first answer from each client).
wait_served() {
  local pod="$1" url="$2"
  for _ in $(seq 50); do in_pod "$pod" curl -s --max-time 1 "$url" >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail "$pod: $url never answered"
}
wait_served client-a "http://$web_ip/"; wait_served client-b "http://$web_ip/"

# ---------------------------------------------------------------------------------------------------------
step "Service features"
checks=0
check() { checks=$((checks + 1)); printf '  ok  %s\n' "$*"; }
expect_answer() {  # DESCRIPTION POD URL EXPECTED-POD-PREFIX
  local out
  out=$(in_pod "$2" curl -s --max-time 2 "$3") || fail "$1: no answer from $3"
  case "$out" in "$4"*) check "$1 → $out" ;; *) fail "$1: answered '$out', expected $4…" ;; esac
}
expect_answer "ClusterIP TCP within node-a" client-a "http://$solo_ip/" "$solo_pod"
expect_answer "ClusterIP TCP node-b → node-a" client-b "http://$solo_ip/" "$solo_pod"
for node in a b; do
  out=$(in_pod "client-$node" python3 "$udp" "$solo_ip" 90) || fail "ClusterIP UDP from node-$node: no answer"
  case "$out" in "$solo_pod"*) check "ClusterIP UDP from node-$node → $out" ;; *) fail "UDP from node-$node: '$out'" ;; esac
done
seen=$(for _ in $(seq 20); do in_pod client-a curl -s --max-time 2 "http://$web_ip/" | cut -d' ' -f1; done | sort -u | wc -l)
[ "$seen" -eq 2 ] || fail "ClusterIP TCP: 20 requests reached $seen of 2 endpoints"
check "ClusterIP TCP spreads over both endpoints (one per node)"

nodeport=$(kc -n e2e get service front -o jsonpath='{.spec.ports[0].nodePort}')
for ip in "$ip_a" "$ip_b"; do
  out=$(ip netns exec "$ns_ext" curl -s --max-time 2 "http://$ip:$nodeport/") || fail "NodePort $ip:$nodeport: no answer"
  check "NodePort $ip:$nodeport from the external client → $out"
done
out=$(ip netns exec "$ns_ext" curl -s --max-time 2 "http://203.0.113.10/") || fail "externalIP: no answer"
check "externalIP 203.0.113.10 → $out"
out=$(ip netns exec "$ns_ext" curl -s --max-time 2 "http://203.0.113.20/") || fail "LoadBalancer IP: no answer"
check "LoadBalancer IP 203.0.113.20 (status written by hand) → $out"

local_np=$(kc -n e2e get service solo-local -o jsonpath='{.spec.ports[0].nodePort}')
hc_np=$(kc -n e2e get service solo-local -o jsonpath='{.spec.healthCheckNodePort}')
[ -n "$hc_np" ] || fail "solo-local has no healthCheckNodePort"
out=$(ip netns exec "$ns_ext" curl -s --max-time 2 "http://$ip_a:$local_np/") || fail "eTP Local on node-a: no answer"
[ "$out" = "$solo_pod $(plan '.plan.external.address')" ] || fail "eTP Local: answered '$out', expected the client's own address"
check "externalTrafficPolicy Local: node-a answers and the pod sees the client's address ($out)"
if ip netns exec "$ns_ext" curl -s --max-time 2 "http://$ip_b:$local_np/" >/dev/null; then fail "eTP Local: node-b (no local endpoint) answered"; fi
check "externalTrafficPolicy Local: node-b, without a local endpoint, does not serve"
health() { ip netns exec "$ns_ext" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$1:$hc_np/healthz" || echo unreachable; }
code_a=$(health "$ip_a"); code_b=$(health "$ip_b")
[ "$code_a" = 200 ] && [ "$code_b" = 503 ] || fail "health-check NodePort: node-a $code_a, node-b $code_b (want 200, 503)"
check "health-check NodePort $hc_np: node-a 200, node-b 503"

itp_ip=$(svc_ip solo-itp)
expect_answer "internalTrafficPolicy Local from node-a" client-a "http://$itp_ip/" "$solo_pod"
if in_pod client-b curl -s --max-time 2 "http://$itp_ip/" >/dev/null; then fail "iTP Local: node-b (no local endpoint) answered"; fi
check "internalTrafficPolicy Local from node-b (no local endpoint): not served"

sticky_ip=$(svc_ip sticky)
distinct=$(for _ in $(seq 10); do in_pod client-a curl -s --max-time 2 "http://$sticky_ip/" | cut -d' ' -f1; done | sort -u | wc -l)
[ "$distinct" -eq 1 ] || fail "session affinity: 10 requests reached $distinct endpoints"
check "sessionAffinity ClientIP: 10 requests, 1 endpoint"
expect_answer "hairpin: the solo pod reaches itself through its Service" "$solo_pod" "http://$solo_ip/" "$solo_pod"

empty_ip=$(svc_ip empty)
t0=$(date +%s%N)
if in_pod client-a curl -s --max-time 3 "http://$empty_ip/" >/dev/null 2>&1; then rc=0; else rc=$?; fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -eq 7 ] || fail "Service without endpoints: curl exit $rc (want 7, connection refused)"
check "Service without endpoints: refused (curl exit 7) in ${ms} ms including kubectl exec"

dig_a() { in_pod client-a dig +short +time=2 +tries=2 "$@"; }
[ "$(dig_a web.e2e.svc.cluster.local)" = "$web_ip" ] || fail "DNS A web.e2e.svc.cluster.local"
check "DNS A web.e2e.svc.cluster.local = $web_ip"
[ "$(in_pod client-a getent hosts web | awk '{print $1}')" = "$web_ip" ] || fail "DNS short name web through the search path"
check "DNS short name 'web' through resolv.conf's search path"
srv=$(dig_a SRV _http._tcp.web.e2e.svc.cluster.local)
[ "$srv" = "0 100 80 web.e2e.svc.cluster.local." ] || fail "DNS SRV: '$srv'"
check "DNS SRV _http._tcp.web: $srv"
ptr=$(dig_a -x "$web_ip")
[ "$ptr" = "web.e2e.svc.cluster.local." ] || fail "DNS PTR of $web_ip: '$ptr'"
check "DNS PTR $web_ip → $ptr"
pods_ips=$(kc -n e2e get pods -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort | tr '\n' ' ')
headless=$(dig_a web-headless.e2e.svc.cluster.local | sort | tr '\n' ' ')
[ "$headless" = "$pods_ips" ] || fail "DNS headless: '$headless', pods '$pods_ips'"
check "DNS headless web-headless: the pod addresses ($headless)"
cname=$(dig_a ext.e2e.svc.cluster.local CNAME)
[ "$cname" = "web.e2e.svc.cluster.local." ] || fail "DNS ExternalName: '$cname'"
check "DNS ExternalName ext → CNAME $cname"
[ "$(in_pod client-a cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)" = e2e ] &&
  in_pod client-a sh -c 'test -s /var/run/secrets/kubernetes.io/serviceaccount/token && test -n "$KUBERNETES_SERVICE_HOST"' ||
  fail "pods have no in-cluster config (service-account files, KUBERNETES_SERVICE_HOST)"
check "in-cluster config in pods: KUBERNETES_SERVICE_HOST and the service-account files (the DNS pods use it)"
say "- Service features: $checks checks passed"

# ---------------------------------------------------------------------------------------------------------
# Clients that keep running through churn and faults, on node-a: HTTP to web at 50/s, DNS at 20/s.
kc -n e2e run loader --image=kproxy --restart=Never --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-a"}}}' \
  --command -- "$bin" traffic --url "http://$web_ip/" --rate 50 --timeout 2 --concurrency 1 >/dev/null
kc -n e2e run dns-loader --image=kproxy --restart=Never --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-a"}}}' \
  --command -- "$bin" traffic --dns web.e2e.svc.cluster.local --rate 20 --timeout 2 >/dev/null
kc -n e2e wait --for=condition=Ready pod/loader pod/dns-loader --timeout=30s >/dev/null || fail "loaders"
# Failed and successful requests of a loader between two UNIX seconds (inclusive).
counts() {  # POD FROM TO -> "ok fail lastfail"; fails when the log cannot be read or parsed
  local logs
  logs=$(kc -n e2e logs "$1") || fail "cannot read the logs of $1"
  jq -rs --argjson a "$2" --argjson b "$3" \
    '[.[] | select(.t != null and .t >= $a and .t <= $b)] | "\(map(.ok) | add // 0) \(map(.fail) | add // 0) \(map(select(.fail > 0) | .t) | max // 0)"' \
    <<<"$logs" || fail "the log of $1 is not the JSON lines kproxy traffic writes"
}
# A window's figures, checked to come from a loader that kept sending: at least 60% of its rate (one
# sequential client; on this 2-core machine churn's pod start-ups slow each request).
window() {  # POD FROM TO RATE -> "ok fail lastfail"
  local out ok bad
  out=$(counts "$1" "$2" "$3")
  read -r ok bad _ <<<"$out"
  [ $((ok + bad)) -ge $(( ($3 - $2 + 1) * $4 * 6 / 10 )) ] || fail "$1 sent only $((ok + bad)) requests in $2..$3 (rate $4/s): is it running?"
  echo "$out"
}
# The distinct errors a loader saw between two UNIX seconds.
errors() { kc -n e2e logs "$1" | jq -rs --argjson a "$2" --argjson b "$3" '[.[] | select(.t != null and .t >= $a and .t <= $b and .fail > 0) | .error] | unique | join("; ")'; }
# Both loaders healthy before anything happens: a whole second at their rate, with no failure. How long
# that takes is reported: in userspace mode a fresh pod's first connections sometimes go unanswered for
# over 10 s (an open finding), which the churn and fault figures below must not mix in.
healthy=""; settle_from=$(date +%s)
for _ in $(seq 200); do
  sleep 0.2
  now=$(date +%s)
  read -r ok bad _ <<<"$(counts loader $((now - 1)) $((now - 1)))"
  read -r dok dbad _ <<<"$(counts dns-loader $((now - 1)) $((now - 1)))"
  if [ "$ok" -ge 30 ] && [ "$bad" -eq 0 ] && [ "$dok" -ge 12 ] && [ "$dbad" -eq 0 ]; then healthy=1; break; fi
done
[ -n "$healthy" ] || fail "the loaders did not settle (last second: HTTP ok $ok fail $bad, DNS ok $dok fail $dbad)"
say "- loaders answered steadily $(( $(date +%s) - settle_from )) s after they were ready"

# ---------------------------------------------------------------------------------------------------------
step "churn: scale 2 → 10 → 2, then rollout restart, under 50 requests/s"
wait_ready_endpoints() {  # COUNT
  for _ in $(seq 300); do
    n=$(kc -n e2e get endpointslices -l kubernetes.io/service-name=web -o json |
        jq '[.items[].endpoints[]? | select(.conditions.ready == true)] | length')
    [ "$n" -eq "$1" ] && return 0
    sleep 0.2
  done
  fail "web: $n ready endpoints, want $1"
}
churn_from=$(date +%s)
kc -n e2e scale deployment web --replicas=10 >/dev/null; wait_ready_endpoints 10
kc -n e2e scale deployment web --replicas=2 >/dev/null; wait_ready_endpoints 2
kc -n e2e rollout restart deployment web >/dev/null
kc -n e2e rollout status deployment web --timeout=120s >/dev/null || fail "rollout restart"
wait_ready_endpoints 2
sleep 4  # terminating pods drain (3 s) while the client keeps going
churn_to=$(date +%s)
churn=$(window loader "$churn_from" "$churn_to" 50)
read -r ok bad last <<<"$churn"
slowest=$(kc -n e2e logs loader | jq -rs --argjson a "$churn_from" --argjson b "$churn_to" '[.[] | select(.t != null and .t >= $a and .t <= $b) | .max_ms] | max // 0')
say "- churn (scale 2→10→2, rollout restart; $((churn_to - churn_from)) s): $ok requests answered, $bad failed, slowest ${slowest} ms"
[ "$bad" -eq 0 ] || fail "churn: $bad failed requests (last at $last: $(errors loader "$churn_from" "$churn_to"))"

# ---------------------------------------------------------------------------------------------------------
step "faults"
say ""
say "| fault | HTTP failed during | DNS failed during | disrupted for | recovered in (after the fault ended) | failed after |"
say "|---|---|---|---|---|---|"
pidof_process() { cat "$state/run/$1.pid"; }
fault() {  # NAME; FAULT and RECOVERED are functions set by the caller
  local name="$1" t0 t1 ok bad last dok dbad dlast disrupted
  t0=$(date +%s)
  inject
  local t0ns; t0ns=$(date +%s%N)   # recovery is timed from the end of the fault (the link restored)
  for _ in $(seq 600); do recovered && break; sleep 0.1; done
  recovered || fail "$name: not recovered in 60 s"
  local rec_ms=$(( ($(date +%s%N) - t0ns) / 1000000 ))
  sleep 3; t1=$(date +%s); sleep 5
  local during ddur post dpost
  during=$(counts loader "$t0" $((t1 - 1))); ddur=$(counts dns-loader "$t0" $((t1 - 1)))
  post=$(window loader "$t1" $((t1 + 4)) 50); dpost=$(window dns-loader "$t1" $((t1 + 4)) 20)
  read -r ok bad last <<<"$during"
  read -r dok dbad dlast <<<"$ddur"
  read -r _ after _ <<<"$post"
  read -r _ dafter _ <<<"$dpost"
  disrupted=0
  for l in "$last" "$dlast"; do [ "$l" -gt 0 ] && [ $((l - t0 + 1)) -gt "$disrupted" ] && disrupted=$((l - t0 + 1)); done
  say "| $name | $bad of $((ok + bad)) | $dbad of $((dok + dbad)) | ${disrupted} s | $(printf '%.1f' "$(echo "$rec_ms/1000" | bc -l)") s | $((after + dafter)) |"
  [ "$bad" -eq 0 ] || say "|   HTTP errors: $(errors loader "$t0" $((t1 - 1))) | | | | | |"
  [ "$dbad" -eq 0 ] || say "|   DNS errors: $(errors dns-loader "$t0" $((t1 - 1))) | | | | | |"
  [ "$((after + dafter))" -eq 0 ] || fail "$name: $after HTTP and $dafter DNS requests failed after recovery ($(errors loader "$t1" $((t1 + 4))); $(errors dns-loader "$t1" $((t1 + 4))))"
}

# kill -9 of the control plane right after acknowledged writes; the supervisor restarts it.
inject() {
  for i in $(seq 20); do kc -n e2e create service clusterip "ack-$i" --tcp=80:8080 >/dev/null; done
  cp_pid=$(pidof_process controlplane); kill -9 "$cp_pid"
}
# Recovered: the API answers again, and so does the data plane through it (the proxies and the DNS pods
# re-list after their watches broke): a name resolved and the Service answering from a pod.
recovered() {
  [ "$(pidof_process controlplane)" != "$cp_pid" ] && kc get --raw /readyz >/dev/null 2>&1 &&
    [ "$(in_pod client-a dig +short +time=1 +tries=1 web.e2e.svc.cluster.local 2>/dev/null)" = "$web_ip" ] &&
    in_pod client-a curl -s --max-time 1 "http://$web_ip/" >/dev/null 2>&1
}
fault "kill -9 control plane"
acked=$(kc -n e2e get services -o name | grep -c '^service/ack-')
[ "$acked" -eq 20 ] || fail "after the control plane's restart: $acked of 20 acknowledged Services"
say "| (20 Services created just before the kill: $acked present after the restart) | | | | | |"

inject() { px_pid=$(pidof_process node-a.proxy); kill -9 "$px_pid"; }
recovered() {
  local p; p=$(pidof_process node-a.proxy)
  [ "$p" != "$px_pid" ] && ip netns exec "$ns_a" curl -s --max-time 1 http://127.0.0.1:10256/healthz | grep -q '"lastUpdated"'
}
fault "kill -9 kproxy proxy (node-a)"

dns_pod=$(kc -n kube-system get pods -l k8s-app=kube-dns --field-selector spec.nodeName=node-a -o jsonpath='{.items[0].metadata.name}')
dns_uid=$(kc -n kube-system get pod "$dns_pod" -o jsonpath='{.metadata.uid}')
inject() {
  local pids; pids=$(ip netns pids "kproxy-$dns_uid")
  [ -n "$pids" ] || fail "no process in the DNS pod's namespace"
  kill -9 $pids
}
recovered() {
  [ "$(kc -n kube-system get pod "$dns_pod" -o jsonpath='{.status.containerStatuses[0].ready}/{.status.containerStatuses[0].restartCount}')" = "true/1" ]
}
fault "kill -9 DNS pod process (node-a)"

inject() { node_pid=$(pidof_process node-a.node); kill -9 "$node_pid"; }
recovered() {
  [ "$(pidof_process node-a.node)" != "$node_pid" ] &&
    [ "$(kc get node node-a -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] &&
    grep -q "adopted container" "$state/logs/node-a.node.log"
}
fault "kill -9 kproxy node (node-a)"
restarts=$(kc -n e2e get pods -o jsonpath='{range .items[*]}{.status.containerStatuses[0].restartCount}{"\n"}{end}' | sort -u | tr '\n' ' ')
[ "$restarts" = "0 " ] || fail "pods restarted across the agent's restart (restart counts: $restarts)"

inject() { ip -n "$ns_b" link set eth0 down; sleep 5; ip -n "$ns_b" link set eth0 up; }
web_b=$(kc -n e2e get pods -l app=web --field-selector spec.nodeName=node-b -o jsonpath='{.items[0].status.podIP}')
[ -n "$web_b" ] || fail "no web pod on node-b"
# Recovered: a pod on node-a reaches a pod on node-b again (the host-gw routes the kernel dropped are back).
recovered() { in_pod client-a curl -s --max-time 1 "http://$web_b:8080/" >/dev/null 2>&1; }
fault "node-b cut off for 5 s, then restored"

# ---------------------------------------------------------------------------------------------------------
step "leaks"
for node in a b; do
  ns=$(plan ".plan.nodes[$([ $node = a ] && echo 0 || echo 1)].netns")
  pods=$(kc get pods -A --field-selector "spec.nodeName=node-$node,status.phase=Running" -o name | wc -l)
  veths=$(ip -n "$ns" -o link show type veth | grep -c ': kpv')
  addrs=$(find "$state/nodes/node-$node/ipam" -type f -name '10.244.*' | wc -l)
  [ "$veths" -eq "$pods" ] && [ "$addrs" -eq "$pods" ] || fail "node-$node: $pods running pods, $veths pod veths, $addrs IPAM addresses"
  check "node-$node: $pods running pods, $veths veths, $addrs allocated addresses"
done
uids=$(kc get pods -A -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}')
recorded=$(find "$state"/nodes/node-*/root/pods -mindepth 1 -maxdepth 1 -type d | wc -l)
present() { for u in $uids; do if [ -e "/run/netns/kproxy-$u" ]; then echo "$u"; fi; done; }
pod_netns=$(present | wc -l)
total=$(kc get pods -A --field-selector status.phase=Running -o name | wc -l)
[ "$pod_netns" -eq "$total" ] && [ "$recorded" -eq "$total" ] || fail "$total running pods, $pod_netns pod namespaces, $recorded pod records"
check "$total running pods, $pod_netns pod network namespaces, $recorded pod records"

step "kproxy down"
kill -TERM "$up_pid"; wait "$up_pid" || fail "kproxy up exited non-zero on SIGTERM"
up_pid=""
left_ns=$(ip netns list | grep -c "kpup-$run_id" || test $? -eq 1)
left_pods=$(present | wc -l)
left_procs=$(pgrep -f "$state" | wc -l || test $? -eq 1)
# Any namespace file this run made and left (also one an agent was still creating when it was stopped).
left_files=$(comm -13 <(echo "$netns_before") <(ls /run/netns 2>/dev/null | sort) | grep -c . || test $? -eq 1)
left_pods=$((left_pods + left_files))
[ "$left_ns" -eq 0 ] && [ "$left_pods" -eq 0 ] && [ "$left_procs" -eq 0 ] && [ ! -e "$state" ] ||
  fail "after kproxy down: $left_ns cluster namespaces, $left_pods pod namespaces, $left_procs processes, state dir $( [ -e "$state" ] && echo present || echo gone)"
say "- leaks: veths, IPAM addresses, pod namespaces and the agents' pod records matched the $total running pods; after shutdown 0 namespaces, 0 processes, no state dir"
echo
echo "e2e passed ($mode); report in $report"
