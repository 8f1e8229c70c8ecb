#!/usr/bin/env bash
# Builds native/ into build/Release/glujs.node against the private libnode 18
# headers (not the Node that runs npm). GLUJS_ASAN=1 builds with
# AddressSanitizer into the same place.
set -euo pipefail
cd "$(dirname "$0")/.."
NODEDIR=$PWD/deps/libnode/usr
# npm passes its own nodedir (a user ~/.npmrc may say /usr) through the
# environment; ours must win.
export npm_config_nodedir=$NODEDIR
log=$(mktemp)
if ! node node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir="$NODEDIR" >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; exit 1
fi
rm -f "$log"
