#!/usr/bin/env bash
# silentwatch's one test command (README's "test" section; .ci/run calls exactly this).
# 1. installs the Debian packages the suite drives for real when they are missing,
# 2. npm ci, 3. the whole vitest suite (lint and type-check included),
# 4. prints "N passed, N failed, N skipped" from vitest's JSON report as the last line.
set -uo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that provides it
declare -A NEEDS=(
  [redis-server]=redis-server
  [dockerd]=docker.io
  [docker]=docker.io
  [busybox]=busybox-static
  [promtool]=prometheus
  [prometheus]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-alertmanager]=prometheus-alertmanager
  [nginx]=nginx
  [prometheus-redis-exporter]=prometheus-redis-exporter
  [chromium]=chromium
)
missing=()
for cmd in "${!NEEDS[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/bin/$cmd" ]; then
    missing+=("${NEEDS[$cmd]}")
  fi
done
# busybox must be the static one: it is copied into a container image
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "scripts/test.sh: installing $pkgs" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >&2 \
    || echo "scripts/test.sh: warning: could not install $pkgs; tests needing them will fail or skip with a reason" >&2
fi
# The suite starts its own daemons on free ports and temp dirs: packaged instances, if any, are left alone.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ "${CI:-}" = "true" ]; then
  npm ci --no-audit --no-fund >&2 || { echo "0 passed, 1 failed"; exit 1; }
fi

report=.vitest-report.json
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@"
status=$?

node scripts/summary.mjs "$report" || status=1
exit $status
