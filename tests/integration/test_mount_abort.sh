#!/bin/bash
# A mount whose kernel connection is aborted
# (/sys/fs/fuse/connections/N/abort) is no clean unmount: the daemon, in
# the foreground or the background, says so in one line, removes the dead
# mount it leaves (nothing stays mounted with ENOTCONN) and exits 1; the
# target mounts again at once.  (It exited 0 and left a stale mount.)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

[[ $(id -u) == 0 ]] || skip "aborting a connection needs root"
FUSECTL=/sys/fs/fuse/connections
if ! mountpoint -q "$FUSECTL"; then
	mount -t fusectl none "$FUSECTL" 2>/dev/null || skip "cannot mount fusectl on $FUSECTL"
	wfs_on_exit "umount '$FUSECTL'"
fi

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
whl=$(pure_wheel "$W" alpha 1.0)
mkvenv "$V"
S=$(site_of "$V")
vinstall "$C" "$V" "$whl"
L=$(realpath "$V/lib")

# the fusectl directory of the mount on $1 (its device's minor number)
abort_mount() {
	local dev
	dev=$(awk -v mp="$1" '$5 == mp { d = $3 } END { print d }' /proc/self/mountinfo)
	[[ -n $dev ]] || fail "no mount on $1"
	[[ -e $FUSECTL/${dev#*:}/abort ]] || fail "no $FUSECTL/${dev#*:}/abort"
	echo 1 >"$FUSECTL/${dev#*:}/abort"
}

# foreground
"$WHEELFS" mount -f "$C" "$V/lib" 2>"$T/fg.err" &
pid=$!
wfs_on_exit "kill $pid 2>/dev/null"
wfs_on_exit "is_mounted '$V/lib' && umount -l '$V/lib'"
for _ in $(seq 400); do # up to 20 s
	[[ -e $S/alpha ]] && break
	sleep 0.05
done
[[ -e $S/alpha ]] || fail "foreground mount did not come up: $(cat "$T/fg.err")"
abort_mount "$L"
rc=0
wait "$pid" || rc=$?
[[ $rc == 1 ]] || fail "foreground daemon exited with $rc after an abort: $(cat "$T/fg.err")"
grep -q "^wheelfs: $L: the kernel's connection to the mount was aborted" "$T/fg.err" ||
	fail "no line about the abort: $(cat "$T/fg.err")"
[[ $(wc -l <"$T/fg.err") == 1 ]] || fail "more than one line: $(cat "$T/fg.err")"
! is_mounted "$V/lib" || fail "a dead mount stays after the abort"

# background: the line goes to the log
mnt "$V"
dpid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $dpid ]] || fail "no daemon process found"
abort_mount "$L"
for _ in $(seq 400); do # up to 20 s
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.05
done
! kill -0 "$dpid" 2>/dev/null || fail "the daemon is still running after the abort"
! is_mounted "$V/lib" || fail "a dead mount stays after the abort"
grep -q "$L: the kernel's connection to the mount was aborted" "$MOUNT_LOG" ||
	fail "nothing logged about the abort: $(cat "$MOUNT_LOG")"
# mounts again, and a clean unmount is still clean
mnt "$V"
run_ok cat "$S/alpha/__init__.py"
umnt "$V"
echo ok
