#!/usr/bin/env bash
# Installs every Debian package kproxy, its tests and its hack scripts use. Idempotent; run as root.
# Arguments name more packages (a benchmark's peers), checked and installed the same way.
set -euo pipefail

packages=(
  # build: C libraries wrapped as Swift systemLibrary targets (pkg-config names in Package.swift)
  pkg-config libmnl-dev libnftnl-dev libnl-3-dev libnl-route-3-dev libsqlite3-dev
  # runtime and tests: kernel tooling used only inside test network namespaces
  nftables iproute2 sqlite3 procps psmisc curl jq
  # hack/node.sh: pod web servers and JSON picking; bench-cni.sh: ratios
  python3 bc
  # CNI tests and bench-cni.sh chain and compare with the reference plugins (/usr/lib/cni)
  containernetworking-plugins
  # DNS tests: dig, and dnsmasq as the local upstream the forwarder test talks to
  bind9-dnsutils dnsmasq-base
)
# kubectl drives the integration tests; Debian's kubernetes-client only where none is present.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
command -v swift >/dev/null 2>&1 || { echo "install-deps: swift toolchain not on PATH (expected /opt/swift)" >&2; exit 1; }
