#!/bin/bash
# Python must not be able to tell the view from a real directory: the same
# seeded random file system operations (fsdiff.py: create, write, append,
# truncate, read, stat, listdir, unlink, mkdir, rmdir, rename, symlink,
# readlink, chmod, utime, link) on a mounted view and on a native copy of it
# end the same way, one by one, and leave the same trees, before and after
# a remount.  The only differences allowed are the documented EXDEV of
# directory renames with lower content and of hard links.
# WFS_FSDIFF_SEEDS="1 2 3 4" and WFS_FSDIFF_OPS=1500 (the defaults) set
# how much, for longer runs by hand.
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
check_blobs "$C"
