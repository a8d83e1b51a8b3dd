/* daemon.c — mount daemon: options, session, readiness, control server,
 * unmount (see daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdint.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ctlsrv.h"
#include "ll.h"
#include "loop.h"

extern char **environ;

/* ---- options -------------------------------------------------------------- */

void wfs_mount_opts_init(struct wfs_mount_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout = 86400;
	o->readdirplus = 2;
	o->maxfds = 1024;
	o->spin_us = 1000;
	o->follow = 1;
}

int wfs_mount_parse(struct wfs_mount_opts *o, char *optstr, struct wfs_err *err)
{
	char *save = NULL, *end;

	for (char *opt = strtok_r(optstr, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		char *val = strchr(opt, '=');
		if (val)
			*val++ = '\0';
#define FLAG(s) (!strcmp(opt, s) && !val)
		if (FLAG("allow_other"))
			o->allow_other = 1;
		else if (FLAG("default_permissions"))
			; /* always on */
		else if (FLAG("ro"))
			o->ro = 1;
		else if (FLAG("rw"))
			o->ro = 0;
		else if (FLAG("debug"))
			o->debug = o->foreground = 1;
		else if (!strcmp(opt, "threads") && val) {
			long n = strtol(val, &end, 10);
			if (*end || n < 0 || n > 256)
				goto bad;
			o->threads = (int)n;
		} else if (!strcmp(opt, "timeout") && val) {
			/* what [mount] timeout takes (tools/config.c) */
			errno = 0;
			o->timeout = strtod(val, &end);
			if (end == val || *end || errno ||
			    !isfinite(o->timeout) || o->timeout < 0)
				goto bad;
		} else if (!strcmp(opt, "maxfds") && val) {
			long n = strtol(val, &end, 10);
			if (*end || n < 8)
				goto bad;
			o->maxfds = (unsigned)n;
		} else if (!strcmp(opt, "spin") && val) {
			long n = strtol(val, &end, 10);
			if (*end || n < 0 || n > 1000000)
				goto bad;
			o->spin_us = (unsigned)n;
		} else if (!strcmp(opt, "follow") && val) {
			if (!strcmp(val, "yes"))
				o->follow = 1;
			else if (!strcmp(val, "no"))
				o->follow = 0;
			else
				goto bad;
		} else if (!strcmp(opt, "readdirplus") && val) {
			if (!strcmp(val, "yes"))
				o->readdirplus = 2;
			else if (!strcmp(val, "auto"))
				o->readdirplus = 1;
			else if (!strcmp(val, "no"))
				o->readdirplus = 0;
			else
				goto bad;
		} else if (!strcmp(opt, "log") && val && *val) {
			o->log = val;
		} else {
			return wfs_errf(err, -EINVAL,
					"unknown mount option '%s%s%s'", opt,
					val ? "=" : "", val ? val : "");
		}
		continue;
bad:
		return wfs_errf(err, -EINVAL,
				"bad value for mount option %s: %s", opt, val);
	}
	return 0;
}

/* ---- mountinfo ------------------------------------------------------------ */

static void unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] &&
		    s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* One line of mountinfo: its device ("major:minor"), mount point and
 * type.  0, or -1 for a line that is none. */
static int mountinfo_line(const char *line, char dev[32], char mp[PATH_MAX],
			  char fstype[256])
{
	const char *dash = strstr(line, " - ");

	if (!dash || sscanf(line, "%*s %*s %31s %*s %4095s", dev, mp) != 2 ||
	    sscanf(dash + 3, "%255s", fstype) != 1)
		return -1;
	unescape_octal(mp);
	return 0;
}

/* Where the wheelfs mount of device dev is now (it moves with its
 * directory), or of the top mount on mp into dev: 1 found, 0 not. */
static int mountinfo_find(char dev[32], char mp[PATH_MAX])
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, d[32], m[PATH_MAX], fstype[256];
	size_t cap = 0;
	int found = 0, by_dev = dev[0] != '\0';

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		if (mountinfo_line(line, d, m, fstype) ||
		    strcmp(fstype, "fuse.wheelfs"))
			continue;
		if (by_dev ? !strcmp(d, dev) : !strcmp(m, mp)) {
			memcpy(by_dev ? mp : dev, by_dev ? m : d,
			       by_dev ? sizeof(m) : sizeof(d));
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found;
}

