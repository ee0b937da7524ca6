#!/usr/bin/env bash
# The all-in-one node, run by hack/up.sh inside a network namespace it created (never in the root
# namespace): the control plane, `kproxy proxy` (nftables), `kproxy dns`, and two pods attached by
# `kproxy-cni` with a small web server each; then a pod resolves the Service's name through the cluster DNS
# and reaches it through its ClusterIP. Arguments: --demo (exit after the demo instead of serving).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KPROXY_NODE_NETNS:-}" ] || { echo "node.sh: run through hack/up.sh (it creates the node namespace)" >&2; exit 1; }
bin="${KPROXY_BIN:?}"; cni="${KPROXY_CNI_BIN:?}"
run="${KPROXY_RUN_ID:?}"
work="$(mktemp -d "/tmp/kproxy-node.XXXXXX")"
data="${KPROXY_DATA_DIR:-/var/lib/kproxy/controlplane}"
kubeconfig="$data/kubeconfig"
export KUBECONFIG="$kubeconfig"
step() { printf '\n==> %s\n' "$*"; }
kc() { kubectl --cache-dir "$work/kube-cache" "$@"; }

pids=(); pods=()
cleanup() {
  for pod in "${pods[@]}"; do
    printf '%s' "$cni_conf" | env -i CNI_COMMAND=DEL CNI_CONTAINERID="$run-$pod" CNI_NETNS="/var/run/netns/kp-$run-$pod" \
      CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$cni" >/dev/null 2>&1 || true
    ip netns del "kp-$run-$pod" 2>/dev/null || true
    rm -rf "/etc/netns/kp-$run-$pod"
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
ip addr add 192.168.50.10/32 dev lo   # node-a's InternalIP (hack/examples/demo.yaml)
sysctl -q -w net.ipv4.ip_forward=1

step "control plane (https://127.0.0.1:6443, data in $data)"
mkdir -p "$data"
"$bin" controlplane --data-dir "$data" --listen 127.0.0.1:6443 --write-kubeconfig "$kubeconfig" >"$work/controlplane.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do kc get --raw /readyz >/dev/null 2>&1 && break; sleep 0.1; done
kc get --raw /readyz >/dev/null || { cat "$work/controlplane.log" >&2; exit 1; }

bash hack/demo.sh

step "pods attached by kproxy-cni (veth, bridge, addresses from node-a's pod CIDR)"
cidr=$(kc get node node-a -o jsonpath='{.spec.podCIDR}')
gateway="${cidr%.*/*}.1"
cni_conf='{"cniVersion":"1.1.0","name":"kproxy-demo","type":"kproxy-cni","bridge":"kproxy0","clusterDNS":"10.96.0.10","ipam":{"type":"kproxy-cni","subnet":"'$cidr'","dataDir":"'$work'/ipam"}}'
for pod in web-1 web-2; do
  ip netns add "kp-$run-$pod"; pods+=("$pod")
  result=$(printf '%s' "$cni_conf" | env -i CNI_COMMAND=ADD CNI_CONTAINERID="$run-$pod" CNI_NETNS="/var/run/netns/kp-$run-$pod" \
    CNI_IFNAME=eth0 CNI_ARGS="K8S_POD_NAMESPACE=demo;K8S_POD_NAME=$pod" CNI_PATH=/usr/lib/cni "$cni")
  ip=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"].split("/")[0])' <<<"$result")
  echo "$pod: $ip ($(python3 -c 'import json,sys; r=json.load(sys.stdin); print("dns", r["dns"]["nameservers"][0], "search", " ".join(r["dns"]["search"]))' <<<"$result"))"
  # The runtime's part: the pod's resolv.conf from the CNI result (`ip netns exec` mounts /etc/netns/<ns>/*).
  mkdir -p "/etc/netns/kp-$run-$pod"
  printf 'nameserver 10.96.0.10\nsearch demo.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
    >"/etc/netns/kp-$run-$pod/resolv.conf"
  mkdir -p "$work/www-$pod"; echo "hello from $pod ($ip)" >"$work/www-$pod/index.html"
  ip netns exec "kp-$run-$pod" python3 -m http.server 8080 --directory "$work/www-$pod" >/dev/null 2>&1 &
  pids+=($!)
  # The kubelet's part: report the pod running and ready with the address CNI gave it.
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  kc -n demo patch pod "$pod" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$ip\",\"podIPs\":[{\"ip\":\"$ip\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null
done
ip route add 10.96.0.0/12 dev kproxy0   # Service addresses, inside this namespace only

step "cluster DNS: kube-system/kube-dns (10.96.0.10) served by kproxy dns on the node ($gateway:53)"
kc get namespace kube-system >/dev/null 2>&1 || kc create namespace kube-system >/dev/null
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  ports:
  - {name: dns, protocol: UDP, port: 53}
  - {name: dns-tcp, protocol: TCP, port: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns}
addressType: IPv4
endpoints:
- addresses: ["$gateway"]
  conditions: {ready: true}
ports:
- {name: dns, protocol: UDP, port: 53}
- {name: dns-tcp, protocol: TCP, port: 53}
EOF
"$bin" dns --kubeconfig "$kubeconfig" --listen "$gateway:53" --resolv-conf /dev/null >"$work/dns.log" 2>&1 &
pids+=($!)

step "kproxy proxy --mode nftables (node-a)"
"$bin" proxy --kubeconfig "$kubeconfig" --node node-a --mode nftables --cluster-cidr 10.244.0.0/16 \
  --service-cidr 10.96.0.0/12 >"$work/proxy.log" 2>&1 &
pids+=($!)
in_pod() { ip netns exec "kp-$run-web-1" "$@"; }
for _ in $(seq 100); do in_pod curl -s --max-time 1 http://web.demo.svc.cluster.local/ >/dev/null 2>&1 && break; sleep 0.2; done

step "from pod web-1: dig web.demo.svc.cluster.local (through the kube-dns ClusterIP)"
in_pod dig +noall +answer +search web.demo.svc.cluster.local
in_pod dig +noall +answer SRV _http._tcp.web.demo.svc.cluster.local
in_pod dig +noall +answer +search web-headless.demo.svc.cluster.local
step "from pod web-1: curl http://web (ClusterIP, random endpoint each time; web-1 reaching itself is hairpinned)"
for _ in 1 2 3 4 5 6; do in_pod curl -s --max-time 2 http://web/ || echo "(failed)"; done
step "NodePort on node-a's address"
port=$(kc -n demo get service web-nodeport -o jsonpath='{.spec.ports[0].nodePort}')
curl -s --max-time 2 "http://192.168.50.10:$port/" || echo "(failed)"
step "nft list table ip kproxy (first lines)"
nft list table ip kproxy | head -30 || true  # head closes the pipe early
step "kproxy metrics (excerpt)"
curl -s http://127.0.0.1:10249/metrics | grep -E '^kubeproxy_sync_proxy_rules_(duration_seconds_count|last_timestamp)' || true

if [ "${1:-}" = "--demo" ]; then exit 0; fi
echo
echo "==> node running in network namespace $KPROXY_NODE_NETNS; Ctrl-C stops everything. Try:"
echo "    ip netns exec $KPROXY_NODE_NETNS kubectl --kubeconfig $kubeconfig get svc -A"
echo "    ip netns exec kp-$run-web-1 curl http://web.demo.svc.cluster.local/"
wait "${pids[0]}"
