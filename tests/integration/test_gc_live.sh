#!/bin/bash
# gc never frees what a live view needs.  `gc --prune` keeps the trees and
# blobs of a view that `install` registered; of a venv moved elsewhere and
# mounted there; and of a venv mounted from a copy of its cache (the view
# record still names the original).  Once the venv is gone, gc forgets it
# and frees everything.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
W=$T/wheels
mkdir -p "$W"
alpha=$(pure_wheel "$W" alpha 1.0)
beta=$(pure_wheel "$W" beta 2.0)
imports() { # VENV: every module of the view imports and reads right
	vpy "$1" -c 'import alpha.util, beta.util; print(alpha.util.__file__)'
}

# 1. Registered by install: kept.
mkvenv "$T/v1"
vinstall "$C" "$T/v1" "$alpha" "$beta"
n=$(count_blobs "$C")
run_ok "$WHEELFS" gc --prune "$C"
[[ $(count_trees "$C") == 2 && $(count_blobs "$C") == "$n" ]] ||
	fail "gc --prune freed what an installed view needs: $(cat "$LAST_OUT")"

# 2. Moved, then mounted where it is now: the mount registers it.
mv "$T/v1" "$T/moved"
mnt "$T/moved"
run_ok "$WHEELFS" gc --prune "$C"
[[ $(count_trees "$C") == 2 && $(count_blobs "$C") == "$n" ]] ||
	fail "gc --prune freed what a mounted, moved venv needs: $(cat "$LAST_OUT")"
run_ok imports "$T/moved"
umnt "$T/moved"

# 3. Mounted from a copy of the cache: gc on the copy keeps what it serves.
cp -a "$C" "$T/copy"
mkvenv "$T/v3"
vinstall "$C" "$T/v3" "$alpha" "$beta"
run_ok "$WHEELFS" mount -o log="$MOUNT_LOG" "$T/copy" "$T/v3/lib"
wfs_on_exit "'$WHEELFS' umount '$T/v3/lib' 2>/dev/null"
run_ok "$WHEELFS" gc --prune "$T/copy"
[[ $(count_trees "$T/copy") == 2 && $(count_blobs "$T/copy") == "$n" ]] ||
	fail "gc --prune freed what a mount from a cache copy serves: $(cat "$LAST_OUT")"
run_ok imports "$T/v3"
umnt "$T/v3"

# 4. Gone: forgotten and freed.
rm -rf "$T/moved" "$T/v3"
run_ok "$WHEELFS" gc --prune "$C"
cat "$LAST_OUT" "$LAST_ERR" | grep -q "forgetting it" ||
	fail "gc did not forget the removed venvs: $(cat "$LAST_OUT" "$LAST_ERR")"
[[ $(count_trees "$C") == 0 && $(count_blobs "$C") == 0 ]] ||
	fail "gc --prune kept what no view needs any more"
echo ok
