# pin_lib.sh — helpers for tests/integration/test_pin_*.sh; source it after
# lib.sh.
#
#   $PYVER                 X.Y of $PY
#   $PIP_WHL               Debian's pip wheel (skips the test when missing)
#   pin_have_install       `wheelfs install` exists
#   pin_have_mount         `wheelfs mount` exists
#   pin_venv CACHE VENV WHEEL...
#                          a venv (python -m venv --without-pip) whose view
#                          holds the WHEELs: `wheelfs install --cache CACHE
#                          VENV WHEEL...` when install exists, else
#                          `wheelfs add` and a view record written by hand
#                          (view.h's format, tree ids from `wheelfs ls`)
#   pin_check [--partial] [--links] LIB WHEEL...
#                          pin_check.py: every view entry of the wheels is
#                          a correct real entry under LIB
#   pin_snapshot DIR       files: path, type, size, mode, mtime (no inode);
#                          symlinks: path and target; dirs: path and mode;
#                          not install's own dist-info files (INSTALLER,
#                          RECORD, REQUESTED, direct_url.json: their mtime
#                          is install's)
#   pin_view_pinned LIB    prints the view record's pinned value
#   pin_tmpfs DIR [OPTS]   mount a tmpfs on DIR (created), unmounted on exit
#   pin_mount CACHE LIB    `wheelfs mount`, `wheelfs umount` on exit
#   pin_leftovers DIR      temp names pin leaves behind, one a line
#   pin_member_xxh WHL NAME  the XXH3-128 hex of a wheel member (its blob name)

PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PIP_WHL=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
PIN_CHECK=$WFS_LIB_DIR/pin_check.py

_pin_have_cmd() {
	local out
	out=$("$WHEELFS" "$1" --help 2>&1 || true)
	[[ $out != *"unknown command"* ]]
}

pin_have_install() {
	_pin_have_cmd install
}

pin_have_mount() {
	_pin_have_cmd mount
}

pin_venv() {
	local cache=$1 venv=$2
	shift 2
	"$PY" -m venv --without-pip "$venv" || fail "python -m venv $venv"
	if pin_have_install; then
		run_ok "$WHEELFS" install -q --cache "$cache" "$venv" "$@"
		return
	fi
	run_ok "$WHEELFS" add -q "$cache" "$@"
	mkdir -p "$venv/lib/.wheelfs"
	"$PY" - "$WHEELFS" "$cache" "$venv/lib/.wheelfs/view" "$PYVER" "$@" <<'EOF' ||
import json, os, subprocess, sys, zipfile
wfs, cache, out, pyver, wheels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
trees = json.loads(subprocess.check_output([wfs, "ls", "--json", cache]))
lines = []
for whl in wheels:
    base = os.path.basename(whl)
    name, version = base.split("-")[:2]
    hits = [t for t in trees if t["name"] == name and t["version"] == version]
    if len(hits) != 1:
        sys.exit("no single tree for %s in %s" % (base, cache))
    lines.append("dist %s %s %s 1" % (name, version, hits[0]["tree"]))
with open(out, "w") as f:
    f.write("wheelfs-view 1\npython %s\npinned 0\ncache %s\n" % (pyver, os.path.abspath(cache)))
    f.write("".join(l + "\n" for l in sorted(lines, key=str.lower)))
EOF
		fail "writing the view of $venv"
}

pin_check() {
	"$PY" "$PIN_CHECK" --python "$PYVER" "$@" 2>&1
}

pin_snapshot() {
	(cd "$1" && find . -path ./.wheelfs -prune -o \
		\( -type d -printf '%p d %m\n' \) -o \
		\( -type l -printf '%p l %l\n' \) -o \
		-printf '%p %y %s %m %T@\n' | LC_ALL=C sort) |
		grep -Ev '\.dist-info/(INSTALLER|RECORD|REQUESTED|direct_url\.json) '
}

pin_view_pinned() {
	sed -n 's/^pinned //p' "$1/.wheelfs/view"
}

pin_tmpfs() {
	local dir=$1 opts=${2:-size=64m}
	mkdir -p "$dir"
	mount -t tmpfs -o "$opts" tmpfs "$dir" || skip "cannot mount a tmpfs on $dir"
	wfs_on_exit "umount -l '$dir' 2>/dev/null"
}

pin_mount() {
	run_ok "$WHEELFS" mount "$1" "$2"
	wfs_on_exit "'$WHEELFS' umount '$2' >/dev/null 2>&1 || umount -l '$2' 2>/dev/null"
}

pin_leftovers() {
	find "$1" -name '.wheelfs-tmp-pin.*' 2>/dev/null || true
}

pin_member_xxh() {
	"$PY" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
		"$1" "$2" >"$T/.member" || fail "no $2 in $1"
	xxh "$T/.member"
}
