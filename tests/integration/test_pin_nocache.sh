#!/bin/bash
# test_pin_nocache.sh — a pinned venv without its cache.  After `wheelfs
# pin` and the removal of the cache, wheelfs itself keeps working on the
# venv: `show` lists the distributions (their file counts unknown),
# `show --files` fails with one line naming the missing cache, `pin` is a
# no-op, `mount` serves the upper layer, `install --cache NEW` adds a
# distribution as real files (the view stays pinned, so no mount needs the
# new cache either) and replaces a pinned one by its RECORD, a new wheel's
# launcher over the launcher of a distribution without its tree is refused
# naming both (its RECORD says what it owns) unless --force-overwrite,
# `uninstall` removes one by its RECORD, and verify/gc of the new cache are
# content.
# A view that is not pinned cannot be changed without its trees: one line
# naming the tree, nothing changed.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"

site=python$PYVER/site-packages
aa=$(mkwheel --out "$T/w" --name aa --version 1.0 --file aa/__init__.py='A = 1' \
	--entry-point console_scripts:aa-tool=aa:main)
bb=$(mkwheel --out "$T/w" --name bb --version 1.0 --file bb/__init__.py='B = 1')
bb2=$(mkwheel --out "$T/w" --name bb --version 2.0 --file bb/__init__.py='B = 2' --file bb/new.py='')
cc=$(mkwheel --out "$T/w" --name cc --version 1.0 --file cc/__init__.py='C = 3' \
	--entry-point console_scripts:cc-tool=cc:main)
V=$T/v
L=$V/lib
pin_venv "$T/cache" "$V" "$aa" "$bb"
run_ok "$WHEELFS" pin --mode copy "$L"
rm -rf "$T/cache"
run_ok "$V/bin/python" -c 'import aa, bb; assert aa.A == 1 and bb.B == 1'

# show: the distributions, from the view record
run_ok "$WHEELFS" show "$V"
grep -Eq '^aa +1\.0 +- +- +yes' "$LAST_OUT" || fail "show: $(cat "$LAST_OUT")"
grep -q "^cache: .*(gone)" "$LAST_OUT" || fail "show does not say the cache is gone: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" show --json "$V"
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert [x["name"] for x in d["distributions"]] == ["aa", "bb"], d
assert d["pinned"] and d["distributions"][0]["files"] is None, d' "$LAST_OUT" ||
	fail "show --json: $(cat "$LAST_OUT")"
expect_fail_match "cache.*gone.*pinned" "$WHEELFS" show --files "$V"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "show --files: not one line: $(cat "$LAST_ERR")"

# pin again: nothing to do
run_ok "$WHEELFS" pin "$L"
grep -q "already pinned" "$LAST_OUT" || fail "pin: $(cat "$LAST_OUT")"

# mount: serves the upper layer alone
if pin_have_mount; then
	pin_mount "$T/cache" "$L"
	run_ok "$V/bin/python" -c 'import aa, bb; assert aa.A == 1 and bb.B == 1'
	run_ok "$WHEELFS" show "$V"
	grep -q "(mounted)" "$LAST_OUT" || fail "show: not mounted: $(cat "$LAST_OUT")"
fi

# install with another cache: real files, the view stays pinned
run_ok "$WHEELFS" install --cache "$T/new" "$V" "$cc" "$bb2"
grep -q "^installed cc 1.0" "$LAST_OUT" || fail "install: $(cat "$LAST_OUT")"
grep -q "^replaced bb 1.0 -> 2.0" "$LAST_OUT" || fail "install: $(cat "$LAST_OUT")"
# the mount (if any) reloaded: it serves the new files from the upper layer
run_ok "$V/bin/python" -c 'import aa, bb, cc, bb.new; assert bb.B == 2 and cc.C == 3'
if pin_have_mount; then
	run_ok "$WHEELFS" umount "$L"
