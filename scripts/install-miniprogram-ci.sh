#!/usr/bin/env bash
# Installs the pinned official miniprogram-ci (npm) into .cache/miniprogram-ci/<version>, once.
# Used by the interop and differential tests (and the benchmark). Prints the install directory.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/npm-cache.sh
version="${MINIPROGRAM_CI_VERSION:-2.1.42}"
dir=".cache/miniprogram-ci/$version"
command -v node >/dev/null || { echo "node is not installed: install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 1; }
npm_cache "$dir" "miniprogram-ci@$version"
echo "$PWD/$dir"
