#!/bin/bash
# test_uninstall_dirs.sh — uninstall removes the directories that removing
# a distribution's files left empty, as pip does, and no other.
#
# Outside site-packages the result is compared with pip's: the same wheel
# (data files in etc/, share/x/y/, share/d2/ with an empty directory a user
# made, share/demo-pkg/ holding a user's file; headers) is installed and
# uninstalled by pip in venv A and by wheelfs in venv B, and both venvs
# keep the same directories (pip removes each recorded file's directory,
# with the empty directories below it, when nothing else is left there).
# In site-packages, empty upper directories that a mount left behind (a
# chmod or utime of a lower directory, a file created and deleted in it,
# an empty directory made in it) go too, so the package is no longer
# importable as a namespace package, with the venv mounted or not; a
# directory another distribution still ships, or one holding a user's
# file, stays.  Replacing a version removes the upper traces of
# directories the new version no longer has.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"
source "$WFS_LIB_DIR/mount_lib.sh"

W=$T/w
whl=$(mkwheel --out "$W" --name dd --version 1.0 \
	--file dd/__init__.py=x \
	--data-file headers/dd.h=h --data-file headers/sub/dd2.h=h2 \
	--data-file data/etc/dd.conf=c \
	--data-file data/share/x/y/z.txt=z \
	--data-file data/share/d2/f.txt=f \
	--data-file data/share/demo-pkg/readme.txt=r)
A=$T/pip/venv B=$T/wfs/venv
mkdir -p "$T/pip" "$T/wfs"
dirs() {
	(cd "$1" && find . -path ./lib -prune -o -type d -print | sort)
}
mkvenv "$A"
pip_install "$A" --no-compile "$whl"
mkvenv "$B"
run_ok "$WHEELFS" install -q --cache "$T/cache" "$B" "$whl"
for v in "$A" "$B"; do
	mkdir "$v/share/d2/emptysub"
	echo mine >"$v/share/demo-pkg/user.txt"
done
pip_run "$A" uninstall -q -y dd || fail "pip uninstall failed"
run_ok "$WHEELFS" uninstall -q "$B" dd
diff <(dirs "$A") <(dirs "$B") >&2 || fail "pip's and wheelfs's venvs keep different directories (above)"
[[ ! -e $B/etc && ! -e $B/share/d2 && -f $B/share/demo-pkg/user.txt ]] ||
	fail "etc/ or share/d2/ left, or share/demo-pkg/user.txt removed"

# In site-packages, through a mount.
V=$T/venv
mkvenv "$V"
S=$(site_of "$V")
h1=$(mkwheel --out "$W" --name hello --version 1.0 \
	--file hello/__init__.py='V = 1' --file hello/sub/m.py='M = 1' \
	--file hello/old/o.py='O = 1')
h2=$(mkwheel --out "$W/2" --name hello --version 2.0 \
	--file hello/__init__.py='V = 2' --file hello/sub/m.py='M = 2')
nsa=$(mkwheel --out "$W" --name nsa --version 1.0 --file ns/a/__init__.py='A = 1')
nsb=$(mkwheel --out "$W" --name nsb --version 1.0 --file ns/b/__init__.py='B = 1')
keep=$(mkwheel --out "$W" --name keepme --version 1.0 --file keepme/__init__.py='K = 1')
run_ok "$WHEELFS" install -q --cache "$T/cache" "$V" "$h1" "$nsa" "$nsb" "$keep"
mnt "$V"
# -B: no __pycache__, whose removal would empty the directories anyway.
vpy "$V" -B -c 'import hello.sub.m, hello.old.o, ns.a, ns.b, keepme' || fail "imports failed"
chmod 0700 "$S/hello/sub"
touch -d @1000000000 "$S/hello/old" "$S/hello"
: >"$S/hello/tmpfile" && rm "$S/hello/tmpfile"
mkdir "$S/hello/newdir"
chmod 0711 "$S/ns"
echo mine >"$S/keepme/user.txt"
umnt "$V"
[[ -d $S/hello/sub && -d $S/hello/old && -d $S/hello/newdir && -d $S/ns ]] ||
	fail "the mount made no upper directories (the test is void)"

# Replacing 1.0 by 2.0 removes the upper hello/old/, which 2.0 lacks, and
# hello/sub/, which pip would have removed before installing 2.0's.
run_ok "$WHEELFS" install -q --cache "$T/cache" "$V" "$h2"
[[ ! -e $S/hello ]] || fail "replacing left upper directories: $(find "$S/hello")"
[[ $(stat -c %a "$S/ns") == 711 ]] || fail "the upper ns/ went"
mnt "$V"
[[ ! -e $S/hello/old && $(stat -c %a "$S/hello/sub") == 755 ]] ||
	fail "hello/old shows after replacing, or hello/sub is not 2.0's"
[[ $(vpy "$V" -c 'import hello; print(hello.V)') == 2 ]] || fail "hello 2 not imported"
chmod 0700 "$S/hello/sub"

# Uninstalling through a live mount.
run_ok "$WHEELFS" uninstall -q "$V" hello nsa keepme
[[ ! -e $S/hello ]] || fail "hello/ still shows in the mount: $(ls -laR "$S/hello")"
vpy "$V" -c 'import hello' 2>/dev/null && fail "hello still importable after uninstall"
vpy "$V" -c 'import ns.b' || fail "ns.b no longer importable"
vpy "$V" -c 'import ns.a' 2>/dev/null && fail "ns.a still importable"
[[ $(stat -c %a "$S/ns") == 711 ]] || fail "ns/ (still nsb's) lost its mode"
[[ $(cat "$S/keepme/user.txt") == mine && ! -e $S/keepme/__init__.py ]] ||
	fail "keepme/ lost the user's file, or kept its module"
umnt "$V"
[[ ! -e $V/lib/python$PYXY/site-packages/hello ]] || fail "an upper hello/ survived the uninstall"
mnt "$V"
vpy "$V" -c 'import hello' 2>/dev/null && fail "hello importable after a remount"
umnt "$V"
echo PASS
