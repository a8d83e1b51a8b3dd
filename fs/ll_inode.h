/* ll_inode.h — the inode table of a mount: one node per path the kernel
 * knows, over a lower layer (the composed view) and the upper directory.
 *
 * A node stands for a path of the merged tree.  It is named by its parent
 * node and its name, and found through a hash table keyed on both.  The
 * FUSE node id of a node is its address (the root is FUSE_ROOT_ID).  Its
 * st_ino is fixed when the node is made: the upper entry's inode number
 * when there is one (so renames keep it, and remounts find it again), else
 * the XXH3-64 of its path with the top bit set (stable across remounts
 * and reloads, and computable for a listing without making nodes), as for
 * an upper file linked to a cache blob (wfs_upper_shared).  A listing
 * gives every name the number a lookup of it gives.
 *
 * What a node shows:
 *   utype   the S_IFMT of the upper entry at its path, 0 when none; kept
 *           up to date by the operations that change the upper layer, and
 *           re-checked on reload;
 *   lower   the index of the visible lower entry at its path, or -1: the
 *           parent's lower entry is a visible directory, not opaque, has a
 *           child of that name, and the path is not whited out.
 * An upper entry shadows the lower one; an upper directory over a lower
 * directory merges with it unless it is opaque.
 *
 * Lifetime: nlookup counts the kernel's references, refs the child nodes
 * naming this one as parent, pins a reload's hold.  A node is freed when
 * all reach zero.
 * Unlinking or replacing a name detaches its node from the table: the
 * kernel may still hold it (open files), so it keeps an fd on the file and
 * serves attributes from it, or from a frozen copy for lower files, and a
 * symlink keeps its target.
 *
 * Files: ll_inode.c (table, nodes), ll_lower.c (lower layer), ll_fd.c
 * (content descriptors).
 *
 * Locking: everything here runs under fs->mu.  Descriptors handed out to
 * I/O are dup()s, so I/O runs unlocked and a reload may close the cached
 * descriptor at any time.
 */
#ifndef WFS_LL_INODE_H
#define WFS_LL_INODE_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cache.h"
#include "upper.h"
#include "view.h"

/* One generation of the lower layer: the composed view plus an index of
 * each directory's children. */
struct wfs_lower {
	struct wfs_view view;
	struct wfs_composed cv;
	uint32_t *kid_off;     /* kids of i: kids[kid_off[i] .. kid_off[i+1]) */
	uint32_t *kids;	       /* sorted by name within each directory */
	uint32_t *nsubdirs;    /* subdirectories among the kids */
	struct timespec mtime; /* of the view record: view-made directories */
};

/* Read TARGET/.wheelfs/view through upperfd and compose it (nothing below
 * the root when the view is pinned). */
int wfs_lower_load(int upperfd, const char *target, struct wfs_cache *c,
		   struct wfs_lower **out, struct wfs_err *err);
void wfs_lower_free(struct wfs_lower *l);
/* Child of directory entry dir by name; -1 when none. */
long wfs_lower_kid(const struct wfs_lower *l, uint32_t dir, const char *name);
int wfs_lower_isdir(const struct wfs_lower *l, uint32_t i);
/* Same type, mode, size, mtime, content and link target. */
int wfs_lower_same(const struct wfs_lower *a, uint32_t i,
		   const struct wfs_lower *b, uint32_t j);

struct wfs_dirsnap;

struct wfs_node {
	struct wfs_node *parent; /* NULL for the root and detached nodes */
	struct wfs_node *hnext;	 /* hash chain */
	struct wfs_node *lru_prev, *lru_next; /* nodes holding an fd */
	char *name;
	uint64_t hash; /* of (parent, name) */
	uint64_t ino;  /* st_ino */
	uint64_t gen;
	uint64_t nlookup;
	uint64_t refs;
	uint32_t pins; /* held by a reload pass */
	int64_t lower;
	mode_t utype;
	int fd;	     /* cached descriptor, -1 */
	int fd_kind; /* WFS_FD_* */
	unsigned opaque : 1, detached : 1, eio : 1;
	unsigned priv : 1;    /* upper file known to have one link */
	struct stat *frozen;  /* detached lower-only node's attributes */
	char *link;	      /* detached symlink's target */
	struct timespec bump; /* directory mtime after a reload changed it */
	uint64_t dver;	      /* bumped when the listing changes */
	struct wfs_dirsnap *snap; /* readdir snapshot (ll_dir.c) */
	uint64_t stamp;		  /* reload pass that revalidated it */
};

enum { WFS_FD_NONE, WFS_FD_BLOB, WFS_FD_UPPER_RO, WFS_FD_UPPER_RW };

struct wfs_fs {
	pthread_mutex_t mu;
	struct fuse_session *se;
	struct wfs_cache *cache; /* not owned */
	int upperfd;		 /* TARGET's underlying directory (owned) */
	char *target;		 /* absolute path (owned) */
	struct wfs_lower *lower;
	struct wfs_whiteouts wo;
	struct wfs_node *root;
	struct wfs_node **tab;
	size_t cap, nnodes;
	uint64_t gen, dver, stamp;
	struct wfs_node *lru_head, *lru_tail;
	size_t nfds, maxfds;
	uid_t uid; /* owner shown for lower entries */
	gid_t gid;
	int privileged; /* euid 0: chown what callers create */
	double timeout; /* entry, attr and negative timeouts */
	int readonly;
	int readdirplus; /* 0 no, 1 auto, 2 always */
	int logfd;	 /* -1: syslog only */
	int use_syslog;
	int no_open, no_opendir;  /* the kernel stops sending OPEN/OPENDIR */
	int inited;		  /* INIT answered: notifications work */
	void (*ready)(void *arg); /* called once INIT is answered */
	void *ready_arg;
};

