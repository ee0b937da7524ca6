#!/usr/bin/env bash
# nftables mode benchmark (issue 9): kproxy's real sync loop — a full sync, one endpoint changed at a time,
# new Services, and the same changes after a batch the kernel refused — at N Services × 10 endpoints, next to
# `nft -f` of the ruleset upstream kube-proxy's nftables mode writes for the same Services; then new TCP
# connections/s through a ClusterIP with 100 and 10,000 Services installed and through one hand-written DNAT
# rule. Every measurement runs in network namespaces the benchmark creates and deletes (nothing touches the
# root namespace). Run as root.
#   bash hack/bench-nftables.sh                          1,000, 10,000 and 50,000 Services (upstream up to 10,000)
#   SERVICES=1000,3000 bash hack/bench-nftables.sh       other sizes
#   OUT=/tmp/nft bash hack/bench-nftables.sh             where the JSON goes (default hack/results)
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building kproxy (release)"
  swift build -c release --product kproxy  # progress shown; set -e stops on a failed build
fi
bin="$(swift build -c release --show-bin-path)/kproxy"
out="${OUT:-hack/results}"
mkdir -p "$out"
"$bin" bench nftables --services "${SERVICES:-1000,10000,50000}" --endpoints "${ENDPOINTS:-10}" \
  --upstream-max "${UPSTREAM_MAX:-10000}" --json "$out/nftables.json"
