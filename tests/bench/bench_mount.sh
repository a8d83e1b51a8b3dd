#!/bin/bash
# bench_mount.sh — imports through a wheelfs mount versus a native copy of
# the same tree, a find/stat walk, mount time versus view size, and
# (optionally) fuse-overlayfs and squashfuse_ll over the same tree.
#
#   tests/bench/bench_mount.sh [WHEELFS_BINARY]
#
# Set-up (not timed): `wheelfs install` of the benchmark wheel set (setup.sh)
# into a venv; the mount's site-packages copied (cp -a, through the mount)
# into a second venv: the native tree, byte for byte and mtime for mtime the
# same; compileall in both, so .pyc files are present (in the upper layer
# for the mount).  The importable top-level packages of the set are found
# by trying each in the native venv.
#
# Then WFS_BENCH_MOUNT_ROUNDS (default 11) paired rounds, in alternating
# order, of `python -c 'import a, b, ...'` (all of them, one process):
#   warm   page cache and the kernel's FUSE caches warm
#   cold   `echo 3 > /proc/sys/vm/drop_caches` before each run (root)
# and of `find SITE -printf '%s %m\n'` (a stat walk), warm and cold.
# Reports each series and the median of the paired ratios wfs/native.
#
# Mount time: views of 1k, 10k and 100k synthetic files (mksynth.py),
# `wheelfs mount` (which returns once the mount serves) timed 5 times each,
# median.
#
# Peers (WFS_BENCH_PEERS=1, default when root): fuse-overlayfs (lower: the
# native tree, an empty upper) and squashfuse_ll (a squashfs image of the
# native tree), each over the site-packages of its own venv, apt-installed
# when missing (fuse-overlayfs squashfuse squashfs-tools).
#
# WHEELFS_MOUNT_OPTS adds -o options to the wheelfs mount (e.g. follow=no).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WHEELFS=$(bench_wheelfs "${1:-}")
ROUNDS=${WFS_BENCH_MOUNT_ROUNDS:-11}
PEERS=${WFS_BENCH_PEERS:-$([[ $EUID == 0 ]] && echo 1 || echo 0)}
MOPTS=${WHEELFS_MOUNT_OPTS:-}
bench_setup
wheels=()
bench_wheels wheels
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX PYTHONPATH

W=$WFS_BENCH_WORK/mount
cache=$W/cache
venv=$W/wfs
nvenv=$W/native
PYXY=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site() { echo "$1/lib/python$PYXY/site-packages"; }
MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
	done
	bench_cleanup_work
}
trap cleanup EXIT

