#!/usr/bin/env bash
# The integration suite with native/ built under AddressSanitizer. Only the
# GlusterFS daemons (which load the xlator) get libasan preloaded; the test
# runner itself is left alone. Any ASan report fails the run. The normal build
# is restored at the end. Usage: npm run test:asan [-- test files...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
GLUJS_ASAN=1 bash scripts/build-native.sh
trap 'bash scripts/build-native.sh' EXIT
[ "$(nm -D build/Release/glujs.node | grep -c __asan_init)" -gt 0 ] || { echo "the ASan build has no ASan in it" >&2; exit 1; }

logdir=$(mktemp -d /tmp/glujs-asan.XXXXXX)
export GLUJS_DAEMON_PRELOAD=$(readlink -f "$(gcc -print-file-name=libasan.so)")
# detect_leaks=0: the daemons exit() with GlusterFS's own allocations live
# (LeakSanitizer runs belong to the stress suite). GlusterFS installs its own
# SEGV handler; let ASan report first.
export GLUJS_DAEMON_ASAN_OPTIONS="detect_leaks=0:log_path=$logdir/asan:allow_user_segv_handler=1:detect_odr_violation=0:fast_unwind_on_malloc=0"
status=0
node --test --test-concurrency=1 "${@:-dist/test/}" || status=$?
if compgen -G "$logdir/asan*" >/dev/null; then
  echo "AddressSanitizer reports:" >&2
  cat "$logdir"/asan* >&2
  status=1
else
  echo "AddressSanitizer: no reports"
fi
rm -rf "$logdir"
exit $status
