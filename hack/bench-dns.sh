#!/usr/bin/env bash
# Benchmarks `kproxy dns` (live data from `kproxy controlplane`) against dnsmasq (hosts file) and NSD
# (zone file) serving the same N service names, with dnsperf. Each server is pinned to CPU 0 and dnsperf to
# CPU 1; loopback only. Installs its own bench-only packages (dnsperf, nsd) so CI stays lean.
# Usage: hack/bench-dns.sh [N=10000] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; secs="${2:-10}"
need=()
for pair in dnsperf:dnsperf nsd:nsd dnsmasq:dnsmasq-base dig:bind9-dnsutils taskset:util-linux; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  echo "bench-dns: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts nsd as a service on install; the benchmark runs its own instance.
  systemctl disable --now nsd >/dev/null 2>&1 || true
fi
command -v kubectl >/dev/null || { echo "bench-dns: kubectl missing (hack/install-deps.sh)" >&2; exit 1; }
swift build -c release --product kproxy  # progress shown; set -e stops on a failed build
kproxy="$(swift build -c release --show-bin-path)/kproxy"
work="$(mktemp -d /tmp/bench-dns.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
addr=127.0.0.$((RANDOM % 100 + 100))

# Memory of a server: PSS summed over the process and its children (NSD forks a server and xfrd; PSS
# does not count their shared pages twice). KiB.
mem() { local total=0 p; for p in $1 $(pgrep -P "$1" || true); do
  total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$total"; }
answers() { dig @"$addr" -p "$1" +short +tries=1 +time=1 $2 2>/dev/null | grep -q .; }
wait_for() {  # port name [tries]
  for _ in $(seq "${3:-300}"); do answers "$1" "$2" && return 0; sleep 0.1; done
  echo "bench-dns: server on port $1 did not answer $2" >&2; return 1
}

# Control plane; kproxy dns starts before the services exist so its empty-cache memory is known.
"$kproxy" controlplane --data-dir "$work/cp" --listen 127.0.0.1:0 --write-kubeconfig "$work/kc" --service-cidr 10.96.0.0/12 \
  >"$work/cp.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$work/kc" ] && break; sleep 0.1; done
export KUBECONFIG="$work/kc"
kubectl create namespace bench >/dev/null
taskset -c 0 "$kproxy" dns --kubeconfig "$work/kc" --listen "$addr:5300" --upstream 127.0.0.1:9 --threads 1 --metrics-bind-address "" \
  --log-level warning >"$work/dns.log" 2>&1 & kpid=$!; pids+=($kpid)
wait_for 5300 "dns-version.cluster.local TXT"
sleep 1; kproxy_empty=$(mem "$kpid")

started=$(date +%s)
for ((start = 0; start < n; start += 1000)); do
  { echo '{"apiVersion":"v1","kind":"List","items":['
    for ((i = start; i < start + 1000 && i < n; i++)); do
      ((i > start)) && echo ','
      echo "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-$i\",\"namespace\":\"bench\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}"
    done
    echo ']}'; } | kubectl create --validate=false -f - >/dev/null
done
wait_for 5300 "svc-$((n - 1)).bench.svc.cluster.local" 600
echo "bench-dns: $n services created and served by kproxy dns in $(($(date +%s) - started))s"
kubectl get services -n bench -o jsonpath='{range .items[*]}{.metadata.name} {.spec.clusterIP}{"\n"}{end}' >"$work/ips"
[ "$(wc -l <"$work/ips")" -eq "$n" ] || { echo "bench-dns: expected $n services" >&2; exit 1; }

# The same data for dnsmasq (hosts file; SRV records as --srv-host) and NSD (zone file).
awk '{print $2, $1 ".bench.svc.cluster.local"}' "$work/ips" >"$work/hosts"
awk '{print "srv-host=_http._tcp." $1 ".bench.svc.cluster.local," $1 ".bench.svc.cluster.local,80,0,100"}' "$work/ips" >"$work/dnsmasq.conf"
{ echo '$ORIGIN cluster.local.'; echo '$TTL 5'
  echo '@ IN SOA ns.dns hostmaster 1 7200 1800 86400 5'; echo '@ IN NS ns.dns'; echo 'ns.dns IN A 127.0.0.1'
  awk '{print $1 ".bench.svc IN A " $2; print "_http._tcp." $1 ".bench.svc IN SRV 0 100 80 " $1 ".bench.svc"}' "$work/ips"; } >"$work/zone"
