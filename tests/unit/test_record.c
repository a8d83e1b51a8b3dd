/* test_record.c — RECORD (CSV) parsing and writing. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "record.h"

struct row {
	const char *path, *hash;
	int64_t size;
};

static void round_trip(void)
{
	static const struct row rows[] = {
		{ "pkg/__init__.py", "sha256=AbC-_0123", 12 },
		{ "pkg/with,comma.py", "sha256=x", 0 },
		{ "pkg/with\"quote\".py", "", -1 },
		{ "pkg/\"\"", "sha256=y", 9223372036854775807LL },
		{ "pkg/new\nline", "sha256=z", 3 },
		{ "pkg/cr\r\nlf", "", 5 },
		{ "pkg-1.0.dist-info/RECORD", "", -1 },
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);
	struct wfs_buf b = { 0 };
	struct wfs_record r;
	struct wfs_err err = { { 0 } };

	for (size_t i = 0; i < n; i++)
		CHECK(wfs_record_append(&b, rows[i].path, rows[i].hash,
					rows[i].size) == 0);
	CHECK(strstr(b.data, "\"pkg/with,comma.py\",sha256=x,0\n") != NULL);
	CHECK(strstr(b.data, "\"pkg/with\"\"quote\"\".py\",,\n") != NULL);
	CHECK(strstr(b.data, "pkg/__init__.py,sha256=AbC-_0123,12\n") ==
	      b.data);
	CHECK(wfs_record_parse(b.data, b.len, "RECORD", &r, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "round trip: %s\n", err.msg);
	CHECK(r.n == n);
	for (size_t i = 0; i < n && i < r.n; i++) {
		if (strcmp(r.rows[i].path, rows[i].path))
			fprintf(stderr, "row %zu: path '%s'\n", i,
				r.rows[i].path);
		CHECK(!strcmp(r.rows[i].path, rows[i].path));
		CHECK(!strcmp(r.rows[i].hash, rows[i].hash));
		CHECK(r.rows[i].size == rows[i].size);
	}
	wfs_record_free(&r);
	wfs_buf_free(&b);
}

static void good(const char *text, size_t nrows)
{
	struct wfs_record r;
	struct wfs_err err = { { 0 } };
	int rc = wfs_record_parse(text, strlen(text), "RECORD", &r, &err);

	if (rc || r.n != nrows)
		fprintf(stderr, "parse of [%s]: rc %d, %zu rows: %s\n", text,
			rc, rc ? 0 : r.n, err.msg);
	CHECK(rc == 0);
	CHECK(rc || r.n == nrows);
	if (!rc)
		wfs_record_free(&r);
}

/* Must fail with -EINVAL and a message naming the file and the line. */
static void bad(const char *text, size_t len, int line)
{
	struct wfs_record r;
	struct wfs_err err = { { 0 } };
	char want[64];
	int rc = wfs_record_parse(text, len, "x/RECORD", &r, &err);

	snprintf(want, sizeof(want), "x/RECORD: line %d:", line);
	if (rc != -EINVAL || !strstr(err.msg, want))
		fprintf(stderr,
			"parse of [%.*s]: rc %d, message '%s', want '%s'\n",
			(int)len, text, rc, err.msg, want);
	CHECK(rc == -EINVAL);
	CHECK(strstr(err.msg, want) != NULL);
	CHECK(r.n == 0 && r.rows == NULL);
}

#define BAD(s, line) bad(s, sizeof(s) - 1, line)

int main(void)
{
	struct wfs_record r;
	struct wfs_err err = { { 0 } };
	const char *crlf = "a/b.py,sha256=abc,10\r\n\"c,d\",,\r\n";

	round_trip();

	CHECK(wfs_record_parse(crlf, strlen(crlf), "RECORD", &r, &err) == 0);
	CHECK(r.n == 2);
	if (r.n == 2) {
		CHECK(!strcmp(r.rows[0].path, "a/b.py"));
		CHECK(!strcmp(r.rows[0].hash, "sha256=abc"));
		CHECK(r.rows[0].size == 10);
		CHECK(!strcmp(r.rows[1].path, "c,d"));
		CHECK(!strcmp(r.rows[1].hash, ""));
		CHECK(r.rows[1].size == -1);
	}
	wfs_record_free(&r);

	good("", 0);
	good("a,,\n", 1);
	good("a,,", 1);	    /* no final line end */
	good("a,,\n\n", 1); /* trailing empty line */
	good("a,,\r\n\r\n", 1);
	good("a,,1\n\nb,,2\n", 2); /* blank lines are skipped */

	BAD("a,b\n", 1);	    /* two fields */
	BAD("ok,,1\nx,y,z,w\n", 2); /* four fields */
	BAD("ok,,1\nonly\n", 2);
	BAD("a,,12x\n", 1); /* size not numeric */
	BAD("a,,-1\n", 1);
	BAD("a,, 1\n", 1);
	BAD("a,,99999999999999999999\n", 1); /* overflow */
	BAD("ok,,\n\"abc,,\n", 2);	     /* unterminated quote */
	BAD("a\"b,,\n", 1);		     /* quote in unquoted field */
	BAD("\"a\"b,,\n", 1);		     /* text after closing quote */
	BAD("a,,1\rb,,2\n", 1);		     /* CR without LF */
	BAD("\"a\nb\",,1\nbad\n", 3);	     /* line of a multi-line row */
	BAD("a,,1\n\0,,\n", 2);		     /* NUL byte */
	BAD(",sha256=x,1\n", 1);	     /* empty path */
	BAD("a,,\"1\n\0332\"\n", 1);	     /* not echoed: one line */
	{
		const char *t = "a,,\"1\n\0332\"\n";
		struct wfs_err e = { { 0 } };
		CHECK(wfs_record_parse(t, strlen(t), "R", &r, &e) == -EINVAL);
		CHECK(!strchr(e.msg, '\n') && !strchr(e.msg, '\033'));
	}
	/* A cap on rows: refused once more are found. */
	{
		const char *t = "a,,\nb,,\nc,,\n";
		struct wfs_err e = { { 0 } };
		CHECK(wfs_record_parse_max(t, strlen(t), "R", 3, &r, &e) == 0);
		wfs_record_free(&r);
		CHECK(wfs_record_parse_max(t, strlen(t), "R", 2, &r, &e) ==
		      -EINVAL);
		CHECK(strstr(e.msg, "R: line 3: more rows") != NULL);
	}

	CHECK_DONE();
}
