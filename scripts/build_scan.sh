#!/usr/bin/env bash
# Build the native readers (src/govweibo/ingest/_scan/*.c) in place with gcc, as setup.py
# does at install, without reinstalling the package. Extra compiler flags may be given in
# CFLAGS (scripts/sanitize.sh passes -fsanitize=...); OUT names another output file.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SCAN=src/govweibo/ingest/_scan
suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
include=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
out=${OUT:-src/govweibo/ingest/_sina_scan$suffix}
tmp="$out.tmp.$$"
# shellcheck disable=SC2086
gcc ${OPT:--O3} -std=c99 -Wall -Wextra -pthread -fvisibility=hidden -fPIC -shared \
  -I"$include" -I"$SCAN" ${CFLAGS:-} \
  "$SCAN"/json.c "$SCAN"/values.c "$SCAN"/columns.c "$SCAN"/statuses.c "$SCAN"/reposts.c \
  "$SCAN"/module.c -o "$tmp"
# A rename, so a process that has the old module loaded keeps it intact.
mv -f "$tmp" "$out"
echo "$out"
