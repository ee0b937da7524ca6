#!/usr/bin/env bash
# The all-in-one node, run by hack/up.sh inside the network namespace it created (never in the root
# namespace; entered with `nsenter --net`, so the mount namespace is the host's and the pods' namespaces
# under /run/netns are visible to `ip netns`): the control plane, `kproxy node` (pods as processes attached
# by kproxy-cni), `kproxy proxy` (nftables) and the cluster DNS as a Deployment of `kproxy dns` pods behind
# kube-dns (10.96.0.10). The demo: a Deployment and its Service made with kubectl, a client pod that
# resolves the Service by name and calls it, kubectl logs and exec, and a scale to 5 and back with the
# endpoints following. Arguments: --demo (exit after the demo, non-zero when a step fails, instead of serving).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KPROXY_NODE_NETNS:-}" ] || { echo "node.sh: run through hack/up.sh (it creates the node namespace)" >&2; exit 1; }
bin="${KPROXY_BIN:?}"; cni="${KPROXY_CNI_BIN:?}"
work="$(mktemp -d "/tmp/kproxy-node.XXXXXX")"
data="$work/controlplane"
kubeconfig="$work/kubeconfig"
export KUBECONFIG="$kubeconfig"
node_ip=192.168.50.10
step() { printf '\n==> %s\n' "$*"; }
kc() { kubectl --cache-dir "$work/kube-cache" "$@"; }
fail() { echo "demo failed: $*" >&2; exit 1; }