int wfs_mount_is_wheelfs(const char *target_abs)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -errno;
	/* The last mount on a mount point is the one on top. */
	while (getline(&line, &cap, f) > 0) {
		char dev[32], mp[PATH_MAX], fstype[256];
		if (mountinfo_line(line, dev, mp, fstype))
			continue;
		if (!strcmp(mp, target_abs))
			found = !strcmp(fstype, "fuse.wheelfs");
	}
	free(line);
	fclose(f);
	return found;
}

int wfs_mount_list_wheelfs(char ***paths, size_t *n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, **v = NULL;
	size_t cap = 0, nv = 0;
	int rc = 0;

	*paths = NULL;
	*n = 0;
	if (!f)
		return -errno;
	while (!rc && getline(&line, &cap, f) > 0) {
		char dev[32], mp[PATH_MAX], fstype[256], **nvv;
		if (mountinfo_line(line, dev, mp, fstype) ||
		    strcmp(fstype, "fuse.wheelfs"))
			continue;
		nvv = realloc(v, (nv + 1) * sizeof(*v));
		if (!nvv || !(nvv[nv] = strdup(mp))) {
			v = nvv ? nvv : v;
			rc = -ENOMEM;
			break;
		}
		v = nvv;
		nv++;
	}
	free(line);
	fclose(f);
	if (rc) {
		while (nv)
			free(v[--nv]);
		free(v);
		return rc;
	}
	*paths = v;
	*n = nv;
	return 0;
}

/* ---- serving ---------------------------------------------------------------- */

static int run_fusermount(const char *abs, int lazy, struct wfs_err *err);

struct ready {
	int *fd;   /* readiness pipe, -1 in the foreground or once told */
	int logfd; /* where stderr goes once detached, -1: /dev/null */
};

static void on_ready(void *arg)
{
	struct ready *r = arg;
	int null;

	if (*r->fd < 0)
		return;
	(void)wfs_write_all(*r->fd, "OK\n", 3);
	close(*r->fd);
	*r->fd = -1; /* the caller must not write to the number again */
	/* Detached: let go of the caller's terminal and pipes. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(r->logfd >= 0 ? r->logfd : null, STDERR_FILENO);
		close(null);
	}
}

static const char *cache_path(const struct wfs_mount_opts *o, int upperfd,
			      const char *abs, char **owned, int *pinned,
			      struct wfs_err *err)
{
	struct wfs_view v;

	*owned = NULL;
	/* The view first: "no view here" is the clearer message. */
	if (wfs_view_read(upperfd, abs, &v, err))
		return NULL;
	*pinned = v.pinned;
	if (o->cache) {
		wfs_view_free(&v);
		return o->cache;
	}
	if (!v.cache) {
		wfs_errf(err, -EINVAL,
			 "%s: the view names no cache; give one: "
			 "`wheelfs mount CACHE %s`",
			 abs, abs);
	} else {
		*owned = v.cache;
		v.cache = NULL;
	}
	wfs_view_free(&v);
	return *owned;
}

/* Register TARGET in the cache it is served from, so that gc keeps what
 * it needs even when the venv was moved since `install`, or the cache is
 * a copy of the one the view names.  Best effort: a read-only cache, or
 * one this user may not write, cannot record it. */
static void register_target(const char *cpath, const char *abs)
{
	struct wfs_cache rw = { .dirfd = -1 };
	struct wfs_err ignored = { { 0 } };

	if (wfs_cache_open(cpath, 0, &rw, &ignored) == 0) {
		(void)wfs_cache_register_view(&rw, abs);
		wfs_cache_close(&rw);
	}
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The loop ended without a signal or an error.  The device reads ENODEV
 * (POLLERR) both once unmounted and once the connection was aborted
 * (/sys/fs/fuse/connections/N/abort); after an abort the mount is still
 * there, dead (ENOTCONN), and libfuse leaves it: detach it, and fail. */
static int check_aborted(struct fuse_session *se, const char *dev,
			 const char *abs, struct wfs_err *err)
{
	struct pollfd p = { .fd = fuse_session_fd(se) };
	struct wfs_err ignored = { { 0 } };
	char mp[PATH_MAX], d[32];

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLERR))
		return 0;
	snprintf(d, sizeof(d), "%s", dev);
	if (!mountinfo_find(d, mp))
		return 0; /* unmounted */
	if (geteuid() == 0)
		(void)umount2(mp, MNT_DETACH);
	else
		(void)run_fusermount(mp, 1, &ignored);
	return wfs_errf(err, -ECONNABORTED,
			"%s: the kernel's connection to the mount was aborted; "
			"unmounted it",
			abs);
}

