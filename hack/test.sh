#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: unit tests, the kubectl integration tests and
# (as root) kernel-adapter tests in network namespaces. Used by .ci/run. Extra arguments go to
# `swift test` (e.g. --filter KubectlTests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "==> building (debug, with tests)"
start=$(date +%s)
swift build --build-tests
echo "==> build took $(( $(date +%s) - start ))s"
export KPROXY_BIN="$(swift build --show-bin-path)/kproxy"
if [ $# -gt 0 ]; then
  echo "==> running tests: $*"
  exec swift test --skip-build "$@"
fi
# Two processes: the kernel and subprocess tests block threads while they wait for `ip`, curl or a
# child binary, and Swift's cooperative pool has one thread per core (two here). In a process of
# their own they cannot starve the in-process tests (servers, controllers, informers) of threads.
kernel='AdapterTests|IntegrationTests|NFTKernelCheckTests'
echo "==> running in-process tests"
swift test --skip-build --skip "$kernel"
echo "==> running kernel (network namespace) and subprocess tests"
swift test --skip-build --filter "$kernel"
# kproxy up without a shared segment: a subnet per member behind a router, pods across nodes through VXLAN.
echo "==> kproxy up --network vxlan --demo"
"$KPROXY_BIN" up --network vxlan --demo --state-dir "/tmp/kproxy-up-vxlan-$$" --api-port 0
# The end-to-end suite: a two-node `kproxy up` cluster in network namespaces, features, churn and faults.
for mode in nftables userspace; do
  echo "==> end-to-end suite, proxy mode $mode (hack/e2e.sh)"
  E2E_REPORT="/tmp/kproxy-e2e-$mode.md" bash hack/e2e.sh --proxy-mode "$mode"
done
