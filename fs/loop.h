/* loop.h — the mount daemon's single-threaded request loop.
 *
 * Serves /dev/fuse one request at a time, like fuse_session_loop(), but
 * tuned for how requests come: in bursts from one thread (an import opens,
 * stats and isatty()s file after file, computing a few hundred
 * microseconds between two of them).  The cost of such a round trip is
 * mostly waking CPUs: the daemon's for the request, the caller's for the
 * reply.  A CPU left idle goes to sleep at once, and waking it (on a VM, an
 * exit to the hypervisor) costs more than serving the request.  Two
 * answers:
 *
 *   follow  from the second request in a row from one thread, the loop
 *           pins itself to the CPU that thread runs on (/proc/PID/stat)
 *           and drops to SCHED_IDLE.  The two then take turns on one CPU:
 *           the caller's request finds the loop runnable beside it, and
 *           the reply wakes the caller where it slept, since the scheduler
 *           counts a CPU running only SCHED_IDLE work as idle (without
 *           that it would move the caller to the other, sleeping CPU).  A
 *           request from another thread unpins the loop; going to
 *           sleep in ppoll(2) puts it back to SCHED_OTHER but leaves it
 *           pinned, to be woken beside the caller, so it never sleeps at
 *           SCHED_IDLE.  If the loop finds it waited for its CPU
 *           longer than the caller ran (something else took the CPU), it
 *           stops following for a second.  Following needs at least two
 *           CPUs and a thread that may leave SCHED_IDLE again (root, or
 *           RLIMIT_NICE).
 *   spin    when not pinned, after a request the loop keeps polling the
 *           device, non-blocking, for spin_us microseconds before it
 *           sleeps in ppoll(2).
 *
 * With neither, this is fuse_session_loop().  Signals end the loop
 * (fuse_set_signal_handlers; SIGHUP, SIGINT and SIGTERM are taken only in
 * ppoll, so none is missed), and so does unmounting.  Returns 0, or
 * −errno.
 */
#ifndef WFS_LOOP_H
#define WFS_LOOP_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

int wfs_loop_run(struct fuse_session *se, unsigned spin_us, int follow);

#endif
