#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine (run as root; only Node and
# npm need to be there): Debian packages, a private libnode 18, the npm
# dependencies, the fop glue generation, the TypeScript and native builds, and the
# install of the xlator so that `type features/glujs` (and `user/glujs`) resolve.
# Every step is skipped when its result is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf 'glujs setup: %s\n' "$*" >&2; }
# Installed as a dependency of an author's project (`npx glujs setup`): its npm
# dependencies are the project's, and dist/ came built in the package.
PACKAGED=0
[ "$(basename "$(dirname "$ROOT")")" = node_modules ] && [ -e dist/lib/tools/cli.js ] && PACKAGED=1

# GlusterFS, headers the Debian package forgets (urcu), libuv headers, and the
# JS files libnode108 reads at absolute paths (missing ones abort the daemon).
APT_PKGS=(glusterfs-server glusterfs-client libglusterfs-dev liburcu-dev libuv1-dev
  uuid-dev libssl-dev node-acorn node-undici node-cjs-module-lexer
  libbrotli1 libc-ares2 libicu72 libnghttp2-14 zlib1g attr psmisc iproute2 binutils
  fio dbench  # the integrity tests (fast mode in npm test)
  pkg-config)  # test/gfapi: the gfapi probe's build flags
[ -n "${GLUJS_EXTRA_APT:-}" ] && APT_PKGS+=($GLUJS_EXTRA_APT)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libnode108 cannot be apt-installed beside a Node from another vendor (it
# Conflicts with nodejs-legacy), so unpack it into a prefix the project owns.
LIBNODE=$ROOT/deps/libnode
if [ ! -e "$LIBNODE/usr/lib/x86_64-linux-gnu/libnode.so.108" ] || [ ! -e "$LIBNODE/usr/include/node/node.h" ]; then
  say "unpacking libnode 18 into deps/libnode"
  tmp=$(mktemp -d)
  ( cd "$tmp" && apt-get download libnode108 libnode-dev >/dev/null 2>&1 ) || {
    apt-get update -qq; ( cd "$tmp" && apt-get download libnode108 libnode-dev >/dev/null ); }
  rm -rf "$LIBNODE"; mkdir -p "$LIBNODE"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$LIBNODE"; done
  rm -rf "$tmp"
fi

# npm dependencies (TypeScript, node-addon-api, node-gyp).
if [ "$PACKAGED" = 0 ] && { [ ! -e node_modules/.glujs-installed ] || [ package.json -nt node_modules/.glujs-installed ]; }; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund >/dev/null
  touch node_modules/.glujs-installed
fi

# Build when any source is newer than the last build.
stamp=build/.glujs-stamp
if [ ! -e "$stamp" ] || [ -n "$(find native lib tools examples test bench binding.gyp tsconfig.json package.json -newer "$stamp" -type f 2>/dev/null | head -1)" ] \
   || [ /usr/include/glusterfs/xlator.h -nt "$stamp" ]; then
  say "building (fop glue, TypeScript, native)"
  node tools/gen-fops.mjs
  [ "$PACKAGED" = 1 ] || npx tsc -p .
  bash scripts/build-native.sh
  touch "$stamp"
fi

# Install the xlator where GlusterFS looks (symlinks into XLATORDIR).
node dist/lib/tools/cli.js install --quiet
