#!/usr/bin/env bash
# The integration suite with native/ built under AddressSanitizer. The ASan
# build is made in a copy of the tree and installed beside the normal one as
# features/glujs-asan (tests pick it with GLUJS_TYPE), so anything else using
# features/glujs meanwhile is undisturbed. Only the GlusterFS daemons get
# libasan preloaded; any ASan report fails the run.
# Usage: npm run test:asan [-- test files...]   GLUJS_LSAN=1 also checks leaks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/setup.sh
tree=$(mktemp -d /tmp/glujs-asan-tree.XXXXXX)
logdir=$(mktemp -d /tmp/glujs-asan.XXXXXX)
XLATORDIR=$(node -e "console.log(require('./dist/lib/cli.js').xlatorDir())")
cleanup() { rm -f "$XLATORDIR/features/glujs-asan.so"; rm -rf "$tree" "$logdir"; }
trap cleanup EXIT
cp -r native binding.gyp package.json "$tree/"
for d in node_modules deps dist; do ln -s "$ROOT/$d" "$tree/$d"; done
GLUJS_ASAN=1 GLUJS_BUILD_ROOT="$tree" bash scripts/build-native.sh
[ "$(nm -D "$tree/build/Release/glujs.node" | grep -c __asan_init)" -gt 0 ] || { echo "the ASan build has no ASan in it" >&2; exit 1; }
ln -sf "$tree/build/Release/glujs.node" "$XLATORDIR/features/glujs-asan.so"

export GLUJS_TYPE=features/glujs-asan
export GLUJS_DAEMON_PRELOAD=$(readlink -f "$(gcc -print-file-name=libasan.so)")
# detect_leaks is off unless GLUJS_LSAN=1: the daemons exit() with GlusterFS's
# own allocations live. GlusterFS installs its own SEGV handler; ASan reports first.
leaks=${GLUJS_LSAN:-0}
export GLUJS_DAEMON_ASAN_OPTIONS="detect_leaks=$leaks:log_path=$logdir/asan:allow_user_segv_handler=1:detect_odr_violation=0:fast_unwind_on_malloc=0"
[ "$leaks" = 1 ] && export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0"
status=0
node --test --test-concurrency=1 "${@:-dist/test/}" || status=$?
# ASan writes warnings there too (GlusterFS's swapcontext): only errors count
if compgen -G "$logdir/asan*" >/dev/null && grep -qE "ERROR: (Address|Leak)Sanitizer" "$logdir"/asan*; then
  echo "AddressSanitizer reports:" >&2
  cat "$logdir"/asan* >&2
  status=1
else
  echo "AddressSanitizer: no reports ($(ls "$tree/build/Release/glujs.node") loaded as $GLUJS_TYPE)"
fi
exit $status
