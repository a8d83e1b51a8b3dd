#!/bin/bash
# Mount errors are clear and leave nothing mounted: no view, a missing
# target, a missing cache or tree, a second mount of the same target, a bad
# option or value (-o timeout=nan too: exit 2 and the usage), unmounting
# what is not a wheelfs mount.  -o ro gives a read-only mount.  SIGTERM to
# a foreground daemon unmounts cleanly.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
whl=$(pure_wheel "$W" alpha 1.0)
mkvenv "$V"
S=$(site_of "$V")

# no view yet
expect_fail_match "no wheelfs view here.*wheelfs install" "$WHEELFS" mount "$C" "$V/lib"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC for a missing view"
! is_mounted "$V/lib" || fail "mounted without a view"
expect_fail_match "No such file or directory" "$WHEELFS" mount "$C" "$T/nowhere"
expect_fail_match "unknown mount option 'bogus'" "$WHEELFS" mount -o bogus "$C" "$V/lib"
[[ $LAST_RC == 2 ]] || fail "exit status $LAST_RC for a bad option"
expect_fail_match "bad value" "$WHEELFS" mount -o threads=x "$C" "$V/lib"
expect_fail_match "bad value for mount option follow" "$WHEELFS" mount -o follow=maybe "$C" "$V/lib"
# timeout takes what [mount] timeout takes: a finite number >= 0 (nan
# and inf were accepted, and an empty value read as 0)
for t in nan inf -inf 1e999 "" -1 5x; do
	expect_fail_match "^wheelfs: bad value for mount option timeout: $t\$" "$WHEELFS" mount -o "timeout=$t" "$C" "$V/lib"
	[[ $LAST_RC == 2 ]] || fail "exit status $LAST_RC for -o timeout=$t"
	grep -q "^usage: wheelfs mount" "$LAST_ERR" || fail "no usage line for -o timeout=$t"
	! is_mounted "$V/lib" || fail "mounted with -o timeout=$t"
done
expect_fail_match "usage" "$WHEELFS" mount
expect_fail_match "not a wheelfs mount" "$WHEELFS" umount "$V/lib"

vinstall "$C" "$V" "$whl"
# a missing cache; a tree missing from the cache
expect_fail_match "$T/nocache" "$WHEELFS" mount "$T/nocache" "$V/lib"
mkdir -p "$T/empty"
run_ok "$WHEELFS" add -q "$T/empty" "$W/alpha-1.0-py3-none-any.whl"
rm -f "$T/empty"/trees/*.tree
expect_fail_match "\.tree" "$WHEELFS" mount "$T/empty" "$V/lib"
! is_mounted "$V/lib" || fail "mounted with a broken cache"

# the cache named by the view is the default
mnt "$V"
expect_fail_match "already a wheelfs mount" "$WHEELFS" mount "$C" "$V/lib"
run_ok cat "$S/alpha/__init__.py"
umnt "$V"

# read-only
mnt "$V" ro
run_ok cat "$S/alpha/util.py"
expect_fail_match "read-only" touch "$S/alpha/new.py"
expect_fail_match "read-only" mkdir "$S/x"
umnt "$V"

# SIGTERM to a foreground daemon
"$WHEELFS" mount -f "$C" "$V/lib" 2>"$T/fg.err" &
pid=$!
wfs_on_exit "kill $pid 2>/dev/null"
for _ in $(seq 400); do # up to 20 s
	[[ -e $S/alpha ]] && break
	sleep 0.05
done
is_mounted "$V/lib" || fail "foreground mount did not come up: $(cat "$T/fg.err")"
kill -TERM "$pid"
wait "$pid" || fail "foreground daemon exited with $? after SIGTERM: $(cat "$T/fg.err")"
! is_mounted "$V/lib" || fail "still mounted after SIGTERM"
# and SIGINT to a background one
mnt "$V"
dpid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $dpid ]] || fail "no daemon process found"
kill -INT "$dpid"
for _ in $(seq 400); do # up to 20 s
	is_mounted "$V/lib" || break
	sleep 0.05
done
! is_mounted "$V/lib" || fail "still mounted after SIGINT"
# A control client that sends requests and never reads the replies is
# dropped: it neither blocks other clients nor the daemon's shutdown.
mnt "$V"
printf %s "$(realpath "$V/lib")" >"$T/target"
sock=wheelfs-$(xxh "$T/target")
"$PY" - "$sock" "$T/flooded" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0" + sys.argv[1])
s.settimeout(2)  # sends until the daemon stops reading (or drops it)
try:
    while True:
        s.send(b"PING\n" * 1000)
except OSError:  # a timeout, or EPIPE / ECONNRESET once dropped
    pass
open(sys.argv[2], "w").close()
time.sleep(600)  # never reads
PYEOF
flood=$!
wfs_on_exit "kill $flood 2>/dev/null"
for _ in $(seq 400); do # up to 20 s
	[[ -e $T/flooded ]] && break
	sleep 0.05
done
[[ -e $T/flooded ]] || fail "the flooding client did not get going"
run_ok timeout 20 "$WHEELFS" show "$V" # another client: DIRFD answered
run_ok timeout 20 "$WHEELFS" umount "$V/lib"
kill $flood 2>/dev/null || true
# A daemon killed outright leaves a stale mount: commands say so, and
# wheelfs umount clears it.
mnt "$V"
dpid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $dpid ]] || fail "no daemon process found"
kill -KILL "$dpid"
for _ in $(seq 400); do # up to 20 s
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.05
done
for cmd in "show $V" "pin $V/lib" "uninstall $V alpha"; do
	# shellcheck disable=SC2086
	expect_fail_match "$V/lib: a wheelfs mount whose daemon is gone .*run \`wheelfs umount $V/lib\` first" \
		"$WHEELFS" $cmd
done
# named as a shell completes it, relative, with a trailing slash (the
# dead mount cannot be resolved; it said "not a wheelfs mount")
run_ok env -C "$V/bin" "$WHEELFS" umount ../lib/
! is_mounted "$V/lib" || fail "still mounted after wheelfs umount of a stale mount"
echo ok