nsd-checkzone cluster.local "$work/zone" >/dev/null
cat >"$work/nsd.conf" <<CONF
server:
  ip-address: $addr@5302
  server-count: 1
  reuseport: no
  database: ""
  zonelistfile: "$work/zone.list"
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  xfrdir: "$work"
  zonesdir: "$work"
  chroot: ""
  username: ""
  verbosity: 0
  # NSD rate-limits responses per source /24 by default (RRL); one benchmark client would be throttled.
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: cluster.local
  zonefile: "$work/zone"
CONF
nsd-checkconf "$work/nsd.conf"

# Query mix: 80% A hits, 10% SRV hits, 10% NXDOMAIN misses.
awk -v n="$n" 'BEGIN { srand(1); for (i = 0; i < 100000; i++) { r = rand(); k = int(rand() * n)
  if (r < 0.8) print "svc-" k ".bench.svc.cluster.local A"; else if (r < 0.9) print "_http._tcp.svc-" k ".bench.svc.cluster.local SRV";
  else print "nope-" k ".bench.svc.cluster.local A" } }' >"$work/queries"

declare -A qps
run() {  # name port pid
  local name=$1 port=$2 pid=$3 out
  wait_for "$port" svc-0.bench.svc.cluster.local
  # Every server must give the same answers before it is measured.
  for q in "svc-7.bench.svc.cluster.local A" "_http._tcp.svc-7.bench.svc.cluster.local SRV"; do
    dig @"$addr" -p "$port" +short $q >"$work/$name.check"
    dig @"$addr" -p 5300 +short $q | cmp -s - "$work/$name.check" || { echo "bench-dns: $name answers $q differently" >&2; cat "$work/$name.check" >&2; }
  done
  dig @"$addr" -p "$port" nope-1.bench.svc.cluster.local | grep -q 'status: NXDOMAIN' || echo "bench-dns: $name: miss is not NXDOMAIN" >&2
  # Closed loop with a bounded number of queries in flight: the qps the server sustains without dropping.
  out="$(timeout $((secs + 30)) taskset -c 1 dnsperf -s "$addr" -p "$port" -d "$work/queries" -l "$secs" -c 8 -q 64 -t 2 2>&1)"
  qps[$name]=$(awk '/Queries per second/ {print $4}' <<<"$out")
  printf '%-8s %12s %16s %14s %14s %10s\n' "$name" "${qps[$name]}" "$(awk '/Queries lost/ {print $3, $4}' <<<"$out")" \
    "$(awk '/Average Latency/ {printf "%.0f us", $4 * 1e6}' <<<"$out")" "$(awk '/Average Latency/ {gsub(/[(),]/, ""); printf "%.1f ms", $8 * 1e3}' <<<"$out")" \
    "$(($(mem "$pid") / 1024)) MiB"
}

printf '%-8s %12s %16s %14s %14s %10s\n' server qps lost "avg latency" "max latency" memory
kproxy_loaded=$(mem "$kpid")
run kproxy 5300 "$kpid"
taskset -c 0 dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file="$work/dnsmasq.conf" --bind-interfaces --listen-address="$addr" \
  --port=5301 --user=root --pid-file= --addn-hosts="$work/hosts" --local-ttl=5 --cache-size=0 \
  --local=/cluster.local/ >"$work/dnsmasq.log" 2>&1 & pids+=($!)
run dnsmasq 5301 "${pids[-1]}"
taskset -c 0 nsd -d -c "$work/nsd.conf" >"$work/nsd.log" 2>&1 & pids+=($!)
run nsd 5302 "${pids[-1]}"
echo "services: $n; query mix 80% A, 10% SRV, 10% NXDOMAIN; ${secs}s each; dnsperf -c 8 -q 64 on CPU 1, servers on CPU 0"
awk -v k="${qps[kproxy]}" -v d="${qps[dnsmasq]}" -v s="${qps[nsd]}" 'BEGIN { printf "kproxy/nsd %.2f  kproxy/dnsmasq %.2f\n", k / s, k / d }'
echo "kproxy dns memory: $((kproxy_empty / 1024)) MiB with no services, $((kproxy_loaded / 1024)) MiB with $n:" \
  "$(((kproxy_loaded - kproxy_empty) * 1024 / n)) bytes per service"
