#!/bin/bash
# A venv moved (mv) while it is mounted: the mount moves with it, and the
# daemon that serves it is still found at the new place.  show, install
# and uninstall work on it through the daemon (they failed: "no wheelfs
# view here", or wrote through the mount and failed with EPERM), gc
# --prune keeps what it serves (it freed the blobs: imports failed with
# EIO), and umount waits for the daemon.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
W=$T/wheels
mkdir -p "$W"
alpha=$(pure_wheel "$W" alpha 1.0)
beta=$(pure_wheel "$W" beta 2.0)
mkvenv "$T/v"
vinstall "$C" "$T/v" "$alpha" "$beta"
mnt "$T/v"
mv "$T/v" "$T/moved"
wfs_on_exit "is_mounted '$T/moved/lib' && { '$WHEELFS' umount '$T/moved/lib' || umount -l '$T/moved/lib'; }"
is_mounted "$T/moved/lib" || fail "the mount did not move with the venv"

# gc --prune: the registration names the old place; the mount is kept.
n=$(count_blobs "$C")
run_ok "$WHEELFS" gc --prune "$C"
[[ $(count_trees "$C") == 2 && $(count_blobs "$C") == "$n" ]] ||
	fail "gc --prune freed what a mounted, moved venv needs: $(cat "$LAST_OUT" "$LAST_ERR")"
run_ok vpy "$T/moved" -c 'import alpha.util, beta.util'

run_ok "$WHEELFS" show "$T/moved"
grep -q '(mounted)' "$LAST_OUT" || fail "show: $(cat "$LAST_OUT")"
grep -Eq '^alpha +1\.0' "$LAST_OUT" || fail "show: $(cat "$LAST_OUT")"

gamma=$(pure_wheel "$W" gamma 3.0)
run_ok "$WHEELFS" install -q --cache "$C" "$T/moved" "$gamma"
run_ok vpy "$T/moved" -c 'import alpha.util, beta.util, gamma.util'

run_ok "$WHEELFS" uninstall "$T/moved" beta
run_ok vpy "$T/moved" -c '
try:
    import beta
except ImportError:
    pass
else:
    raise SystemExit("beta still importable")'
umnt "$T/moved"