static int serve(const struct wfs_mount_opts *o, int *readyp,
		 struct wfs_err *err)
{
	struct wfs_ctlsrv ctl = { .lfd = -1, .wake = { -1, -1 } };
	struct ready ready = { .fd = readyp, .logfd = -1 };
	int readyfd = *readyp;
	struct wfs_cache cache = { .dirfd = -1 };
	struct fuse_session *se = NULL;
	struct wfs_lower *lower = NULL;
	struct wfs_fs fs = { .upperfd = -1 };
	char abs[PATH_MAX], cabs[PATH_MAX], opts[256], *owned = NULL;
	char dev[32] = "";
	const char *cpath;
	struct rlimit rl;
	int upperfd = -1, rc, logfd = -1, have_fs = 0, have_cache = 0;
	int pinned = 0;

	if (!realpath(o->target, abs))
		return wfs_errf(err, -errno, "%s: %s", o->target,
				strerror(errno));
	rc = wfs_mount_is_wheelfs(abs);
	if (rc > 0)
		return wfs_errf(err, -EBUSY,
				"%s is already a wheelfs mount (run `wheelfs "
				"umount %s` first)",
				abs, abs);
	if (o->log) {
		logfd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			     0644);
		if (logfd < 0)
			return wfs_errf(err, -errno, "%s: %s", o->log,
					strerror(errno));
	}
	/* The underlying directory, before anything covers it. */
	upperfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (upperfd < 0) {
		rc = wfs_errf(err, -errno, "%s: %s", abs, strerror(errno));
		goto out;
	}
	cpath = cache_path(o, upperfd, abs, &owned, &pinned, err);
	if (!cpath) {
		rc = -EINVAL;
		goto out;
	}
	/* Absolute, for the log lines of a daemon that left its cwd. */
	if (realpath(cpath, cabs))
		cpath = cabs;
	/* Before the trees are read: a gc that starts later keeps them. */
	register_target(cpath, abs);
	rc = wfs_cache_open(cpath, WFS_CACHE_READONLY, &cache, err);
	if (rc == -ENOENT && pinned && wfs_cache_gone(cpath)) {
		/* A pinned view is served from the upper layer alone: no
		 * cache is needed (a reload to an unpinned view fails). */
		err->msg[0] = '\0';
		cache.path = strdup(cpath);
		rc = cache.path ? 0 : wfs_errf(err, -ENOMEM, "out of memory");
	}
	if (rc)
		goto out;
	have_cache = 1;
	rc = wfs_lower_load(upperfd, abs, &cache, &lower, err);
	if (rc)
		goto out;
	rc = wfs_fs_init(&fs, upperfd, abs, &cache, lower, err);
	if (rc)
		goto out;
	have_fs = 1;
	upperfd = -1;
	lower = NULL;
	raise_nofile();
	fs.timeout = o->timeout;
	fs.readdirplus = o->readdirplus;
	fs.readonly = o->ro;
	fs.maxfds = o->maxfds;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && fs.maxfds > rl.rlim_cur / 2)
		fs.maxfds = rl.rlim_cur / 2;
	fs.logfd = logfd >= 0 ? logfd : readyfd < 0 ? STDERR_FILENO : -1;
	fs.use_syslog = readyfd >= 0 && logfd < 0;
	ready.logfd = logfd;
	fs.ready = on_ready;
	fs.ready_arg = &ready;
	ctl.fs = &fs;
	rc = wfs_ctlsrv_listen(&ctl, abs, err);
	if (rc)
		goto out;

	snprintf(opts, sizeof(opts),
		 "fsname=wheelfs,subtype=wheelfs,nosuid,nodev,"
		 "default_permissions%s%s",
		 o->allow_other ? ",allow_other" : "", o->ro ? ",ro" : "");
	{
		char *argv[] = { "wheelfs", "-o", opts, "-d", NULL };
		struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 4 : 3, argv);
		se = fuse_session_new(&args, &wfs_ll_ops, sizeof(wfs_ll_ops),
				      &fs);
		fuse_opt_free_args(&args);
	}
	if (!se) {
		rc = wfs_errf(err, -EINVAL, "cannot set up a FUSE session");
		goto out;
	}
	fs.se = se;
	if (fuse_set_signal_handlers(se)) {
		rc = wfs_errf(err, -EINVAL, "cannot set signal handlers");
		goto out;
	}
	/* Modes come already masked by the kernel: create them as given. */
	umask(0);
	/* Everything is open: keep no directory busy. */
	if (readyfd >= 0 && chdir("/") < 0) {
		rc = wfs_errf(err, -errno, "chdir /: %s", strerror(errno));
		goto sig;
	}
	if (fuse_session_mount(se, abs)) {
		rc = wfs_errf(err, -EIO, "cannot mount on %s (see above)", abs);
		goto sig;
	}
	/* Which mount is ours, to tell an abort from an unmount. */
	if (!mountinfo_find(dev, abs))
		dev[0] = '\0';
	rc = wfs_ctlsrv_start(&ctl);
	if (rc) {
		rc = wfs_errf(err, rc, "control thread: %s", strerror(-rc));
		goto unmount;
	}
	if (o->threads > 0) {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(cfg, 0);
		fuse_loop_cfg_set_max_threads(cfg, (unsigned)o->threads);
		fuse_loop_cfg_set_idle_threads(cfg, (unsigned)o->threads);
		rc = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	} else {
		rc = wfs_loop_run(se, o->spin_us, o->follow);
	}
	/* A signal ends the loop with its number: a clean exit. */
	rc = rc < 0 ? wfs_errf(err, rc, "%s: session: %s", abs, strerror(-rc))
		    : 0;
	if (!rc && dev[0])
		rc = check_aborted(se, dev, abs, err);
	if (rc && *readyp < 0 && readyfd >= 0)
		wfs_fs_log(&fs, "%s", err->msg); /* detached: nobody hears */
	wfs_ctlsrv_stop(&ctl);
