#!/usr/bin/env bash
# Benchmarks `kproxy dns` against dnsmasq (hosts file) and NSD (zone file) serving the same N
# service names, with dnsperf. Each server is pinned to CPU 0, dnsperf to CPU 1. Loopback only.
# Usage: hack/bench-dns.sh [N=10000] [SECONDS=15]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; secs="${2:-15}"
for tool in dnsperf dnsmasq nsd dig kubectl; do
  command -v "$tool" >/dev/null || { echo "bench-dns: $tool missing (apt-get install dnsperf dnsmasq-base nsd bind9-dnsutils)" >&2; exit 1; }
done
swift build -c release --product kproxy >/dev/null
kproxy="$(swift build -c release --show-bin-path)/kproxy"
work="$(mktemp -d /tmp/bench-dns.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
addr=127.0.0.$((RANDOM % 100 + 100))

# Control plane with N services in namespace bench (ClusterIPs allocated by it).
"$kproxy" controlplane --data-dir "$work/cp" --listen 127.0.0.1:0 --write-kubeconfig "$work/kc" --service-cidr 10.96.0.0/12 \
  >"$work/cp.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$work/kc" ] && break; sleep 0.1; done
export KUBECONFIG="$work/kc"
kubectl create namespace bench >/dev/null
for ((start = 0; start < n; start += 1000)); do
  { echo '{"apiVersion":"v1","kind":"List","items":['
    for ((i = start; i < start + 1000 && i < n; i++)); do
      ((i > start)) && echo ','
      echo "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-$i\",\"namespace\":\"bench\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}"
    done
    echo ']}'; } | kubectl create --validate=false -f - >/dev/null
done
kubectl get services -n bench -o jsonpath='{range .items[*]}{.metadata.name} {.spec.clusterIP}{"\n"}{end}' >"$work/ips"

# The same data for dnsmasq (hosts file) and NSD (zone file).
awk '{print $2, $1 ".bench.svc.cluster.local"}' "$work/ips" >"$work/hosts"
{ echo '$ORIGIN cluster.local.'; echo '$TTL 5'
  echo '@ IN SOA ns.dns hostmaster 1 7200 1800 86400 5'; echo '@ IN NS ns.dns'; echo 'ns.dns IN A 127.0.0.1'
  awk '{print $1 ".bench.svc IN A " $2; print "_http._tcp." $1 ".bench.svc IN SRV 0 100 80 " $1 ".bench.svc"}' "$work/ips"; } >"$work/zone"
cat >"$work/nsd.conf" <<CONF
server:
  ip-address: $addr@5302
  server-count: 1
  database: ""
  zonelistfile: "$work/zone.list"
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonesdir: "$work"
  username: ""
  verbosity: 0
zone:
  name: cluster.local
  zonefile: "$work/zone"
CONF

# Query mix: 80% A hits, 10% SRV, 10% misses.
awk -v n="$n" 'BEGIN { srand(1); for (i = 0; i < 100000; i++) { r = rand(); k = int(rand() * n)
  if (r < 0.8) print "svc-" k ".bench.svc.cluster.local A"; else if (r < 0.9) print "_http._tcp.svc-" k ".bench.svc.cluster.local SRV";
  else print "nope-" k ".bench.svc.cluster.local A" } }' >"$work/queries"

rss() { awk '/VmRSS/ {print $2 " KiB"}' "/proc/$1/status"; }
wait_for() { for _ in $(seq 200); do dig @"$addr" -p "$1" +short +tries=1 +time=1 svc-0.bench.svc.cluster.local | grep -q . && return 0; sleep 0.1; done; echo "bench-dns: server on port $1 did not answer" >&2; return 1; }
perf() {  # name port pid
  wait_for "$2"
  local out; out="$(taskset -c 1 dnsperf -s "$addr" -p "$2" -d "$work/queries" -l "$secs" -c 16 -Q 2000000 -q 500 2>&1)"
  printf '%-10s qps %-12s lost %-10s avg latency %-12s rss %s\n' "$1" \
    "$(awk '/Queries per second/ {print $4}' <<<"$out")" "$(awk '/Queries lost/ {print $3}' <<<"$out")" \
    "$(awk '/Average Latency/ {print $4}' <<<"$out")s" "$(rss "$3")"
}

taskset -c 0 "$kproxy" dns --kubeconfig "$work/kc" --listen "$addr:5300" --upstream 127.0.0.1:9 --threads 1 --metrics-bind-address "" \
  --log-level warning >"$work/dns.log" 2>&1 & pids+=($!)
perf "kproxy" 5300 "${pids[-1]}"
taskset -c 0 dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --bind-interfaces --listen-address="$addr" \
  --port=5301 --user=root --pid-file= --addn-hosts="$work/hosts" --local-ttl=5 --cache-size=0 \
  --local=/cluster.local/ >"$work/dnsmasq.log" 2>&1 & pids+=($!)
perf "dnsmasq" 5301 "${pids[-1]}"
taskset -c 0 nsd -d -c "$work/nsd.conf" >"$work/nsd.log" 2>&1 & pids+=($!)
perf "nsd" 5302 "${pids[-1]}"
echo "services: $n, query mix: 80% A, 10% SRV, 10% NXDOMAIN; ${secs}s each; dnsperf -c 16 -q 500 on CPU 1, servers on CPU 0"
