#!/usr/bin/env bash
# The main job: install what is needed, build, and run `kproxy up` — a two-node cluster on this machine,
# every part inside network namespaces it creates (nothing is configured in the host's namespace): the
# embedded control plane, each node running `kproxy node` (pods attached by kproxy-cni) and `kproxy proxy`,
# the cluster DNS as pods, kubectl on the host through STATE/kubeconfig. Ctrl-C removes everything.
#   hack/up.sh                         serve until Ctrl-C
#   hack/up.sh --demo                  run the demo and exit (non-zero when a step fails)
#   hack/up.sh --proxy-mode userspace  any other `kproxy up` flag (--nodes N, --state-dir DIR, …)
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "==> building kproxy and kproxy-cni (release)"
swift build -c release --product kproxy
swift build -c release --product kproxy-cni
dir="$(swift build -c release --show-bin-path)"
for b in kproxy kproxy-cni; do [ -x "$dir/$b" ] || { echo "build of $b failed" >&2; exit 1; }; done
echo "==> kproxy up $*"
exec "$dir/kproxy" up "$@"
