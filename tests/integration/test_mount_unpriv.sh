#!/bin/bash
# Mounting as an unprivileged user (nobody, through fusermount3) over a
# cache that user cannot write, and as root over a read-only bind mount of
# the cache.  Mounting needs only read access to the cache; imports,
# .pyc writes and copy-ups work; the cache is left as it was.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root (to chmod /dev/fuse and run as nobody)"
command -v setpriv >/dev/null || skip "no setpriv"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
whl=$(pure_wheel "$W" alpha 1.0)
mkvenv "$V"
vinstall "$C" "$V" "$whl"
S=$(site_of "$V")
tree_snapshot "$C" >"$T/cache.before"

# --- a read-only bind mount of the cache, mounted by root -----------------
R=$T/cache-ro
mkdir -p "$R"
mount --bind "$C" "$R" || skip "cannot bind-mount"
wfs_on_exit "mountpoint -q '$R' && umount '$R'"
mount -o remount,bind,ro "$R" || fail "cannot remount $R read-only"
touch "$R/x" 2>/dev/null && fail "$R is writable"
run_ok "$WHEELFS" mount -o log="$MOUNT_LOG" "$R" "$V/lib"
wfs_on_exit "is_mounted '$V/lib' && umount -l '$V/lib'"
run_ok vpy "$V" -c 'import alpha, alpha.util; assert alpha.util.twice(2) == 4'
echo "# appended" >>"$S/alpha/util.py" || fail "copy-up from a read-only cache failed"
umnt "$V"
tree_snapshot "$C" >"$T/cache.after"
diff "$T/cache.before" "$T/cache.after" || fail "the cache changed"
umount "$R"

# --- root's mount: private unless allow_other ------------------------------
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -u PYTHONDONTWRITEBYTECODE HOME=/ "$@"
}
chmod 0755 "$T"
# The build tree may sit under a directory nobody cannot enter (mktemp -d is
# 0700): give nobody its own copy of the binary.
NWHEELFS=$T/wheelfs
cp "$WHEELFS" "$NWHEELFS"
chmod 0755 "$NWHEELFS"
mnt "$V"
expect_fail_match "permission denied" as_nobody cat "$S/alpha/util.py"
umnt "$V"
mnt "$V" allow_other
run_ok as_nobody cat "$S/alpha/util.py"
# default_permissions: nobody cannot write root's venv
expect_fail_match "permission denied" as_nobody touch "$S/alpha/new.py"
umnt "$V"

# --- as nobody, through fusermount3 --------------------------------------
mode=$(stat -c %a /dev/fuse)
chmod 0666 /dev/fuse
wfs_on_exit "chmod $mode /dev/fuse"
chown -R 65534:65534 "$V"
# the cache is root's: nobody can read it, not write it
as_nobody touch "$C/blobs/x" 2>/dev/null && fail "nobody can write the cache"
NLOG=$T/nobody.log
touch "$NLOG"
chown 65534:65534 "$NLOG"
run_ok as_nobody "$NWHEELFS" mount -o log="$NLOG" "$C" "$V/lib"
is_mounted "$V/lib" || fail "not mounted by nobody"
# nobody's daemon cannot leave SCHED_IDLE again: it must not be left in it
npid=$(daemon_pid "$NLOG" "$V/lib")
[[ -n $npid ]] || fail "no daemon process of nobody's"
policy=$(awk '$1 == "policy" { print $3 }' "/proc/$npid/sched")
[[ $policy == 0 ]] || fail "nobody's daemon runs with scheduling policy $policy, not SCHED_OTHER (0)"
grep " $(realpath "$V/lib") " /proc/self/mountinfo | grep -q "user_id=65534" ||
	fail "the mount is not nobody's: $(grep "$V/lib" /proc/self/mountinfo)"
run_ok as_nobody "$V/bin/python" -c 'import alpha, alpha.util; print(alpha.VERSION)'
[[ $(cat "$LAST_OUT") == 1.0 ]] || fail "import as nobody: $(cat "$LAST_OUT")"
# (root itself is not let into nobody's mount: look as nobody)
[[ $(as_nobody stat -c %u "$S/alpha/__init__.py") == 65534 ]] || fail "lower files are not shown as the target's owner"
run_ok as_nobody sh -c "echo more >>'$S/alpha/__init__.py'"
# Open for writing, then made read-only: the descriptor still writes (the
# daemon, not root here, reopens the copied-up file by name).
run_ok as_nobody "$V/bin/python" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.fchmod(fd, 0o444)
assert os.pwrite(fd, b"#", 0) == 1
os.close(fd)
assert open(sys.argv[1], "rb").read(1) == b"#"
assert os.stat(sys.argv[1]).st_mode & 0o777 == 0o444' "$S/alpha/util.py"
pyc=$S/alpha/__pycache__/util.cpython-${PYXY/./}.pyc
as_nobody test -f "$pyc" || fail "no pyc written as nobody"
if stat "$S/alpha" >/dev/null 2>&1; then
	fail "root can see into nobody's mount without allow_other"
fi
run_ok as_nobody "$NWHEELFS" umount "$V/lib"
! is_mounted "$V/lib" || fail "still mounted after nobody's umount"
[[ $(stat -c %U "$pyc") == nobody ]] || fail "pyc not owned by nobody"
tree_snapshot "$C" >"$T/cache.after2"
diff "$T/cache.before" "$T/cache.after2" || fail "the cache changed"
[[ ! -s $NLOG ]] || { cat "$NLOG"; fail "the daemon logged something"; }
echo ok
