#!/bin/bash
# test_install_readonly_cache.sh — `wheelfs install` from a cache on a
# read-only bind mount (a pre-filled image layer or NFS export shared by
# containers): what is already in the cache installs (a .whl through the
# wheel index, a .whl whose index entry is gone, an unpacked wheel with a
# file larger than the in-memory limit), with one warning line that gc of
# that cache does not know the venv; a wheel not in the cache fails with one
# line naming it and the read-only cache, and the venv is left as it was;
# the mount serves the venv from the read-only cache; adopt fails with one
# line; the cache is never written.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mount_lib.sh"

[[ $(id -u) == 0 ]] || skip "needs root for a read-only bind mount"

C=$T/cache
RO=$T/ro
V=$T/venv
hello=$(mkwheel --out "$T/w" --name hello --version 1.0 \
	--file hello/__init__.py='GREETING = "hi"')
other=$(mkwheel --out "$T/w" --name other --version 2.0 \
	--file other/__init__.py='X = 2')
big=$(mkwheel --out "$T/w" --name big --version 1.0 \
	--file big/__init__.py='' --file-size big/data.bin=9437184:big)
absent=$(mkwheel --out "$T/w" --name absent --version 1.0 \
	--file absent/__init__.py='')
unpack_wheel "$big" "$T/bigdir"
run_ok "$WHEELFS" add "$C" "$hello" "$other" "$T/bigdir"
# other's index entry is gone (only hello is indexed again by a warm
# add): the slow path must find its blobs and tree there.
rm -rf "$C/wheels"
run_ok "$WHEELFS" add "$C" "$hello"
[[ $(find "$C/wheels" -type l | wc -l) == 1 ]] || fail "index not rebuilt for hello"

mkdir "$RO"
mount --bind "$C" "$RO" || skip "mount --bind failed"
wfs_on_exit "umount '$RO' 2>/dev/null"
mount -o remount,bind,ro "$RO" || fail "remount read-only failed"
touch "$RO/x" 2>/dev/null && fail "$RO is writable"
before_cache=$(tree_snapshot "$C")

mkvenv "$V"
# A wheel that is not in the cache: one line, nothing installed.
before_venv=$(tree_snapshot "$V")
expect_fail_match "absent-1\.0-py3-none-any\.whl: not in the read-only cache $RO" \
	"$WHEELFS" install --cache "$RO" "$V" "$hello" "$absent"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "more than one line: $(cat "$LAST_ERR")"
[[ -e $V/lib/.wheelfs/view ]] && fail "a view was written"
[[ -z $(find "$V/bin" -newer "$V/pyvenv.cfg" -name 'hello*') ]] || fail "bin written"

# Everything there: installed, one warning line.
run_ok "$WHEELFS" install --cache "$RO" "$V" "$hello" "$other" "$T/bigdir"
grep -q '^installed hello 1\.0$' "$LAST_OUT" || fail "hello: $(cat "$LAST_OUT")"
grep -q '^installed other 2\.0$' "$LAST_OUT" || fail "other: $(cat "$LAST_OUT")"
grep -q '^installed big 1\.0$' "$LAST_OUT" || fail "big: $(cat "$LAST_OUT")"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "not one warning line: $(cat "$LAST_ERR")"
grep -q "^wheelfs: warning: $RO/lock: Read-only file system; $V/lib is not registered there, so \`wheelfs gc --prune\` of that cache does not know it" "$LAST_ERR" ||
	fail "warning: $(cat "$LAST_ERR")"
run_ok "$WHEELFS" show "$V"
grep -q '^big  *1\.0  *5  *9\.0 MiB' "$LAST_OUT" || fail "show: $(cat "$LAST_OUT")"

# A wheel missing after others are installed: the venv stays as it was.
before_venv=$(tree_snapshot "$V")
expect_fail_match "absent-1\.0-py3-none-any\.whl: not in the read-only cache" \
	"$WHEELFS" install --cache "$RO" "$V" "$absent"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "more than one line: $(cat "$LAST_ERR")"
[[ $(tree_snapshot "$V") == "$before_venv" ]] || fail "the venv changed"

# The mount serves it from the read-only cache.
mnt "$V"
out=$(vpy "$V" -c 'import hello, other, big, os; print(hello.GREETING, other.X, os.path.getsize(os.path.join(os.path.dirname(big.__file__), "data.bin")))') ||
	fail "import through the mount failed"
[[ $out == "hi 2 9437184" ]] || fail "import: $out"
umnt "$V"

# adopt must store blobs: one line.
V2=$T/venv2
mkvenv "$V2"
expect_fail_match "^wheelfs: $RO: adopt stores the venv's files in the cache, which is read-only here \($RO/lock: Read-only file system\); nothing adopted$" \
	"$WHEELFS" adopt --cache "$RO" "$V2"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "adopt: $(cat "$LAST_ERR")"

[[ $(tree_snapshot "$C") == "$before_cache" ]] || fail "the read-only cache changed"
echo "ok"
