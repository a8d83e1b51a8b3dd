/* digest.h — content digests.
 *
 * A blob is named by the XXH3-128 digest of its content, written as 32
 * lowercase hex characters in canonical (big-endian) byte order, the same
 * string `xxh128sum` prints.  RECORD files use sha256; struct wfs_hasher
 * computes both in a single pass so wheel data is read once.
 */
#ifndef WFS_DIGEST_H
#define WFS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define WFS_DIGEST_LEN 16
#define WFS_DIGEST_HEX (2 * WFS_DIGEST_LEN)

struct wfs_digest {
	uint8_t b[WFS_DIGEST_LEN];
};

/* hex must hold WFS_DIGEST_HEX + 1 bytes. */
void wfs_digest_hex(const struct wfs_digest *d, char *hex);
/* Parse exactly WFS_DIGEST_HEX lowercase hex characters; -EINVAL otherwise. */
int wfs_digest_parse(const char *hex, struct wfs_digest *d);
void wfs_digest_buf(const void *data, size_t len, struct wfs_digest *d);
int wfs_digest_equal(const struct wfs_digest *a, const struct wfs_digest *b);

/* XXH3-128 of a file's content, read from fd at offset 0. */
int wfs_digest_fd(int fd, struct wfs_digest *d, uint64_t *size);

/* Incremental XXH3-128 plus (optionally) sha256. */
struct wfs_hasher;
struct wfs_hasher *wfs_hasher_new(int want_sha256);
void wfs_hasher_reset(struct wfs_hasher *h);
void wfs_hasher_update(struct wfs_hasher *h, const void *data, size_t len);
/* sha256 may be NULL; it receives 32 bytes when the hasher was made with it. */
void wfs_hasher_final(struct wfs_hasher *h, struct wfs_digest *d,
		      uint8_t sha256[32]);
void wfs_hasher_free(struct wfs_hasher *h);

/* RECORD encodes sha256 as urlsafe base64 without padding (43 chars).
 * At most 64 input bytes.
 * out must hold 44 bytes. */
void wfs_b64url_nopad(const uint8_t *in, size_t len, char *out);

#endif
