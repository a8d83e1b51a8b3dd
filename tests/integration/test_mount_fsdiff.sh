#!/bin/bash
# Python must not be able to tell the view from a real directory: the same
# seeded random file system operations (fsdiff.py: create, write, append,
# truncate, read, stat, listdir, unlink, mkdir, rmdir, rename, renameat2
# with RENAME_NOREPLACE or RENAME_EXCHANGE, symlink,
# readlink, chmod, utime, link, mmap writes, reads through a descriptor
# opened before a write, user.* xattrs) on a mounted view and on a native copy of it
# end the same way, one by one, and leave the same trees, before and after
# a remount.  The only difference allowed is the documented EXDEV of hard
# links.  Then, after
# random operations, a live `wheelfs install` of a new version and a live
# `wheelfs uninstall` must show what a remount shows, and no name the
# listing lost may still be found by a lookup.  Last, two processes at
# once on disjoint subtrees, single-threaded and with threads=4.
# WFS_FSDIFF_SEEDS="1 2 3 4" and WFS_FSDIFF_OPS=1500 (the defaults) set
# how much, for longer runs by hand; WFS_FSDIFF_LIVE_SEEDS="7" the seeds
# of the live install part; WFS_FSDIFF_PAR_SEEDS="11" those of the
# concurrent part.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
W=$T/wheels
mkdir -p "$W"
args=()
for d in n0 n0/n2 n1 n1/n3 n4; do
	args+=(--file "$d/__init__.py=# $d" --file "$d/x.py=X = '$d'"$'\n')
	args+=(--file-size "$d/data.bin=5000:${#d}")
done
whl=$(mkwheel --out "$W" --name n0 --version 1.0 "${args[@]}" \
	--file x.py=TOP=1 --exec n1/run.sh --symlink n4/link=x.py \
	--symlink n1/dangling=nowhere.py)
for seed in ${WFS_FSDIFF_SEEDS:-1 2 3 4}; do
	V=$T/venv$seed
	N=$T/native$seed
	mkvenv "$V"
	vinstall "$C" "$V" "$whl"
	S=$(site_of "$V")
	mnt "$V"
	cp -a "$S" "$N"
	run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" same "$S" "$N"
	run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" run "$seed" "${WFS_FSDIFF_OPS:-1500}" "$S" "$N"
	echo "seed $seed: $(cat "$LAST_OUT")"
	run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" same "$S" "$N"
	umnt "$V"
	mnt "$V"
	run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" same "$S" "$N"
	echo "after a remount: $(cat "$LAST_OUT")"
	umnt "$V"
done


# A live install over a changed view, and a live uninstall, show what a
# remount shows.
args=()
for d in n0 n0/n2 n1 n5; do
	args+=(--file "$d/__init__.py=# $d v2" --file "$d/y.py=Y = '$d'"$'\n')
	args+=(--file-size "$d/data.bin=7000:${#d}")
done
whl2=$(mkwheel --out "$W" --name n0 --version 2.0 "${args[@]}" \
	--file x.py=TOP=2 --symlink n5/link=y.py)
for seed in ${WFS_FSDIFF_LIVE_SEEDS:-7}; do
	V=$T/venv-live$seed
	N=$T/native-live$seed
	mkvenv "$V"
	vinstall "$C" "$V" "$whl"
	S=$(site_of "$V")
	mnt "$V"
	cp -a "$S" "$N"
	run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" run "$seed" "${WFS_FSDIFF_OPS:-1500}" "$S" "$N"
	for step in install uninstall; do
		run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" snap "$S" "$T/before.json"
		if [[ $step == install ]]; then
			run_ok "$WHEELFS" install -q --cache "$C" "$V" "$whl2"
		else
			run_ok "$WHEELFS" uninstall -q "$V" n0
		fi
		run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" snap "$S" "$T/live.json" "$T/before.json"
		umnt "$V"
		mnt "$V"
		run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" same "$T/live.json" "$S"
		echo "live $step = remount: $(cat "$LAST_OUT")"
	done
	umnt "$V"
done
# Two processes at once, each on its own subtree (so each one's results
# are its own), on a single-threaded and on a multithreaded daemon.
for opts in "" threads=4; do
	for seed in ${WFS_FSDIFF_PAR_SEEDS:-11}; do
		V=$T/venv-par$seed${opts:+-mt}
		N=$T/native-par$seed${opts:+-mt}
		mkvenv "$V"
		vinstall "$C" "$V" "$whl"
		S=$(site_of "$V")
		mnt "$V" "$opts"
		cp -a "$S" "$N"
		pids=()
		for d in n0 n1; do
			"$PY" "$WFS_LIB_DIR/fsdiff.py" run "$seed" "${WFS_FSDIFF_OPS:-1500}" \
				"$S/$d" "$N/$d" >"$T/par.$d" 2>&1 &
			pids+=($!)
		done
		for i in 0 1; do
			wait "${pids[i]}" || fail "concurrent fsdiff on n$i (${opts:-single-threaded}): $(cat "$T/par.n$i")"
		done
		run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" same "$S" "$N"
		umnt "$V"
		mnt "$V" "$opts"
		run_ok "$PY" "$WFS_LIB_DIR/fsdiff.py" same "$S" "$N"
		echo "two at once (${opts:-single-threaded}): $(cat "$LAST_OUT")"
		umnt "$V"
	done
done
check_blobs "$C"
