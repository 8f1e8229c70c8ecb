#!/usr/bin/env bash
# Builds native/ into build/Release/glujs.node against the private libnode 18
# headers (not the Node that runs npm). GLUJS_ASAN=1 builds with
# AddressSanitizer into the same place. The finished .so replaces the old one
# in one step (running daemons and volumes being started are never without it).
# GLUJS_BUILD_ROOT builds another copy of the tree (scripts/test-asan.sh).
set -euo pipefail
cd "${GLUJS_BUILD_ROOT:-$(dirname "$0")/..}"
NODEDIR=$PWD/deps/libnode/usr
# npm passes its own nodedir (a user ~/.npmrc may say /usr) through the
# environment; ours must win.
export npm_config_nodedir=$NODEDIR
# node-gyp is glujs's own dependency: in a checkout under node_modules/, in an
# author's project wherever npm put it (hoisted)
GYP=$(node -p "require.resolve('node-gyp/bin/node-gyp.js', { paths: [process.cwd()] })")
gyp() { node "$GYP" "$@" --nodedir="$NODEDIR"; }
mode="asan=${GLUJS_ASAN:-0}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
{
  # objects built with other flags must not be reused
  if [ "$(cat build/.glujs-mode 2>/dev/null)" != "$mode" ]; then rm -rf build/Release/obj.target; fi
  gyp configure && gyp build && echo "$mode" > build/.glujs-mode
} >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
