#!/bin/bash
# test_pin_strict.sh — --strict fails instead of falling back, naming the
# first file that could not use the requested mode (exit 1), and leaves the
# view unpinned and no temp files; without --strict the same run copies and
# the summary says why.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"

pin_tmpfs "$T/shm" size=64m
C=$T/shm/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' \
	--file demo/core.py='Y = 2' \
	--file demo/tool.sh='#!/bin/sh' --exec demo/tool.sh \
	--symlink demo/alias.py=core.py)
site=python$PYVER/site-packages
# Jobs go in bytewise path order: "demo-1.0.dist-info/" sorts before "demo/".
first=$(LC_ALL=C "$PY" - "$demo" "$site" <<'PYEOF'
import stat, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zf:
    names = sorted((sys.argv[2] + "/" + i.filename).encode() for i in zf.infolist()
                   if not i.filename.endswith("/") and not i.filename.endswith("/RECORD")
                   and not stat.S_ISLNK(i.external_attr >> 16))
print(names[0].decode())
PYEOF
)

check_untouched() {
	[[ $(pin_view_pinned "$1") == 0 ]] || fail "a failed pin marked the view pinned"
	[[ -z $(pin_leftovers "$1") ]] || fail "temp files left: $(pin_leftovers "$1")"
}

# Across filesystems (cache on tmpfs, venv on the disk).
pin_venv "$C" "$T/v" "$demo"
L=$T/v/lib
expect_fail_match "cannot hardlink $first: the cache is on $T/shm \(tmpfs\) and the venv on .*different filesystems \(EXDEV\); --strict forbids falling back to copy" \
	"$WHEELFS" pin --mode hardlink --strict "$L"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC, expected 1"
check_untouched "$L"
expect_fail_match "cannot reflink $first: .*different filesystems \(EXDEV\); --strict" \
	"$WHEELFS" pin --mode reflink --strict "$L"
check_untouched "$L"
expect_fail_match "cannot reflink or hardlink $first \(reflink: .*EXDEV.*; hardlink: you can write to any file .*\); --strict forbids copying" \
	"$WHEELFS" pin --strict "$L"
check_untouched "$L"
# Without --strict: copies, and the summary says why.
run_ok "$WHEELFS" pin --mode hardlink "$L"
grep -Eq '^pinned 5 files \(0 reflinked, 0 hardlinked, 5 copied' "$LAST_OUT" ||
	fail "unexpected summary: $(cat "$LAST_OUT")"
grep -q "hardlink failed, copied instead: the cache is on .*(EXDEV)" "$LAST_OUT" ||
	fail "the summary does not say why it copied: $(cat "$LAST_OUT")"
pin_check "$L" "$demo" || fail "pinned venv is wrong"

# Same filesystem (venv on the cache's tmpfs): reflinks are unsupported
# there, and an executable is never hardlinked (blobs are 0444).
pin_venv "$C" "$T/shm/v" "$demo"
L=$T/shm/v/lib
expect_fail_match "cannot reflink $first: $T/shm \(tmpfs\) does not support reflinks \(EOPNOTSUPP\); --strict" \
	"$WHEELFS" pin --mode reflink --strict "$L"
check_untouched "$L"
expect_fail_match "cannot hardlink $site/demo/tool.sh: it is executable, and a hardlink would have the blob's mode 0444; --strict" \
	"$WHEELFS" pin --mode hardlink --strict "$L"
check_untouched "$L"
# The files before tool.sh were hardlinked; a rerun without --strict
# completes, copying only the executable.
run_ok "$WHEELFS" pin --mode hardlink "$L"
grep -Eq '^pinned 1 files \(0 reflinked, 0 hardlinked, 1 copied' "$LAST_OUT" ||
	fail "unexpected summary: $(cat "$LAST_OUT")"
grep -q "1 executable files copied" "$LAST_OUT" || fail "exec copy not reported: $(cat "$LAST_OUT")"
pin_check --links "$L" "$demo" || fail "pinned venv is wrong"
[[ $(stat -c %h "$L/$site/demo/core.py") -gt 1 ]] || fail "core.py is not hardlinked"
[[ $(stat -c %h "$L/$site/demo/tool.sh") == 1 && $(stat -c %a "$L/$site/demo/tool.sh") == 755 ]] ||
	fail "tool.sh should be a 0755 copy"

# [pin] mode in the configuration is the default mode; --mode wins.
printf '[pin]\nmode = hardlink\n' >"$T/hl.conf"
pin_venv "$C" "$T/shm/v2" "$demo"
WHEELFS_CONFIG=$T/hl.conf run_ok "$WHEELFS" pin "$T/shm/v2/lib"
grep -Eq '^pinned 5 files \(0 reflinked, 4 hardlinked, 1 copied' "$LAST_OUT" ||
	fail "[pin] mode = hardlink was not used: $(cat "$LAST_OUT")"
pin_venv "$C" "$T/shm/v3" "$demo"
WHEELFS_CONFIG=$T/hl.conf run_ok "$WHEELFS" pin --mode copy "$T/shm/v3/lib"
grep -Eq '^pinned 5 files \(0 reflinked, 0 hardlinked, 5 copied' "$LAST_OUT" ||
	fail "--mode copy did not win over [pin] mode: $(cat "$LAST_OUT")"
printf '[pin]\nmode = fast\n' >"$T/bad.conf"
WHEELFS_CONFIG=$T/bad.conf expect_fail_match "\[pin\] mode: unknown pin mode 'fast'" \
	"$WHEELFS" pin "$T/shm/v3/lib"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC for a bad configuration"

# Usage errors.
expect_fail_match "unknown pin mode 'bogus'" "$WHEELFS" pin --mode bogus "$L"
[[ $LAST_RC == 2 ]] || fail "exit status $LAST_RC for a usage error"
echo "ok"
