#!/usr/bin/env bash
# Installs Mermaid's own parser (the `mermaid` package, with jsdom for the DOM it expects outside a
# browser) into .cache/mermaid, for the test that checks every chart mp-release writes into a job
# summary parses as GitHub's Mermaid would. Idempotent; prints the node_modules directory.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/npm-cache.sh
dir=.cache/mermaid
npm_cache "$dir" mermaid@12.3.0 jsdom@27.0.0
echo "$PWD/$dir/node_modules"
