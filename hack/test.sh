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
echo "==> running tests"
KPROXY_BIN="$(swift build --show-bin-path)/kproxy" swift test --skip-build "$@"
