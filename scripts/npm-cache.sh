# Sourced by the install scripts: `npm_cache DIR PACKAGE...` installs the exact packages into
# DIR/node_modules once (a stamp records what was installed: another list installs again), one
# install at a time (flock where there is one: tests call the scripts concurrently).
npm_cache() {
  local dir="$1"
  shift
  local want="$*"
  mkdir -p "$dir"
  if command -v flock >/dev/null; then
    exec 9>"$dir.lock"
    flock 9
  fi
  if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$want" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "npm is not installed: install Node.js 18+ and npm (apt-get install nodejs npm)" >&2; exit 1; }
  (
    cd "$dir"
    [ -f package.json ] || echo '{"name":"mp-release-cache","private":true}' > package.json
    npm install --no-audit --no-fund --loglevel=error --ignore-scripts "$@" >&2
  )
  echo "$want" > "$dir/.installed"
}
