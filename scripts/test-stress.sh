#!/usr/bin/env bash
# The stress suite (test/stress/: integrity, storm, lifecycle, soak, fuzz, cluster) at full size,
# with its figures written to bench/results/stress.md. Takes 22-27 minutes on a
# 2-core VM. `npm test` runs the same files in their fast mode.
#   scripts/test-stress.sh                         # everything, full size
#   scripts/test-stress.sh dist/test/stress/soak.test.js  # some files only
#   GLUJS_STRESS=fast scripts/test-stress.sh       # fast sizes, results written too
# GLUJS_STRESS_SEED=<n> replays the storm's random choices.
set -euo pipefail
cd "$(dirname "$0")/.."
GLUJS_EXTRA_APT="fio dbench" bash scripts/setup.sh
for tool in fio dbench setfattr getfattr; do
  command -v "$tool" >/dev/null || { echo "test-stress: $tool is missing after setup" >&2; exit 1; }
done

export GLUJS_STRESS=${GLUJS_STRESS:-full}
export GLUJS_WRITE_RESULTS=1
if [ $# -eq 0 ]; then set -- dist/test/stress/*.test.js; fi
out=bench/results/stress.md
# read before "$out" is rewritten, which would count as a local change
dirty=$(git diff --quiet -- . ":(exclude)$out" 2>/dev/null || echo ' (with local changes)')
log=$(mktemp /tmp/glujs-stress.XXXXXX.log)
mkdir -p bench/results
{
  echo "# glujs stress suite"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty"
  echo "- host: $(uname -r), $(nproc) CPUs, $(node --version), $(fio --version), dbench $(dbench --help 2>&1 | sed -n 's/^dbench version \([^ ]*\).*/\1/p'), glusterfs $(glusterfs --version | sed -n '1s/^glusterfs \([^ ]*\).*/\1/p')"
  echo "- command: \`GLUJS_STRESS=$GLUJS_STRESS node --test --test-concurrency=1 $*\` (scripts/test-stress.sh)"
  echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out"

start=$(date +%s)
set +e
node --test --test-concurrency=1 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
{
  echo
  echo "## Outcome"
  echo
  echo "- node --test exit status $status after $(( $(date +%s) - start )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo '- summary:'
  echo
  echo '```'
  grep -E '^# (tests|pass|fail|cancelled|skipped|todo|duration_ms) ' "$log" || true
  grep -E '^not ok ' "$log" || true
  echo '```'
} >> "$out"
rm -f "$log"
echo "test-stress: results in $out (exit $status)"
exit $status
