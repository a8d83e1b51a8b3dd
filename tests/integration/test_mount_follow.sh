#!/bin/bash
# The request loop follows a caller that sends request after request (see
# fs/loop.h): while one Python process sends requests, the daemon's serving
# thread is pinned to one CPU; a request from another process unpins it;
# with -o follow=no it is never pinned.  Everything read through the mount
# meanwhile is right.
#
# Every look at the loop's affinity is made by the caller right after a
# request was answered: the loop pins or unpins before it serves a request,
# so what is seen then does not depend on timing.  The loop stops following
# for a second when something else keeps it from its CPU (other tests run
# beside this one), so the caller keeps sending until it has seen a pin.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ $(id -u) == 0 ]] || skip "following needs SCHED_IDLE and back (root)"
[[ $(nproc) -ge 2 ]] || skip "following needs two CPUs"
# The daemon starts with the affinity of the shell that mounts.
all=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
mkvenv "$V"
vinstall "$C" "$V" "$(pure_wheel "$W" hello 1.0)"
S=$(site_of "$V")

# MODE PID ALL: isatty() round trips through the mount from one process, each
# read checked.  MODE "follow": go on until the loop (PID) is seen pinned
# (at most 30 s: a loop that never pins fails), then have a child process
# look up a name and see the loop unpinned (back on ALL).  MODE "never": 2000 round trips,
# the loop never pinned.
follower() {
	vpy "$V" - "$S/hello/util.py" "$@" <<'PY'
import os, sys, time
path, mode, pid, everywhere = sys.argv[1:5]
def allowed():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
with open(path, "rb") as f:
    body = f.read()
deadline = time.monotonic() + 30
n = 0
while True:
    fd = os.open(path, os.O_RDONLY)
    assert not os.isatty(fd)
    assert os.read(fd, 4096) == body
    os.close(fd)
    n += 1
    now = allowed()
    if mode == "never":
        assert now == everywhere, "follow=no, yet pinned to %s" % now
        if n == 2000:
            break
    elif now.isdigit():
        print("pinned to CPU %s after %d round trips" % (now, n))
        break
    elif time.monotonic() > deadline:
        sys.exit("FAIL: %d round trips from one process, loop never pinned" % n)
if mode == "follow":
    # Another process: its lookup of a new name is a request from it.
    child = os.fork()
    if child == 0:
        os._exit(0 if not os.path.exists(path + ".no-such") else 3)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "a missing name exists"
    now = allowed()
    assert now == everywhere, "a request from another process left the loop pinned to %s" % now
    print("after another process: unpinned (%s)" % now)
print("ok")
PY
}

mnt "$V"
pid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $pid ]] || fail "no daemon process for $V/lib"
run_ok follower follow "$pid" "$all"
cat "$LAST_OUT"
umnt "$V"

mnt "$V" follow=no
pid=$(daemon_pid "$MOUNT_LOG" "$V/lib")
[[ -n $pid ]] || fail "no daemon process for $V/lib"
run_ok follower never "$pid" "$all"
umnt "$V"
echo "follow=no: never pinned"
