#!/usr/bin/env bash
# Installs (once) four real, published mini program component libraries, pinned, into
# .cache/real-components/node_modules, for the differential test on real third-party JSON
# (tests/all/interop.rs). Prints the directory that holds node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=".cache/real-components"
# Tests call this concurrently: one install at a time (flock where there is one).
mkdir -p "$(dirname "$dir")"
if command -v flock >/dev/null; then
  exec 9>"$dir.lock"
  flock 9
fi
pins=("@vant/weapp@1.11.7" "mp-html@2.5.2" "weui-miniprogram@1.5.6" "tdesign-miniprogram@1.16.0")
if [ -f "$dir/node_modules/tdesign-miniprogram/package.json" ]; then
  echo "$PWD/$dir"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is not installed: install Node.js 18+ and npm" >&2; exit 1; }
mkdir -p "$dir"
(
  cd "$dir"
  [ -f package.json ] || echo '{"name":"mp-release-real-components","private":true}' > package.json
  npm install --no-audit --no-fund --loglevel=error --ignore-scripts "${pins[@]}" >&2
)
echo "$PWD/$dir"
