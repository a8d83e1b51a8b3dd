#!/usr/bin/python3
"""fsdiff.py — the same random file system operations on two trees.

    fsdiff.py run  SEED COUNT A B   apply COUNT seeded operations to both
    fsdiff.py same A B              compare the two trees (exit 1 if not)
    fsdiff.py snap A FILE [PREV]    save A's snapshot (JSON) to FILE; "same"
                                    takes such a FILE in place of a tree.
                                    With PREV (an earlier snapshot), each
                                    of its paths that A no longer lists must
                                    not be found by a lookup either

A is a wheelfs mount's site-packages, B a native copy made before.  Each
operation (create, write, append, truncate, read, stat, listdir, unlink,
mkdir, rmdir, rename, renameat2 with RENAME_NOREPLACE or RENAME_EXCHANGE,
symlink, fallocate, mkfifo, overwrite, readlink, chmod,
utime, mmapwrite, heldread, user.* xattrs) runs on both, on the
same relative paths, and must end the same way: the same result, or the
same errno.  Files are opened O_NONBLOCK, so FIFOs never block.  One
difference is documented behaviour of the mount and is allowed: a hard link
fails with EXDEV; the operation is then skipped on B too.  "same" compares type, mode, size, content and link targets of every
entry, and the user.* xattrs of files and directories (not times, inode
numbers or directory link counts).
"""
import ctypes
import errno
import hashlib
import json
import mmap
import os
import random
import stat
import sys


NB = os.O_NONBLOCK  # a FIFO must not block an open
LIBC = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def outcome(fn, *args):
    try:
        r = fn(*args)
    except OSError as e:
        return ("errno", errno.errorcode.get(e.errno, e.errno))
    return ("ok", r)


def st_key(st):
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
            st.st_size if not stat.S_ISDIR(st.st_mode) else None)


class Tree:
    def __init__(self, root):
        self.root = root

    def p(self, rel):
        return os.path.join(self.root, rel) if rel else self.root

    # Each operation returns something comparable across the two trees.
    def create(self, rel, data):
        with open(self.p(rel), "xb") as f:
            f.write(data)

    def overwrite(self, rel, data):  # O_CREAT | O_TRUNC, follows links
        fd = os.open(self.p(rel),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NB, 0o644)
        try:
            return os.write(fd, data)
        finally:
            os.close(fd)

    def fallocate(self, rel, off, n):
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_NOFOLLOW | NB)
        try:
            os.posix_fallocate(fd, off, n)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def mkfifo(self, rel):
        os.mkfifo(self.p(rel), 0o600)

    def write(self, rel, off, data):
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_NOFOLLOW | NB)
        try:
            return os.pwrite(fd, data, off)
        finally:
            os.close(fd)

    def append(self, rel, data):
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | NB)
        try:
            return os.write(fd, data)
        finally:
            os.close(fd)

    def truncate(self, rel, n):
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_NOFOLLOW | NB)
        try:
            os.ftruncate(fd, n)
        finally:
            os.close(fd)

    def read(self, rel):
        fd = os.open(self.p(rel), os.O_RDONLY | NB)
        try:
            h = hashlib.sha256()
            while True:
                b = os.read(fd, 65536)
                if not b:
                    return h.hexdigest()
                h.update(b)
        finally:
            os.close(fd)

    def stat(self, rel):
        return st_key(os.lstat(self.p(rel)))

    def listdir(self, rel):
        return sorted(os.listdir(self.p(rel)))

    def unlink(self, rel):
        os.unlink(self.p(rel))

    def mkdir(self, rel):
        os.mkdir(self.p(rel), 0o755)

    def rmdir(self, rel):
        os.rmdir(self.p(rel))

    def rename(self, a, b):
        os.rename(self.p(a), self.p(b))

    def rename2(self, a, b, flags):  # renameat2(2): NOREPLACE, EXCHANGE
        if LIBC.renameat2(-100, os.fsencode(self.p(a)), -100,
                          os.fsencode(self.p(b)), flags) < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))

    def symlink(self, target, rel):
        os.symlink(target, self.p(rel))

    def readlink(self, rel):
        return os.readlink(self.p(rel))

    def chmod(self, rel, mode):
        os.chmod(self.p(rel), mode)  # follows: targets stay inside

    def utime(self, rel, ns):
        os.utime(self.p(rel), ns=(ns, ns), follow_symlinks=False)
        return os.lstat(self.p(rel)).st_mtime_ns

    def link(self, a, b):
        os.link(self.p(a), self.p(b), follow_symlinks=False)

    def mmapwrite(self, rel, off, data):  # a shared mapping, msync'd
        fd = os.open(self.p(rel), os.O_RDWR | os.O_NOFOLLOW | NB)
        try:
            size = os.fstat(fd).st_size
            if not size:
                return 0
            off %= size
            data = data[:size - off]
            with mmap.mmap(fd, size) as m:
                m[off:off + len(data)] = data
                m.flush()
            return len(data)
        finally:
            os.close(fd)

    def heldread(self, rel, off, data):
        """Read through a descriptor opened before another one wrote."""
        fd = os.open(self.p(rel), os.O_RDONLY | os.O_NOFOLLOW | NB)
        try:
            w = os.open(self.p(rel), os.O_WRONLY | os.O_NOFOLLOW | NB)
            try:
                os.pwrite(w, data, off)
            finally:
                os.close(w)
            return hashlib.sha256(os.pread(fd, 1 << 20, 0)).hexdigest()
        finally:
            os.close(fd)

    def setxattr(self, rel, name, value):
        os.setxattr(self.p(rel), name, value, follow_symlinks=False)

    def getxattr(self, rel, name):
        return os.getxattr(self.p(rel), name, follow_symlinks=False)

    def listxattr(self, rel):
        return user_xattrs(self.p(rel))

    def removexattr(self, rel, name):
        os.removexattr(self.p(rel), name, follow_symlinks=False)


