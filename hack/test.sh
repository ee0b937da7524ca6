#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test (unit, kernel adapters in network namespaces,
# and kubectl integration). Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "==> building (debug, with tests)"
start=$(date +%s)
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Building|Wrapping)' || true
swift build --build-tests >/dev/null 2>&1 || { swift build --build-tests; exit 1; }
swift build --product kproxy >/dev/null
echo "==> build took $(( $(date +%s) - start ))s"
echo "==> running tests"
KPROXY_BIN="$(swift build --show-bin-path)/kproxy" swift test --skip-build "$@"
