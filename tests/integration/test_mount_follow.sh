#!/bin/bash
# The request loop follows a caller that sends request after request (see
# fs/loop.h): after a burst from one Python process, the daemon's serving
# thread is pinned to one CPU; a request from another process unpins it;
# with -o follow=no it is never pinned.  Everything read through the mount
# meanwhile is right.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ $(id -u) == 0 ]] || skip "following needs SCHED_IDLE and back (root)"
all=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
[[ $(nproc) -ge 2 ]] || skip "following needs two CPUs"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
mkvenv "$V"
vinstall "$C" "$V" "$(pure_wheel "$W" hello 1.0)"
S=$(site_of "$V")

allowed() { # PID: the CPUs its main thread (the request loop) may run on
	awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$1/status"
}
burst() { # VENV: one process, 2000 isatty() round trips, checked contents
	vpy "$1" -c '
import os, sys
path = os.path.join(sys.argv[1], "hello", "util.py")
with open(path, "rb") as f:
    body = f.read()
for _ in range(2000):
    fd = os.open(path, os.O_RDONLY)
    assert not os.isatty(fd)
    assert os.read(fd, 4096) == body
    os.close(fd)
print("ok")' "$(site_of "$1")"
}

mnt "$V"
pid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $pid ]] || fail "no daemon process for $V/lib"
[[ $(allowed "$pid") == "$all" ]] || fail "the loop is pinned before any request: $(allowed "$pid")"
# The loop stops following for a second when something else keeps it
# from its CPU (other tests run beside this one): up to five bursts.
for try in 1 2 3 4 5; do
	run_ok burst "$V"
	pinned=$(allowed "$pid")
	[[ $pinned =~ ^[0-9]+$ ]] && break
	sleep 1
done
[[ $pinned =~ ^[0-9]+$ ]] || fail "after bursts from one process the loop may run on '$pinned', not one CPU"
echo "after burst $try: pinned to CPU $pinned"
# Another process: a lookup of a new name is a request from it.
[[ ! -e $S/hello/no-such-$RANDOM ]] || fail "a missing name exists"
[[ $(allowed "$pid") == "$all" ]] || fail "a request from another process left the loop pinned to $(allowed "$pid")"
echo "after another process: unpinned ($all)"
umnt "$V"

mnt "$V" follow=no
pid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
run_ok burst "$V"
[[ $(allowed "$pid") == "$all" ]] || fail "follow=no, yet the loop is pinned to $(allowed "$pid")"
umnt "$V"
echo "follow=no: never pinned"