fi
[[ $(pin_view_pinned "$L") == 1 ]] || fail "install into a pinned venv unpinned it"
grep -qx "cache $(realpath "$T/new")" "$L/.wheelfs/view" || fail "the view does not name the new cache"
[[ -f $L/$site/cc/__init__.py && ! -L $L/$site/cc/__init__.py ]] || fail "cc's module is not a real file"
[[ -f $L/$site/bb/new.py && ! -e $L/$site/bb-1.0.dist-info ]] || fail "bb 1.0 not replaced by 2.0"
run_ok "$V/bin/python" -c 'import aa, bb, cc, bb.new; assert bb.B == 2 and cc.C == 3'
[[ -x $V/bin/cc-tool ]] || fail "no cc-tool launcher"
run_ok "$WHEELFS" show "$V"
grep -Eq '^cc +1\.0 +[0-9]+ ' "$LAST_OUT" || fail "show: $(cat "$LAST_OUT")"
grep -Eq '^aa +1\.0 +- ' "$LAST_OUT" || fail "show: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" pin "$L"
grep -q "already pinned" "$LAST_OUT" || fail "pin after install: $(cat "$LAST_OUT")"
"$PY" -m pip --version >/dev/null 2>&1 && {
	"$PY" -m pip --python "$V/bin/python" list --format=freeze 2>/dev/null >"$T/pip" ||
		"$PY" -m pip list --path "$L/$site" --format=freeze >"$T/pip" 2>/dev/null || true
	if [[ -s $T/pip ]]; then
		grep -qx 'aa==1.0' "$T/pip" && grep -qx 'bb==2.0' "$T/pip" && grep -qx 'cc==1.0' "$T/pip" ||
			fail "pip list: $(cat "$T/pip")"
	fi
}

# verify and gc of the new cache: the view's old trees are not its business
run_ok "$WHEELFS" verify "$T/new"
run_ok "$WHEELFS" gc --prune "$T/new"
run_ok "$V/bin/python" -c 'import cc'
run_ok "$WHEELFS" verify "$T/new"

# a distribution whose tree is gone still owns its real files: a new
# wheel's launcher over aa's is refused naming both, as when aa's tree is
# there; with --force-overwrite the new one wins and aa's RECORD lets go
dd=$(mkwheel --out "$T/w" --name dd --version 1.0 --file dd/__init__.py='D = 4' \
	--entry-point console_scripts:aa-tool=dd:main)
cp "$V/bin/aa-tool" "$T/aa-tool.before"
expect_fail_match "bin/aa-tool: claimed by both aa and dd" \
	"$WHEELFS" install --cache "$T/new" "$V" "$dd"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "install: not one line: $(cat "$LAST_ERR")"
cmp -s "$T/aa-tool.before" "$V/bin/aa-tool" || fail "dd's launcher replaced aa's"
[[ ! -e $L/$site/dd ]] || fail "a refused install wrote dd"
run_ok "$WHEELFS" install --force-overwrite --cache "$T/new" "$V" "$dd"
grep -q 'dd' "$V/bin/aa-tool" || fail "--force-overwrite: dd's launcher not written"
grep -q 'aa-tool' "$L/$site/aa-1.0.dist-info/RECORD" && fail "aa's RECORD still lists bin/aa-tool"
grep -q 'aa-tool' "$L/$site/dd-1.0.dist-info/RECORD" || fail "dd's RECORD does not list bin/aa-tool"

# uninstall of a distribution whose tree is gone: by its RECORD
run_ok "$WHEELFS" uninstall "$V" aa
grep -q "^uninstalled aa 1.0" "$LAST_OUT" || fail "uninstall: $(cat "$LAST_OUT")"
[[ ! -e $L/$site/aa && ! -e $L/$site/aa-1.0.dist-info ]] || fail "uninstall left aa's files"
grep -q 'dd' "$V/bin/aa-tool" || fail "uninstalling aa removed dd's launcher"
grep -q '^dist aa ' "$L/.wheelfs/view" && fail "aa still in the view"
run_ok "$V/bin/python" -c 'import bb, cc, dd; assert bb.B == 2'
"$V/bin/python" -c 'import aa' 2>/dev/null && fail "aa still importable"
# ... and one whose tree is there
run_ok "$WHEELFS" uninstall "$V" cc
[[ ! -e $L/$site/cc && ! -e $V/bin/cc-tool ]] || fail "uninstall left cc's files"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "uninstall unpinned the view"

# a view that is not pinned needs its trees: one line, nothing changed
V2=$T/v2
pin_venv "$T/c2" "$V2" "$aa"
rm -rf "$T/c2"
cp "$V2/lib/.wheelfs/view" "$T/view.before"
expect_fail_match "cache .*/c2 is gone, and the view is not pinned" \
	"$WHEELFS" install --cache "$T/new" "$V2" "$bb"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "install: not one line: $(cat "$LAST_ERR")"
# without --cache, install makes the view's cache anew, and finds aa's tree
# missing there
expect_fail_match "c2/trees/[0-9a-f]+\.tree: missing, and aa 1\.0 needs it: add its wheel" \
	"$WHEELFS" install "$V2" "$bb"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "install: not one line: $(cat "$LAST_ERR")"
cmp -s "$T/view.before" "$V2/lib/.wheelfs/view" || fail "the failed installs changed the view"
[[ ! -e $V2/lib/$site/bb && ! -e $V2/lib/$site/bb-1.0.dist-info ]] || fail "a failed install wrote bb"
echo ok
