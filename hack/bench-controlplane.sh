#!/usr/bin/env bash
# Control-plane benchmark: starts `kproxy controlplane` on a free loopback port with a throw-away data
# dir, then `kproxy bench controlplane` creates Services and Pods with concurrent clients while
# watchers measure delivery latency, and times a full relist. Prints the results table.
#
#   bash hack/bench-controlplane.sh                              the issue's sizes: 10,000 Services, 50,000 Pods
#   SERVICES=1000 PODS=5000 bash hack/bench-controlplane.sh      a quick run
#   bash hack/bench-controlplane.sh --no-selectors --json r.json  extra flags go to `kproxy bench controlplane`
#
# Environment: SERVICES, PODS, CONCURRENCY (64), WATCHERS (100), SKIP_BUILD=1 to reuse the release build,
# NO_PIN=1 to run without taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

services="${SERVICES:-10000}"
pods="${PODS:-50000}"
concurrency="${CONCURRENCY:-64}"
watchers="${WATCHERS:-100}"

bash hack/install-deps.sh
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building kproxy (release)"
  swift build -c release --product kproxy  # progress shown; set -e stops on a failed build
fi
bin="$(swift build -c release --show-bin-path)/kproxy"
[ -x "$bin" ] || { echo "bench: release build of kproxy missing at $bin" >&2; exit 1; }

work="$(mktemp -d /tmp/kproxy-bench.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Server on core 0 and client on core 1 when there are at least two cores, so neither steals the other's CPU.
pin_server=() pin_client=()
if [ "${NO_PIN:-}" != 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0) pin_client=(taskset -c 1)
  echo "==> pinning: server on core 0, client on core 1 (taskset)"
else
  echo "==> not pinned (no taskset, fewer than 2 cores, or NO_PIN=1): server and client share the cores"
fi

# Port 0: the server binds a free port and writes it into the kubeconfig.
echo "==> starting kproxy controlplane (data dir $work/data)"
"${pin_server[@]}" "$bin" controlplane --data-dir "$work/data" --listen 127.0.0.1:0 \
  --write-kubeconfig "$work/kubeconfig" --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  [ -s "$work/kubeconfig" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench: control plane exited:" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/kubeconfig" ] || { echo "bench: control plane did not write its kubeconfig in 30 s" >&2; cat "$work/server.log" >&2; exit 1; }
echo "==> control plane pid $server_pid at $(grep -m1 'server:' "$work/kubeconfig" | awk '{print $2}')"

status=0
"${pin_client[@]}" "$bin" bench controlplane --kubeconfig "$work/kubeconfig" --server-pid "$server_pid" \
  --services "$services" --pods "$pods" --concurrency "$concurrency" --watchers "$watchers" "$@" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "bench: the control plane died during the run; its log:" >&2
  tail -n 50 "$work/server.log" >&2
  status=1
elif [ -s "$work/server.log" ]; then
  echo "==> server log (warnings and errors, last 20 lines)"
  tail -n 20 "$work/server.log"
fi
exit "$status"
