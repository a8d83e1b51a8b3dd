/* loop.c — the single-threaded request loop (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Following stops for this long once the loop found itself starved. */
#define BACKOFF_US 1000000
/* Time spent runnable but not running, between two requests, that counts
 * as starved. */
#define STARVED_NS 2000000

static int64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

struct follow {
	int on;		/* following is allowed at all */
	cpu_set_t all;	/* the affinity the loop started with */
	int cpu;	/* the CPU pinned to, -1: not pinned */
	int idle;	/* running at SCHED_IDLE (only while pinned) */
	pid_t pid;	/* the thread that sent the last request */
	int runs;	/* requests in a row from pid */
	int recheck;	/* look up the caller's CPU again now */
	int unchecked;	/* requests since the last starvation check */
	int statfd;	/* /proc/<pid>/stat, -1: not open */
	int cschedfd;	/* /proc/<pid>/schedstat, -1: not open */
	int schedfd;	/* /proc/thread-self/schedstat, -1: none */
	uint64_t delay; /* our run_delay at the last request, ns */
	uint64_t cexec; /* the caller's run time then, ns */
	int64_t until;	/* no following before this time (us) */
};

static int set_policy(int policy)
{
	struct sched_param p = { 0 };

	return pthread_setschedparam(pthread_self(), policy, &p) ? -1 : 0;
}

/* Back to SCHED_OTHER.  The loop never sleeps at SCHED_IDLE: woken on a
 * busy CPU, it would wait for that CPU, and so would the request. */
static void wake_normal(struct follow *f)
{
	if (f->idle && set_policy(SCHED_OTHER) == 0)
		f->idle = 0;
}

static void unpin(struct follow *f)
{
	if (f->cpu < 0)
		return;
	wake_normal(f);
	(void)sched_setaffinity(0, sizeof(f->all), &f->all);
	f->cpu = -1;
}

static void *probe_main(void *arg)
{
	*(int *)arg =
		set_policy(SCHED_IDLE) == 0 && set_policy(SCHED_OTHER) == 0;
	return NULL;
}

/* Can a thread leave SCHED_IDLE again?  Unprivileged, only if RLIMIT_NICE
 * allows nice 0.  Tried on a thread of its own, which may be left stuck
 * there. */
static int idle_reversible(void)
{
	pthread_t t;
	int ok = 0;

	if (pthread_create(&t, NULL, probe_main, &ok))
		return 0;
	pthread_join(t, NULL);
	return ok;
}

static void follow_init(struct follow *f, int on)
{
	memset(f, 0, sizeof(*f));
	f->cpu = -1;
	f->statfd = -1;
	f->cschedfd = -1;
	f->schedfd = -1;
	if (!on || sched_getaffinity(0, sizeof(f->all), &f->all) < 0 ||
	    CPU_COUNT(&f->all) < 2)
		return;
	/* Following runs at SCHED_IDLE, which only works if the loop can
	 * leave it again. */
	if (!idle_reversible())
		return;
	f->schedfd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	f->on = f->schedfd >= 0;
}

static void close_caller(struct follow *f)
{
	if (f->statfd >= 0)
		close(f->statfd);
	if (f->cschedfd >= 0)
		close(f->cschedfd);
	f->statfd = f->cschedfd = -1;
}

static void follow_fini(struct follow *f)
{
	unpin(f);
	close_caller(f);
	if (f->schedfd >= 0)
		close(f->schedfd);
}

/* Read a /proc/.../<name> file of the caller (opened on first use) into
 * b. */
static ssize_t read_caller(struct follow *f, int *fd, const char *name, char *b,
			   size_t size)
{
	ssize_t n;

	if (*fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)f->pid, name);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return -1;
	}
	n = pread(*fd, b, size - 1, 0);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	return n;
}

/* Field 39 of /proc/PID/stat: the CPU the thread last ran on, or -1.  The
 * command name, field 2, is in parentheses and may hold anything. */
static int caller_cpu(struct follow *f)
{
	char b[1024], *p;
	int field = 2; /* the field p is in */

	if (read_caller(f, &f->statfd, "stat", b, sizeof(b)) < 0)
		return -1;
	p = strrchr(b, ')');
	if (!p)
		return -1;
	for (p++; *p && field < 39; p++)
		if (*p == ' ' && p[1] != ' ')
			field++;
	return field == 39 ? atoi(p) : -1;
}

/* The first two fields of a schedstat file: time run and time spent
 * runnable, waiting for a CPU, in nanoseconds. */
static int schedstat(int fd, const char *b, uint64_t *run, uint64_t *wait)
{
	char own[128];

	if (!b) {
		ssize_t n = pread(fd, own, sizeof(own) - 1, 0);
		if (n <= 0)
			return -1;
		own[n] = '\0';
		b = own;
	}
	return sscanf(b, "%" SCNu64 " %" SCNu64, run, wait) == 2 ? 0 : -1;
}

