#!/usr/bin/env bash
# ADD/DEL time per pod: kproxy-cni vs the reference bridge + host-local (Debian containernetworking-plugins).
# Everything runs inside namespaces this script creates (a node namespace holding the bridge, one per pod);
# they are deleted on exit. Usage: hack/bench-cni.sh [N=100] [CONCURRENCY=20]   (run as root)
set -euo pipefail
N="${1:-100}"; C="${2:-20}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${KPROXY_CNI_BIN:-$here/.build/release/kproxy-cni}"
kproxy="${KPROXY_BIN:-$here/.build/release/kproxy}"
[[ -x "$kproxy" ]] || { echo "bench-cni: build kproxy first (swift build -c release)" >&2; exit 1; }
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

# phase <label> <plugin> <config> <command> <parallelism>: `kproxy bench cni-exec` runs the plugin as a
# runtime does (posix_spawn, CNI_* environment, config on stdin) for every pod and prints ms per pod.
phase() {
  printf '%s' "$3" >"$work/$1.conf"
  "$kproxy" bench cni-exec --label "$1" --plugin "$2" --config "$work/$1.conf" --command "$4" --count "$N" \
    --concurrency "$5" --netns "/var/run/netns/kp-bp-$id-%d" --cni-path "$plugdir:/usr/lib/cni"
}

if [[ "${KP_BENCH_INSIDE:-}" != 1 ]]; then
  echo "kproxy-cni: $bin"
  # Enter the node namespace once, so per-call `ip netns exec` cost does not drown the plugins' own time.
  KP_BENCH_INSIDE=1 KP_BENCH_ID="$id" KP_BENCH_WORK="$work" KPROXY_BIN="$kproxy" ip netns exec "$node" "$0" "$N" "$C"
  exit
fi
declare -A ms
for par in 1 "$C"; do
  for run in "kproxy-cni $plugdir/kproxy-cni ADD" "kproxy-cni $plugdir/kproxy-cni DEL" \
             "reference /usr/lib/cni/bridge ADD" "reference /usr/lib/cni/bridge DEL"; do
    read -r label plugin cmd <<<"$run"
    conf="$conf_kproxy"; [[ "$label" == reference ]] && conf="$conf_ref"
    line="$(phase "$label" "$plugin" "$conf" "$cmd" "$par")"
    echo "$line"
    ms["$label $cmd $par"]="$(awk '{print $3}' <<<"$line")"
  done
done
echo
printf '%-22s %12s %12s %8s\n' "per pod" kproxy-cni reference ratio
for par in 1 "$C"; do
  for cmd in ADD DEL; do
    k="${ms[kproxy-cni $cmd $par]}"; r="${ms[reference $cmd $par]}"
    printf '%-22s %9.2f ms %9.2f ms %7.2fx\n' "$cmd, $par-way" "$k" "$r" "$(echo "$k / $r" | bc -l)"
  done
done
