#!/bin/bash
# bench_pin.sh [WHEELFS_BINARY] — `wheelfs pin` against cp(1) making the
# same tree, on the 25-wheel Debian-derived set (setup.sh).
#
# Each round, with a fresh venv installed from a warm cache before every
# timed step (not timed):
#   copy      `wheelfs pin --mode copy`     vs `cp -a SRC DST`
#   hardlink  `wheelfs pin --mode hardlink` vs `cp -al SRC DST`
#             (on an ext4 loop image holding the cache, SRC and the venvs)
#   reflink   `wheelfs pin --mode reflink`  vs `cp -a --reflink=always`
#             and vs `cp -a --reflink=never` (a real copy: what cp -a does
#             where reflinks are not supported), on an XFS (reflink=1)
#             loop image holding the cache, SRC and the venvs
# SRC is a materialized copy of the view: a venv of the same wheels pinned
# with --mode copy, so cp copies exactly the tree pin makes.
#
# Fairness:
# - pin syncs the venv's filesystem before it marks the view pinned, so
#   every cp is timed as `cp ... && sync`: both pay for durability;
# - the order of pin and cp alternates between rounds;
# - nothing is deleted until the end: every step writes to new directories
#   of freshly made filesystems.  ext4 and XFS avoid reusing inodes freed in
#   the last minutes, and a benchmark that removes and remakes 4k
#   directories each step mostly measures that search (for whichever side
#   happens to allocate near the freed inodes);
# - without root (no loop mounts), copy and hardlink run in
#   $WFS_BENCH_DIR instead and reflink is skipped, with a note.
# Results: a table per round and the median of the paired ratios, against
# the goals  pin copy <= 1.1x cp -a;  pin hardlink <= 1.1x cp -al;
#            pin reflink <= 0.5x cp -a (a real copy, --reflink=never).
#
# Environment: lib.sh's (WFS_BENCH_DIR, WFS_BENCH_ROUNDS, WFS_BENCH_KEEP,
# WFS_BENCH_DROP_CACHES, WFS_BENCH_SKIP_SETUP), plus
#   WFS_BENCH_XFS=0        skip the reflink part
#   WFS_BENCH_IMG_SIZE     size of each sparse loop image (default 8G; each
#                          round adds about 700 MB to the ext4 one)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wfs=$(bench_wheelfs "${1:-}")
bench_setup
bench_wheels wheels
work=$WFS_BENCH_WORK/pin
mounts=()

cleanup() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	rm -f "$work".*.img
	bench_cleanup_work
}
trap cleanup EXIT

bench_log "$(bench_sysinfo)"
bench_log "wheelfs: $wfs; ${#wheels[@]} wheels"

# venv DIR CACHE: a new venv holding the wheels (install is not timed)
venv() {
	"$PY" -m venv --without-pip "$1"
	"$wfs" install -q --cache "$2" "$1" "${wheels[@]}" >/dev/null ||
		bench_die "wheelfs install into $1 failed"
	bench_settle
}

# loopfs NAME MKFS...: a fresh filesystem from a sparse image, mounted on
# $work/NAME; prints nothing, returns 1 when it cannot be had.
loopfs() {
	local name=$1 img=$work.$1.img
	shift
	((EUID == 0)) || return 1
	command -v "$1" >/dev/null || return 1
	rm -f "$img"
	truncate -s "${WFS_BENCH_IMG_SIZE:-8G}" "$img"
	"$@" "$img" >/dev/null 2>&1 || return 1
	mkdir -p "$work/$name"
	mount -o loop "$img" "$work/$name" || return 1
	mounts+=("$work/$name")
}

# setup_side ROOT: a warm cache and SRC (a materialized view) under ROOT
setup_side() {
	local root=$1
	mkdir -p "$root"
	"$wfs" add -q "$root/cache" "${wheels[@]}" >/dev/null || bench_die "wheelfs add failed"
	venv "$root/src" "$root/cache"
	"$wfs" pin --mode copy "$root/src/lib" >/dev/null || bench_die "pinning SRC failed"
	bench_log "SRC under $root ($(stat -f -c %T "$root")): $(bench_du "$root/src/lib")"
}

