/* test_install.c — the pure parts of install: RECORD path mapping, the
 * interpreter line, entry_points.txt, pyvenv.cfg and lexical paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "install_int.h"
#include "venv.h"

#define SITE "lib/python3.11/site-packages"

static int target_is(const char *row, const char *want)
{
	char out[4096];
	int rc = wfs_record_target(SITE, row, out, sizeof(out));

	if (!want)
		return rc == -EINVAL;
	return rc == 0 && !strcmp(out, want);
}

static int relpath_is(const char *vpath, const char *want)
{
	char out[4096];

	return !wfs_record_relpath(SITE, vpath, out, sizeof(out)) &&
	       !strcmp(out, want);
}

static void record_paths(void)
{
	CHECK(target_is("pkg/mod.py", SITE "/pkg/mod.py"));
	CHECK(target_is("../../../bin/tool", "bin/tool"));
	CHECK(target_is("../../../include/site/python3.11/x/a.h",
			"include/site/python3.11/x/a.h"));
	CHECK(target_is("./pkg//a.py", SITE "/pkg/a.py"));
	CHECK(target_is("../site-packages/x.py", SITE "/x.py"));
	CHECK(target_is("../../../../etc/passwd", NULL)); /* escapes VENV */
	CHECK(target_is("/etc/passwd", NULL));
	CHECK(target_is("../../..", NULL));
	CHECK(wfs_in_site(SITE, SITE "/a/b") &&
	      !strcmp(wfs_in_site(SITE, SITE "/a/b"), "a/b"));
	CHECK(!wfs_in_site(SITE, "bin/x"));
	CHECK(!wfs_in_site(SITE, SITE "x/y"));

	CHECK(relpath_is("bin/tool", "../../../bin/tool"));
	CHECK(relpath_is(SITE "/pkg/a.py", "pkg/a.py"));
	CHECK(relpath_is("lib/python3.11/other.py", "../other.py"));
	CHECK(relpath_is("share/x/y.txt", "../../../share/x/y.txt"));
}

static int shebang_is(const char *exe, const char *want)
{
	struct wfs_buf b = { 0 };
	int ok = !wfs_shebang(exe, &b) && !strcmp(b.data, want);

	wfs_buf_free(&b);
	return ok;
}

static void shebangs(void)
{
	char exe[200];

	CHECK(shebang_is("/v/bin/python", "#!/v/bin/python\n"));
	CHECK(shebang_is("/a b/bin/python",
			 "#!/bin/sh\n'''exec' \"/a b/bin/python\" \"$0\" "
			 "\"$@\"\n' '''\n"));
	/* 124 bytes: "#!" + 124 + "\n" = 127 is still simple; 125 is not. */
	memset(exe, 'x', sizeof(exe));
	exe[0] = '/';
	exe[124] = '\0';
	{
		struct wfs_buf b = { 0 };
		CHECK(!wfs_shebang(exe, &b) && b.len == 127 &&
		      b.data[0] == '#' && b.data[2] == '/');
		wfs_buf_free(&b);
		exe[124] = 'x';
		exe[125] = '\0';
		CHECK(!wfs_shebang(exe, &b) &&
		      !strncmp(b.data, "#!/bin/sh\n", 10));
		wfs_buf_free(&b);
	}
}

static void entry_points(void)
{
	char text[] = "# comment\n"
		      "[console_scripts]\n"
		      "  tool = pkg.cli:main  \n"
		      "other=pkg:Obj.attr [extra]\n"
		      "tool = pkg.cli:main2\n"
		      "\n"
		      "[gui_scripts]\n"
		      "gui = pkg.gui:run\n"
		      "[other.group]\n"
		      "ignored = x:y\n";
	struct wfs_ep *eps = NULL;
	size_t n = 0;

	CHECK(!wfs_eps_parse(text, &eps, &n));
	CHECK(n == 3);
	if (n == 3) {
		CHECK(!strcmp(eps[0].name, "tool") &&
		      !strcmp(eps[0].value, "pkg.cli:main2") && !eps[0].gui);
		CHECK(!strcmp(eps[1].name, "other") &&
		      !strcmp(eps[1].value, "pkg:Obj.attr [extra]"));
		CHECK(!strcmp(eps[2].name, "gui") && eps[2].gui);
		CHECK(wfs_eps_is_wrapper("tool", eps, n));
		CHECK(wfs_eps_is_wrapper("tool.exe", eps, n));
		CHECK(wfs_eps_is_wrapper("tool-script.py", eps, n));
		CHECK(wfs_eps_is_wrapper("gui.pya", eps, n));
		CHECK(!wfs_eps_is_wrapper("toolx", eps, n));
	}
	free(eps);
}

static int cfg_is(const char *text, const char *want)
{
	char py[16] = "";
	int rc = wfs_venv_parse_cfg(text, py, sizeof(py));

	return want ? rc == 0 && !strcmp(py, want) : rc != 0;
}

static void pyvenv(void)
{
	CHECK(cfg_is("home = /usr/bin\ninclude-system-site-packages = false\n"
		     "version = 3.11.2\n",
		     "3.11"));
	CHECK(cfg_is("home = /usr/bin\nimplementation = CPython\n"
		     "version_info = 3.12.1\n",
		     "3.12"));
	CHECK(cfg_is("version_info = 3.10.4.final.0\n", "3.10"));
	CHECK(cfg_is("version = 3.13.0rc1\n", "3.13"));
	CHECK(cfg_is("Version=3.9\n", "3.9"));
	CHECK(cfg_is("home = /usr/bin\n", NULL));
	CHECK(cfg_is("version = three\n", NULL));
	CHECK(cfg_is("version = 3\n", NULL));
	CHECK(wfs_venv_python_ok("3.11") && wfs_venv_python_ok("3.9"));
	CHECK(!wfs_venv_python_ok("3") && !wfs_venv_python_ok("3.11.2") &&
	      !wfs_venv_python_ok("x.1") && !wfs_venv_python_ok("3."));
}

static int abs_is(const char *in, const char *want)
{
	char *p = wfs_abspath(in);
	int ok = p && !strcmp(p, want);

	free(p);
	return ok;
}

static void abspaths(void)
{
	CHECK(abs_is("/a/./b//c/", "/a/b/c"));
	CHECK(abs_is("/a/b/../c", "/a/c"));
	CHECK(abs_is("/..", "/"));
	CHECK(abs_is("/", "/"));
	if (chdir("/tmp") == 0)
		CHECK(abs_is("x/../y", "/tmp/y"));
}

int main(void)
{
	record_paths();
	shebangs();
	entry_points();
	pyvenv();
	abspaths();
	CHECK_DONE();
}
