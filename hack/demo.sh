#!/usr/bin/env bash
# Applies hack/examples/demo.yaml to the control plane in $KUBECONFIG, plays the kubelet's part for the
# demo pods (reports them running and ready with an address from the node's pod CIDR), and shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "kubectl apply -f hack/examples/demo.yaml"
kubectl apply -f hack/examples/demo.yaml

step "node-a got a pod CIDR from the cluster CIDR"
for _ in $(seq 50); do
  cidr=$(kubectl get node node-a -o jsonpath='{.spec.podCIDR}')
  [ -n "$cidr" ] && break; sleep 0.1
done
echo "node-a podCIDR: ${cidr:?no pod CIDR assigned}"
prefix=${cidr%.*/*}

step "pods report running and ready (what the kubelet and CNI would do)"
i=10
for pod in web-1 web-2; do
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  kubectl -n demo patch pod "$pod" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$prefix.$i\",\"podIPs\":[{\"ip\":\"$prefix.$i\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}"
  i=$((i + 1))
done

step "kubectl get all objects"
for _ in $(seq 50); do
  n=$(kubectl -n demo get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}' | wc -w)
  [ "$n" -ge 2 ] && break; sleep 0.1
done
kubectl get nodes -o wide
kubectl -n demo get pods -o wide
kubectl -n demo get services -o wide
kubectl -n demo get endpointslices

step "kubectl describe service web"
kubectl -n demo describe service web
