#!/usr/bin/env bash
# The native readers (src/govweibo/ingest/_scan/*.c) under AddressSanitizer and UBSan:
# builds them with -fsanitize=address,undefined into a copy of the package in a scratch
# folder (the in-tree module is left alone), then runs the reader tests and a bounded fuzz
# run (tests/test_ingest_differential.py, GOVWEIBO_FUZZ_EXAMPLES examples) against that
# build. Any memory error or undefined behaviour aborts the run. Python is the host, so
# the ASan runtime is preloaded; leaks are not checked (the interpreter keeps memory on
# purpose). About 3 CPU-minutes (9 min wall on a busy 2-core machine). Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
EXAMPLES=${GOVWEIBO_FUZZ_EXAMPLES:-100}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src"
cp -r src/govweibo "$scratch/src/"
rm -f "$scratch"/src/govweibo/ingest/_sina_scan*.so
suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
OUT="$scratch/src/govweibo/ingest/_sina_scan$suffix" OPT="-O1 -g" \
  CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  PY="$PY" scripts/build_scan.sh >/dev/null
# libstdc++ preloaded beside it, so that ASan finds the C++ runtime's __cxa_throw when
# DuckDB (C++) throws: without it ASan stops at DuckDB's first exception.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Python's own allocator pools small blocks, which hides overruns from ASan.
export PYTHONMALLOC=malloc
export PYTHONPATH="$scratch/src"
export GOVWEIBO_FUZZ_EXAMPLES="$EXAMPLES"
"$PY" -c 'import govweibo.ingest.sina_fast as s, sys; assert s.AVAILABLE and sys.argv[1] in s._sina_scan.__file__, s._sina_scan.__file__' "$scratch"
"$PY" -m pytest -q -p no:cacheprovider \
  tests/test_sina_fast.py tests/test_ced_reposts.py tests/test_ingest_differential.py
echo "sanitize: native readers clean under ASan+UBSan ($EXAMPLES fuzz examples)"
