#!/usr/bin/env bash
# Load-balancing modes side by side (issue 8): direct to one backend, kproxy's nftables mode, its userspace
# mode with every scheduler, HAProxy 2.6 (roundrobin, leastconn) and nginx stream (least_conn), interleaved
# in one run over a mini cluster in network namespaces that `kproxy bench lb` creates and deletes (nothing
# touches the root namespace). Prints a table; writes JSON and a PNG chart per scenario. Run as root.
#   bash hack/bench-lb.sh                                  every mode and scenario, 3 rounds × 5 s
#   bash hack/bench-lb.sh --rounds 1 --scenarios equal     any `kproxy bench lb` flags pass through
set -euo pipefail
cd "$(dirname "$0")/.."
# The peers and tools this bench uses, from Debian, on top of what the build and tests need.
bash hack/install-deps.sh haproxy nginx-light libnginx-mod-stream libnginx-mod-http-echo wrk gnuplot-nox
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "==> building kproxy (release)"
  swift build -c release --product kproxy
fi
bin="$(swift build -c release --show-bin-path)/kproxy"
out="${OUT:-bench-results}"
mkdir -p "$out"
json="$out/lb-$(date +%Y%m%d-%H%M%S).json"
"$bin" bench lb --json "$json" "$@"
