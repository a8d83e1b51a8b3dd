#!/bin/bash
# test_pin_symlink.sh — --mode symlink (explicit only; auto never uses it).
# It warns that the venv breaks if the cache is removed, makes every file a
# symlink to its (verified) blob, keeps tree symlinks as they are, lists the
# blobs in TARGET/.wheelfs/pinned-symlinks and keeps the view record naming
# its trees (so gc keeps the blobs).  Removing the cache breaks the venv: the
# documented trade-off.  A later pin in another mode makes the symlinks real
# files.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 5' --file demo/util.py='Z = 6' \
	--symlink demo/alias.py=util.py)
pin_venv "$C" "$T/v" "$demo"
L=$T/v/lib
site=$L/python$PYVER/site-packages
run_ok "$WHEELFS" pin --mode symlink "$L"
echo "$(cat "$LAST_OUT")"
grep -q "warning: --mode symlink: files will point into $C; the venv breaks if the cache is removed" "$LAST_ERR" ||
	fail "no warning: $(cat "$LAST_ERR")"
grep -Eq '^pinned 4 files \(0 reflinked, 0 hardlinked, 0 copied, 0 B written, 4 symlinked\), 1 symlinks' "$LAST_OUT" ||
	fail "unexpected summary: $(cat "$LAST_OUT")"
grep -q "symlinked files point into the cache: the venv breaks if the cache is removed" "$LAST_OUT" ||
	fail "no caveat in the summary"
real=$(realpath "$C")
for f in "$site/demo/__init__.py" "$site/demo/util.py" "$site/demo-1.0.dist-info/METADATA"; do
	[[ -L $f ]] || fail "$f is not a symlink"
	tgt=$(readlink "$f")
	[[ $tgt == "$real/blobs/"* ]] || fail "$f points to $tgt, not into the cache"
	h=${tgt##*/}
	grep -qx "$h" "$L/.wheelfs/pinned-symlinks" || fail "$h is not in pinned-symlinks"
done
[[ $(readlink "$site/demo/alias.py") == util.py ]] || fail "a tree symlink changed"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "view not pinned"
grep -q '^dist demo 1.0 ' "$L/.wheelfs/view" || fail "the view lost its dist line"
run_ok "$T/v/bin/python" -c 'import demo, demo.alias; assert demo.X == 5 and demo.alias.Z == 6'
# gc keeps the blobs the symlinks point to (the view still names its trees).
n=$(count_blobs "$C")
run_ok "$WHEELFS" gc "$C"
[[ $(count_blobs "$C") == "$n" ]] || fail "gc removed blobs a symlink-pinned venv needs"

# Pinning again in another mode makes the symlinks real files (it said
# "nothing to pin", and the venv still broke without the cache): every
# file with the tree's mode and mtime, each directory's mtime the tree's,
# no temp names, pinned-symlinks gone; a third run has nothing to do.
pin_venv "$C" "$T/v2" "$demo"
L2=$T/v2/lib
site2=$L2/python$PYVER/site-packages
run_ok "$WHEELFS" pin --mode symlink "$L2"
for mode in hardlink copy; do
	run_ok "$WHEELFS" pin --mode "$mode" "$L2"
	echo "$mode after symlink: $(cat "$LAST_OUT")"
	[[ $mode == copy ]] && break
	# hardlinks are blobs: real files, not tied to the cache's path
	for f in "$site2/demo/__init__.py" "$site2/demo/util.py"; do
		[[ -f $f && ! -L $f ]] || fail "$f is still a symlink after pin --mode $mode"
	done
	# back to symlinks for the copy run
	rm -rf "$T/v2"
	pin_venv "$C" "$T/v2" "$demo"
	run_ok "$WHEELFS" pin --mode symlink "$L2"
done
grep -Eq '^pinned 4 files \(0 reflinked, 0 hardlinked, 4 copied' "$LAST_OUT" ||
	fail "pin --mode copy did not copy the symlinked files: $(cat "$LAST_OUT")"
[[ $(find "$site2" -type l | wc -l) == 1 ]] || fail "symlinks left: $(find "$site2" -type l)"
[[ $(readlink "$site2/demo/alias.py") == util.py ]] || fail "a tree symlink changed"
[[ ! -e $L2/.wheelfs/pinned-symlinks ]] || fail "pinned-symlinks still lists blobs"
[[ -z $(pin_leftovers "$L2") ]] || fail "temp names left: $(pin_leftovers "$L2")"
out=$(pin_check "$L2" "$demo") || fail "$out"
ref=$(stat -c %Y "$site/demo")
[[ $(stat -c '%a %Y' "$site2/demo") == "755 $ref" ]] ||
	fail "demo/ is $(stat -c '%a %Y' "$site2/demo"), not 755 $ref"
[[ $(pin_view_pinned "$L2") == 1 ]] || fail "view not pinned"
run_ok "$WHEELFS" pin --mode copy "$L2"
grep -q "^nothing to pin" "$LAST_OUT" || fail "a third pin did something: $(cat "$LAST_OUT")"

# Without the cache the symlink-pinned venv is broken, as the warning
# said; the one pinned again in copy mode works.
rm -rf "$C"
expect_fail_match "ImportError|No such file" "$T/v/bin/python" -c 'from demo import X'
run_ok "$T/v2/bin/python" -c 'import demo, demo.alias; assert demo.X == 5 and demo.alias.Z == 6'
echo "ok"