def user_xattrs(p):
    """The user.* extended attributes of p, sorted."""
    return sorted(n for n in os.listxattr(p, follow_symlinks=False)
                  if n.startswith("user."))


def paths(root):
    out = [""]
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        rel = "" if rel == "." else rel
        for n in dirs + files:
            out.append(os.path.join(rel, n))
    return sorted(out)


def run(seed, count, a, b):
    rnd = random.Random(seed)
    A, B = Tree(a), Tree(b)
    names = ["n%d" % i for i in range(6)] + ["__init__.py", "x.py"]

    def existing():
        return rnd.choice(paths(b))

    def fresh():
        base = existing()
        if rnd.random() < 0.7 and os.path.isdir(B.p(base)) \
                and not os.path.islink(B.p(base)):
            return os.path.join(base, rnd.choice(names))
        return os.path.join(os.path.dirname(base), rnd.choice(names))

    def any_path():
        return existing() if rnd.random() < 0.6 else fresh()

    def a_file():  # mostly an existing regular file
        if rnd.random() < 0.8:
            files = [p for p in paths(b) if os.path.isfile(B.p(p))
                     and not os.path.islink(B.p(p))]
            if files:
                return rnd.choice(files)
        return any_path()

    def data():
        return rnd.randbytes(rnd.choice([0, 1, 7, 100, 4096, 5000]))

    allowed = 0
    done = {}
    for i in range(count):
        op = rnd.choice(["create", "write", "append", "truncate", "read",
                         "read", "stat", "stat", "listdir", "unlink",
                         "mkdir", "rmdir", "rename", "rename", "rename2",
                         "rename2", "symlink",
                         "readlink", "chmod", "utime", "link",
                         "overwrite", "mkfifo", "fallocate", "mmapwrite",
                         "heldread", "setxattr", "getxattr", "listxattr",
                         "removexattr"])
        if op == "create":
            args = (fresh(), data())
        elif op == "write":
            args = (a_file(), rnd.randrange(0, 6000), data())
        elif op in ("append", "overwrite"):
            args = (a_file(), data())
        elif op == "truncate":
            args = (a_file(), rnd.randrange(0, 6000))
        elif op == "fallocate":
            args = (a_file(), rnd.randrange(0, 6000), rnd.randrange(1, 9000))
        elif op == "read":
            args = (a_file(),)
        elif op in ("mmapwrite", "heldread"):
            args = (a_file(), rnd.randrange(0, 6000), data())
        elif op in ("setxattr", "getxattr", "removexattr"):
            args = (any_path(), rnd.choice(["user.a", "user.b"]))
            if op == "setxattr":
                args += (rnd.randbytes(rnd.choice([0, 3, 50])),)
        elif op in ("rename", "link"):
            args = (existing(), any_path())
        elif op == "rename2":
            args = (existing(), existing() if rnd.random() < 0.7
                    else any_path(),
                    rnd.choice([RENAME_NOREPLACE, RENAME_EXCHANGE]))
        elif op == "symlink":
            # relative targets without "..": inside the tree, or dangling
            args = (rnd.choice(["x.py", "n0/n2", "n1", "/nonexistent/x"]),
                    any_path())
        elif op == "chmod":
            args = (any_path(), rnd.choice([0o600, 0o644, 0o755, 0o700]))
        elif op == "utime":
            args = (any_path(), rnd.randrange(10**9, 2 * 10**9) * 10**9)
        else:
            args = (any_path(),)
        ra = outcome(getattr(A, op), *args)
        if ra == ("errno", "EXDEV") and op == "link":
            allowed += 1
            continue  # documented: not done on B either
        rb = outcome(getattr(B, op), *args)
        if ra != rb:
            sys.exit("op %d: %s%r: mount %r, native %r"
                     % (i, op, args[:2], ra, rb))
        if ra[0] == "ok":
            done[op] = done.get(op, 0) + 1
    print("%d operations, %d EXDEV (allowed); succeeded: %s" % (
        count, allowed, " ".join("%s %d" % kv for kv in sorted(done.items()))))


def snapshot(root):
    snap = {}
    for rel in paths(root):
        p = os.path.join(root, rel) if rel else root
        st = os.lstat(p)
        v = st_key(st)
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                v += (hashlib.sha256(f.read()).hexdigest(),)
        elif stat.S_ISLNK(st.st_mode):
            v += (os.readlink(p),)
        if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
            v += (" ".join("%s=%s" % (n, os.getxattr(p, n).hex())
                           for n in user_xattrs(p)),)
        snap[rel] = v
    return snap


def load(x):
    if os.path.isfile(x):
        with open(x) as f:
            return {k: tuple(v) for k, v in json.load(f).items()}
    return snapshot(x)


def same(a, b):
    sa, sb = load(a), load(b)
    bad = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))
    for k in bad[:10]:
        print("differs: %r: mount %r, native %r" % (k, sa.get(k), sb.get(k)))
    if bad:
        sys.exit("%d entries differ" % len(bad))
    print("%d entries the same" % len(sa))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif sys.argv[1] == "snap":
        snap = snapshot(sys.argv[2])
        for k in load(sys.argv[4]) if len(sys.argv) > 4 else ():
            if k not in snap and os.path.lexists(os.path.join(sys.argv[2], k)):
                sys.exit("%r: found by a lookup, not listed" % k)
        with open(sys.argv[3], "w") as f:
            json.dump(snap, f)
    elif sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
