#!/usr/bin/env bash
# The main job: install what is needed, build, start the embedded control plane, run the demo
# against it with kubectl, and keep serving until Ctrl-C.
#   hack/up.sh            serve after the demo
#   hack/up.sh --demo     run the demo and exit
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "==> building kproxy (release)"
swift build -c release --product kproxy 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
bin="$(swift build -c release --show-bin-path)/kproxy"
[ -x "$bin" ] || { echo "build failed" >&2; exit 1; }

data="${KPROXY_DATA_DIR:-/var/lib/kproxy/controlplane}"
kubeconfig="${KPROXY_KUBECONFIG:-$data/kubeconfig}"
listen="${KPROXY_LISTEN:-127.0.0.1:6443}"
mkdir -p "$data"
"$bin" controlplane --data-dir "$data" --listen "$listen" --write-kubeconfig "$kubeconfig" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT INT TERM

export KUBECONFIG="$kubeconfig"
for _ in $(seq 100); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 0.1; done
bash hack/demo.sh

if [ "${1:-}" = "--demo" ]; then exit 0; fi
echo
echo "==> control plane running at $listen; KUBECONFIG=$kubeconfig; Ctrl-C stops it"
wait $pid
