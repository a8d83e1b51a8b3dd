#!/bin/bash
# test_pin_upper.sh — pin respects the upper layer.  Entries the upper layer
# already has (edited files, a file over a lower directory, an opaque
# directory) win and are left alone; whited-out entries (the whiteout store
# of upper.h, written here by hand as the mount would) are not brought
# back; directories both layers have are merged.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' \
	--file demo/mine.py='lower' \
	--file demo/gone.py='deleted through the mount' \
	--file demo/olddir/a.py='a' --file demo/olddir/b.py='b' \
	--file demo/replaced/old.py='old' \
	--file demo/sub/x.py='x' \
	--file demo/keep/k.py='k')
pin_venv "$C" "$T/v" "$demo"
L=$T/v/lib
S=python$PYVER/site-packages
mkdir -p "$L/$S/demo/replaced" "$L/$S/demo/keep"
echo 'mine' >"$L/$S/demo/mine.py"          # edited: upper wins
echo 'new' >"$L/$S/demo/replaced/new.py"   # opaque dir's own content
echo 'a file now' >"$L/$S/demo/sub"         # a file over a lower dir
echo 'extra' >"$L/$S/demo/keep/extra.py"   # merged dir
cat >"$L/.wheelfs/whiteouts" <<WO
wheelfs-whiteouts 1
w $S/demo/gone.py
w $S/demo/olddir
o $S/demo/replaced
WO

run_ok "$WHEELFS" pin "$L"
echo "$(cat "$LAST_OUT")"
grep -Eq "^pinned 4 files .*; 3 entries were already in the upper layer; 6 deleted or shadowed entries left out" "$LAST_OUT" ||
	fail "unexpected summary: $(cat "$LAST_OUT")"
[[ $(cat "$L/$S/demo/mine.py") == mine ]] || fail "pin overwrote an upper file"
[[ ! -e $L/$S/demo/gone.py ]] || fail "a whited-out file came back"
[[ ! -e $L/$S/demo/olddir ]] || fail "a whited-out directory came back"
[[ ! -e $L/$S/demo/replaced/old.py ]] || fail "an opaque directory got lower content"
[[ $(cat "$L/$S/demo/replaced/new.py") == new ]] || fail "the opaque dir's file changed"
[[ -f $L/$S/demo/sub ]] || fail "the upper file over a lower dir was replaced"
[[ $(cat "$L/$S/demo/keep/k.py") == k && $(cat "$L/$S/demo/keep/extra.py") == extra ]] ||
	fail "a merged directory is wrong"
[[ $(cat "$L/$S/demo/__init__.py") == 'X = 1' ]] || fail "__init__.py not pinned"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "view not pinned"
echo "ok"
