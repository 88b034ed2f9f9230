#!/usr/bin/env bash
# The whole test suite: install what is missing (nats-server, clickhouse-server, chromium, npm deps),
# build (child processes in integration tests run the compiled CLI), then vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npx vitest run "$@"
