#!/usr/bin/env bash
# Runs the test suite on another day, in another time zone: no test may depend on today's date
# or on the machine's zone. libfaketime (Debian package `faketime`) moves the clock of every
# process the suite starts, Node and redis-server alike, so entry ids and Date.now() agree as
# they do on a real machine. The default start is 30 s before a UTC midnight at the end of a
# February, in a zone 14 hours ahead of UTC, so the local and UTC days differ and the UTC day
# turns over while the first tests run.
#
#   scripts/test-moved-clock.sh                              # the default moved clock
#   scripts/test-moved-clock.sh '2030-12-31 23:58:00' America/Adak test/e2e/up.e2e.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."

start="${1:-2031-02-28 23:59:30}"
zone="${2:-Pacific/Kiritimati}"
shift $(( $# > 2 ? 2 : $# ))

if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime not found: install the Debian package faketime (scripts/setup.sh does)" >&2
  exit 1
fi

npm run build >/dev/null
echo "tests with the clock at $start UTC, TZ=$zone" >&2
# redis-server cannot run under libfaketime (its allocator reads the clock before the library
# is ready), so the suite finds a redis-server on PATH that drops the preload and runs the real
# one: Redis keeps the true time, as a server whose clock differs from its clients' would.
real_redis="$(command -v redis-server)"
shim="$(mktemp -d)"
trap 'rm -rf "$shim"' EXIT
printf '#!/bin/sh\nunset LD_PRELOAD FAKETIME\nexec %s "$@"\n' "$real_redis" >"$shim/redis-server"
chmod +x "$shim/redis-server"
# -f '@...' starts the clock there and lets it run at normal speed.
PATH="$shim:$PATH" TZ="$zone" faketime -f "@$start" npx vitest run "$@"
