/* check.h — a minimal assertion helper for the C unit tests. */
#ifndef WFS_CHECK_H
#define WFS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int wfs_check_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			wfs_check_failures++;                                  \
		}                                                              \
	} while (0)

#define CHECK_DONE()                                            \
	do {                                                    \
		if (wfs_check_failures) {                       \
			fprintf(stderr, "%d check(s) failed\n", \
				wfs_check_failures);            \
			return 1;                               \
		}                                               \
		printf("ok\n");                                 \
		return 0;                                       \
	} while (0)

#endif
