#!/bin/sh
# Instruction profile of the backup pipeline (see pipeline_model.c for why a model).
#   scripts/bench/profile/profile.sh DATABASE [LEVEL]
# Prints callgrind's inclusive instruction counts of the library calls that do the work.
set -eu
database=$1
level=${2:-6}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/model" "$here/pipeline_model.c" -lsqlite3 -lz -lcrypto
for mode in single blocks stored; do
    valgrind --tool=callgrind --callgrind-out-file="$work/$mode.out" \
        "$work/model" "$database" "$work/out-$mode.gz" "$level" "$mode" 2>/dev/null
    gzip -t "$work/out-$mode.gz"
    echo "== level $level, $mode: total and inclusive instructions"
    callgrind_annotate --inclusive=yes "$work/$mode.out" 2>/dev/null |
        grep -E 'PROGRAM TOTALS|:(main|sqlite3_backup_step|deflate|deflateSetDictionary|crc32|crc32_combine|EVP_DigestUpdate|read|write) \[' |
        sed -E 's/ \[[^]]*\]$//; s/\?\?\?://' | head -20
done
