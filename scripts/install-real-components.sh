#!/usr/bin/env bash
# Installs (once) four real, published mini program component libraries, pinned, into
# .cache/real-components/node_modules, for the differential test on real third-party JSON
# (tests/all/interop.rs). Prints the directory that holds node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/npm-cache.sh
dir=".cache/real-components"
npm_cache "$dir" "@vant/weapp@1.11.7" "mp-html@2.5.2" "weui-miniprogram@1.5.6" "tdesign-miniprogram@1.16.0"
echo "$PWD/$dir"
