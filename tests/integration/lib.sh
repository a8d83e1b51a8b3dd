# lib.sh — sourced by every tests/integration/test_*.sh.
#
# Environment (set by ctest, see tests/CMakeLists.txt):
#   WHEELFS    the wheelfs binary under test
#   WFS_TESTS  the source tests/ directory
#   WFS_BUILD  the build directory
# Run by hand:  WHEELFS=build/tools/wheelfs bash tests/integration/test_x.sh
# (WHEELFS defaults to $WFS_BUILD/tools/wheelfs, then build/tools/wheelfs).
# WFS_KEEP_TMP=1 keeps the per-test temp dir for inspection.
#
# Exit status: 0 pass, 1 fail (fail), 77 skipped (skip).
#
# Provides:
#   $T                 a fresh per-test temp dir, removed on exit; a
#                      sanitizer report in any $T/*.log (daemon logs) on
#                      exit fails the test
#   $PY                Debian's python3 (not the pyenv one on PATH)
#   wfs_on_exit CMD    run CMD (eval'd) on exit, before $T is removed;
#                      commands run last-registered first (unmounts etc.)
#   fail MSG / skip MSG
#   mkwheel ARGS       tests/integration/mkwheel.py ARGS (prints the path)
#   unpack_wheel WHL DIR   extract a wheel, keeping the exec bits
#   expect_fail_match REGEX CMD...   CMD must fail (1..125, not a signal)
#                      with stderr matching REGEX (grep -Ei); leaves
#                      $LAST_RC, $LAST_OUT, $LAST_ERR (files) behind
#   run_ok CMD...      CMD must exit 0; same $LAST_* files
#   check_blobs CACHE  every blob hashes to its name, CACHE/tmp is empty
#   blob_of FILE CACHE path of the blob holding FILE's content
#   xxh FILE           the XXH3-128 hex of FILE
#   count_blobs CACHE / count_trees CACHE
#   tree_snapshot DIR  a sorted listing of DIR (files: path, type, size,
#                      mode, inode, mtime; directories: path, mode)

set -euo pipefail

WFS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${WFS_TESTS:=$(dirname "$WFS_LIB_DIR")}"
PY=/usr/bin/python3
MKWHEEL=$WFS_LIB_DIR/mkwheel.py

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# --- temp dir and exit handlers ---------------------------------------------

_WFS_ON_EXIT=()

wfs_on_exit() {
	_WFS_ON_EXIT+=("$*")
}