# ptime VAR CMD...: wall time of CMD in seconds (perf_counter around it)
ptime() {
	local -n _pt=$1
	shift
	_pt=$("$PY" -c '
import subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
d = time.perf_counter() - t
if r.returncode:
    sys.stderr.write(r.stderr.decode()); sys.exit(r.returncode)
print("%.4f" % d)' "$@") || bench_die "failed: $*"
}
drop() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
wmount() { # VENV
	"$WHEELFS" mount ${MOPTS:+-o "$MOPTS"} "$cache" "$1/lib" || bench_die "mount $1/lib failed"
	MOUNTS+=("$1/lib")
}
wumount() {
	"$WHEELFS" umount "$1/lib" || bench_die "umount $1/lib failed"
}

echo "bench_mount: ${#wheels[@]} wheels, $(bench_sysinfo)"
echo "wheelfs: $WHEELFS${MOPTS:+ -o $MOPTS}; rounds: $ROUNDS"

bench_fresh "$W"
mkdir -p "$W"
bench_log "installing the set"
"$WHEELFS" add -q "$cache" "${wheels[@]}"
"$PY" -m venv --without-pip "$venv"
"$WHEELFS" install -q --cache "$cache" "$venv" "${wheels[@]}"
wmount "$venv"
bench_log "native copy"
"$PY" -m venv --without-pip "$nvenv"
rm -rf "$(site "$nvenv")"
cp -a "$(site "$venv")" "$(site "$nvenv")"
bench_log "compiling .pyc in both"
"$venv/bin/python" -m compileall -q -j0 "$(site "$venv")" >/dev/null 2>&1 || true
"$nvenv/bin/python" -m compileall -q -j0 "$(site "$nvenv")" >/dev/null 2>&1 || true
echo "tree: $(bench_du "$(site "$nvenv")")"

mods=()
for m in $(cd "$(site "$nvenv")" && ls); do
	case $m in *.dist-info | *.pth | __pycache__ | _distutils_hack) continue ;; esac
	m=${m%.py}
	[[ $m =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
	"$nvenv/bin/python" -c "import $m" >/dev/null 2>&1 && mods+=("$m")
done
IMPORT="import $(IFS=,; echo "${mods[*]}")"
echo "imports: ${mods[*]} (${#mods[@]} packages)"
"$venv/bin/python" -c "$IMPORT" || bench_die "import through the mount failed"

bench_log "warm imports"
"$nvenv/bin/python" -c "$IMPORT"
"$venv/bin/python" -c "$IMPORT"
for ((r = 1; r <= ROUNDS; r++)); do
	ptime a "$nvenv/bin/python" -c "$IMPORT"
	ptime b "$venv/bin/python" -c "$IMPORT"
	if ((r % 2)); then
		ptime b "$venv/bin/python" -c "$IMPORT"
		ptime a "$nvenv/bin/python" -c "$IMPORT"
	fi
	bench_record warm-native "$a"
	bench_record warm-wfs "$b"
done
walk_n=(find "$(site "$nvenv")" -printf '%s %m\n')
walk_w=(find "$(site "$venv")" -printf '%s %m\n')
for ((r = 1; r <= ROUNDS; r++)); do
	ptime a "${walk_n[@]}"
	ptime b "${walk_w[@]}"
	bench_record walk-native "$a"
	bench_record walk-wfs "$b"
done
if [[ $EUID == 0 ]]; then
	bench_log "cold imports and walks"
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then
			drop; ptime b "$venv/bin/python" -c "$IMPORT"
			drop; ptime a "$nvenv/bin/python" -c "$IMPORT"
		else
			drop; ptime a "$nvenv/bin/python" -c "$IMPORT"
			drop; ptime b "$venv/bin/python" -c "$IMPORT"
		fi
		bench_record cold-native "$a"
		bench_record cold-wfs "$b"
		drop; ptime a "${walk_n[@]}"
		drop; ptime b "${walk_w[@]}"
		bench_record cwalk-native "$a"
		bench_record cwalk-wfs "$b"
	done
fi

echo
echo "== imports (s) and wfs/native paired ratios"
cols=(warm-native warm-wfs warm-wfs/warm-native)
[[ $EUID == 0 ]] && cols+=(cold-native cold-wfs cold-wfs/cold-native)
bench_table "${cols[@]}"
echo
echo "== find/stat walk (s)"
cols=(walk-native walk-wfs walk-wfs/walk-native)
[[ $EUID == 0 ]] && cols+=(cwalk-native cwalk-wfs cwalk-wfs/cwalk-native)
bench_table "${cols[@]}"
wumount "$venv"

# --- peers ------------------------------------------------------------------
if [[ $PEERS == 1 ]]; then
	need=()
	command -v fuse-overlayfs >/dev/null || need+=(fuse-overlayfs)
	command -v squashfuse_ll >/dev/null || need+=(squashfuse)
	command -v mksquashfs >/dev/null || need+=(squashfs-tools)
	if ((${#need[@]})); then
		bench_log "apt-get install ${need[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; } ||
			bench_log "could not install ${need[*]}; skipping peers"
	fi
	peers=()
	if command -v fuse-overlayfs >/dev/null; then
		ov=$W/ovl
		"$PY" -m venv --without-pip "$ov"
		mkdir -p "$W/ovl-upper" "$W/ovl-work"
		fuse-overlayfs -o "lowerdir=$(site "$nvenv"),upperdir=$W/ovl-upper,workdir=$W/ovl-work" "$(site "$ov")" &&
			{ MOUNTS+=("$(site "$ov")"); peers+=("fuse-overlayfs:$ov"); }
	fi
	if command -v squashfuse_ll >/dev/null && command -v mksquashfs >/dev/null; then
		sq=$W/sq
		"$PY" -m venv --without-pip "$sq"
		mksquashfs "$(site "$nvenv")" "$W/site.sqfs" -quiet -noappend >/dev/null
		squashfuse_ll "$W/site.sqfs" "$(site "$sq")" &&
			{ MOUNTS+=("$(site "$sq")"); peers+=("squashfuse_ll:$sq"); }
	fi
	for p in "${peers[@]}"; do
		name=${p%%:*} pv=${p#*:}
		bench_log "$name"
		"$pv/bin/python" -c "$IMPORT" || { bench_log "$name: import failed"; continue; }
		for ((r = 1; r <= ROUNDS; r++)); do
			ptime a "$nvenv/bin/python" -c "$IMPORT"
			ptime b "$pv/bin/python" -c "$IMPORT"
			bench_record "$name-warm-native" "$a"
			bench_record "$name-warm" "$b"
			if [[ $EUID == 0 ]]; then
				drop; ptime a "$nvenv/bin/python" -c "$IMPORT"
				drop; ptime b "$pv/bin/python" -c "$IMPORT"
				bench_record "$name-cold-native" "$a"
				bench_record "$name-cold" "$b"
			fi
		done
		echo
		echo "== $name imports (s)"
		cols=("$name-warm-native" "$name-warm" "$name-warm/$name-warm-native")
		[[ $EUID == 0 ]] && cols+=("$name-cold-native" "$name-cold" "$name-cold/$name-cold-native")
		bench_table "${cols[@]}"
	done
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
	done
fi

# --- mount time versus view size ------------------------------------------------
echo
echo "== mount time (ms, median of 5): wheelfs mount until it serves"
synth=$WFS_BENCH_DIR/synth
for n in 1000 10000 100000; do
	whl=$("$PY" "$WFS_BENCH_LIB_DIR/mksynth.py" --out "$synth" --files "$n")
	sv=$W/synth-$n
	"$WHEELFS" add -q "$cache" "$whl"
	"$PY" -m venv --without-pip "$sv"
	"$WHEELFS" install -q --cache "$cache" "$sv" "$whl"
	entries=$("$PY" -c 'import zipfile, sys; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "$whl")
	ts=()
	for i in 1 2 3 4 5; do
		ptime t "$WHEELFS" mount ${MOPTS:+-o "$MOPTS"} "$cache" "$sv/lib"
		MOUNTS+=("$sv/lib")
		ts+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')")
		[[ -e $(site "$sv")/synth_$n/__init__.py ]] || bench_die "synth view not served"
		wumount "$sv"
	done
	printf '%7d files (%d wheel entries): %s ms   [%s]\n' "$n" "$entries" "$(bench_median "${ts[@]}")" "${ts[*]}"
done
