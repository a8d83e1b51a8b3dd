#!/bin/bash
# wheelfs umount --wait takes a finite number of seconds, 0 or more: a bad
# value (nan, inf, empty, x, -1) is a usage error naming it (exit 2) that
# unmounts nothing; --wait 0 unmounts and does not wait (exit 0); a long
# wait (1e9) waits for the daemon like the default, and succeeds.  (nan, inf, an empty
# value and 1e12 unmounted and then failed at once with "its daemon has
# not exited after ... s", exit 1; so did 0.)  A busy mount is not
# unmounted (one line, exit 1), --lazy detaches it; a mount meanwhile
# names the daemon that still serves the detached one.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
whl=$(pure_wheel "$W" alpha 1.0)
mkvenv "$V"
S=$(site_of "$V")
vinstall "$C" "$V" "$whl"

mnt "$V"
for w in nan inf -inf "" x -1 5s; do
	expect_fail_match "^wheelfs: bad value for --wait: $w\$" "$WHEELFS" umount --wait "$w" "$V/lib"
	[[ $LAST_RC == 2 ]] || fail "exit status $LAST_RC for --wait '$w'"
	grep -q "^usage: wheelfs umount" "$LAST_ERR" || fail "no usage line for --wait '$w'"
	is_mounted "$V/lib" || fail "--wait '$w' unmounted"
done
dpid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $dpid ]] || fail "no daemon process found"
run_ok "$WHEELFS" umount --wait 0 "$V/lib"
! is_mounted "$V/lib" || fail "still mounted after umount --wait 0"
for _ in $(seq 400); do # up to 20 s
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.05
done
! kill -0 "$dpid" 2>/dev/null || fail "the daemon did not exit after umount --wait 0"

mnt "$V"
run_ok "$WHEELFS" umount --wait 1e9 "$V/lib"
! is_mounted "$V/lib" || fail "still mounted after umount --wait 1e9"

# busy: a process has its working directory there
mnt "$V"
dpid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
(cd "$S" && exec sleep 600) &
busy=$!
wfs_on_exit "kill $busy 2>/dev/null"
for _ in $(seq 400); do # up to 20 s
	[[ $(readlink "/proc/$busy/cwd" 2>/dev/null) == "$(realpath "$S")" ]] && break
	sleep 0.05
done
expect_fail_match "is busy.*--lazy" "$WHEELFS" umount "$V/lib"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC for a busy mount"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "more than one line for a busy mount"
is_mounted "$V/lib" || fail "a busy mount was unmounted without --lazy"
run_ok "$WHEELFS" umount --lazy "$V/lib"
! is_mounted "$V/lib" || fail "still mounted after umount --lazy"
kill -0 "$dpid" 2>/dev/null || fail "the daemon exited while the mount is still used"
# Mounting again meanwhile says why it cannot, and what to do (it said to
# run `wheelfs umount`, which says it is not a wheelfs mount).
expect_fail_match "^wheelfs: $(realpath "$V/lib"): an earlier wheelfs daemon \(pid $dpid\) still serves it, unmounted lazily while in use; it exits once the processes using it are done \(or kill $dpid\)\$" \
	"$WHEELFS" mount -o log="$MOUNT_LOG" "$V/lib"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC for a mount over a lazily unmounted one"
! is_mounted "$V/lib" || fail "mounted over a lazily unmounted one"
kill "$busy"
wait "$busy" 2>/dev/null || true
for _ in $(seq 400); do # up to 20 s
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.05
done
! kill -0 "$dpid" 2>/dev/null || fail "the daemon did not exit once the lazy mount was let go"
mnt "$V"
umnt "$V"
echo ok
