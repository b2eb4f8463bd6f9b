#!/usr/bin/env bash
# Lints action.yml and the workflows with zizmor (offline audits), check-jsonschema (the built-in
# GitHub schemas) and action-validator. Installs them into .cache/lint on first use (PyPI and npm).
set -euo pipefail
# With file arguments, lints those workflows instead (paths relative to the caller or absolute).
args=()
for f in "$@"; do args+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
set -- "${args[@]+"${args[@]}"}"
cd "$(dirname "$0")/.."
dir=.cache/lint
if [ ! -x "$dir/venv/bin/zizmor" ] || [ ! -x "$dir/venv/bin/check-jsonschema" ]; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check zizmor check-jsonschema
fi
if [ ! -x "$dir/node_modules/.bin/action-validator" ]; then
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error @action-validator/cli >&2)
fi
if [ "$#" -gt 0 ]; then
  # Workflows given as arguments (the docs' examples, written out by tests/all/docs.rs), with the
  # zizmor configuration in $ZIZMOR_CONFIG when set.
  config=()
  [ -n "${ZIZMOR_CONFIG:-}" ] && config=(--config "$ZIZMOR_CONFIG")
  "$dir/venv/bin/zizmor" --offline --no-progress "${config[@]}" "$@"
  "$dir/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$@"
  for f in "$@"; do
    "$dir/node_modules/.bin/action-validator" "$f"
  done
  echo "actions lint of $# workflow(s): ok"
  exit 0
fi
workflows=(.github/workflows/*.yml)
"$dir/venv/bin/zizmor" --offline --no-progress action.yml "${workflows[@]}"
"$dir/venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$dir/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
for f in action.yml "${workflows[@]}"; do
  "$dir/node_modules/.bin/action-validator" "$f"
done
echo "actions lint: ok"
