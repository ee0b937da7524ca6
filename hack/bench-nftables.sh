#!/usr/bin/env bash
# nftables programming benchmark (issue 3): full sync of N services × 10 endpoints through kproxy's one
# libnftnl batch versus `nft -f` of the same ruleset, and a one-endpoint partial sync — each in a fresh
# network namespace created and deleted by the benchmark (nothing touches the root namespace); then new TCP
# connections per second through a ClusterIP with 100 vs 10,000 services installed. Run as root.
#   bash hack/bench-nftables.sh                      1,000, 10,000 and 30,000 services
#   SERVICES=1000,3000 bash hack/bench-nftables.sh   smaller sizes
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building kproxy (release)"
  swift build -c release --product kproxy  # progress shown; set -e stops on a failed build
fi
bin="$(swift build -c release --show-bin-path)/kproxy"
"$bin" bench nftables --services "${SERVICES:-1000,10000,30000}" --endpoints "${ENDPOINTS:-10}"