pids=()
cleanup() {
  set +e
  # The agent stops the pods it runs (SIGTERM, CNI DEL, namespaces removed) when they are deleted.
  if [ -n "${agent_pid:-}" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kc delete deployments,pods --all -A --grace-period=2 --timeout=30s >/dev/null 2>&1
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  # Whatever the agent could not remove (a crash): the pods' namespaces it recorded, and their processes.
  for dir in "$work"/node/pods/*/; do
    [ -d "$dir" ] || continue
    ns="kproxy-$(basename "$dir")"
    if [ -e "/run/netns/$ns" ]; then
      for p in $(ip netns pids "$ns"); do kill -9 "$p"; done
      ip netns del "$ns"
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
# The node's address, on one end of a veth pair that leads nowhere (nothing leaves this namespace).
ip link add uplink0 type veth peer name uplink1
ip addr add "$node_ip/24" dev uplink0
ip link set uplink0 up; ip link set uplink1 up
sysctl -q -w net.ipv4.ip_forward=1

step "control plane (https://$node_ip:6443, data in $data)"
"$bin" controlplane --data-dir "$data" --listen 0.0.0.0:6443 --advertise-address "$node_ip" \
  --write-kubeconfig "$kubeconfig" >"$work/controlplane.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do kc get --raw /readyz >/dev/null 2>&1 && break; sleep 0.1; done
kc get --raw /readyz >/dev/null || { cat "$work/controlplane.log" >&2; fail "control plane not ready"; }
# What pods use: the API through the kubernetes Service, as in-cluster clients reach it.
sed "s#server: https://.*#server: https://10.96.0.1:443#" "$kubeconfig" >"$work/pod-kubeconfig"

step "kproxy node node-a (CNI: kproxy-cni and portmap from $work/cni-bin, config written to $work/net.d)"
mkdir -p "$work/cni-bin"
cp "$cni" "$work/cni-bin/kproxy-cni"
[ -x /usr/lib/cni/portmap ] && cp /usr/lib/cni/portmap "$work/cni-bin/"
"$bin" node --kubeconfig "$kubeconfig" --node node-a --node-ip "$node_ip" --cluster-dns 10.96.0.10 \
  --cni-conf-dir "$work/net.d" --cni-bin-dir "$work/cni-bin" --cni-cache-dir "$work/cni" \
  --ipam-data-dir "$work/ipam" --root-dir "$work/node" --resolv-conf /dev/null >"$work/node.log" 2>&1 &
agent_pid=$!; pids+=($agent_pid)
kc wait --for=condition=Ready node/node-a --timeout=30s || { cat "$work/node.log" >&2; fail "node-a not Ready"; }
kc get nodes -o wide

step "kproxy proxy --mode nftables (node-a)"
"$bin" proxy --kubeconfig "$kubeconfig" --node node-a --mode nftables --cluster-cidr 10.244.0.0/16 \
  --service-cidr 10.96.0.0/12 >"$work/proxy.log" 2>&1 &
pids+=($!)
ip route add 10.96.0.0/12 dev uplink0   # Service addresses need a route to be DNATed; inside this namespace only

step "cluster DNS: kproxy dns pods in kube-system behind kube-dns (10.96.0.10)"
kc apply -f - <<EOF2
apiVersion: apps/v1
kind: Deployment
metadata: {name: kproxy-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      dnsPolicy: Default
      containers:
      - name: dns
        image: kproxy
        command: ["$bin", "dns", "--kubeconfig", "$work/pod-kubeconfig", "--listen", "0.0.0.0:53", "--resolv-conf", "/dev/null"]
        ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53, protocol: TCP}]
        readinessProbe: {tcpSocket: {port: 53}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, protocol: UDP, port: 53, targetPort: 53}
  - {name: dns-tcp, protocol: TCP, port: 53, targetPort: 53}
EOF2
kc -n kube-system rollout status deployment/kproxy-dns --timeout=60s || { tail -20 "$work/node.log" >&2; fail "DNS not ready"; }

step "kubectl create deployment web --replicas=3 --port=8080 -- <a web server that names its pod>; kubectl expose"
kc create namespace demo
kc -n demo create deployment web --image=python --replicas=3 --port=8080 -- \
  sh -c 'mkdir -p /tmp/www-$(hostname) && echo "hello from $(hostname)" >/tmp/www-$(hostname)/index.html && exec python3 -m http.server 8080 --directory /tmp/www-$(hostname)'
kc -n demo expose deployment web --port 80 --target-port 8080
kc -n demo rollout status deployment/web --timeout=60s || fail "web rollout"
kc -n demo get pods -o wide

step "a client pod resolves web by name (its resolv.conf: the cluster DNS, search demo.svc.cluster.local …) and calls it"
kc -n demo run client --image=busybox --command -- \
  sh -c 'cat /etc/resolv.conf; getent hosts web; for i in 1 2 3 4 5 6; do curl -s --max-time 2 http://web/ || echo "(failed)"; done; echo done; exec sleep 3600'
for _ in $(seq 100); do
  kc -n demo logs client 2>/dev/null | grep -qx done && break; sleep 0.2
done
step "kubectl logs client"
kc -n demo logs client
[ "$(kc -n demo logs client | grep -c '^hello from web-')" -eq 6 ] || fail "not every request was answered"
step "kubectl exec client -- curl http://web"
kc -n demo exec client -- curl -s --max-time 2 http://web/ | tee "$work/exec.out"
grep -q '^hello from web-' "$work/exec.out" || fail "exec: no answer"

endpoints() { kc -n demo get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{" "}{end}' | wc -w; }
wait_endpoints() {
  for _ in $(seq 150); do [ "$(endpoints)" -eq "$1" ] && return 0; sleep 0.2; done
  fail "expected $1 ready endpoints, have $(endpoints)"
}
step "kubectl scale deployment web --replicas=5: the endpoints follow"
kc -n demo scale deployment web --replicas=5
wait_endpoints 5
kc -n demo get endpointslices -l kubernetes.io/service-name=web
step "kubectl scale deployment web --replicas=3"
kc -n demo scale deployment web --replicas=3
wait_endpoints 3
kc -n demo get endpointslices -l kubernetes.io/service-name=web
kc -n demo get pods -o wide

step "nft list table ip kproxy (first lines)"
nft list table ip kproxy | sed -n 1,20p

if [ "${1:-}" = "--demo" ]; then echo; echo "demo passed"; exit 0; fi
echo
echo "==> node running in network namespace $KPROXY_NODE_NETNS; Ctrl-C stops everything. Try:"
echo "    nsenter --net=/run/netns/$KPROXY_NODE_NETNS kubectl --kubeconfig $kubeconfig get pods -A -o wide"
echo "    nsenter --net=/run/netns/$KPROXY_NODE_NETNS kubectl --kubeconfig $kubeconfig -n demo logs deployment/web"
wait "${pids[0]}"
