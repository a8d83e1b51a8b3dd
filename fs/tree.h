/* tree.h — per-wheel manifests ("trees").
 *
 * A tree lists every entry of one wheel: path, type, mode, size, mtime, blob
 * digest and symlink target, sorted by path (bytewise), directories included.
 * It is stored in the cache as trees/<hex>.tree, where <hex> is the XXH3-128
 * of the file, so adding the same wheel twice yields the same tree.
 *
 * On-disk format, version 1 (all integers little-endian; wheelfs-tree(5)):
 *
 *   header  struct wfs_tree_hdr            64 bytes
 *   entries struct wfs_tree_ent[n_entries] 56 bytes each, sorted by path
 *   strtab  n_strtab bytes: NUL-terminated strings referenced by offset
 *
 * The loader reads the file once, checks the digest against the name, then
 * checks every offset, length and the sort order, so a loaded tree can be
 * used without further validation.  Entries are used in place.
 */
#ifndef WFS_TREE_H
#define WFS_TREE_H

#include <stdint.h>
#include <sys/stat.h>

#include "cache.h"
#include "digest.h"
#include "util.h"

#define WFS_TREE_MAGIC "WFSTREE\n"
#define WFS_TREE_VERSION 1

enum { WFS_TREE_PURELIB = 1 << 0 }; /* WHEEL: Root-Is-Purelib: true */

struct wfs_tree_hdr {
	char magic[8];	  /* WFS_TREE_MAGIC */
	uint32_t version; /* WFS_TREE_VERSION */
	uint32_t flags;	  /* WFS_TREE_* */
	uint32_t n_entries;
	uint32_t n_strtab; /* bytes of string table */
	uint32_t name_off; /* distribution name, as in the wheel file name */
	uint32_t version_off;
	uint32_t tags_off;     /* "[build-]py-abi-plat" */
	uint32_t distinfo_off; /* "<name>-<ver>.dist-info" directory */
	uint64_t total_size;   /* sum of regular file sizes */
	uint8_t reserved[16];
};

struct wfs_tree_ent {
	uint32_t path_off; /* strtab offset of the relative path */
	uint32_t path_len;
	uint32_t target_off; /* symlink target, 0 for others (strtab[0]=="") */
	uint32_t mode;	     /* S_IFREG|S_IFDIR|S_IFLNK plus 0755 or 0644 */
	uint32_t mtime_nsec;
	uint32_t reserved;
	int64_t mtime_sec;
	uint64_t size; /* file size; target length for symlinks */
	uint8_t digest[WFS_DIGEST_LEN]; /* regular files only, else zero */
};

_Static_assert(sizeof(struct wfs_tree_hdr) == 64, "tree header size");
_Static_assert(sizeof(struct wfs_tree_ent) == 56, "tree entry size");

/* A loaded tree: the file's bytes, with typed views into them. */
struct wfs_tree {
	void *data; /* owned */
	size_t size;
	const struct wfs_tree_hdr *hdr;
	const struct wfs_tree_ent *ents;
	const char *strtab;
	struct wfs_digest id; /* name in the cache */
};

static inline const char *wfs_tree_str(const struct wfs_tree *t, uint32_t off)
{
	return t->strtab + off;
}
static inline const char *wfs_tree_path(const struct wfs_tree *t,
					const struct wfs_tree_ent *e)
{
	return t->strtab + e->path_off;
}

/* Parse and validate a tree held in memory; takes ownership of data (freed
 * on failure too).  id is the expected digest, or NULL to skip that check. */
int wfs_tree_parse(void *data, size_t size, const struct wfs_digest *id,
		   struct wfs_tree *t, struct wfs_err *err);
/* The name of id's tree file in CACHE/trees: "<hex>.tree". */
#define WFS_TREE_NAME_MAX (WFS_DIGEST_HEX + 8)
void wfs_tree_name(const struct wfs_digest *id, char name[WFS_TREE_NAME_MAX]);
/* 1 when the cache has id's tree file, 0 when not, else -errno. */
int wfs_tree_exists(const struct wfs_cache *c, const struct wfs_digest *id);
/* Load trees/<hex>.tree from the cache. */
int wfs_tree_load(struct wfs_cache *c, const struct wfs_digest *id,
		  struct wfs_tree *t, struct wfs_err *err);
void wfs_tree_free(struct wfs_tree *t);

/* Binary search by path; NULL when absent. */
const struct wfs_tree_ent *wfs_tree_find(const struct wfs_tree *t,
					 const char *path);

/* Building a tree. Entries may be added in any order; parent directories
 * that were not added explicitly are created (0755, mtime of the child). */
struct wfs_tree_builder;
struct wfs_tree_builder *wfs_tree_builder_new(void);
void wfs_tree_builder_free(struct wfs_tree_builder *b);
/* path: relative, no leading or trailing '/'. target: symlinks only. */
int wfs_tree_builder_add(struct wfs_tree_builder *b, const char *path,
			 uint32_t mode, uint64_t size, int64_t mtime_sec,
			 uint32_t mtime_nsec, const struct wfs_digest *digest,
			 const char *target);
/* Serialize to a malloc'd buffer; -EEXIST names a duplicate path in err. */
int wfs_tree_builder_finish(struct wfs_tree_builder *b, const char *name,
			    const char *version, const char *tags,
			    const char *distinfo, uint32_t flags, void **out,
			    size_t *out_len, struct wfs_err *err);

/* Publish a serialized tree into the cache (syncs blobs first, writes the
 * tree durably and atomically). id receives the tree's name.  A tree file
 * of that name holding other bytes (damaged) is replaced (rename). */
int wfs_tree_store(struct wfs_cache *c, const void *data, size_t len,
		   struct wfs_digest *id);

/* Iterate the trees of a cache: calls fn for each valid tree name. */
int wfs_tree_list(struct wfs_cache *c,
		  int (*fn)(const struct wfs_digest *id, void *arg), void *arg);

#endif
