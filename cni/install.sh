#!/usr/bin/env bash
# Installs kproxy-cni on a node: copies the binary to /opt/cni/bin and writes
# /etc/cni/net.d/10-kproxy.conflist atomically (temp file + rename) from the node's podCIDR.
#
#   cni/install.sh [POD_CIDR]          podCIDR given, or read from this Node with kubectl
#
# Environment: KPROXY_CNI_BIN (binary to install, default .build/release/kproxy-cni),
# NODE_NAME (default: hostname), CLUSTER_DNS (10.96.0.10), CLUSTER_DOMAIN (cluster.local), MTU (1500),
# CNI_BIN_DIR (/opt/cni/bin), CNI_CONF_DIR (/etc/cni/net.d).
#
# The list is cniVersion 1.0.0 because Debian's portmap (containernetworking-plugins 1.1.x) speaks at most
# 1.0.0; kproxy-cni itself answers 0.3.0–1.1.0 (GC and STATUS need a 1.1.0 list and plugins ≥ 1.5).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${KPROXY_CNI_BIN:-$here/../.build/release/kproxy-cni}"
bin_dir="${CNI_BIN_DIR:-/opt/cni/bin}"
conf_dir="${CNI_CONF_DIR:-/etc/cni/net.d}"
pod_cidr="${1:-}"
if [[ -z "$pod_cidr" ]]; then
  node="${NODE_NAME:-$(hostname)}"
  pod_cidr="$(kubectl get node "$node" -o jsonpath='{.spec.podCIDR}')"
  [[ -n "$pod_cidr" ]] || { echo "install.sh: node $node has no spec.podCIDR yet" >&2; exit 1; }
fi
[[ "$pod_cidr" =~ ^[0-9a-fA-F.:]+/[0-9]+$ ]] || { echo "install.sh: not a CIDR: $pod_cidr" >&2; exit 1; }
[[ -x "$bin" ]] || { echo "install.sh: $bin not found (swift build -c release --product kproxy-cni)" >&2; exit 1; }

mkdir -p "$bin_dir" "$conf_dir"
# The binary, atomically too: a runtime may exec it while we copy.
install -m 0755 "$bin" "$bin_dir/.kproxy-cni.tmp.$$"
mv -f "$bin_dir/.kproxy-cni.tmp.$$" "$bin_dir/kproxy-cni"

tmp="$(mktemp "$conf_dir/.10-kproxy.conflist.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
sed -e "s|@POD_CIDR@|$pod_cidr|" -e "s|@CLUSTER_DNS@|${CLUSTER_DNS:-10.96.0.10}|" \
    -e "s|@CLUSTER_DOMAIN@|${CLUSTER_DOMAIN:-cluster.local}|" -e "s|@MTU@|${MTU:-1500}|" \
    "$here/10-kproxy.conflist" > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$conf_dir/10-kproxy.conflist"
trap - EXIT
echo "install.sh: kproxy-cni in $bin_dir, $conf_dir/10-kproxy.conflist for podCIDR $pod_cidr"
