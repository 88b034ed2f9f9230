#!/usr/bin/env bash
# Installs what Tributary needs on a fresh Debian with Node 20 (as root, or with sudo):
# nats-server from Debian, npm dependencies, the build. With --test, also clickhouse-server
# (Debian's 18.16) for the server-mode tests and chromium (headless) for the browser tests.
# Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

want=(nats-server)
[[ "${1:-}" == "--test" ]] && want+=(clickhouse-server chromium)
missing=()
for bin in "${want[@]}"; do command -v "$bin" >/dev/null 2>&1 || [[ -x "/usr/bin/$bin" ]] || missing+=("$bin"); done
# bubblewrap (`bwrap`) puts community plugins in their own namespaces (docs/threat-model.md).
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${missing[*]} from Debian" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  # npm 11 leaves optional platform packages it cannot resolve (chdb's darwin/arm builds) out of
  # the lockfile, then `npm ci` calls the lockfile out of sync: fall back to an install from it.
  npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2
fi
echo "setup: build" >&2
npm run --silent build >&2
