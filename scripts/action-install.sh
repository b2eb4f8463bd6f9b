#!/usr/bin/env bash
# The composite action's install step: pick the prebuilt binary for this runner, check its sha256
# against the table committed with this ref (dist/checksums.txt), or build from source when asked.
# Writes `bin=<path>` to $GITHUB_OUTPUT. Hardened like taiki-e/install-action: run it with
# `env -u BASH_ENV -u ENV`; exported bash functions are refused; inputs arrive only through env.
set -euo pipefail

fail() { echo "::error title=mp-release::$*"; exit 1; }

if env | grep -q '^BASH_FUNC_'; then
  fail "refusing to run with exported bash functions in the environment (BASH_FUNC_*)"
fi

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: this script runs inside the mp-release action}"
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  *) fail "no prebuilt mp-release for runner ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; set build-from-source: true" ;;
esac
exe=mp-release
[ "${RUNNER_OS}" = Windows ] && exe=mp-release.exe
asset="mp-release-${target}.tar.gz"
dest="${RUNNER_TEMP:-/tmp}/mp-release-bin"
mkdir -p "$dest"

if [ "${MP_RELEASE_BUILD_FROM_SOURCE:-false}" = true ]; then
  command -v cargo >/dev/null || fail "build-from-source needs a Rust toolchain (cargo) on the runner"
  cargo install --locked --path "$action_path" --root "$dest" >&2
  echo "bin=$dest/bin/$exe" >> "${GITHUB_OUTPUT:?}"
  exit 0
fi

expected=$(awk -v a="$asset" '$2 == a { print $1 }' "$action_path/dist/checksums.txt" 2>/dev/null || true)
[ -n "$expected" ] || fail "this ref of the action has no checksum for $asset (a branch or commit without a release?); set build-from-source: true"

ref="${MP_RELEASE_ACTION_REF:?the action ref is not set}"
base="${MP_RELEASE_DOWNLOAD_BASE:-https://github.com/${GITHUB_ACTION_REPOSITORY:?}/releases/download/$ref}"
curl --proto '=https,file' --tlsv1.2 -fsSL --retry 3 -o "$dest/$asset" "$base/$asset" || fail "downloading $asset from $base failed"

if command -v sha256sum >/dev/null; then
  actual=$(sha256sum "$dest/$asset" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$dest/$asset" | awk '{ print $1 }')
fi
[ "$actual" = "$expected" ] || { rm -f "$dest/$asset"; fail "checksum mismatch for $asset: expected $expected, got $actual; refusing to run it"; }

tar -xzf "$dest/$asset" -C "$dest"
chmod +x "$dest/$exe" 2>/dev/null || true
echo "asset=$asset" >> "$GITHUB_OUTPUT"
echo "bin=$dest/$exe" >> "$GITHUB_OUTPUT"
