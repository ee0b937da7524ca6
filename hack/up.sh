#!/usr/bin/env bash
# The main job, all in one: install what is needed, build, and run a whole node inside a network namespace
# this script creates (nothing is configured in the root namespace): the embedded control plane, the
# kubectl demo, `kproxy proxy` programming nftables, `kproxy dns`, and pods attached by `kproxy-cni`, then
# a pod resolves a Service by name and reaches it; keeps serving until Ctrl-C (hack/node.sh does the work).
#   hack/up.sh            serve after the demo
#   hack/up.sh --demo     run the demo and exit
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "==> building kproxy and kproxy-cni (release)"
swift build -c release --product kproxy  # progress shown; set -e stops on a failed build
swift build -c release --product kproxy-cni  # progress shown; set -e stops on a failed build
dir="$(swift build -c release --show-bin-path)"
for b in kproxy kproxy-cni; do [ -x "$dir/$b" ] || { echo "build of $b failed" >&2; exit 1; }; done

run="$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
node="kproxy-node-$run"
ip netns add "$node"
trap 'ip netns del "$node" 2>/dev/null || true' EXIT
echo "==> node namespace $node"
KPROXY_NODE_NETNS="$node" KPROXY_RUN_ID="$run" KPROXY_BIN="$dir/kproxy" KPROXY_CNI_BIN="$dir/kproxy-cni" \
  ip netns exec "$node" bash hack/node.sh "$@"
