#!/usr/bin/env bash
# Network programming latency, both proxy modes side by side: on a two-node `kproxy up` cluster (network
# namespaces only), N Services are created one after another over a ready Deployment, each with a ClusterIP
# chosen in advance, while a client pod on node-a tries the next address every 2 ms over a new connection
# (`kproxy traffic --first-ok`). Latency = first successful request − the moment `kubectl apply` returned
# (the write acknowledged); also reported from the moment kubectl was started (its own start-up included).
# kube-proxy's SLI on a 100-node cluster, for comparison: p50 1.5 s, p99 6.8 s (upstream's scalability tests).
# Usage: hack/bench-netprog.sh [--services 100] [--modes "nftables userspace"]
# Results: hack/results/netprog.md (table) and hack/results/netprog-<mode>.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
services=100; modes="nftables userspace"
while [ $# -gt 0 ]; do
  case "$1" in
    --services) services="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    *) echo "usage: $0 [--services N] [--modes \"nftables userspace\"]" >&2; exit 2 ;;
  esac
done
[ "$services" -ge 1 ] && [ "$services" -le 250 ] || { echo "--services must be 1..250" >&2; exit 2; }
bash hack/install-deps.sh >/dev/null
swift build -c release --product kproxy
swift build -c release --product kproxy-cni
bin="$(swift build -c release --show-bin-path)/kproxy"
out=hack/results; mkdir -p "$out"
work="$(mktemp -d /tmp/kproxy-netprog.XXXXXX)"
state=""; up_pid=""
cleanup() {
  set +e
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then kill -TERM "$up_pid"; wait "$up_pid"; fi
  [ -n "$state" ] && [ -f "$state/up.json" ] && "$bin" down --state-dir "$state" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }

table="$work/table.md"
{
  echo "| mode | Services | p50 (from acknowledged) | p99 | max | p50 (from kubectl start) | p99 |"
  echo "|---|---|---|---|---|---|---|"
} >"$table"
for mode in $modes; do
  state="/tmp/kproxy-netprog-$mode-$$"
  echo "==> $mode: kproxy up"
  "$bin" up --nodes 2 --proxy-mode "$mode" --state-dir "$state" --api-port 0 >"$work/up-$mode.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 300); do grep -q '^cluster ready' "$work/up-$mode.log" && break; sleep 0.1; done
  grep -q '^cluster ready' "$work/up-$mode.log" || { cat "$work/up-$mode.log" >&2; exit 1; }
  export KUBECONFIG="$state/kubeconfig"
  kc() { kubectl --cache-dir "$work/kube-cache" "$@"; }
  cp hack/e2e/server.py "$work/server.py"
  kc create deployment bench --image=python --replicas=2 --port=8080 -- python3 "$work/server.py" >/dev/null
  kc rollout status deployment/bench --timeout=60s >/dev/null
  targets=$(for i in $(seq "$services"); do printf 'http://10.100.%d.%d/,' $((i / 250)) $((i % 250 + 1)); done)
  kc run prober --image=kproxy --restart=Never --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-a"}}}' \
    --command -- "$bin" traffic --first-ok "${targets%,}" --timeout 0.01 >/dev/null
  kc wait --for=condition=Ready pod/prober --timeout=30s >/dev/null
  csv="$out/netprog-$mode.csv"
  echo "service,cluster_ip,kubectl_start,acknowledged,first_ok,latency_ms,latency_from_start_ms" >"$csv"
  for i in $(seq "$services"); do
    ip=$(printf '10.100.%d.%d' $((i / 250)) $((i % 250 + 1)))
    t_start=$(now)
    kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: bench-$i}
spec:
  clusterIP: $ip
  selector: {app: bench}
  ports: [{port: 80, targetPort: 8080}]
EOF
    t_ack=$(now)
    first=""
    for _ in $(seq 200); do
      # A failed `kubectl logs` (a transient API error) counts as not yet answered.
      if logs=$(kc logs prober); then
        first=$(jq -r --arg t "http://$ip/" 'select(.target == $t) | .first_ok' <<<"$logs")
      fi
      [ -n "$first" ] && break
      sleep 0.05
    done
    [ -n "$first" ] || { echo "bench-$i ($ip) never answered" >&2; exit 1; }
    lat=$(echo "($first - $t_ack) * 1000" | bc -l); lat_start=$(echo "($first - $t_start) * 1000" | bc -l)
    printf 'bench-%d,%s,%s,%s,%s,%.1f,%.1f\n' "$i" "$ip" "$t_start" "$t_ack" "$first" "$lat" "$lat_start" >>"$csv"
    printf '\r  %d/%d Services, last %.0f ms   ' "$i" "$services" "$lat"
  done
  echo
  python3 - "$csv" "$mode" "$services" >>"$table" <<'EOF'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def pct(values, p):  # nearest rank: the smallest value with at least p% of the values at or below it
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]
a = [float(r["latency_ms"]) for r in rows]; s = [float(r["latency_from_start_ms"]) for r in rows]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {pct(a, 50):.0f} ms | {pct(a, 99):.0f} ms | {max(a):.0f} ms | {pct(s, 50):.0f} ms | {pct(s, 99):.0f} ms |")
EOF
  kill -TERM "$up_pid"; wait "$up_pid"; up_pid=""
done
{
  echo "# Network programming latency ($(date -u +%F), $(nproc) cores)"
  echo
  echo "From \`kubectl apply\` of a Service over ready pods to the first successful request from a client pod that"
  echo "tries the address every 2 ms (hack/bench-netprog.sh). kube-proxy's SLI on a 100-node test: p50 1.5 s, p99 6.8 s."
  echo
  cat "$table"
} | tee "$out/netprog.md"
