#!/bin/bash
# bench_install.sh — `wheelfs install` of the benchmark wheel set into a new
# venv, the cache warm, versus pip install into a new venv.
#
#   tests/bench/bench_install.sh [WHEELFS_BINARY]
#
# Before the rounds (not timed): `wheelfs add` of the set into a fresh cache,
# then one `wheelfs install` into a scratch venv, so the cache holds every
# blob and tree and its wheel index (CACHE/wheels, fs/install.h) knows every
# wheel.  Each of WFS_BENCH_ROUNDS (default 3) rounds then times, back to
# back, each into a venv made fresh (python3 -m venv --without-pip, not
# timed) and after an untimed `sync`:
#   pip      pip install --no-deps --no-index --no-compile of all wheels
#   install  wheelfs install --cache CACHE VENV of all wheels
#   cold     the same with the wheel index removed first (every wheel is
#            inflated and hashed again, its blobs found in the cache) — what
#            the first install after a plain `wheelfs add` costs
# and reports the median of the paired per-round ratios pip/install and
# pip/cold ("N x faster than pip").  `wheelfs install` syncs the venv's
# filesystem and fsyncs the view record before it returns; pip does
# neither.  WHEELFS_INSTALL_ARGS adds options to the wheelfs runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wheels=() t_pip=0 t_inst=0 t_cold=0 # set through namerefs
WHEELFS=$(bench_wheelfs "${1:-}")
bench_setup
bench_wheels wheels
read -ra inst_args <<<"${WHEELFS_INSTALL_ARGS:-}"

cache=$WFS_BENCH_WORK/install-cache
venv=$WFS_BENCH_WORK/install-venv
pvenv=$WFS_BENCH_WORK/install-pip-venv
# Only our own scratch dirs: other benchmarks may be using $WFS_BENCH_WORK.
cleanup() {
	if [[ ${WFS_BENCH_KEEP:-0} == 1 ]]; then
		bench_log "kept $cache $venv $pvenv"
	else
		bench_fresh "$cache" "$venv" "$pvenv"
	fi
}
trap cleanup EXIT

echo "bench_install: ${#wheels[@]} wheels, $(bench_du "$WFS_BENCH_WHEELS") of .whl, $(bench_sysinfo)"
echo "wheelfs: $WHEELFS${inst_args[*]:+ ${inst_args[*]}}; pip: $(basename "$WFS_PIP_WHL"); rounds: $WFS_BENCH_ROUNDS"

bench_fresh "$cache"
bench_log "warming the cache"
bench_time t_inst "$WHEELFS" add -q "$cache" "${wheels[@]}"
bench_venv "$venv"
bench_time t_inst "$WHEELFS" install -q --cache "$cache" "${inst_args[@]}" "$venv" "${wheels[@]}"

for ((r = 1; r <= WFS_BENCH_ROUNDS; r++)); do
	bench_venv "$pvenv"
	bench_settle
	bench_time t_pip bench_pip_install "$pvenv" "${wheels[@]}"

	bench_venv "$venv"
	bench_settle
	bench_time t_inst "$WHEELFS" install --cache "$cache" "${inst_args[@]}" "$venv" "${wheels[@]}"
	sum_inst=$(tail -n 1 "$WFS_BENCH_WORK/last.log")

	bench_venv "$venv"
	rm -rf "$cache/wheels"
	bench_settle
	bench_time t_cold "$WHEELFS" install -q --cache "$cache" "${inst_args[@]}" "$venv" "${wheels[@]}"

	bench_record pip "$t_pip"
	bench_record install "$t_inst"
	bench_record cold "$t_cold"
	echo "round $r: pip ${t_pip}s, wheelfs install ${t_inst}s, without the wheel index ${t_cold}s"
	if ((r == 1)); then
		echo "  last line of install: $sum_inst"
		echo "  pip venv: $(bench_du "$pvenv"); wheelfs venv (real files): $(bench_du "$venv")"
	fi
done

echo
bench_table pip install cold pip/install pip/cold
echo
echo "install: $(bench_paired_median pip install)x faster than pip (median of $WFS_BENCH_ROUNDS paired ratios pip/install)"
echo "install without the wheel index: $(bench_paired_median pip cold)x faster than pip (median of $WFS_BENCH_ROUNDS paired ratios)"
