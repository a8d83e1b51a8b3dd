#!/bin/bash
# test_pin_symlink.sh — --mode symlink (explicit only; auto never uses it).
# It warns that the venv breaks if the cache is removed, makes every file a
# symlink to its (verified) blob, keeps tree symlinks as they are, lists the
# blobs in TARGET/.wheelfs/pinned-symlinks and keeps the view record naming
# its trees (so gc keeps the blobs).  Removing the cache breaks the venv: the
# documented trade-off.  A later pin in another mode makes the symlinks real
# files.  Symlinks into another cache (--cache), a moved venv, and a killed
# run keep their blobs through gc --prune of the cache they point into.
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
	grep -qxF "$tgt" "$L/.wheelfs/pinned-symlinks" || fail "$tgt is not in pinned-symlinks"
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

# Symlinks into a cache the view does not name (--cache OTHER): the pin
# registers the venv there, and gc --prune OTHER keeps what the symlinks
# point to (it forgot the venv, whose view names C, and freed them all).
O=$T/other
run_ok "$WHEELFS" add -q "$O" "$demo"
pin_venv "$C" "$T/vo" "$demo"
run_ok "$WHEELFS" pin --cache "$O" --mode symlink "$T/vo/lib"
[[ $(find "$T/vo/lib" -type l -lname "$(realpath "$O")/blobs/*" | wc -l) == 4 ]] ||
	fail "the symlinks do not point into $O"
nO=$(count_blobs "$O")
run_ok "$WHEELFS" gc --prune "$O"
[[ $(count_blobs "$O") == "$nO" ]] || fail "gc --prune $O freed blobs the symlinks of $T/vo point to"
[[ $(count_trees "$O") == 1 ]] || fail "gc --prune $O removed the tree of $T/vo"
run_ok "$T/vo/bin/python" -c 'import demo, demo.alias; assert demo.X == 5 and demo.alias.Z == 6'

# Moved: the registration names the old place; pinning it again (nothing
# left to place) registers the new one, and the list is there.
mv "$T/vo" "$T/vm"
run_ok "$WHEELFS" pin --cache "$O" --mode symlink "$T/vm/lib"
grep -q "^nothing to pin" "$LAST_OUT" || fail "pinning the moved venv again did something: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" gc --prune "$O"
[[ $(count_blobs "$O") == "$nO" ]] || fail "gc --prune $O freed blobs the symlinks of the moved venv point to"
run_ok "$T/vm/bin/python" -c 'import demo, demo.alias; assert demo.X == 5 and demo.alias.Z == 6'

# A symlink pin killed after placing some symlinks: the list names them
# before any is placed, so gc keeps them meanwhile; a list lost anyway
# (a run killed before it wrote it) is completed by the next symlink run
# from the symlinks it finds in place, even with nothing left to place.
pin_venv "$C" "$T/vk" "$demo"
rc=0
WFS_TEST_PIN_CRASH_AT=2 "$WHEELFS" pin --cache "$O" --mode symlink -j 1 "$T/vk/lib" >"$T/k.out" 2>&1 || rc=$?
[[ $rc == 137 ]] || fail "the symlink pin did not die by SIGKILL (exit $rc): $(cat "$T/k.out")"
placed=$(find "$T/vk/lib" -type l -lname "$(realpath "$O")/blobs/*" | wc -l)
((placed >= 1 && placed < 4)) || fail "$placed symlinks placed before the kill"
run_ok "$WHEELFS" gc --prune "$O"
[[ $(count_blobs "$O") == "$nO" ]] || fail "gc --prune $O after a killed symlink pin freed blobs"
rm "$T/vk/lib/.wheelfs/pinned-symlinks"
run_ok "$WHEELFS" pin --cache "$O" --mode symlink -j 1 "$T/vk/lib"
rm "$T/vk/lib/.wheelfs/pinned-symlinks"
run_ok "$WHEELFS" pin --cache "$O" --mode symlink "$T/vk/lib"
grep -q "^nothing to pin" "$LAST_OUT" || fail "a third symlink pin did something: $(cat "$LAST_OUT")"
while read -r f; do
	grep -qxF "$(readlink "$f")" "$T/vk/lib/.wheelfs/pinned-symlinks" ||
		fail "$f -> $(readlink "$f") is not in pinned-symlinks after a rerun"
done < <(find "$T/vk/lib" -type l -lname "$(realpath "$O")/blobs/*")
run_ok "$WHEELFS" gc --prune "$O"
[[ $(count_blobs "$O") == "$nO" ]] || fail "gc --prune $O freed blobs of the completed list"

# Pinned again in another mode, the venvs no longer need $O: gc forgets
# them there and --prune frees everything.
run_ok "$WHEELFS" pin --cache "$O" --mode copy "$T/vm/lib"
run_ok "$WHEELFS" pin --cache "$O" --mode copy "$T/vk/lib"
run_ok "$WHEELFS" gc --prune "$O"
grep -q "$T/vm/lib: no view using this cache any more; forgetting it" "$LAST_ERR" ||
	fail "gc kept the registration of a venv that no longer uses $O: $(cat "$LAST_ERR")"
[[ $(count_blobs "$O") == 0 ]] || fail "gc --prune $O kept blobs no venv needs"
run_ok "$T/vm/bin/python" -c 'import demo, demo.alias; assert demo.X == 5 and demo.alias.Z == 6'

# Without the cache the symlink-pinned venv is broken, as the warning
# said; the one pinned again in copy mode works.
rm -rf "$C"
expect_fail_match "ImportError|No such file" "$T/v/bin/python" -c 'from demo import X'
run_ok "$T/v2/bin/python" -c 'import demo, demo.alias; assert demo.X == 5 and demo.alias.Z == 6'
echo "ok"
