#!/usr/bin/env bash
# Sets up a fresh clone: the system packages when missing, dependencies, the build. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tool and its tests run besides Node: redis-server (the pipeline's Redis), promtool
# (checks /metrics; Debian package prometheus), faketime (scripts/test-moved-clock.sh), chromium
# (the web console's browser tests drive it headless through playwright-core: nothing is downloaded)
# and PostgreSQL (the outbox).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# redis-cli creates the managed Redis Cluster (`up --cluster`, the tests' cluster); Debian's redis-server brings it.
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ] || missing+=(chromium)
# PostgreSQL for the outbox (a throwaway cluster per test run, `up --outbox managed`): Debian keeps
# initdb off PATH, in /usr/lib/postgresql/<major>/bin.
command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v brew >/dev/null 2>&1; then
    # Homebrew names: redis, prometheus (has promtool), libfaketime, the chromium cask (set CHROMIUM_PATH to its binary).
    for pkg in "${missing[@]}"; do
      case "$pkg" in redis-server|redis-tools) brew list redis >/dev/null 2>&1 || brew install redis ;; faketime) brew install libfaketime ;; chromium) brew install --cask chromium ;; postgresql) brew install postgresql@16 ;; *) brew install "$pkg" ;; esac
    done
  else
    echo "Install ${missing[*]} (Debian/Ubuntu package names) and run this again." >&2
    exit 1
  fi
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node >= 20.19 is needed, this is "+process.version); process.exit(1) }'
npm ci --no-audit --no-fund
npm run build

# `pipeline` on the PATH, as the README writes every command: a link to bin/run.js where npm
# puts global commands (what `npm link` does, without its global install), else /usr/local/bin.
bin_dir="$(npm prefix -g)/bin"
if ! { mkdir -p "$bin_dir" 2>/dev/null && [ -w "$bin_dir" ]; }; then bin_dir=/usr/local/bin; fi
link="$bin_dir/pipeline"
if [ -w "$bin_dir" ]; then
  ln -sfn "$PWD/bin/run.js" "$link"
elif command -v sudo >/dev/null 2>&1; then
  sudo ln -sfn "$PWD/bin/run.js" "$link"
else
  echo "Cannot write $bin_dir: run ./bin/run.js where the README writes pipeline, or link it yourself." >&2
  exit 1
fi
case ":$PATH:" in
  *":$bin_dir:"*) echo "pipeline is on your PATH: $link -> $PWD/bin/run.js" >&2 ;;
  *) echo "pipeline is linked as $link, but $bin_dir is not on your PATH: add it, or run ./bin/run.js." >&2 ;;
esac
