#!/bin/bash
# bench_pip.sh — pip at work inside a mounted venv, against the same venv
# as real files.
#
#   tests/bench/bench_pip.sh [WHEELFS_BINARY]      (root: it mounts)
#
# Before the rounds (not timed): `wheelfs add` of the benchmark set into a
# fresh cache.  Each of WFS_BENCH_ROUNDS (default 3) rounds then sets up,
# untimed, two venvs holding the whole set through `wheelfs install`: one
# pinned with --mode copy (every file real: what pip or uv would have
# made) and one mounted.  In each, after an untimed `sync`, it times
#   uninstall  pip uninstall -y of every distribution of the set (pip
#              moves each distribution's directories aside, then deletes
#              them: on the mount, lower directories are copied up on the
#              move, and every deletion becomes a whiteout)
#   install    pip install --no-deps --no-index --no-compile of the set
#              again (every file lands in the upper layer)
# and reports the medians of the paired ratios mounted/native.  pip is
# Debian's pip wheel, run from the wheel file by the venv's python.
# WHEELFS_MOUNT_OPTS passes -o options to the mount.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wheels=() names=() t=0 # set through namerefs
WHEELFS=$(bench_wheelfs "${1:-}")
[[ $(id -u) == 0 ]] || bench_die "bench_pip mounts: run it as root"
bench_setup
bench_wheels wheels
for w in "${wheels[@]}"; do
	b=$(basename "$w")
	names+=("${b%%-*}")
done

cache=$WFS_BENCH_WORK/pip-cache
nat=$WFS_BENCH_WORK/pip-native
mnt=$WFS_BENCH_WORK/pip-mounted
cleanup() {
	"$WHEELFS" umount "$mnt/lib" 2>/dev/null || true
	if [[ ${WFS_BENCH_KEEP:-0} == 1 ]]; then
		bench_log "kept $cache $nat $mnt"
	else
		bench_fresh "$cache" "$nat" "$mnt"
	fi
}
trap cleanup EXIT

echo "bench_pip: ${#wheels[@]} wheels, $(bench_du "$WFS_BENCH_WHEELS") of .whl, $(bench_sysinfo)"
echo "wheelfs: $WHEELFS${WHEELFS_MOUNT_OPTS:+ -o $WHEELFS_MOUNT_OPTS}; pip: $(basename "$WFS_PIP_WHL"); rounds: $WFS_BENCH_ROUNDS"

bench_fresh "$cache"
bench_log "filling the cache"
bench_time t "$WHEELFS" add -q "$cache" "${wheels[@]}"

setup() { # VENV: the whole set installed by wheelfs (not timed)
	bench_venv "$1"
	bench_time t "$WHEELFS" install -q --cache "$cache" "$1" "${wheels[@]}"
}

for ((r = 1; r <= WFS_BENCH_ROUNDS; r++)); do
	setup "$nat"
	bench_time t "$WHEELFS" pin -q --mode copy "$nat/lib"
	bench_settle
	bench_time t bench_pip "$nat" uninstall -q -y "${names[@]}"
	bench_record nat_un "$t"
	bench_settle
	bench_time t bench_pip_install "$nat" "${wheels[@]}"
	bench_record nat_in "$t"

	setup "$mnt"
	bench_time t "$WHEELFS" mount ${WHEELFS_MOUNT_OPTS:+-o "$WHEELFS_MOUNT_OPTS"} "$mnt/lib"
	bench_settle
	bench_time t bench_pip "$mnt" uninstall -q -y "${names[@]}"
	bench_record mnt_un "$t"
	bench_settle
	bench_time t bench_pip_install "$mnt" "${wheels[@]}"
	bench_record mnt_in "$t"
	bench_time t "$WHEELFS" umount "$mnt/lib"
	echo "round $r: uninstall native $(bench_series nat_un | tail -n 1)s, mounted $(bench_series mnt_un | tail -n 1)s;" \
		"install native $(bench_series nat_in | tail -n 1)s, mounted $(bench_series mnt_in | tail -n 1)s"
done

echo
bench_table nat_un mnt_un mnt_un/nat_un nat_in mnt_in mnt_in/nat_in
echo
echo "pip uninstall: $(bench_paired_median mnt_un nat_un)x native; pip install: $(bench_paired_median mnt_in nat_in)x native (medians of $WFS_BENCH_ROUNDS paired ratios, mounted/native)"