# pair ROUND NAME_PIN NAME_CP ROOT PINARGS -- CPARGS...: time one pin and
# one cp into new directories, alternating the order by round.
pair() {
	local round=$1 npin=$2 ncp=$3 root=$4 t
	shift 4
	local -a pinargs=() cpargs=()
	while [[ $1 != -- ]]; do pinargs+=("$1"); shift; done
	shift
	cpargs=("$@")
	do_pin() {
		local v=$root/r$round-$npin
		venv "$v" "$root/cache"
		bench_time t "$wfs" pin "${pinargs[@]}" "$v/lib"
		bench_record "$npin" "$t"
		tail -n 1 "$WFS_BENCH_WORK/last.log" | cut -c1-150 >&2
	}
	do_cp() {
		bench_settle
		bench_time t sh -c 'cp "$@" && sync' cp "${cpargs[@]}" \
			"$root/src/lib" "$root/r$round-$ncp"
		bench_record "$ncp" "$t"
	}
	if ((round % 2)); then do_pin; do_cp; else do_cp; do_pin; fi
}

bench_fresh "$work"
mkdir -p "$work"
if loopfs ext4 mkfs.ext4 -q -F; then
	side=$work/ext4/w
	where="an ext4 loop image"
else
	side=$work/disk
	where="$WFS_BENCH_DIR ($(stat -f -c %T "$WFS_BENCH_DIR")), not a fresh filesystem (no root or no mkfs.ext4)"
	bench_log "copy and hardlink run in $where"
fi
setup_side "$side"

have_xfs=0
if [[ ${WFS_BENCH_XFS:-1} == 1 ]]; then
	if loopfs xfs mkfs.xfs -q -m reflink=1; then
		have_xfs=1
		setup_side "$work/xfs/w"
	else
		bench_log "reflink part skipped: it needs root, mkfs.xfs (xfsprogs) and a loop device"
	fi
fi

for ((r = 1; r <= WFS_BENCH_ROUNDS; r++)); do
	bench_log "round $r/$WFS_BENCH_ROUNDS"
	pair "$r" pin_copy cp_a "$side" --mode copy -- -a
	pair "$r" pin_hl cp_al "$side" --mode hardlink -- -al
	if ((have_xfs)); then
		pair "$r" pin_rl cp_rl "$work/xfs/w" --mode reflink -- -a --reflink=always
		bench_settle
		bench_time t sh -c 'cp -a --reflink=never "$1" "$2" && sync' cp \
			"$work/xfs/w/src/lib" "$work/xfs/w/r$r-cp_norl"
		bench_record cp_norl "$t"
	fi
done

echo
echo "== wheelfs pin vs cp: seconds per round, median of paired ratios"
echo "-- copy and hardlink: $where"
bench_table pin_copy cp_a pin_copy/cp_a pin_hl cp_al pin_hl/cp_al
if ((have_xfs)); then
	echo "-- reflink: an XFS (reflink=1) loop image"
	bench_table pin_rl cp_rl pin_rl/cp_rl cp_norl pin_rl/cp_norl
fi
echo
verdict() { # NAME RATIO GOAL
	awk -v r="$2" -v g="$3" -v n="$1" 'BEGIN {
		printf "%s: %.2fx (goal <= %.1fx: %s)\n", n, r, g, r <= g ? "met" : "NOT met" }'
}
verdict "pin copy vs cp -a" "$(bench_paired_median pin_copy cp_a)" 1.1
verdict "pin hardlink vs cp -al" "$(bench_paired_median pin_hl cp_al)" 1.1
if ((have_xfs)); then
	verdict "pin reflink vs cp -a (a real copy, --reflink=never)" "$(bench_paired_median pin_rl cp_norl)" 0.5
	echo "(for reference: pin reflink vs cp -a --reflink=always: $(bench_paired_median pin_rl cp_rl)x)"
fi