/* Set up fs over an open upper directory and a loaded lower layer (both
 * taken over).  Loads the whiteouts. */
int wfs_fs_init(struct wfs_fs *fs, int upperfd, const char *target,
		struct wfs_cache *cache, struct wfs_lower *lower,
		struct wfs_err *err);
void wfs_fs_destroy(struct wfs_fs *fs);
/* One line to the log (stderr / log file / syslog). */
void wfs_fs_log(struct wfs_fs *fs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The node for a FUSE node id. */
static inline struct wfs_node *wfs_node_of(struct wfs_fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? fs->root
				   : (struct wfs_node *)(uintptr_t)ino;
}
static inline fuse_ino_t wfs_node_id(struct wfs_fs *fs, struct wfs_node *n)
{
	return n == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* 1 when name in dir is the state directory (or a temp name): it does not
 * exist inside the mount. */
int wfs_node_reserved(struct wfs_fs *fs, struct wfs_node *dir,
		      const char *name);
/* The node's path relative to TARGET ("" for the root); length or
 * -ENAMETOOLONG. child, when non-NULL, is appended as a last component. */
int wfs_node_path(const struct wfs_node *n, const char *child, char *buf,
		  size_t len);
/* The attached child of dir called name, or NULL. */
struct wfs_node *wfs_node_find(struct wfs_fs *fs, struct wfs_node *dir,
			       const char *name);
/* The visible lower entry of dir/name (path is its path); -1 when none. */
long wfs_node_lower_child(struct wfs_fs *fs, struct wfs_node *dir,
			  const char *name, const char *path);
/* Resolve dir/name to a node, creating it (nlookup 0) when it exists in
 * either layer.  st, when non-NULL, receives its attributes.  -ENOENT when
 * it exists in neither.  pfd: an open upper dirfd of dir, or -1. */
int wfs_node_resolve(struct wfs_fs *fs, struct wfs_node *dir, const char *name,
		     int pfd, struct wfs_node **out, struct stat *st);
/* Free n (and parents that become unreferenced) if nothing holds it. */
void wfs_node_put(struct wfs_fs *fs, struct wfs_node *n);
void wfs_node_forget(struct wfs_fs *fs, struct wfs_node *n, uint64_t count);
/* Remove n from the table: its name is gone.  An upper regular file keeps
 * an open descriptor so open files keep working. */
void wfs_node_detach(struct wfs_fs *fs, struct wfs_node *n);
/* Rename n to dir/name in the table. */
int wfs_node_move(struct wfs_fs *fs, struct wfs_node *n, struct wfs_node *dir,
		  const char *name);
/* Attributes as the mount shows them. */
int wfs_node_stat(struct wfs_fs *fs, struct wfs_node *n, struct stat *st);
/* The target of symlink n into buf (len > PATH_MAX); -EINVAL when n is no
 * symlink. */
int wfs_node_readlink(struct wfs_fs *fs, struct wfs_node *n, char *buf,
		      size_t len);
/* Attributes of lower entry i. */
void wfs_lower_stat(struct wfs_fs *fs, uint32_t i, struct stat *st);
/* Open the parent's upper directory of n (O_PATH); sets *name to n's
 * name. -ENOENT when n is detached. */
int wfs_node_upper_parent(struct wfs_fs *fs, struct wfs_node *n,
			  const char **name);
/* Open n's own upper directory (O_PATH). */
int wfs_node_upper_dir(struct wfs_fs *fs, struct wfs_node *n);
/* A dup of a descriptor for n's content: its upper file when it has one
 * (writable when want_write, which needs the upper file), else its blob.
 * Missing or mis-sized blobs give -EIO and a log line, once per node. */
int wfs_node_dupfd(struct wfs_fs *fs, struct wfs_node *n, int want_write);
/* Give n an open descriptor of its content (taken over). */
void wfs_node_adopt_fd(struct wfs_fs *fs, struct wfs_node *n, int fd, int kind);
/* Take n's descriptor out of the LRU: it stays until n is freed. */
void wfs_node_keepfd(struct wfs_fs *fs, struct wfs_node *n);
/* Drop n's cached descriptor. */
void wfs_node_closefd(struct wfs_fs *fs, struct wfs_node *n);
/* Note that dir's listing changed (readdir snapshots). */
void wfs_node_dir_changed(struct wfs_fs *fs, struct wfs_node *dir);
/* Call fn on every attached node (no ordering). */
void wfs_node_each(struct wfs_fs *fs,
		   void (*fn)(struct wfs_fs *fs, struct wfs_node *n, void *arg),
		   void *arg);
/* Free a readdir snapshot (ll_dir.c). */
void wfs_dirsnap_free(struct wfs_dirsnap *s);
/* st_ino of a lower entry: XXH3-64 of its path, top bit set. */
#define WFS_INO_HASHED (1ULL << 63)
uint64_t wfs_path_ino(const char *path, size_t len);
/* st_ino of an upper entry (its own inode number, top bit clear). */
uint64_t wfs_upper_ino(ino_t ino);
/* An upper file with more links is a cache blob's (pin --mode hardlink),
 * shared by every name with that content and replaced by a private copy at
 * the first write: its number is no name's, so it shows its path's hash
 * (lookup and listings both go by this). */
int wfs_upper_shared(const struct stat *st);

#endif
