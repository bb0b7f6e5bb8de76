#!/bin/sh
# lunbench against fio, side by side on the same devices, in one table:
# see scenarios/lab/bench/main.go for what is measured and how, and
# scenarios/lab/bench/cases.go for the cases (and how to add one).
#
# usage: bench.sh path/to/lunbench [seconds per run]
# Environment: BENCH_SECS, BENCH_ROUNDS, BENCH_QUICK=1, BENCH_CASES,
# BENCH_SIZE_MIB, BENCH_PREFIX (see main.go). Needs root for zram.
set -eu
LB=$(readlink -f "${1:?usage: bench.sh path/to/lunbench [seconds per run]}")
[ -z "${2:-}" ] || export BENCH_SECS="$2"
cd "$(dirname "$0")/../.."
exec go run ./scenarios/lab/bench "$LB"