unmount:
	fuse_session_unmount(se);
sig:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	if (have_fs)
		wfs_fs_destroy(&fs);
	wfs_lower_free(lower);
	if (have_cache)
		wfs_cache_close(&cache);
	if (upperfd >= 0)
		close(upperfd);
	free(owned);
	wfs_ctlsrv_close(&ctl);
	if (logfd >= 0)
		close(logfd);
	return rc;
}

int wfs_mount(const struct wfs_mount_opts *o, struct wfs_err *err)
{
	char msg[1100];
	size_t got = 0;
	int p[2], status;
	pid_t pid;

	if (o->foreground) {
		int none = -1;
		return serve(o, &none, err);
	}
	fflush(NULL); /* the child exits through exit() */
	if (pipe2(p, O_CLOEXEC) < 0)
		return wfs_errf(err, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return wfs_errf(err, -errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		struct wfs_err cerr = { { 0 } };
		int rc;
		close(p[0]);
		setsid();
		openlog("wheelfs", LOG_PID, LOG_DAEMON);
		rc = serve(o, &p[1], &cerr);
		if (rc && p[1] >= 0) {
			/* Still attached: report through the pipe. */
			char line[1100];
			int n = snprintf(line, sizeof(line), "ERR %s\n",
					 cerr.msg[0] ? cerr.msg
						     : strerror(-rc));
			(void)wfs_write_all(p[1], line, (size_t)n);
		}
		exit(rc ? 1 : 0);
	}
	close(p[1]);
	while (got < sizeof(msg) - 1) {
		ssize_t n = read(p[0], msg + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(msg, '\n', got))
			break;
	}
	close(p[0]);
	msg[got] = '\0';
	if (!strcmp(msg, "OK\n"))
		return 0;
	waitpid(pid, &status, 0);
	if (!strncmp(msg, "ERR ", 4)) {
		msg[strcspn(msg, "\n")] = '\0';
		return wfs_errf(err, -EIO, "%s", msg + 4);
	}
	return wfs_errf(err, -EIO,
			"the mount daemon exited (status %d) "
			"before the mount was ready",
			WIFEXITED(status) ? WEXITSTATUS(status)
					  : 128 + WTERMSIG(status));
}

/* ---- unmounting ------------------------------------------------------------- */

static int run_fusermount(const char *abs, int lazy, struct wfs_err *err)
{
	char *argv[] = { "fusermount3", "-u",	     lazy ? "-z" : "-q",
			 "--",		(char *)abs, NULL };
	int status;
	pid_t pid;
	int rc = posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ);

	if (rc)
		return wfs_errf(err, -rc, "fusermount3: %s", strerror(rc));
	if (waitpid(pid, &status, 0) < 0)
		return wfs_errf(err, -errno, "fusermount3: %s",
				strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return wfs_errf(err, -EIO,
				"fusermount3 -u %s failed (is it busy? close "
				"what uses it, or use --lazy)",
				abs);
	return 0;
}

/* A dead daemon's mount cannot be resolved (ENOTCONN): resolve its
 * parent and append the last name ("venv/lib/" as a shell completes it). */
static void stale_abs(const char *target, char abs[PATH_MAX])
{
	char dir[PATH_MAX], *slash, *name = dir;
	size_t n = strlen(target);

	while (n > 1 && target[n - 1] == '/')
		n--;
	snprintf(dir, sizeof(dir), "%.*s", (int)n, target);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		name = slash + 1;
	}
	if (*name && strcmp(name, ".") && strcmp(name, "..") &&
	    realpath(slash ? (dir[0] ? dir : "/") : ".", abs) &&
	    strlen(abs) + 1 + strlen(name) < PATH_MAX) {
		if (strcmp(abs, "/"))
			strcat(abs, "/");
		strcat(abs, name);
		return;
	}
	snprintf(abs, PATH_MAX, "%s", target);
}

