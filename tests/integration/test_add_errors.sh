#!/bin/bash
# wheelfs add on bad input: missing source, missing cache parent, a cache
# that is a non-empty directory without the marker, a text
# file posing as a wheel, a directory that is not a wheel, no arguments; and
# a failing source next to a good one (the good one is still added, exit 1).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
good=$(mkwheel --out "$T/in" --name demo --version 1.0 --file demo/__init__.py=$'x = 1\n')

# A source that does not exist.
missing=$T/nope-1.0-py3-none-any.whl
expect_fail_match 'nope-1\.0-py3-none-any\.whl' "$WHEELFS" add "$C" "$missing"
echo "missing source: $(cat "$LAST_ERR")"

# A cache whose parent does not exist: error, and no parent created.
expect_fail_match 'no/such/parent' "$WHEELFS" add "$T/no/such/parent/cache" "$good"
echo "missing cache parent: $(cat "$LAST_ERR")"
[[ ! -e $T/no ]] || fail "add created the cache's missing parents"

# An existing directory that is not a cache and not empty (here: an
# unpacked wheel, given first by mistake) is not made one: one line,
# exit 1, nothing written into it.  An empty one is.
unpack_wheel "$good" "$T/unpacked"
before=$(tree_snapshot "$T/unpacked")
expect_fail_match "^wheelfs: $T/unpacked: not a wheelfs cache \(no wheelfs-cache file\), and not empty" \
	"$WHEELFS" add "$T/unpacked" "$good"
[[ $LAST_RC == 1 && $(grep -c . "$LAST_ERR") == 1 ]] || fail "exit $LAST_RC: $(cat "$LAST_ERR")"
[[ $(tree_snapshot "$T/unpacked") == "$before" ]] || fail "add wrote into a directory that is no cache"
"$PY" -m venv --without-pip "$T/venv"
expect_fail_match "^wheelfs: $T/unpacked: not a wheelfs cache" \
	"$WHEELFS" install --cache "$T/unpacked" "$T/venv" "$good"
[[ $(tree_snapshot "$T/unpacked") == "$before" ]] || fail "install wrote into a directory that is no cache"
mkdir -p "$T/empty/lost+found"
run_ok "$WHEELFS" add -q "$T/empty" "$good"
run_ok "$WHEELFS" ls "$T/empty"

# A plain text file named x.whl (a bad name) and one with a valid wheel name.
echo "this is not a zip" >"$T/x.whl"
expect_fail_match 'x\.whl' "$WHEELFS" add "$C" "$T/x.whl"
echo "text x.whl: $(cat "$LAST_ERR")"
cp "$T/x.whl" "$T/fake-1.0-py3-none-any.whl"
expect_fail_match 'fake-1\.0-py3-none-any\.whl' "$WHEELFS" add "$C" "$T/fake-1.0-py3-none-any.whl"
echo "text fake wheel: $(cat "$LAST_ERR")"

# A directory that is not an unpacked wheel.
mkdir "$T/notawheel"
echo 'x = 1' >"$T/notawheel/mod.py"
ln -s /etc/passwd "$T/notawheel/abs-link" # refused in a wheel, but first:
expect_fail_match 'notawheel: not an unpacked wheel: no <name>-<version>\.dist-info directory' \
	"$WHEELFS" add "$C" "$T/notawheel"
echo "not a wheel dir: $(cat "$LAST_ERR")"

# An unpacked wheel whose .dist-info name is no {name}-{version}.
mkdir -p "$T/dotdot/..-1.0.dist-info"
printf 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n' \
	>"$T/dotdot/..-1.0.dist-info/WHEEL"
printf '..-1.0.dist-info/WHEEL,,\n..-1.0.dist-info/RECORD,,\n' \
	>"$T/dotdot/..-1.0.dist-info/RECORD"
expect_fail_match 'dotdot: \.\.-1\.0\.dist-info: not a valid \{name\}-\{version\}' \
	"$WHEELFS" add "$C" "$T/dotdot"

# Help on standard output with status 0, for every command, even with a
# broken configuration; a bad -j is a usage error.
for cmd in add ls verify gc install uninstall show adopt pin mount umount; do
	run_ok env WHEELFS_CONFIG=/nonexistent/wheelfs.conf "$WHEELFS" "$cmd" --help
	grep -q "^usage: wheelfs $cmd " "$LAST_OUT" || fail "$cmd --help: $(cat "$LAST_OUT")"
	grep -q "^See wheelfs" "$LAST_OUT" || fail "$cmd --help names no page"
done
expect_fail_match '-j foo: not a number of jobs' "$WHEELFS" add -j foo "$C" "$T/x.whl"
[[ $LAST_RC == 2 ]] || fail "add -j foo: exit status $LAST_RC, not 2"

# No cache, no source: a usage error.
expect_fail_match '.' "$WHEELFS" add
echo "no arguments: $(head -n1 "$LAST_ERR")"

# None of the above published a tree.
[[ $(count_trees "$C") == 0 ]] || fail "a failed add published a tree"

# One good and one bad source: exit 1, one error line naming the bad one,
# and the good wheel is added.
expect_fail_match 'nope-1\.0-py3-none-any\.whl' "$WHEELFS" add "$C" "$good" "$missing"
[[ $LAST_RC == 1 ]] || fail "expected exit status 1, got $LAST_RC"
[[ $(grep -c . "$LAST_ERR") == 1 ]] || fail "expected one error line: $(cat "$LAST_ERR")"
grep -q "demo-1.0" "$LAST_ERR" && fail "the good wheel is named in the error: $(cat "$LAST_ERR")"
echo "partial: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" ls "$C"
read -r name version _ <"$LAST_OUT"
[[ $name == demo && $version == 1.0 ]] || fail "the good wheel was not added: $(cat "$LAST_OUT")"
check_blobs "$C"
echo "ok"
