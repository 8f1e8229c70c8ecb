#!/usr/bin/env bash
# Repro of the 2x3 fio-verify failure (test/stress/cluster.test.ts, phase 0: kill -9 h3 during
# fio randwrite+verify): runs only that phase, ~45 s, each run under the machine lock.
#   scripts/repro-2x3-verify.sh [RUNS] [CONFIGS...]    CONFIGS of both|brick|client|none (default: all four, interleaved)
# One line per run in /tmp/repro-2x3-verify/results.txt; a failing run's cluster dir (GLUJS_KEEP)
# holds inspect.txt (every brick's copy of the bad block and its xattrs).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}; shift || true
configs=("$@"); [ ${#configs[@]} -eq 0 ] && configs=(both none client brick)
out=/tmp/repro-2x3-verify; mkdir -p "$out"
for ((i = 1; i <= runs; i++)); do
  for cfg in "${configs[@]}"; do
    log="$out/$cfg-$(date -u +%H%M%S).log"
    GLUJS_STRESS=full GLUJS_CLUSTER_PHASES=1 GLUJS_CLUSTER_GLUJS=$cfg GLUJS_KEEP=1 \
      flock /tmp/glujs-machine.lock node --test --test-name-pattern='2x3' dist/test/stress/cluster.test.js >"$log" 2>&1
    rc=$?
    res=$(grep -o '0-kill-h3: .*' "$log" | head -1)
    dir=$(grep -o 'dir /tmp/glujs-cl-[A-Za-z0-9]*' "$log" | head -1 | cut -c5-)
    echo "$(date -u +%T) $cfg rc=$rc ${dir:-?} $res" | tee -a "$out/results.txt"
    # keep only failing clusters' directories
    if [ $rc -eq 0 ] && [ -n "$dir" ] && ! grep -q " $dir" /proc/self/mountinfo; then rm -rf "$dir"; fi
  done
done
