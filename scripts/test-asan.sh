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
XLATORDIR=$(node -e "console.log(require('./dist/lib/cli.js').xlatorDir())")
cleanup() { rm -f "$XLATORDIR/features/glujs-asan.so"; rm -rf "$tree" "$logdir"; }
trap cleanup EXIT
if [ -n "${GLUJS_ASAN_KEEP:-}" ]; then
  cleanup() { rm -f "$XLATORDIR/features/glujs-asan.so"; rm -rf "$tree"; echo "ASan logs kept in $logdir" >&2; }
fi
cp -r native binding.gyp package.json "$tree/"
for d in node_modules deps dist; do ln -s "$ROOT/$d" "$tree/$d"; done
GLUJS_ASAN=1 GLUJS_BUILD_ROOT="$tree" bash scripts/build-native.sh
[ "$(nm -D "$tree/build/Release/glujs.node" | grep -c __asan_init)" -gt 0 ] || { echo "the ASan build has no ASan in it" >&2; exit 1; }
ln -sf "$tree/build/Release/glujs.node" "$XLATORDIR/features/glujs-asan.so"

export GLUJS_TYPE=features/glujs-asan GLUJS_SANITIZED=1
export GLUJS_DAEMON_PRELOAD=$(readlink -f "$(gcc -print-file-name=libasan.so)")
# GlusterFS installs its own SEGV handler; ASan reports first. The full
# (slow) unwinder gives every leak its whole stack for the triage.
leaks=${GLUJS_LSAN:-1}
export GLUJS_DAEMON_ASAN_OPTIONS="detect_leaks=$leaks:log_path=$logdir/asan:allow_user_segv_handler=1:detect_odr_violation=0:fast_unwind_on_malloc=0"
status=0
if [ $# -eq 0 ]; then set -- dist/test/*.test.js dist/test/stress/*.test.js; fi  # = npm test
node --test --test-concurrency=1 "$@" || status=$?
# ASan writes warnings there too (GlusterFS's swapcontext): only errors count
node scripts/lsan-triage.mjs "$logdir" || status=1
echo "($tree/build/Release/glujs.node loaded as $GLUJS_TYPE; leak check: $([ "$leaks" = 1 ] && echo on || echo off))"
exit $status
