#!/bin/bash
# Importing from a mounted view: pip's bundled wheel, a pure wheel and a C
# extension compiled now.  The first import writes .pyc files into the
# upper layer; the second reuses them (same inode, same mtime); they
# survive a remount and are still reused.  The state directory is invisible
# inside the mount, and attributes come from the trees.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ -n $PIP_WHL ]] || skip "no pip wheel"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
pure=$(pure_wheel "$W" hello 1.0)
cext=$(cext_wheel "$W" fastmath)
mkvenv "$V"
vinstall "$C" "$V" "$PIP_WHL" "$pure" "$cext"
S=$(site_of "$V")

mnt "$V"
# Readiness: the mount serves as soon as `wheelfs mount` returns.
run_ok vpy "$V" -c '
import hello, hello.util, fastmath, pip
assert hello.NAME == "hello" and hello.util.twice(21) == 42
assert fastmath.add(40, 2) == 42
print(pip.__version__, fastmath.__file__)'
echo "imported: $(cat "$LAST_OUT")"

# pyc written on first import, into the upper layer (seen through the mount)
pyc=$S/hello/__pycache__/__init__.cpython-${PYXY/./}.pyc
[[ -f $pyc ]] || fail "no $pyc after the first import"
before=$(stat -c '%i %Y.%y' "$pyc")
run_ok vpy "$V" -c 'import hello, pip._internal.cli.main'
after=$(stat -c '%i %Y.%y' "$pyc")
[[ $before == "$after" ]] || fail "pyc rewritten by the second import: $before -> $after"
# Python agrees the pyc is valid (no "code object from" the source)
vpy "$V" -v -c 'import hello' >"$T/v.log" 2>&1
grep -q "matches $S/hello/__init__.py" "$T/v.log" || fail "python does not use $pyc"

# .wheelfs is invisible inside the mount
ls -a "$V/lib" >"$T/root.ls"
! grep -q '^\.wheelfs$' "$T/root.ls" || fail ".wheelfs is listed at the mount root"
[[ ! -e $V/lib/.wheelfs ]] || fail ".wheelfs visible inside the mount"
! cat "$V/lib/.wheelfs/view" 2>/dev/null || fail "view record readable inside the mount"
! mkdir "$V/lib/.wheelfs" 2>/dev/null || fail "mkdir .wheelfs succeeded inside the mount"

# attributes: from the tree (mode, size, mtime of the wheel), owner of lib/
"$PY" - "$S" "$V/lib" "$W/hello-1.0-py3-none-any.whl" <<'EOF' || fail "attributes differ from the wheel"
import os, stat, sys, zipfile, time
site, lib, whl = sys.argv[1:]
libst = os.stat(lib)
with zipfile.ZipFile(whl) as zf:
    for info in zf.infolist():
        if info.filename.endswith("/RECORD") or info.is_dir():
            continue
        st = os.stat(os.path.join(site, info.filename))
        assert st.st_size == info.file_size, (info.filename, st.st_size)
        assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID)
        assert st.st_uid == libst.st_uid and st.st_gid == libst.st_gid
        assert st.st_blocks * 512 >= st.st_size
        assert st.st_nlink == 1
print("attributes ok")
EOF
# stable inode numbers: the same path gives the same st_ino
i1=$(stat -c %i "$S/hello/util.py")
i2=$(ls -i "$S/hello" | awk '$2 == "util.py" { print $1 }')
[[ $i1 == "$i2" ]] || fail "stat ino $i1 != readdir ino $i2"

mtime1=$(stat -c %Y "$S/hello/util.py")
umnt "$V"
# the pyc lives in the underlying directory
[[ -f $pyc ]] || fail "$pyc is not in the upper layer after unmount"
[[ ! -e $S/hello/__init__.py ]] || fail "lower file leaked into the upper layer"
mnt "$V"
[[ $(stat -c %Y "$S/hello/util.py") == "$mtime1" ]] || fail "mtime changed across remount"
[[ $(stat -c %i "$S/hello/util.py") == "$i1" ]] || fail "inode number changed across remount"
run_ok vpy "$V" -c 'import hello, fastmath; assert fastmath.add(1, 2) == 3'
after2=$(stat -c '%i %Y.%y' "$pyc")
[[ $before == "$after2" ]] || fail "pyc rewritten after remount: $before -> $after2"
umnt "$V"
[[ ! -s $MOUNT_LOG ]] || { cat "$MOUNT_LOG"; fail "the daemon logged something"; }
echo ok
