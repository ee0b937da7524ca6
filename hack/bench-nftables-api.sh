#!/usr/bin/env bash
# Through the API (issue 9): with SERVICES (default 10,000) Services × 1 endpoint installed, `kubectl create`
# of one more Service and its EndpointSlice, then the time until the first successful TCP connection to its
# ClusterIP from the node — measured from the start of kubectl and from its exit (the API accepted both
# objects). `kproxy controlplane` and `kproxy proxy --mode nftables` run in a node network namespace, the
# endpoint is a web server in a pod namespace; both namespaces are created here and deleted on exit.
#   bash hack/bench-nftables-api.sh            10,000 Services, 10 rounds
#   SERVICES=2000 ROUNDS=5 bash hack/bench-nftables-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building kproxy (release)"
  swift build -c release --product kproxy
fi
bin="$(swift build -c release --show-bin-path)/kproxy"
services="${SERVICES:-10000}"
rounds="${ROUNDS:-10}"
suffix="$$-$RANDOM"
node="kp-api-node-$suffix"
pod="kp-api-pod-$suffix"
dir="$(mktemp -d)"
pids=()
cleanup() {
  local status=$?
  set +e  # clean up everything even when a step fails
  if [ "$status" != 0 ]; then
    ip netns exec "$node" nft list table ip kproxy 2>&1 | grep -c . | sed 's/^/nft table lines: /'
    for log in "$dir"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -20 "$log"; }; done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$node" 2>/dev/null
  ip netns del "$pod" 2>/dev/null
  rm -rf "$dir"
  return "$status"
}
trap cleanup EXIT

echo "==> network namespaces $node (control plane, proxy) and $pod (endpoint)"
ip netns add "$node"
ip netns add "$pod"
ip -n "$node" link set lo up
ip -n "$pod" link set lo up
ip -n "$node" link add h0 type veth peer name p0 netns "$pod"
ip -n "$node" addr add 10.244.7.1/24 dev h0
ip -n "$pod" addr add 10.244.7.10/24 dev p0
ip -n "$node" link set h0 up
ip -n "$pod" link set p0 up
ip -n "$node" route add 10.96.0.0/12 dev h0
ip netns exec "$pod" python3 -m http.server 8080 --bind 10.244.7.10 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do ip netns exec "$node" curl -s -o /dev/null --max-time 1 http://10.244.7.10:8080/ && break; sleep 0.1; done
ip netns exec "$node" curl -s -o /dev/null --max-time 1 http://10.244.7.10:8080/

echo "==> kproxy controlplane"
ip netns exec "$node" "$bin" controlplane --data-dir "$dir/data" --listen 127.0.0.1:6443 \
  --write-kubeconfig "$dir/kubeconfig" >"$dir/controlplane.log" 2>&1 &
pids+=($!)
kubectl=(ip netns exec "$node" kubectl --kubeconfig "$dir/kubeconfig" --cache-dir "$dir/cache")
for _ in $(seq 100); do "${kubectl[@]}" get --raw /readyz >/dev/null 2>&1 && break; sleep 0.2; done
"${kubectl[@]}" get --raw /readyz >/dev/null
echo '{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},"status":{"addresses":[{"type":"InternalIP","address":"10.244.7.1"}]}}' |
  "${kubectl[@]}" create --validate=false -f - >/dev/null

echo "==> creating $services Services with their EndpointSlices"
python3 - "$services" "$dir/bulk" <<'PY'
import json, os, sys
n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out)
def objects(i, ip):
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "namespace": "default"},
           "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    eps = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": f"s{i}-1", "namespace": "default", "labels": {"kubernetes.io/service-name": f"s{i}"}},
           "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
           "endpoints": [{"addresses": ["10.244.7.10"], "conditions": {"ready": True}, "nodeName": "node-a"}]}
    return [svc, eps]
chunk = 1000
for start in range(0, n, chunk):
    items = []
    for i in range(start, min(n, start + chunk)):
        items += objects(i, f"10.97.{i // 250}.{i % 250 + 1}")
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(f"{out}/{start // chunk:05d}.json", "w"))
for r in range(100):
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects(f"new{r}", f"10.98.0.{r + 1}")}, open(f"{out}/new{r}.json", "w"))
PY
for f in "$dir"/bulk/0*.json; do "${kubectl[@]}" create --validate=false -f "$f" >/dev/null; printf '.'; done
echo

echo "==> kproxy proxy --mode nftables"
ip netns exec "$node" "$bin" proxy --kubeconfig "$dir/kubeconfig" --node node-a --mode nftables \
  --cluster-cidr 10.244.0.0/16 --service-cidr 10.96.0.0/12 >"$dir/proxy.log" 2>&1 &
pids+=($!)
last="10.97.$(( (services - 1) / 250 )).$(( (services - 1) % 250 + 1 ))"
for _ in $(seq 600); do ip netns exec "$node" curl -s -o /dev/null --max-time 1 "http://$last/" && break; sleep 0.1; done
ip netns exec "$node" curl -s -o /dev/null --max-time 1 "http://$last/"
echo "    all $services Services reachable"

echo "==> $rounds rounds: kubectl create of a Service + EndpointSlice, then connect until it answers"
ip netns exec "$node" python3 - "$rounds" "$dir" <<'PY'
import socket, subprocess, sys, time
rounds, d = int(sys.argv[1]), sys.argv[2]
kubectl = ["kubectl", "--kubeconfig", f"{d}/kubeconfig", "--cache-dir", f"{d}/cache"]
from_start, from_exit = [], []
for r in range(rounds):
    ip = f"10.98.0.{r + 1}"
    t0 = time.monotonic()
    subprocess.run(kubectl + ["create", "--validate=false", "-f", f"{d}/bulk/new{r}.json"], check=True, stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    while True:
        s = socket.socket()
        s.settimeout(0.05)
        try:
            s.connect((ip, 80))
            break
        except OSError:
            time.sleep(0.0005)
        finally:
            s.close()
        if time.monotonic() - t0 > 10:
            sys.exit(f"{ip} never answered")
    t2 = time.monotonic()
    from_start.append((t2 - t0) * 1000)
    from_exit.append((t2 - t1) * 1000)
    print(f"  round {r + 1}: {from_start[-1]:6.1f} ms from kubectl's start, {from_exit[-1]:6.1f} ms after it returned")
    time.sleep(0.3)
def med(v): return sorted(v)[len(v) // 2]
print(f"median {med(from_start):.1f} ms from kubectl's start (max {max(from_start):.1f}); "
      f"{med(from_exit):.1f} ms after the API accepted both objects (max {max(from_exit):.1f})")
PY
