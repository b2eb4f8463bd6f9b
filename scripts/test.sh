#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, the purity rule of crates/core, and every test.
# Run from anywhere: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# A clean checkout gains nothing from incremental caches; they only take disk.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== purity: crates/core must not depend on tokio, reqwest, hyper or octocrab"
if cargo tree -p mp-release-core -e normal --locked --prefix none | grep -E '^(tokio|reqwest|hyper|octocrab) '; then
  echo "crates/core depends on an I/O crate (listed above); move that code to the binary" >&2
  exit 1
fi

echo "== action.yml and workflows: zizmor, check-jsonschema, action-validator"
scripts/lint-actions.sh

echo "== cargo test"
cargo test --workspace --locked
