#!/usr/bin/env bash
# Fuzzes the DNS wire decoder (and encode/answer on what decodes) with libFuzzer for a bounded time.
# Usage: hack/fuzz-dns.sh [SECONDS=60]   — crashes land in .build/fuzz-dns/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz-dns
mkdir -p "$out/corpus"

# KubeAPI as a static library the fuzz module imports (DNSCore's only dependency).
swiftc -O -parse-as-library -module-name KubeAPI -emit-module -emit-module-path "$out/KubeAPI.swiftmodule" \
  -emit-library -static -o "$out/libKubeAPI.a" $(find Sources/KubeAPI -name '*.swift')
# DNSCore's sources plus the fuzz entry point as one module, instrumented for libFuzzer and ASan.
swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name DNSFuzz -I "$out" -L "$out" -lKubeAPI \
  $(find Sources/DNSCore -name '*.swift') hack/fuzz/DNSFuzzTarget.swift -o "$out/dns-fuzz"

# Seeds: a query, a query with EDNS, a response with compression (hand-written packets).
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03web\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01' > "$out/corpus/query"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03www\x07example\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00' > "$out/corpus/edns"
printf '\xab\xcd\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x01a\x01b\x00\x00\x05\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x05\x00\x04\x01c\xc0\x0e' > "$out/corpus/cname"

cd "$out"
./dns-fuzz -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 corpus
