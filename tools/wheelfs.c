/* wheelfs.c — the `wheelfs` command: configuration, then dispatch to one
 * cmd_<name>.c per subcommand. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct wfs_cmd cmds[] = {
	{ "add", wfs_cmd_add, "add [-j N] [-q] CACHE SOURCE...", "wheelfs(1)" },
	{ "ls", wfs_cmd_ls, "ls [--json] [CACHE]", "wheelfs(1)" },
	{ "verify", wfs_cmd_verify, "verify [--repair] [CACHE]", "wheelfs(1)" },
	{ "gc", wfs_cmd_gc, "gc [--prune] [--dry-run] [CACHE]", "wheelfs(1)" },
	{ "install", wfs_cmd_install,
	  "install [--cache CACHE] [--python X.Y] [--force-overwrite] [-j N] "
	  "[-q] VENV WHEEL|DIR...",
	  "wheelfs-install(1)" },
	{ "uninstall", wfs_cmd_uninstall, "uninstall [-q] VENV NAME...",
	  "wheelfs-uninstall(1)" },
	{ "show", wfs_cmd_show, "show [--json] [--files] VENV",
	  "wheelfs-show(1)" },
	{ "adopt", wfs_cmd_adopt,
	  "adopt [--cache CACHE] [--python X.Y] [-q] VENV",
	  "wheelfs-adopt(1)" },
	{ "pin", wfs_cmd_pin,
	  "pin [--cache CACHE] [--mode auto|reflink|hardlink|copy|symlink] "
	  "[--strict] [-j N] [-q] TARGET",
	  "wheelfs-pin(1)" },
	{ "mount", wfs_cmd_mount,
	  "mount [-f] [-o OPTS] [--cache CACHE] [CACHE] TARGET",
	  "wheelfs-mount(1)" },
	{ "umount", wfs_cmd_umount, "umount [--lazy] [--wait SECONDS] TARGET",
	  "wheelfs-mount(1)" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

int wfs_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("wheelfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return WFS_EXIT_FAIL;
}

int wfs_usage(const char *cmd)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, cmd))
			fprintf(stderr, "usage: wheelfs %s\n", cmds[i].usage);
	return WFS_EXIT_USAGE;
}

int wfs_parse_jobs(const char *cmd, const char *s, int *jobs)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 1024) {
		fprintf(stderr,
			"wheelfs: -j %s: not a number of jobs from 0 (one "
			"per CPU) to 1024\n",
			s);
		return wfs_usage(cmd);
	}
	*jobs = (int)v;
	return 0;
}

void wfs_cli_warn(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "wheelfs: warning: %s\n", msg);
}

void wfs_cli_say(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

void wfs_cli_report(const char *line, void *arg)
{
	(void)arg;
	fprintf(stderr, "wheelfs: %s\n", line);
}

void wfs_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void help(FILE *f)
{
	fprintf(f, "usage: wheelfs COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  wheelfs %s\n", cmds[i].usage);
	fprintf(f, "\nSee wheelfs(1).\n");
}

int main(int argc, char **argv)
{
	struct wfs_config cfg;
	int rc;

	if (argc < 2) {
		help(stderr);
		return WFS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("wheelfs %s\n", WFS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].name, argv[1]))
			continue;
		/* Help needs no configuration (which may be what is wrong). */
		for (int a = 2; a < argc && strcmp(argv[a], "--"); a++)
			if (!strcmp(argv[a], "-h") ||
			    !strcmp(argv[a], "--help")) {
				printf("usage: wheelfs %s\n\nSee %s.\n",
				       cmds[i].usage, cmds[i].man);
				return 0;
			}
		if (wfs_config_load(&cfg))
			return WFS_EXIT_FAIL;
		rc = cmds[i].run(argc - 1, argv + 1, &cfg);
		wfs_config_free(&cfg);
		return rc;
	}
	fprintf(stderr, "wheelfs: unknown command '%s'\n", argv[1]);
	help(stderr);
	return WFS_EXIT_USAGE;
}
