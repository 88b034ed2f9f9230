#!/usr/bin/env bash
# Quick start: install what is missing, run the quickstart pipeline on embedded defaults
# (a private nats-server started for the run, embedded ClickHouse via chDB), query the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TRIBUTARY_HOME="${TRIBUTARY_HOME:-$PWD/.tributary}"
node bin/run.js run examples/quickstart/pipeline.yaml
node bin/run.js query 'SELECT name, count() AS events, round(sum(doubled), 1) AS doubled_total FROM quickstart_events GROUP BY name ORDER BY name'
