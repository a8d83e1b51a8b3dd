#!/bin/bash
# An entry's inode number is one: os.scandir()'s DirEntry.inode() (d_ino of
# READDIR, or the attributes of READDIRPLUS) is os.lstat()'s st_ino, with
# readdirplus=no and =yes, listed before anything looked the names up and
# after.  Checked on lower files, a lower directory and symlink, plain
# upper files and directories made through the mount, and files that
# `pin --mode hardlink` linked to their cache blobs (whose number is the
# path's hash, not the blob's shared inode).  The same check runs on the
# native directory the mount was pinned from, unmounted, first.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
whl=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' --file demo/a.py='A = 1' \
	--file demo/same1.py='S = 1' --file demo/same2.py='S = 1' \
	--file demo/sub/m.py='M = 1' --symlink demo/link.py=a.py)
lone=$(mkwheel --out "$T/w" --name lone --version 1.0 \
	--file lone/__init__.py='L = 1' --file lone/b.py='B = 1')
mkvenv "$V"
vinstall "$C" "$V" "$whl" "$lone"
S=$(site_of "$V")

# DIR...: list each DIR (first thing, so nothing was looked up), then lstat
# every entry, then list again; every DirEntry.inode() must be st_ino.
check() {
	"$PY" - "$@" <<'PY'
import os, sys
bad = []
for d in sys.argv[1:]:
    first = {e.name: e.inode() for e in os.scandir(d)}
    st = {n: os.lstat(os.path.join(d, n)).st_ino for n in first}
    again = {e.name: e.inode() for e in os.scandir(d)}
    for n in sorted(first):
        if not first[n] == st[n] == again.get(n):
            bad.append("%s/%s: listed %d, lstat %d, listed again %s"
                       % (d, n, first[n], st[n], again.get(n)))
if bad:
    sys.exit("DirEntry.inode() is not st_ino:\n  " + "\n  ".join(bad))
print("ok:", " ".join(sys.argv[1:]))
PY
}

mnt "$V"
echo 'U = 1' >"$S/demo/upper.py"
mkdir "$S/demo/newdir"
umnt "$V"
for rdp in no yes; do
	mnt "$V" "readdirplus=$rdp"
	check "$S/demo" "$S/lone" "$S/demo/sub" || fail "lower and upper, readdirplus=$rdp"
	umnt "$V"
done

# Pinned: every file of the view is an upper file linked to its blob
# (same1.py and same2.py to one); demo/upper.py stays a plain upper file.
run_ok "$WHEELFS" pin --mode hardlink "$V/lib"
[[ $(stat -c %i "$S/demo/same1.py") == $(stat -c %i "$S/demo/same2.py") ]] ||
	fail "same1.py and same2.py are not linked to one blob"
check "$S/demo" "$S/lone" "$S/demo/sub" || fail "on the native directory"
for rdp in no yes; do
	mnt "$V" "readdirplus=$rdp"
	check "$S/demo" "$S/lone" "$S/demo/sub" || fail "pinned, readdirplus=$rdp"
	umnt "$V"
done
echo ok
