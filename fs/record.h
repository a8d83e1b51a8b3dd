/* record.h — the RECORD file of a .dist-info directory (CSV).
 *
 * Each row is path,hash,size where hash is "sha256=<urlsafe-b64-nopad>" or
 * empty, and size is a decimal or empty.  Fields may be quoted per RFC 4180
 * (paths containing commas or quotes).  Rows are kept in file order.
 */
#ifndef WFS_RECORD_H
#define WFS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct wfs_record_row {
	char *path;
	char *hash;   /* "" when absent */
	int64_t size; /* -1 when absent */
};

struct wfs_record {
	struct wfs_record_row *rows;
	size_t n;
};

/* Parse a RECORD buffer. err names `what` (a file name) and the line. */
int wfs_record_parse(const char *buf, size_t len, const char *what,
		     struct wfs_record *r, struct wfs_err *err);
/* The same, refusing a buffer of more than max_rows rows (a RECORD can
 * list no more files than its wheel holds: memory stays bounded by that). */
int wfs_record_parse_max(const char *buf, size_t len, const char *what,
			 size_t max_rows, struct wfs_record *r,
			 struct wfs_err *err);
void wfs_record_free(struct wfs_record *r);

/* Append one CSV row, quoting the path when it needs it. size<0: empty. */
int wfs_record_append(struct wfs_buf *out, const char *path, const char *hash,
		      int64_t size);

#endif
