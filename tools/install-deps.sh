#!/usr/bin/env bash
# Installs everything moonwire needs to build, test and benchmark, from Debian packages
# (and npm for the Node test peers). Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
  liblua5.4-dev lua5.4 libssl-dev libedit-dev libgtest-dev
  # Lua C modules that must load (tests)
  lua-cjson lua-lpeg
  # test peers and tools
  openssl python3 python3-websockets nginx tinyproxy microsocks curl redis-server redis-tools
  # consumers of `moonwire test` reports: xmllint (JUnit XSD), genhtml (lcov); prove comes with perl
  libxml2-utils lcov perl
  nodejs
  # headless browser for the dashboard test (driven by puppeteer-core from npm)
  chromium
  # benchmarks (libnginx-mod-http-lua: the nginx + Lua baseline of the HTTP server benchmark)
  wrk hyperfine jq libnginx-mod-http-lua
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian's nodejs ships npm separately; NodeSource's bundles it.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # nginx/tinyproxy/redis-server would start system services; tests start their own instances.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for svc in nginx tinyproxy redis-server; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# Node test peers, pinned by tests/interop/package-lock.json (again when one is missing, e.g.
# a package added since the last run: `npm ls` fails then).
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -f "$here/tests/interop/package.json" ]] &&
  ! (cd "$here/tests/interop" && [[ -d node_modules ]] && npm ls --silent >/dev/null 2>&1); then
  (cd "$here/tests/interop" && npm ci --silent --no-audit --no-fund)
fi
