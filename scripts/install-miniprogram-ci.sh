#!/usr/bin/env bash
# Installs the pinned official miniprogram-ci (npm) into .cache/miniprogram-ci/<version>, once.
# Used by the interop and differential tests (and the benchmark). Prints the install directory.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${MINIPROGRAM_CI_VERSION:-2.1.42}"
dir=".cache/miniprogram-ci/$version"
# Tests call this concurrently: one install at a time (flock where there is one).
mkdir -p "$(dirname "$dir")"
if command -v flock >/dev/null; then
  exec 9>"$dir.lock"
  flock 9
fi
if [ -f "$dir/node_modules/miniprogram-ci/package.json" ]; then
  echo "$PWD/$dir"
  exit 0
fi
command -v node >/dev/null || { echo "node is not installed: install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed: install npm (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
(
  cd "$dir"
  [ -f package.json ] || echo '{"name":"mp-release-official-engine","private":true}' > package.json
  npm install --no-audit --no-fund --loglevel=error --ignore-scripts "miniprogram-ci@$version" >&2
)
echo "$PWD/$dir"
