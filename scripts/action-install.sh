#!/usr/bin/env bash
# The composite action's install step: pick the prebuilt binary for this runner, download it from the
# release recorded in this ref's dist/checksums.txt (its first line names the version, so @v1, @v1.2.3
# and a commit-SHA pin all install the same release), check its sha256 against that table, and keep it
# in the tool cache for the job's next steps. Or build from source when asked.
# Writes `bin=<path>` to $GITHUB_OUTPUT. Hardened like taiki-e/install-action: run it with
# `env -u BASH_ENV -u ENV`; exported bash functions are refused; inputs arrive only through env.
#
# MP_RELEASE_DOWNLOAD_BASE: the `…/releases/download` root to download from (a mirror: GitHub downloads
# are slow or blocked on many networks in China; file:// for tests); `<version>/<asset>` is appended.
set -euo pipefail

fail() { echo "::error title=mp-release::$*"; exit 1; }

if env | grep -q '^BASH_FUNC_'; then
  fail "refusing to run with exported bash functions in the environment (BASH_FUNC_*)"
fi

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: this script runs inside the mp-release action}"
# Linux gets the static (musl) builds: they run on glibc runners and in Alpine containers alike.
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  Windows/ARM64) target=aarch64-pc-windows-msvc ;;
  *) fail "no prebuilt mp-release for runner ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; set build-from-source: true" ;;
esac
exe=mp-release
[ "${RUNNER_OS}" = Windows ] && exe=mp-release.exe
asset="mp-release-${target}.tar.gz"

if [ "${MP_RELEASE_BUILD_FROM_SOURCE:-false}" = true ]; then
  dest="${RUNNER_TEMP:-/tmp}/mp-release-bin"
  mkdir -p "$dest"
  command -v cargo >/dev/null || fail "build-from-source needs a Rust toolchain (cargo) on the runner"
  cargo install --locked --path "$action_path" --root "$dest" >&2
  echo "bin=$dest/bin/$exe" >> "${GITHUB_OUTPUT:?}"
  exit 0
fi

table="$action_path/dist/checksums.txt"
version=$(sed -n '1s/^# sha256 of the release binaries of \(v[0-9][0-9A-Za-z.+-]*\)[ ,].*$/\1/p' "$table" 2>/dev/null || true)
[ -n "$version" ] || fail "this ref of the action records no release in dist/checksums.txt (a branch or commit before the first release?); pin a released version (@v1, @vX.Y.Z or its commit) or set build-from-source: true"
expected=$(awk -v a="$asset" '$2 == a { print $1 }' "$table")
[ -n "$expected" ] || fail "release $version has no $asset for runner ${RUNNER_OS}/${RUNNER_ARCH}; set build-from-source: true"

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | awk '{ print $1 }'; else shasum -a 256 "$1" | awk '{ print $1 }'; fi
}

# One copy per version and target in the tool cache: a second step of the job does not download again.
dest="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/mp-release/${version}/${target}"
mkdir -p "$dest"
if [ -x "$dest/$exe" ] && [ "$(cat "$dest/.sha256" 2>/dev/null || true)" = "$expected" ]; then
  echo "mp-release $version ($target) from the tool cache"
else
  base="${MP_RELEASE_DOWNLOAD_BASE:-https://github.com/${GITHUB_ACTION_REPOSITORY:-mp-release/mp-release}/releases/download}"
  url="${base%/}/$version/$asset"
  # Transient failures (timeouts, 5xx) are retried with backoff (1 s, 2 s, 4 s, 8 s); a 404 is not.
  status=0
  code=$(curl --proto '=https,file' --tlsv1.2 -fsSL --retry 4 --retry-delay 0 --connect-timeout 20 \
    -w '%{http_code}' -o "$dest/$asset" "$url") || status=$?
  if [ "$status" -ne 0 ]; then
    rm -f "$dest/$asset"
    case "$status/$code" in
      22/404|37/*) fail "no $asset in release $version at $base (HTTP ${code:-?}): the release is missing or incomplete; pin another version or set build-from-source: true" ;;
      *) fail "downloading $url failed (curl exit $status, HTTP ${code:-?}) after retries; check the network or set MP_RELEASE_DOWNLOAD_BASE to a mirror" ;;
    esac
  fi
  actual=$(sha256 "$dest/$asset")
  [ "$actual" = "$expected" ] || { rm -f "$dest/$asset"; fail "checksum mismatch for $asset of $version: expected $expected, got $actual; refusing to run it"; }
  tar -xzf "$dest/$asset" -C "$dest"
  rm -f "$dest/$asset"
  chmod +x "$dest/$exe" 2>/dev/null || true
  echo "$expected" > "$dest/.sha256"
  echo "mp-release $version ($target) downloaded and verified"
fi
echo "asset=$asset" >> "${GITHUB_OUTPUT:?}"
echo "version=$version" >> "$GITHUB_OUTPUT"
echo "bin=$dest/$exe" >> "$GITHUB_OUTPUT"
