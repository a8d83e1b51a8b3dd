#!/bin/bash
# bench_add.sh — `wheelfs add` of the benchmark wheel set versus pip install.
#
#   tests/bench/bench_add.sh [WHEELFS_BINARY]
#
# Each of WFS_BENCH_ROUNDS (default 3) rounds times, back to back:
#   add   wheelfs add of all wheels into a fresh, empty cache
#   pip   pip install --no-deps --no-index --no-compile of the same wheels
#         into a fresh venv (venv creation is not timed)
#   warm  wheelfs add of the same wheels again into that cache (all dedup)
# and reports the median of the paired per-round ratios add/pip, warm/pip.
# `sync` runs untimed before each step, so no step pays for the previous
# one's writeback (wheelfs add calls syncfs before publishing a tree).
# WHEELFS_ADD_ARGS adds options to both wheelfs runs (e.g. "-j 1").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wheels=() t_add=0 t_pip=0 t_warm=0 # set through namerefs
WHEELFS=$(bench_wheelfs "${1:-}")
bench_setup
bench_wheels wheels
read -ra add_args <<<"${WHEELFS_ADD_ARGS:-}"

cache=$WFS_BENCH_WORK/add-cache
venv=$WFS_BENCH_WORK/add-venv
trap 'bench_cleanup_work' EXIT

echo "bench_add: ${#wheels[@]} wheels, $(bench_du "$WFS_BENCH_WHEELS") of .whl, $(bench_sysinfo)"
echo "wheelfs: $WHEELFS${add_args[*]:+ ${add_args[*]}}; pip: $(basename "$WFS_PIP_WHL"); rounds: $WFS_BENCH_ROUNDS"

for ((r = 1; r <= WFS_BENCH_ROUNDS; r++)); do
	bench_fresh "$cache"
	bench_time t_add "$WHEELFS" add "${add_args[@]}" "$cache" "${wheels[@]}"
	sum_add=$(tail -n 1 "$WFS_BENCH_WORK/last.log")

	bench_venv "$venv"
	bench_settle
	bench_time t_pip bench_pip_install "$venv" "${wheels[@]}"

	bench_settle
	bench_time t_warm "$WHEELFS" add "${add_args[@]}" "$cache" "${wheels[@]}"
	sum_warm=$(tail -n 1 "$WFS_BENCH_WORK/last.log")

	bench_record add "$t_add"
	bench_record pip "$t_pip"
	bench_record warm "$t_warm"
	echo "round $r: add ${t_add}s, pip ${t_pip}s, warm add ${t_warm}s"
	if ((r == 1)); then
		echo "  add:  $sum_add"
		echo "  warm: $sum_warm"
		echo "  cache: $(bench_du "$cache"); venv site-packages: $(bench_du "$venv/lib")"
	fi
done

echo
bench_table add pip warm add/pip warm/pip
echo
echo "add: $(bench_paired_median add pip)x pip (median of $WFS_BENCH_ROUNDS paired ratios)"
echo "warm add: $(bench_paired_median warm pip)x pip (median of $WFS_BENCH_ROUNDS paired ratios)"