_wfs_exit() {
	local rc=$1 i
	set +e
	for ((i = ${#_WFS_ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${_WFS_ON_EXIT[i]}"
	done
	# Daemons write to their log: a sanitizer report there fails the test.
	if [[ -n ${T:-} ]] && grep -lsE "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T"/*.log >/dev/null; then
		grep -hsE -A12 "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T"/*.log >&2
		echo "FAIL: a sanitizer report in a daemon log" >&2
		rc=1
	fi
	if [[ -n ${T:-} && -d $T ]]; then
		if [[ ${WFS_KEEP_TMP:-} == 1 ]]; then
			echo "kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}
trap '_wfs_exit $?' EXIT

T=$(mktemp -d "${TMPDIR:-/tmp}/wfs.XXXXXX")

# --- prerequisites -----------------------------------------------------------

if [[ -z ${WHEELFS:-} ]]; then
	for c in ${WFS_BUILD:+"$WFS_BUILD/tools/wheelfs"} "$WFS_TESTS/../build/tools/wheelfs"; do
		if [[ -x $c ]]; then WHEELFS=$c; break; fi
	done
	[[ -n ${WHEELFS:-} ]] || skip "WHEELFS is not set and no built wheelfs was found"
fi
[[ -x $WHEELFS ]] || fail "WHEELFS=$WHEELFS is not an executable"
[[ -x $PY ]] || skip "$PY is missing"
command -v xxh128sum >/dev/null || fail "xxh128sum is missing (apt-get install xxhash)"

# --- helpers ------------------------------------------------------------------

mkwheel() {
	"$PY" "$MKWHEEL" "$@"
}

unpack_wheel() {
	"$PY" - "$1" "$2" <<'EOF'
import os, stat, sys, zipfile
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as zf:
    for info in zf.infolist():
        zf.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(os.path.join(dest, info.filename), mode)
EOF
}

LAST_OUT=$T/.last.out
LAST_ERR=$T/.last.err
LAST_RC=0

# Run CMD, recording its exit status and output in $LAST_RC/$LAST_OUT/$LAST_ERR.
_wfs_run() {
	LAST_RC=0
	"$@" >"$LAST_OUT" 2>"$LAST_ERR" || LAST_RC=$?
}

_wfs_show() {
	echo "--- command: $*" >&2
	echo "--- exit status: $LAST_RC" >&2
	echo "--- stdout:" >&2
	cat "$LAST_OUT" >&2
	echo "--- stderr:" >&2
	cat "$LAST_ERR" >&2
	echo "---" >&2
}

run_ok() {
	_wfs_run "$@"
	if [[ $LAST_RC != 0 ]]; then
		_wfs_show "$@"
		fail "command failed (exit $LAST_RC): $*"
	fi
}

expect_fail_match() {
	local re=$1
	shift
	_wfs_run "$@"
	if [[ $LAST_RC == 0 ]]; then
		_wfs_show "$@"
		fail "command succeeded, expected a failure matching /$re/: $*"
	fi
	if ((LAST_RC >= 126)); then
		_wfs_show "$@"
		fail "command died (exit $LAST_RC, a signal or exec failure): $*"
	fi
	if ! grep -Eiq -- "$re" "$LAST_ERR"; then
		_wfs_show "$@"
		fail "stderr does not match /$re/: $*"
	fi
}

xxh() {
	local out
	out=$(xxh128sum "$1" 2>/dev/null) || fail "xxh128sum $1 failed"
	echo "${out%% *}"
}

blob_of() {
	local h
	h=$(xxh "$1")
	echo "$2/blobs/${h:0:2}/$h"
}

count_blobs() {
	if [[ -d $1/blobs ]]; then
		find "$1/blobs" -type f | wc -l
	else
		echo 0
	fi
}

count_trees() {
	if [[ -d $1/trees ]]; then
		find "$1/trees" -type f -name '*.tree' | wc -l
	else
		echo 0
	fi
}

tree_snapshot() {
	# Files: path, type, size, mode, inode, mtime (a rewrite or replacement
	# shows).  Directories: path and mode only (temp files come and go).
	(cd "$1" && find . \( -type d -printf '%p d %m\n' \) -o \
		-printf '%p %y %s %m %i %T@\n' | LC_ALL=C sort)
}

check_blobs() {
	local cache=$1 n=0 line hash path dir stray
	[[ -d $cache/blobs ]] || fail "$cache/blobs is missing"
	# Only <2hex>/<32hex> files (and their fan-out dirs) under blobs/.
	stray=$(find "$cache/blobs" -mindepth 1 \
		! \( -type d -regex '.*/blobs/[0-9a-f][0-9a-f]' \) \
		! \( -type f -regex '.*/blobs/[0-9a-f][0-9a-f]/[0-9a-f]+' \))
	[[ -z $stray ]] || fail "unexpected entries under $cache/blobs: $stray"
	# Hash in batches; xxh128sum prints "<hex>  <path>".
	while IFS= read -r line; do
		hash=${line%% *}
		path=${line#*  }
		dir=${path%/*}
		[[ $hash == "${path##*/}" ]] ||
			fail "blob content does not hash to its name: $path (xxh128sum: $hash)"
		[[ ${dir##*/} == "${hash:0:2}" ]] || fail "blob in the wrong fan-out dir: $path"
		n=$((n + 1))
	done < <(find "$cache/blobs" -type f -print0 | xargs -0 -r xxh128sum 2>/dev/null)
	[[ $n == $(count_blobs "$cache") ]] ||
		fail "xxh128sum checked $n of $(count_blobs "$cache") blobs"
	if [[ -d $cache/tmp ]]; then
		stray=$(find "$cache/tmp" -mindepth 1)
		[[ -z $stray ]] || fail "files left in $cache/tmp: $stray"
	fi
}
