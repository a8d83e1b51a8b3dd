/* test_digest.c — blob naming: XXH3-128 hex, parsing, fan-out paths, b64. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "digest.h"

int main(void)
{
	struct wfs_digest d, e;
	char hex[WFS_DIGEST_HEX + 1], rel[64];

	/* Known vector: `printf '' | xxh128sum` and `printf 'abc' | xxh128sum`. */
	wfs_digest_buf("", 0, &d);
	wfs_digest_hex(&d, hex);
	CHECK(!strcmp(hex, "99aa06d3014798d86001c324468d497f"));
	wfs_digest_buf("abc", 3, &d);
	wfs_digest_hex(&d, hex);
	CHECK(!strcmp(hex, "06b05ab6733a618578af5f94892f3950"));

	CHECK(wfs_digest_parse(hex, &e) == 0);
	CHECK(wfs_digest_equal(&d, &e));
	CHECK(wfs_digest_parse("06B05AB6733A618578AF5F94892F3950", &e) ==
	      -EINVAL);
	CHECK(wfs_digest_parse("06b05ab6", &e) == -EINVAL);
	CHECK(wfs_digest_parse("06b05ab6733a618578af5f94892f3950a", &e) ==
	      -EINVAL);
	CHECK(wfs_digest_parse("g6b05ab6733a618578af5f94892f3950", &e) ==
	      -EINVAL);

	wfs_cache_blob_rel(&d, rel);
	CHECK(!strcmp(rel, "06/06b05ab6733a618578af5f94892f3950"));

	/* The streaming hasher agrees with the one-shot digest, and its
	 * sha256 agrees with a known vector. */
	struct wfs_hasher *h = wfs_hasher_new(1);
	uint8_t sha[32];
	char b64[48];
	CHECK(h != NULL);
	wfs_hasher_update(h, "a", 1);
	wfs_hasher_update(h, "bc", 2);
	wfs_hasher_final(h, &e, sha);
	CHECK(wfs_digest_equal(&d, &e));
	wfs_b64url_nopad(sha, 32, b64);
	/* python: base64.urlsafe_b64encode(sha256(b"abc")).rstrip(b"=") */
	CHECK(!strcmp(b64, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"));
	wfs_hasher_reset(h);
	wfs_hasher_final(h, &e, sha);
	wfs_digest_buf("", 0, &d);
	CHECK(wfs_digest_equal(&d, &e));
	wfs_hasher_free(h);

	/* wfs_digest_fd reads a file from offset 0 whatever its position. */
	char path[] = "/tmp/wfs-test-digest-XXXXXX";
	int fd = mkstemp(path);
	uint64_t size = 0;
	CHECK(fd >= 0);
	CHECK(write(fd, "abc", 3) == 3);
	CHECK(wfs_digest_fd(fd, &e, &size) == 0);
	wfs_digest_buf("abc", 3, &d);
	CHECK(wfs_digest_equal(&d, &e) && size == 3);
	close(fd);
	unlink(path);
	CHECK_DONE();
}
