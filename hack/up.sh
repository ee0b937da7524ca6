#!/usr/bin/env bash
# The main job, all in one: install what is needed, build, and run a whole node inside a network namespace
# this script creates (nothing is configured in the root namespace): the embedded control plane, `kproxy
# node` running pods attached by `kproxy-cni`, `kproxy proxy` programming nftables and the cluster DNS as
# pods; then the kubectl demo (a Deployment, its Service, a client pod that resolves and calls it, a scale
# to 5 and back); keeps serving until Ctrl-C (hack/node.sh does the work).
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
trap 'ip netns del "$node"' EXIT
echo "==> node namespace $node"
# nsenter --net, not `ip netns exec`: the node agent must make pod namespaces in the host's mount namespace.
KPROXY_NODE_NETNS="$node" KPROXY_RUN_ID="$run" KPROXY_BIN="$dir/kproxy" KPROXY_CNI_BIN="$dir/kproxy-cni" \
  nsenter --net="/run/netns/$node" bash hack/node.sh "$@"
