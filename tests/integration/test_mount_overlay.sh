#!/bin/bash
# Overlay semantics of a mount: copy-up on write, chmod, truncate, utimes
# and setxattr; the group of names made in a set-group-ID directory;
# rename (replacing, RENAME_NOREPLACE, RENAME_EXCHANGE of files and
# directories, directories with lower content, there and back); unlink and rmdir
# of lower entries (whiteouts, merged emptiness), opaque directories;
# symlink, mknod (files and FIFOs; no devices), link; open files
# surviving unlink (and a deleted lower file writable through its
# descriptor); the cache is never written (blobs keep their content
# and mode 0444); everything survives a remount.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
whl=$(mkwheel --out "$W" --name ovl --version 1.0 \
	--file ovl/__init__.py='X = 1' \
	--file ovl/data.txt=$'line one\nline two\n' \
	--file ovl/sub/a.py='A = 1' \
	--file ovl/sub/b.py='B = 1' \
	--file ovl/gone/x.py='x' --file ovl/gone/deep/y.py='y' \
	--file ovl/keep/k.py='k' --file ovl/held.txt='held' \
	--file ovl/xdir/e.py='E = 1' --file ovl/ydir/f.py='F = 1' \
	--file ovl/tool.sh='#!/bin/sh' --exec ovl/tool.sh \
	--symlink ovl/link=data.txt)
mkvenv "$V"
vinstall "$C" "$V" "$whl"
S=$(site_of "$V")
unpack_wheel "$whl" "$T/unpacked"
blob=$(blob_of "$T/unpacked/ovl/data.txt" "$C")
[[ -f $blob ]] || fail "no blob for data.txt"
blob_hash=$(xxh "$blob")
tree_snapshot "$C" >"$T/cache.before"

mnt "$V"
"$PY" - "$S/ovl" <<'EOF' || fail "overlay operations (above)"
import ctypes, errno, os, stat, sys
d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
def renameat2(a, b, flags):
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    return 0 if r == 0 else ctypes.get_errno()
def expect_err(code, fn, *a):
    try:
        fn(*a)
    except OSError as e:
        assert e.errno == code, (fn, a, e)
        return
    raise AssertionError(f"{fn.__name__}{a} succeeded, expected {errno.errorcode[code]}")
p = lambda *x: os.path.join(d, *x)

# a write copies up; the tree's mode is kept
st0 = os.stat(p("data.txt"))
with open(p("data.txt"), "a") as f:
    f.write("line three\n")
assert open(p("data.txt")).read() == "line one\nline two\nline three\n"
st1 = os.stat(p("data.txt"))
assert stat.S_IMODE(st1.st_mode) == stat.S_IMODE(st0.st_mode), (oct(st1.st_mode))
assert st1.st_ino == st0.st_ino, "inode number changed by copy-up"
# chmod, utime, chown of lower files
os.chmod(p("__init__.py"), 0o600)
assert stat.S_IMODE(os.stat(p("__init__.py")).st_mode) == 0o600
assert open(p("__init__.py")).read() == "X = 1"
os.utime(p("tool.sh"), (1000000000, 1000000000))
assert os.stat(p("tool.sh")).st_mtime == 1000000000
assert os.access(p("tool.sh"), os.X_OK)
if os.geteuid() == 0:
    os.chown(p("keep", "k.py"), 1234, 4321)
    st = os.stat(p("keep", "k.py"))
    assert (st.st_uid, st.st_gid) == (1234, 4321), st
# O_TRUNC on a lower file (the shell's "> file")
with open(p("sub", "b.py"), "w") as f:
    pass
assert os.stat(p("sub", "b.py")).st_size == 0
# truncate(2) to a size
os.truncate(p("sub", "a.py"), 1)
assert open(p("sub", "a.py")).read() == "A"
# write into the middle of a lower file without copying it first
with open(p("ovl_new.txt") if False else p("__init__.py"), "r+") as f:
    f.seek(4); f.write("2")
assert open(p("__init__.py")).read() == "X = 2"

# temp + rename over an existing lower file (how Python writes .pyc)
with open(p("sub", "a.py.tmp"), "w") as f:
    f.write("A = 2\n")
