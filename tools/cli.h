/* cli.h — what the subcommands of the `wheelfs` command share.
 *
 * Each subcommand lives in cmd_<name>.c and exports wfs_cmd_<name>(argc,
 * argv, cfg), with argv[0] being the subcommand name.  Exit status: 0 on
 * success, 1 on failure (a one-line message on stderr), 2 on usage errors.
 */
#ifndef WFS_CLI_H
#define WFS_CLI_H

#include <stdio.h>

#include "config.h"

#define WFS_EXIT_FAIL 1
#define WFS_EXIT_USAGE 2

struct wfs_cmd {
	const char *name;
	int (*run)(int argc, char **argv, struct wfs_config *cfg);
	const char *usage; /* one line, after "wheelfs " */
	const char *man;   /* the page that documents it */
};

int wfs_cmd_add(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_ls(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_verify(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_gc(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_install(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_uninstall(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_show(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_adopt(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_pin(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_mount(int argc, char **argv, struct wfs_config *cfg);
int wfs_cmd_umount(int argc, char **argv, struct wfs_config *cfg);

/* Print "wheelfs: <msg>" on stderr; returns WFS_EXIT_FAIL. */
int wfs_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the subcommand's usage line on stderr; returns WFS_EXIT_USAGE. */
int wfs_usage(const char *cmd);
/* -j N of cmd into *jobs (0..1024); else a message and wfs_usage(cmd). */
int wfs_parse_jobs(const char *cmd, const char *s, int *jobs);

/* Callbacks for fs/ reporting hooks: a warning ("wheelfs: warning: ..."
 * on stderr), a line of output (stdout), a problem ("wheelfs: ..." on
 * stderr). */
void wfs_cli_warn(const char *msg, void *arg);
void wfs_cli_say(const char *line, void *arg);
void wfs_cli_report(const char *line, void *arg);

/* Write s as a JSON string literal (with quotes). */
void wfs_json_str(FILE *f, const char *s);

#endif
