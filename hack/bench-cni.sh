#!/usr/bin/env bash
# ADD/DEL time per pod: kproxy-cni vs the reference bridge + host-local (Debian containernetworking-plugins).
# Everything runs inside namespaces this script creates (a node namespace holding the bridge, one per pod);
# they are deleted on exit. Usage: hack/bench-cni.sh [N=100] [CONCURRENCY=20]   (run as root)
set -euo pipefail
N="${1:-100}"; C="${2:-20}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${KPROXY_CNI_BIN:-$here/.build/release/kproxy-cni}"
[[ -x "$bin" ]] || bin="$here/.build/debug/kproxy-cni"
[[ -x "$bin" ]] || { echo "bench-cni: build kproxy-cni first" >&2; exit 1; }
[[ -x /usr/lib/cni/bridge ]] || { echo "bench-cni: install containernetworking-plugins" >&2; exit 1; }
if [[ "${KP_BENCH_INSIDE:-}" == 1 ]]; then
  id="$KP_BENCH_ID"; work="$KP_BENCH_WORK"; node="kp-bn-$id"; plugdir="$work/bin"
else
id="$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
node="kp-bn-$id"; work="$(mktemp -d /tmp/kp-bench-cni.XXXXXX)"
plugdir="$work/bin"; mkdir -p "$plugdir"; cp "$bin" "$plugdir/kproxy-cni"
cleanup() {
  for ((i = 0; i < N; i++)); do ip netns del "kp-bp-$id-$i" 2>/dev/null || true; done
  ip netns del "$node" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$node"
for ((i = 0; i < N; i++)); do ip netns add "kp-bp-$id-$i"; done
fi

conf_kproxy='{"cniVersion":"1.0.0","name":"bk","type":"kproxy-cni","bridge":"kpbk0","clusterDNS":"10.96.0.10","ipam":{"type":"kproxy-cni","subnet":"10.244.0.0/16","dataDir":"'$work'/data"}}'
conf_ref='{"cniVersion":"1.0.0","name":"br","type":"bridge","bridge":"kpbr0","isGateway":true,"hairpinMode":true,"ipam":{"type":"host-local","subnet":"10.245.0.0/16","dataDir":"'$work'/data"}}'

# one <plugin> <config> <command> <index>   (runs inside the node namespace: the whole loop was entered once)
one() {
  echo "$2" | env -i CNI_COMMAND="$3" CNI_CONTAINERID="bench$4" CNI_NETNS="/var/run/netns/kp-bp-$id-$4" \
    CNI_IFNAME=eth0 CNI_PATH="$plugdir:/usr/lib/cni" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$1" >/dev/null
}
export -f one; export node id plugdir

now() { date +%s%N; }
# phase <label> <plugin> <config> <command> <parallelism>
phase() {
  local start end
  start=$(now)
  if [[ "$5" == 1 ]]; then
    for ((i = 0; i < N; i++)); do one "$2" "$3" "$4" "$i"; done
  else
    seq 0 $((N - 1)) | xargs -P "$5" -I{} bash -c 'one "$@"' _ "$2" "$3" "$4" {}
  fi
  end=$(now)
  printf '%-12s %-4s %-10s %8.2f ms/pod  (%d pods, %d-way)\n' "$1" "$4" "" "$(echo "($end - $start) / 1000000 / $N" | bc -l)" "$N" "$5"
}

if [[ "${KP_BENCH_INSIDE:-}" != 1 ]]; then
  echo "kproxy-cni: $bin"
  # Enter the node namespace once, so per-call `ip netns exec` cost does not drown the plugins' own time.
  KP_BENCH_INSIDE=1 KP_BENCH_ID="$id" KP_BENCH_WORK="$work" ip netns exec "$node" "$0" "$N" "$C"
  exit
fi
for par in 1 "$C"; do
  phase kproxy-cni "$plugdir/kproxy-cni" "$conf_kproxy" ADD "$par"
  phase kproxy-cni "$plugdir/kproxy-cni" "$conf_kproxy" DEL "$par"
  phase reference /usr/lib/cni/bridge "$conf_ref" ADD "$par"
  phase reference /usr/lib/cni/bridge "$conf_ref" DEL "$par"
done