os.replace(p("sub", "a.py.tmp"), p("sub", "a.py"))
assert open(p("sub", "a.py")).read() == "A = 2\n"
assert "a.py.tmp" not in os.listdir(p("sub"))
# RENAME_NOREPLACE (1) / RENAME_EXCHANGE (2)
open(p("n1"), "w").close()
assert renameat2(p("n1"), p("data.txt"), 1) == errno.EEXIST
assert renameat2(p("n1"), p("keep", "k.py"), 1) == errno.EEXIST  # lower name
assert renameat2(p("n1"), p("n2"), 1) == 0
# an upper file and a lower one swap, and back
assert renameat2(p("n2"), p("data.txt"), 2) == 0
assert open(p("n2")).read().startswith("line one")
assert open(p("data.txt")).read() == ""
assert renameat2(p("n2"), p("data.txt"), 2) == 0
assert open(p("data.txt")).read().startswith("line one")
# two directories with lower content: each shows the other's content only
assert renameat2(p("xdir"), p("ydir"), 2) == 0
assert os.listdir(p("xdir")) == ["f.py"] and os.listdir(p("ydir")) == ["e.py"]
assert open(p("ydir", "e.py")).read() == "E = 1"
# a directory and a file
assert renameat2(p("xdir"), p("n2"), 2) == 0
assert os.listdir(p("n2")) == ["f.py"] and os.path.isfile(p("xdir"))
assert renameat2(p("ydir"), p("nowhere"), 2) == errno.ENOENT
# a lower file renamed away: the old name disappears
os.rename(p("keep", "k.py"), p("k2.py"))
assert not os.path.exists(p("keep", "k.py")) and open(p("k2.py")).read() == "k"
assert os.listdir(p("keep")) == []
# a set-group-ID directory gives what is made in it its group, and
# directories made in it the bit, as a native directory does
if os.geteuid() == 0:
    os.chown(p("keep"), -1, 4321)
    os.chmod(p("keep"), 0o2775)
    open(p("keep", "g.txt"), "w").close()
    os.mkdir(p("keep", "gd"))
    os.symlink("g.txt", p("keep", "gl"))
    os.mkfifo(p("keep", "gf"))
    for n in ("g.txt", "gd", "gl", "gf"):
        assert os.lstat(p("keep", n)).st_gid == 4321, (n, os.lstat(p("keep", n)))
    assert os.stat(p("keep", "gd")).st_mode & stat.S_ISGID
    for n in ("g.txt", "gd", "gl", "gf"):
        (os.rmdir if n == "gd" else os.unlink)(p("keep", n))
# a directory with lower content moves (its content copied up first),
# and back over the whiteout its move left
tree = lambda d: sorted((os.path.relpath(r, d), sorted(ds), sorted(fs))
                        for r, ds, fs in os.walk(d))
before = tree(p("gone"))
os.rename(p("gone"), p("gone2"))
assert not os.path.exists(p("gone")) and "gone" not in os.listdir(p())
assert tree(p("gone2")) == before, tree(p("gone2"))
assert open(p("gone2", "deep", "y.py")).read() == "y"
os.rename(p("gone2"), p("gone"))
assert tree(p("gone")) == before and not os.path.exists(p("gone2"))
# an upper-only directory can
os.mkdir(p("newdir")); open(p("newdir", "f"), "w").close()
os.rename(p("newdir"), p("newdir2"))
assert os.listdir(p("newdir2")) == ["f"]

# unlink and rmdir of lower entries, merged emptiness
os.unlink(p("sub", "b.py"))
assert sorted(os.listdir(p("sub"))) == ["a.py"], os.listdir(p("sub"))
expect_err(errno.ENOENT, os.stat, p("sub", "b.py"))
expect_err(errno.ENOTEMPTY, os.rmdir, p("gone"))
expect_err(errno.ENOTEMPTY, os.rmdir, p("gone", "deep"))
os.unlink(p("gone", "deep", "y.py"))
os.rmdir(p("gone", "deep"))
os.unlink(p("gone", "x.py"))
os.rmdir(p("gone"))
assert "gone" not in os.listdir(d)
expect_err(errno.ENOENT, os.stat, p("gone", "x.py"))
# a directory made where a lower one was removed is opaque
os.mkdir(p("gone"))
assert os.listdir(p("gone")) == []
expect_err(errno.ENOENT, os.stat, p("gone", "x.py"))
# a file made where a lower one was removed
with open(p("sub", "b.py"), "x") as f:
    f.write("B = 3")
assert open(p("sub", "b.py")).read() == "B = 3"
# O_EXCL on a lower name
expect_err(errno.EEXIST, open, p("data.txt"), "x")
expect_err(errno.EISDIR, os.unlink, p("sub"))
expect_err(errno.ENOTDIR, os.rmdir, p("data.txt"))

