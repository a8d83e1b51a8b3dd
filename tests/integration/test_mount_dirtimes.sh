#!/bin/bash
# test_mount_dirtimes.sh — removing a name that only the lower layer has
# (unlink, rmdir, through the mount) changes its directory's mtime and
# ctime as on a native directory, also when the directory had no upper
# part, and for good (a remount shows the same times); st_nlink no longer
# counts a removed subdirectory.  The modules' .pyc files stay valid.
# After uninstalling the package, nothing of it stays importable.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache V=$T/venv
whl=$(mkwheel --out "$T/w" --name dt --version 1.0 \
	--file dt/__init__.py= --file dt/a.py='A = 1' --file dt/b.py='B = 1' \
	--file dt/sub/x.py='X = 1' --file dt/sub/y.py='Y = 1' \
	--file dt/sub2/z.py='Z = 1' --file dt/sub3/w.py='W = 1' \
	--file dt/deep/inner/q.py='Q = 1' --file dt/deep/r.py='R = 1')
mkvenv "$V"
vinstall "$C" "$V" "$whl"
S=$(site_of "$V")
mnt "$V"
vpy "$V" -c 'import dt.a' || fail "import dt.a failed"
pyc=$(ls "$S"/dt/__pycache__/a.*.pyc)
pyc_before=$(stat -c %Y.%Z "$pyc")

# stat DIR: mtime ctime nlink, in ns
st() { stat -c '%.9Y %.9Z %h' "$1"; }
read -r m0 c0 _ < <(st "$S/dt/sub")
rm "$S/dt/sub/x.py"
read -r m1 c1 _ < <(st "$S/dt/sub")
[[ $m1 > $m0 && $c1 > $c0 ]] || fail "unlink of a lower file left dt/sub's times ($m0 $c0 -> $m1 $c1)"

read -r m0 c0 n0 < <(st "$S/dt/sub3")
rm "$S/dt/sub3/w.py"
read -r m1 c1 _ < <(st "$S/dt/sub3")
[[ $m1 > $m0 && $c1 > $c0 ]] || fail "unlink in a directory with no upper part left its times ($m0 $c0 -> $m1 $c1)"

read -r m0 c0 n0 < <(st "$S/dt")
rm -r "$S/dt/sub2"
read -r m1 c1 n1 < <(st "$S/dt")
[[ $m1 > $m0 && $c1 > $c0 ]] || fail "rmdir of a lower directory left dt/'s times ($m0 $c0 -> $m1 $c1)"
subdirs=$(find "$S/dt" -mindepth 1 -maxdepth 1 -type d | wc -l)
[[ $n1 == 1 || $n1 == $((2 + subdirs)) ]] ||
	fail "dt/ has st_nlink $n1 with $subdirs subdirectories (was $n0)"

read -r _ _ n0 < <(st "$S/dt/deep")
rm -r "$S/dt/deep/inner"
read -r _ _ n1 < <(st "$S/dt/deep")
[[ $n1 == 1 || $n1 == 2 ]] || fail "dt/deep (no upper part) has st_nlink $n1 without subdirectories (was $n0)"

# The .pyc of dt/a.py is still valid: importing does not rewrite it.
vpy "$V" -c 'import dt.a' || fail "import dt.a failed"
[[ $(stat -c %Y.%Z "$pyc") == "$pyc_before" ]] || fail "dt/a's .pyc was rewritten"
vpy "$V" -c 'import dt.sub2.z' 2>/dev/null && fail "dt.sub2 still importable"

# The times stay across a remount.
before=$(st "$S/dt"; st "$S/dt/sub"; st "$S/dt/sub3"; st "$S/dt/deep")
umnt "$V"
mnt "$V"
after=$(st "$S/dt"; st "$S/dt/sub"; st "$S/dt/sub3"; st "$S/dt/deep")
[[ $before == "$after" ]] || fail "times changed by a remount: $before -> $after"

run_ok "$WHEELFS" uninstall -q "$V" dt
vpy "$V" -c 'import dt' 2>/dev/null && fail "dt importable after uninstall"
umnt "$V"
[[ ! -e $S/dt ]] || fail "upper dt/ left after uninstall: $(find "$S/dt")"
echo PASS
