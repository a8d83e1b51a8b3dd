/* test_wheel_name.c — wheel file names, PEP 503 normalization, escaping. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "wheel.h"

static void valid(const char *fn, const char *name, const char *version,
		  const char *build, const char *tags)
{
	struct wfs_wheel_name wn;
	int rc = wfs_wheel_name_parse(fn, &wn);

	if (rc) {
		fprintf(stderr, "rejected valid name %s (%d)\n", fn, rc);
		CHECK(rc == 0);
		return;
	}
	if (strcmp(wn.name, name) || strcmp(wn.version, version) ||
	    strcmp(wn.build, build) || strcmp(wn.tags, tags))
		fprintf(stderr, "%s: got name=%s version=%s build=%s tags=%s\n",
			fn, wn.name, wn.version, wn.build, wn.tags);
	CHECK(!strcmp(wn.name, name));
	CHECK(!strcmp(wn.version, version));
	CHECK(!strcmp(wn.build, build));
	CHECK(!strcmp(wn.tags, tags));
}

static void invalid(const char *fn)
{
	struct wfs_wheel_name wn;
	int rc = wfs_wheel_name_parse(fn, &wn);

	if (rc != -EINVAL)
		fprintf(stderr, "accepted invalid name '%s' (%d)\n", fn, rc);
	CHECK(rc == -EINVAL);
}

static void norm(const char *in, const char *want)
{
	char out[128];

	wfs_wheel_normalize(in, out, sizeof(out));
	if (strcmp(out, want))
		fprintf(stderr, "normalize(%s) = %s, want %s\n", in, out, want);
	CHECK(!strcmp(out, want));
}

static void esc(const char *in, const char *want)
{
	char out[128];

	wfs_wheel_escape(in, out, sizeof(out));
	if (strcmp(out, want))
		fprintf(stderr, "escape(%s) = %s, want %s\n", in, out, want);
	CHECK(!strcmp(out, want));
}

int main(void)
{
	char longname[400];
	char out[8];

	valid("foo-1.0-py3-none-any.whl", "foo", "1.0", "", "py3-none-any");
	valid("six-1.16.0-py2.py3-none-any.whl", "six", "1.16.0", "",
	      "py2.py3-none-any");
	valid("foo_bar-2.1.0-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_"
	      "x86_64.whl",
	      "foo_bar", "2.1.0", "1",
	      "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64");
	valid("Pkg.Name-1.0rc1-12abc-py3-none-any.whl", "Pkg.Name", "1.0rc1",
	      "12abc", "py3-none-any");
	valid("torch-2.1.0+cu118-cp311-cp311-linux_x86_64.whl", "torch",
	      "2.1.0+cu118", "", "cp311-cp311-linux_x86_64");
	valid("pkg-1!2.0-py3-none-any.whl", "pkg", "1!2.0", "", "py3-none-any");
	valid("a-1-py3-none-any.whl", "a", "1", "", "py3-none-any");

	invalid("foo-1.0-py3-none.whl"); /* missing a tag */
	invalid("foo-1.0-any.whl");
	invalid("foo.whl");
	invalid(".whl");
	invalid("");
	invalid("foo-1.0-py3-none-any.zip"); /* not .whl */
	invalid("foo-1.0-py3-none-any");
	invalid("foo-1.0-py3-none-any.WHL");
	invalid("-1.0-py3-none-any.whl");	  /* empty name */
	invalid("foo--py3-none-any.whl");	  /* empty version */
	invalid("foo-1.0--py3-none-any.whl");	  /* empty build tag */
	invalid("foo-1.0-abc-py3-none-any.whl");  /* build tag not a digit */
	invalid("foo-1.0-1-2-py3-none-any.whl");  /* too many parts */
	invalid("foo-1.0-py3..py2-none-any.whl"); /* empty tag part */
	invalid("foo-1.0-.py3-none-any.whl");
	invalid("foo-1.0-py3-none-any..whl");
	invalid("foo bar-1.0-py3-none-any.whl");
	invalid("foo/x-1.0-py3-none-any.whl");
	invalid("dir/foo-1.0-py3-none-any.whl");
	invalid("_foo-1.0-py3-none-any.whl");
	invalid("foo_-1.0-py3-none-any.whl");
	invalid("foo-.1-py3-none-any.whl");
	invalid("foo-1.0-py3-no+ne-any.whl");
	invalid("foo-1.0-1+2-py3-none-any.whl");

	memset(longname, 'a', 300);
	strcpy(longname + 300, "-1.0-py3-none-any.whl");
	invalid(longname);

	norm("Foo.Bar__baz-Qux", "foo-bar-baz-qux");
	norm("requests", "requests");
	norm("Zope.Interface", "zope-interface");
	norm("a-_.-b", "a-b");
	norm("", "");
	esc("foo.bar-baz", "foo_bar_baz");
	esc("Foo-Bar", "Foo_Bar");
	esc("a-_.-b", "a_b");
	esc("plain", "plain");

	/* Truncation always leaves a terminated string. */
	wfs_wheel_normalize("ABCDEFGHIJ", out, 4);
	CHECK(!strcmp(out, "abc"));
	wfs_wheel_escape("ABCDEFGHIJ", out, 1);
	CHECK(!strcmp(out, ""));

	CHECK_DONE();
}
