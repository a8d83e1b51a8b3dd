/* digest.c — XXH3-128 naming and the one-pass XXH3-128 + sha256 hasher. */
#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "util.h"

static void digest_from_hash(XXH128_hash_t h, struct wfs_digest *d)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	memcpy(d->b, c.digest, WFS_DIGEST_LEN);
}

void wfs_digest_hex(const struct wfs_digest *d, char *hex)
{
	static const char xd[] = "0123456789abcdef";

	for (int i = 0; i < WFS_DIGEST_LEN; i++) {
		hex[2 * i] = xd[d->b[i] >> 4];
		hex[2 * i + 1] = xd[d->b[i] & 15];
	}
	hex[WFS_DIGEST_HEX] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int wfs_digest_parse(const char *hex, struct wfs_digest *d)
{
	for (int i = 0; i < WFS_DIGEST_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo;
		if (hi < 0)
			return -EINVAL;
		lo = hexval(hex[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		d->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[WFS_DIGEST_HEX] == '\0' ? 0 : -EINVAL;
}

void wfs_digest_buf(const void *data, size_t len, struct wfs_digest *d)
{
	digest_from_hash(XXH3_128bits(data, len), d);
}

int wfs_digest_equal(const struct wfs_digest *a, const struct wfs_digest *b)
{
	return memcmp(a->b, b->b, WFS_DIGEST_LEN) == 0;
}

int wfs_digest_fd(int fd, struct wfs_digest *d, uint64_t *size)
{
	XXH3_state_t *st = XXH3_createState();
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	uint64_t total = 0;
	int rc = 0;

	if (!st || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	XXH3_128bits_reset(st);
	for (;;) {
		ssize_t n = wfs_pread_full(fd, buf, cap, (off_t)total);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	digest_from_hash(XXH3_128bits_digest(st), d);
	if (size)
		*size = total;
out:
	free(buf);
	XXH3_freeState(st);
	return rc;
}

struct wfs_hasher {
	XXH3_state_t *xxh;
	EVP_MD_CTX *sha; /* NULL when sha256 was not requested */
};

struct wfs_hasher *wfs_hasher_new(int want_sha256)
{
	struct wfs_hasher *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->xxh = XXH3_createState();
	if (want_sha256)
		h->sha = EVP_MD_CTX_new();
	if (!h->xxh || (want_sha256 && !h->sha)) {
		wfs_hasher_free(h);
		return NULL;
	}
	wfs_hasher_reset(h);
	return h;
}

void wfs_hasher_reset(struct wfs_hasher *h)
{
	XXH3_128bits_reset(h->xxh);
	if (h->sha)
		EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL);
}

void wfs_hasher_update(struct wfs_hasher *h, const void *data, size_t len)
{
	XXH3_128bits_update(h->xxh, data, len);
	if (h->sha)
		EVP_DigestUpdate(h->sha, data, len);
}

void wfs_hasher_final(struct wfs_hasher *h, struct wfs_digest *d,
		      uint8_t sha256[32])
{
	digest_from_hash(XXH3_128bits_digest(h->xxh), d);
	if (h->sha) {
		uint8_t tmp[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		EVP_DigestFinal_ex(h->sha, tmp, &n);
		if (sha256)
			memcpy(sha256, tmp, 32);
	}
}

void wfs_hasher_free(struct wfs_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->xxh);
	EVP_MD_CTX_free(h->sha);
	free(h);
}

void wfs_b64url_nopad(const uint8_t *in, size_t len, char *out)
{
	/* out holds 44 bytes for a sha256; EVP_EncodeBlock pads to 4n chars. */
	unsigned char tmp[4 * ((64 + 2) / 3) + 1];
	int n;

	if (len > 64)
		len = 64;
	n = EVP_EncodeBlock(tmp, in, (int)len);
	while (n > 0 && tmp[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = tmp[i] == '+'	 ? '-'
			 : tmp[i] == '/' ? '_'
					 : (char)tmp[i];
	out[n] = '\0';
}