# symlinks, mknod, link
assert os.readlink(p("link")) == "data.txt"
assert open(p("link")).read().startswith("line one")
os.symlink("sub/a.py", p("mylink"))
assert os.readlink(p("mylink")) == "sub/a.py" and open(p("mylink")).read() == "A = 2\n"
os.mknod(p("plain"), 0o640 | stat.S_IFREG)
assert stat.S_ISREG(os.stat(p("plain")).st_mode)
os.mkfifo(p("fifo"), 0o600)
assert stat.S_ISFIFO(os.stat(p("fifo")).st_mode)
pid = os.fork()
if pid == 0:
    with open(p("fifo"), "w") as w:
        w.write("through the fifo")
    os._exit(0)
with open(p("fifo")) as r:
    assert r.read() == "through the fifo"
assert os.waitpid(pid, 0)[1] == 0
os.unlink(p("fifo"))
expect_err(errno.EPERM, os.mknod, p("dev"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
expect_err(errno.EXDEV, os.link, p("plain"), p("plain2"))

# xattrs: lower files have none; setting one copies up
try:
    os.setxattr(p("plain"), "user.wfs", b"v1")
    xattr = True
except OSError as e:
    xattr = e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP)
    assert not xattr, e
if xattr:
    assert os.getxattr(p("plain"), "user.wfs") == b"v1"
    assert "user.wfs" in os.listxattr(p("plain"))
    expect_err(errno.ENODATA, os.getxattr, p("tool.sh"), "user.wfs")
    os.setxattr(p("sub", "a.py"), "user.x", b"1")
    os.removexattr(p("plain"), "user.wfs")
    expect_err(errno.ENODATA, os.getxattr, p("plain"), "user.wfs")
assert os.listxattr(p("link"), follow_symlinks=False) == [] or True

# open files survive unlink (upper and lower)
f1 = open(p("sub", "a.py")); os.unlink(p("sub", "a.py"))
assert f1.read() == "A = 2\n"; f1.close()
f2 = open(p("tool.sh")); os.unlink(p("tool.sh"))
assert f2.read() == "#!/bin/sh"; f2.close()
# ...and a lower file open for writing stays writable once deleted (its
# own copy: the cache is not written, checked below)
fd = os.open(p("held.txt"), os.O_RDWR)
os.unlink(p("held.txt"))
assert os.pwrite(fd, b"HE", 0) == 2
assert os.pread(fd, 100, 0) == b"HEld"
os.ftruncate(fd, 2)
assert os.fstat(fd).st_size == 2 and os.pread(fd, 100, 0) == b"HE"
os.close(fd)
assert not os.path.exists(p("held.txt"))
# a new file, written and read back through its handle
with open(p("fresh.bin"), "w+b") as f:
    f.write(b"x" * 100000); f.seek(0); assert f.read() == b"x" * 100000
    os.fsync(f.fileno())
assert os.stat(p("fresh.bin")).st_size == 100000
os.statvfs(d)
print("overlay operations ok")
EOF
# the cache is untouched
[[ $(xxh "$blob") == "$blob_hash" ]] || fail "the blob of data.txt changed"
[[ $(stat -c %a "$blob") == 444 ]] || fail "the blob's mode changed: $(stat -c %a "$blob")"
tree_snapshot "$C" >"$T/cache.after"
diff "$T/cache.before" "$T/cache.after" || fail "the cache changed"

snap() {
	(cd "$S/ovl" && find . -printf '%p %y %m %s\n' | LC_ALL=C sort)
	cat "$S/ovl/data.txt" "$S/ovl/sub/b.py"
}
snap >"$T/mounted"
umnt "$V"
[[ -f $V/lib/.wheelfs/whiteouts ]] || fail "no whiteout store in the upper layer"
grep -q "^w python$PYXY/site-packages/ovl/sub/a.py$" "$V/lib/.wheelfs/whiteouts" ||
	fail "no whiteout recorded for sub/a.py: $(cat "$V/lib/.wheelfs/whiteouts")"
[[ -f $S/ovl/data.txt && ! -e $S/ovl/link ]] || fail "upper layer content unexpected"
mnt "$V"
snap >"$T/remounted"
diff "$T/mounted" "$T/remounted" || fail "the tree differs after a remount"
umnt "$V"
echo ok
