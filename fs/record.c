/* record.c — parsing and writing RECORD files (RFC 4180 CSV).
 *
 * The parser is strict: exactly three fields per row, quotes only around
 * whole fields, line ends \n or \r\n, no NUL bytes.  Blank lines are skipped
 * (a trailing one is common).  Errors name the file and the line on which
 * the offending row starts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

struct csv {
	const char *p, *end;
	const char *what;
	size_t line; /* current physical line, 1-based */
	struct wfs_err *err;
};

/* Parse one field into out (reset first).  *eol is set when the field ended
 * the row (line end or end of input). */
static int csv_field(struct csv *c, size_t row_line, struct wfs_buf *out,
		     int *eol)
{
	out->len = 0;
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		for (;;) {
			if (c->p >= c->end)
				return wfs_errf(c->err, -EINVAL,
						"%s: line %zu: unterminated "
						"quoted field",
						c->what, row_line);
			char ch = *c->p++;
			if (ch == '"') {
				if (c->p < c->end && *c->p == '"') {
					c->p++;
				} else {
					break;
				}
			} else if (ch == '\n') {
				c->line++;
			}
			if (wfs_buf_append(out, &ch, 1))
				return -ENOMEM;
		}
	} else {
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
		       *c->p != '\r') {
			if (*c->p == '"')
				return wfs_errf(c->err, -EINVAL,
						"%s: line %zu: quote inside an "
						"unquoted field",
						c->what, row_line);
			if (wfs_buf_append(out, c->p, 1))
				return -ENOMEM;
			c->p++;
		}
	}
	/* NUL-terminate without counting it. */
	if (wfs_buf_append(out, "", 1))
		return -ENOMEM;
	out->len--;

	if (c->p >= c->end) {
		*eol = 1;
		return 0;
	}
	switch (*c->p) {
	case ',':
		c->p++;
		*eol = 0;
		return 0;
	case '\r':
		if (c->p + 1 >= c->end || c->p[1] != '\n')
			return wfs_errf(c->err, -EINVAL,
					"%s: line %zu: carriage return without "
					"line feed",
					c->what, c->line);
		c->p++;
		/* fall through */
	case '\n':
		c->p++;
		c->line++;
		*eol = 1;
		return 0;
	default:
		return wfs_errf(c->err, -EINVAL,
				"%s: line %zu: unexpected character after "
				"closing quote",
				c->what, row_line);
	}
}

/* Decimal size field: "" is -1, anything but digits is an error. */
static int parse_size(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s) {
		*out = -1;
		return 0;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

static int record_push(struct wfs_record *r, size_t *cap,
		       struct wfs_record_row *row)
{
	if (r->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		void *p = realloc(r->rows, ncap * sizeof(*r->rows));
		if (!p)
			return -ENOMEM;
		r->rows = p;
		*cap = ncap;
	}
	r->rows[r->n++] = *row;
	return 0;
}

int wfs_record_parse(const char *buf, size_t len, const char *what,
		     struct wfs_record *r, struct wfs_err *err)
{
	return wfs_record_parse_max(buf, len, what, SIZE_MAX, r, err);
}

int wfs_record_parse_max(const char *buf, size_t len, const char *what,
			 size_t max_rows, struct wfs_record *r,
			 struct wfs_err *err)
{
	struct csv c = { buf, buf + len, what, 1, err };
	struct wfs_buf f[3] = { { 0 } };
	size_t cap = 0;
	int rc = 0;

	r->rows = NULL;
	r->n = 0;
	if (memchr(buf, '\0', len)) {
		const char *z = memchr(buf, '\0', len);
		size_t line = 1;
		for (const char *q = buf; q < z; q++)
			line += *q == '\n';
		return wfs_errf(err, -EINVAL, "%s: line %zu: NUL byte", what,
				line);
	}
	while (c.p < c.end) {
		size_t row_line = c.line;
		int nf = 0, eol = 0;

		/* Skip blank lines. */
		if (*c.p == '\n' ||
		    (*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n')) {
			c.p += *c.p == '\r' ? 2 : 1;
			c.line++;
			continue;
		}
		while (!eol) {
			struct wfs_buf tmp = { 0 };
			struct wfs_buf *dst = nf < 3 ? &f[nf] : &tmp;
			rc = csv_field(&c, row_line, dst, &eol);
			wfs_buf_free(&tmp);
			if (rc)
				goto fail;
			nf++;
		}
		if (nf != 3) {
			rc = wfs_errf(
				err, -EINVAL,
				"%s: line %zu: expected 3 fields, found %d",
				what, row_line, nf);
			goto fail;
		}
		if (!f[0].len) {
			rc = wfs_errf(err, -EINVAL, "%s: line %zu: empty path",
				      what, row_line);
			goto fail;
		}
		struct wfs_record_row row = { 0 };
		if (r->n == max_rows) {
			rc = wfs_errf(err, -EINVAL,
				      "%s: line %zu: more rows than the wheel "
				      "has entries",
				      what, row_line);
			goto fail;
		}
		if (parse_size(f[2].data, &row.size)) {
			/* Not echoed when it holds control bytes (a newline
			 * would split the one-line error). */
			int shown = 1;
			for (const char *q = f[2].data; *q; q++)
				shown &=
					(unsigned char)*q >= 0x20 && *q != 0x7f;
			rc = wfs_errf(err, -EINVAL,
				      "%s: line %zu: invalid size '%s'", what,
				      row_line, shown ? f[2].data : "?");
			goto fail;
		}
		row.path = strdup(f[0].data);
		row.hash = strdup(f[1].data);
		if (!row.path || !row.hash || record_push(r, &cap, &row)) {
			free(row.path);
			free(row.hash);
			rc = -ENOMEM;
			goto fail;
		}
	}
	for (int i = 0; i < 3; i++)
		wfs_buf_free(&f[i]);
	return 0;
fail:
	for (int i = 0; i < 3; i++)
		wfs_buf_free(&f[i]);
	wfs_record_free(r);
	if (rc == -ENOMEM)
		wfs_errf(err, rc, "%s: out of memory", what);
	return rc;
}

void wfs_record_free(struct wfs_record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->rows[i].path);
		free(r->rows[i].hash);
	}
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}

/* Append one field, quoted when it contains a separator, quote or line end. */
static int append_field(struct wfs_buf *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n"))
		return wfs_buf_append(out, s, strlen(s));
	if (wfs_buf_append(out, "\"", 1))
		return -ENOMEM;
	for (; *s; s++) {
		if (*s == '"' && wfs_buf_append(out, "\"", 1))
			return -ENOMEM;
		if (wfs_buf_append(out, s, 1))
			return -ENOMEM;
	}
	return wfs_buf_append(out, "\"", 1);
}

int wfs_record_append(struct wfs_buf *out, const char *path, const char *hash,
		      int64_t size)
{
	int rc;

	if ((rc = append_field(out, path)) ||
	    (rc = wfs_buf_append(out, ",", 1)) ||
	    (rc = append_field(out, hash ? hash : "")) ||
	    (rc = wfs_buf_append(out, ",", 1)))
		return rc;
	if (size >= 0)
		rc = wfs_buf_printf(out, "%lld\n", (long long)size);
	else
		rc = wfs_buf_append(out, "\n", 1);
	return rc;
}