/* Was the loop kept from its CPU by anyone but the caller since the last
 * request?  Pinned at SCHED_IDLE, the loop waits behind the caller, which
 * is the point, but also behind anything else that runs there. */
static int starved(struct follow *f)
{
	char b[128];
	uint64_t run, wait, crun, cwait;
	int late;

	if (schedstat(f->schedfd, NULL, &run, &wait) ||
	    read_caller(f, &f->cschedfd, "schedstat", b, sizeof(b)) < 0 ||
	    schedstat(-1, b, &crun, &cwait))
		return 0;
	late = f->cpu >= 0 && f->delay &&
	       (int64_t)((wait - f->delay) - (crun - f->cexec)) > STARVED_NS;
	f->delay = wait;
	f->cexec = crun;
	return late;
}

/* Called with each request before it is served; gap is the time since
 * the loop last served one or woke up. */
static void follow_request(struct follow *f, const struct fuse_buf *buf,
			   int64_t gap)
{
	const struct fuse_in_header *h = buf->mem;
	int cpu;

	/* The kernel's own requests (FORGET, INTERRUPT) carry no pid. */
	if (!f->on || (buf->flags & FUSE_BUF_IS_FD) || buf->size < sizeof(*h) ||
	    !h->pid)
		return;
	if ((pid_t)h->pid != f->pid) {
		/* Someone else: serve everyone from anywhere. */
		unpin(f);
		close_caller(f);
		f->pid = (pid_t)h->pid;
		f->runs = 0;
		f->delay = 0;
		return;
	}
	/* A starved loop shows as a long gap; short ones are looked at
	 * now and then, so that small waits do not pile up unseen. */
	if (f->cpu >= 0 && (gap > STARVED_NS / 2000 || ++f->unchecked >= 64)) {
		f->unchecked = 0;
		if (starved(f)) {
			/* Something else wants this CPU: at SCHED_IDLE
			 * the loop would wait for it, and so would the
			 * caller. */
			unpin(f);
			f->until = now_us() + BACKOFF_US;
		}
	}
	if (f->runs < INT32_MAX)
		f->runs++;
	if (f->runs < 2 || (f->until && now_us() < f->until))
		return;
	/* Pinned, look again (0.8 us) only now and then, and when a burst
	 * starts: the caller rarely moves while the two take turns. */
	if (f->cpu >= 0 && !f->recheck && f->runs % 16)
		cpu = f->cpu;
	else
		cpu = caller_cpu(f);
	f->recheck = 0;
	if (cpu >= 0 && cpu != f->cpu && cpu < CPU_SETSIZE &&
	    CPU_ISSET(cpu, &f->all)) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) == 0) {
			if (f->cpu < 0) { /* the baseline for starved() */
				f->delay = 0;
				(void)starved(f);
			}
			f->cpu = cpu;
		}
	}
	if (f->cpu >= 0 && !f->idle && set_policy(SCHED_IDLE) == 0)
		f->idle = 1;
}

int wfs_loop_run(struct fuse_session *se, unsigned spin_us, int follow)
{
	struct fuse_buf buf = { 0 };
	sigset_t block, waiting;
	struct follow f;
	int fd = fuse_session_fd(se), rc = 0, flags;
	int64_t last;

	if (!spin_us && !follow)
		return fuse_session_loop(se);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return fuse_session_loop(se);
	follow_init(&f, follow);
	/* The session's signals (fuse_set_signal_handlers) are taken only
	 * while waiting in ppoll: one that came between the check of
	 * fuse_session_exited and the wait would wait for a request. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &waiting);
	last = now_us();
	while (!fuse_session_exited(se)) {
		int res = fuse_session_receive_buf(se, &buf);
		if (res == -EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			/* Pinned beside the caller, spinning would only
			 * take its CPU. */
			if (f.cpu < 0 && now_us() - last < (int64_t)spin_us) {
				sched_yield(); /* others first, if any */
				continue;
			}
			/* Sleep pinned, to be woken beside the caller, but
			 * not at SCHED_IDLE. */
			wake_normal(&f);
			f.recheck = 1;
			if (ppoll(&p, 1, NULL, &waiting) < 0 &&
			    errno != EINTR) {
				rc = -errno;
				break;
			}
			last = now_us();
			continue;
		}
		if (res == -EINTR)
			continue;
		if (res <= 0) {
			rc = res;
			break;
		}
		follow_request(&f, &buf, now_us() - last);
		fuse_session_process_buf(se, &buf);
		last = now_us();
	}
	pthread_sigmask(SIG_SETMASK, &waiting, NULL);
	follow_fini(&f);
	free(buf.mem);
	fuse_session_reset(se);
	return rc;
}
