#!/usr/bin/env bash
# Runs the test suite on another day, in another time zone: no test may depend on today's date
# or on the machine's zone. libfaketime (Debian package `faketime`) moves the clock of the
# Node processes (plain `faketime -f '+200d' npm test` works too). The default start is 30 s before a UTC midnight at the end of a
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
# Every redis-server the suite starts drops libfaketime from its environment (redisServerEnv
# in src/redis/binary.ts: it aborts under it), so Redis keeps the true time, as a server whose
# clock differs from its clients' would.
# -f '@...' starts the clock there and lets it run at normal speed.
TZ="$zone" faketime -f "@$start" npx vitest run "$@"
