/* install_scripts.c — bin/ files: the interpreter line (distlib's rules),
 * entry_points.txt as importlib.metadata reads it, and console_scripts /
 * gui_scripts launchers with distlib's template and pip's special names. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "install_int.h"

/* distlib's shebang: "#!EXE\n", or a /bin/sh exec wrapper when EXE has a
 * space or the line would exceed 127 bytes (Linux's limit). */
int wfs_shebang(const char *exe, struct wfs_buf *out)
{
	int space = strchr(exe, ' ') != NULL;
	size_t len = strlen(exe) + (space ? 2 : 0);

	if (!space && len + 3 <= 127)
		return wfs_buf_printf(out, "#!%s\n", exe);
	return wfs_buf_printf(out,
			      "#!/bin/sh\n'''exec' %s%s%s \"$0\" \"$@\"\n"
			      "' '''\n",
			      space ? "\"" : "", exe, space ? "\"" : "");
}

/* ---- entry points ------------------------------------------------------- */

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* importlib.metadata's reading: stripped lines, '#' comments, [section],
 * name = value; a later name replaces an earlier one of its group. */
int wfs_eps_parse(char *text, struct wfs_ep **out, size_t *nout)
{
	struct wfs_ep *v = NULL;
	size_t n = 0;
	int group = -1;

	for (char *line = text; line;) {
		char *nl = strchr(line, '\n'), *s, *eq;
		if (nl)
			*nl = '\0';
		s = strip(line);
		line = nl ? nl + 1 : NULL;
		if (!*s || *s == '#')
			continue;
		if (s[0] == '[' && s[strlen(s) - 1] == ']') {
			while (*s == '[')
				s++;
			for (char *e = s + strlen(s); e > s && e[-1] == ']';)
				*--e = '\0';
			group = !strcmp(s, "console_scripts") ? 0
				: !strcmp(s, "gui_scripts")   ? 1
							      : -1;
			continue;
		}
		if (group < 0 || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		struct wfs_ep e = { strip(s), strip(eq + 1), group };
		size_t i;
		for (i = 0; i < n; i++)
			if (v[i].gui == group && !strcmp(v[i].name, e.name))
				break;
		if (i == n) {
			struct wfs_ep *nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			n++;
		}
		v[i] = e;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int word_ok(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    (unsigned char)s[i] < 0x80)
			return 0;
	return 1;
}

/* "mod.sub:obj.attr [extras]" -> module and callable (in place). */
static int ep_split(char *value, char **mod, char **func)
{
	char *br = strchr(value, '['), *colon, *p;

	if (br)
		*br = '\0';
	value = strip(value);
	colon = strchr(value, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL;
	*colon = '\0';
	*mod = strip(value);
	*func = strip(colon + 1);
	for (int part = 0; part < 2; part++) {
		p = part ? *func : *mod;
		for (;;) {
			char *dot = strchrnul(p, '.');
			if (!word_ok(p, (size_t)(dot - p)))
				return -EINVAL;
			if (!*dot)
				break;
			p = dot + 1;
		}
	}
	return 0;
}

static int name_ok(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (*s == '/' || isspace((unsigned char)*s) ||
		    (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* pip(\d+(\.\d+)?)?$ and easy_install(-\d+\.\d+)?$ */
static int versioned(const char *s, const char *base, int dash)
{
	size_t bl = strlen(base);

	if (strncmp(s, base, bl))
		return 0;
	s += bl;
	if (!*s)
		return 1;
	if (dash && *s++ != '-')
		return 0;
	if (!isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	if (!*s)
		return !dash;
	if (*s++ != '.' || !isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return !*s;
}

/* pip's wrapper filter: EP, EP.exe, EP-script.py and EP.pya made by
 * setuptools for an entry point EP are not installed from .data/scripts. */
int wfs_eps_is_wrapper(const char *base, const struct wfs_ep *eps, size_t n)
{
	char m[256];
	size_t l = strlen(base);

	if (l >= sizeof(m))
		return 0;
	memcpy(m, base, l + 1);
	if (l > 4 &&
	    (!strcasecmp(m + l - 4, ".exe") || !strcasecmp(m + l - 4, ".pya")))
		m[l - 4] = '\0';
	else if (l > 10 && !strcasecmp(m + l - 10, "-script.py"))
		m[l - 10] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!strcmp(eps[i].name, m))
			return 1;
	return 0;
}

static int launcher(struct wfs_plan *p, const char *exe, const char *name,
		    const char *mod, const char *func)
{
	struct wfs_buf b = { 0 };
	char path[WFS_VPATH_MAX];
	size_t il = strcspn(func, ".");
	int rc = wfs_shebang(exe, &b);

	if (!rc)
		rc = wfs_buf_printf(
			&b,
			"# -*- coding: utf-8 -*-\n"
			"import re\n"
			"import sys\n"
			"from %s import %.*s\n"
			"if __name__ == '__main__':\n"
			"    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', "
			"'', sys.argv[0])\n"
			"    sys.exit(%s())\n",
			mod, (int)il, func, func);
	if (!rc &&
	    snprintf(path, sizeof(path), "bin/%s", name) >= (int)sizeof(path))
		rc = -ENAMETOOLONG;
	if (!rc)
		rc = wfs_pf_gen(p, path, b.data, b.len, 0755);
	wfs_buf_free(&b);
	return rc;
}

int wfs_plan_launchers(struct wfs_plan *p, const struct wfs_venv *v,
		       const char *exe, struct wfs_ep *eps, size_t n,
		       struct wfs_err *err)
{
	char nm[300], major[16];
	int rc = 0;

	snprintf(major, sizeof(major), "%.*s", (int)strcspn(v->python, "."),
		 v->python);
	for (size_t i = 0; i < n && !rc; i++) {
		char val[1024], *mod, *func;
		const char *name = eps[i].name;
		if (snprintf(val, sizeof(val), "%s", eps[i].value) >=
			    (int)sizeof(val) ||
		    ep_split(val, &mod, &func) || !name_ok(name))
			return wfs_errf(
				err, -EINVAL,
				"%s: entry point '%s = %s': not a valid "
				"script entry point (name = module:callable)",
				p->distinfo, name, eps[i].value);
		if (!eps[i].gui && !strcmp(name, "pip")) {
			const char *names[] = { "pip", "pip%s", "pip%s" };
			for (int k = 0; k < 3 && !rc; k++) {
				snprintf(nm, sizeof(nm), names[k],
					 k == 1 ? major : v->python);
				rc = launcher(p, exe, nm, mod, func);
			}
			continue;
		}
		if (!eps[i].gui && !strcmp(name, "easy_install")) {
			rc = launcher(p, exe, name, mod, func);
			snprintf(nm, sizeof(nm), "easy_install-%s", v->python);
			if (!rc)
				rc = launcher(p, exe, nm, mod, func);
			continue;
		}
		if (!eps[i].gui) {
			int skip = 0;
			for (size_t j = 0; j < n; j++) {
				if (eps[j].gui)
					continue;
				if ((!strcmp(eps[j].name, "pip") &&
				     versioned(name, "pip", 0)) ||
				    (!strcmp(eps[j].name, "easy_install") &&
				     versioned(name, "easy_install", 1)))
					skip = 1;
			}
			if (skip)
				continue;
		}
		rc = launcher(p, exe, name, mod, func);
	}
	return rc ? wfs_errf(err, rc, "%s: launchers: %s", p->distinfo,
			     strerror(-rc))
		  : 0;
}