int wfs_umount(const char *target, int lazy, double wait_s, struct wfs_err *err)
{
	struct sockaddr_un sa;
	socklen_t len;
	char abs[PATH_MAX];
	int rc, sock;

	if (!realpath(target, abs))
		stale_abs(target, abs);
	rc = wfs_mount_is_wheelfs(abs);
	if (rc < 0)
		return wfs_errf(err, rc, "/proc/self/mountinfo: %s",
				strerror(-rc));
	if (!rc)
		return wfs_errf(err, -EINVAL, "%s is not a wheelfs mount", abs);
	/* Held across the unmount: EOF tells the daemon is gone. */
	wfs_control_addr(abs, &sa, &len);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock >= 0 && connect(sock, (struct sockaddr *)&sa, len) < 0) {
		close(sock);
		/* moved since it was mounted (control.h) */
		sock = wfs_control_connect(abs);
		sock = sock < 0 ? -1 : sock;
	}
	if (geteuid() == 0) {
		rc = umount2(abs, lazy ? MNT_DETACH : 0) < 0 ? -errno : 0;
		if (rc == -EBUSY)
			rc = wfs_errf(err, rc,
				      "%s is busy: a process has files open or "
				      "its working directory there; close "
				      "them, or use `wheelfs umount --lazy`",
				      abs);
		else if (rc)
			rc = wfs_errf(err, rc, "umount %s: %s", abs,
				      strerror(-rc));
	} else {
		rc = run_fusermount(abs, lazy, err);
	}
	/* --wait 0: do not wait. */
	if (!rc && sock >= 0 && !lazy && wait_s > 0) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		char c;
		/* at most ~292 million years: no overflow */
		int64_t ms =
			wait_s < 9e15 ? (int64_t)(wait_s * 1000) : INT64_MAX;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			int64_t left;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = ms - ((int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
				     (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0) {
				rc = wfs_errf(err, -ETIMEDOUT,
					      "%s is unmounted, but its daemon "
					      "has not exited after %g s",
					      abs, wait_s);
				break;
			}
			if (poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left) <
				    0 &&
			    errno != EINTR)
				break;
			if (p.revents && read(sock, &c, 1) <= 0)
				break; /* EOF or reset: the daemon is gone */
		}
	}
	if (sock >= 0)
		close(sock);
	return rc;
}
