#!/usr/bin/env bash
# The integration suite with native/ built under AddressSanitizer. The ASan
# build is made in a copy of the tree and installed beside the normal one as
# features/glujs-asan (tests pick it with GLUJS_TYPE), so anything else using
# features/glujs meanwhile is undisturbed. Only the GlusterFS daemons get
# libasan preloaded; any ASan report fails the run.
# LeakSanitizer runs at every daemon exit; scripts/lsan-triage.mjs fails the
# run on any leak with a glujs frame in its stack, and on any leak not listed
# (with its reason) in scripts/lsan-known.txt.
# Usage: npm run test:asan [-- test files...]
#   GLUJS_LSAN=0 skips the leak check; GLUJS_ASAN_KEEP=1 keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/setup.sh
tree=$(mktemp -d /tmp/glujs-asan-tree.XXXXXX)
logdir=$(mktemp -d /tmp/glujs-asan.XXXXXX)
XLATORDIR=$(node -e "console.log(require('./dist/lib/tools/paths.js').xlatorDir())")
links=("$XLATORDIR/features/glujs-asan.so" "$XLATORDIR/user/glujs-asan.so")
cleanup() { rm -f "${links[@]}"; rm -rf "$tree" "$logdir"; }
trap cleanup EXIT
if [ -n "${GLUJS_ASAN_KEEP:-}" ]; then
  cleanup() { rm -f "${links[@]}"; rm -rf "$tree"; echo "ASan logs kept in $logdir" >&2; }
fi
cp -r native binding.gyp package.json "$tree/"
for d in node_modules deps dist; do ln -s "$ROOT/$d" "$tree/$d"; done
GLUJS_ASAN=1 GLUJS_BUILD_ROOT="$tree" bash scripts/build-native.sh
[ "$(nm -D "$tree/build/Release/glujs.node" | grep -c __asan_init)" -gt 0 ] || { echo "the ASan build has no ASan in it" >&2; exit 1; }
# features/ for volfiles and glujs filter --type, user/ for glusterd's user.xlator.glujs-asan
for l in "${links[@]}"; do ln -sf "$tree/build/Release/glujs.node" "$l"; done

export GLUJS_TYPE=features/glujs-asan GLUJS_SANITIZED=1
export GLUJS_DAEMON_PRELOAD=$(readlink -f "$(gcc -print-file-name=libasan.so)")
# GlusterFS installs its own SEGV handler; ASan reports first. The full
# (slow) unwinder gives every leak its whole stack for the triage. glusterd
# passes the preload on to every program it runs (gsyncd is Python): log_exe_name
# tells the triage whose log is whose, and exitcode=0 keeps a leak report from
# turning a helper's exit status into a failure (the triage judges the reports).
# halt_on_error=0 lets a process go on after an error its interceptors find
# (glusterd 10.3 reads freed memory in `volume reset`); glujs's own
# instrumented code still stops at its first error, and every report is judged.
leaks=${GLUJS_LSAN:-1}
export GLUJS_DAEMON_ASAN_OPTIONS="detect_leaks=$leaks:log_path=$logdir/asan:log_exe_name=1:exitcode=0:halt_on_error=0:allow_user_segv_handler=1:detect_odr_violation=0:fast_unwind_on_malloc=0"
status=0
if [ $# -eq 0 ]; then set -- dist/test/*.test.js dist/test/stress/*.test.js; fi  # = npm test
node --test --test-concurrency=1 "$@" || status=$?
# ASan writes warnings there too (GlusterFS's swapcontext): only errors count
node scripts/lsan-triage.mjs "$logdir" || status=1
echo "($tree/build/Release/glujs.node loaded as $GLUJS_TYPE; leak check: $([ "$leaks" = 1 ] && echo on || echo off))"
exit $status
