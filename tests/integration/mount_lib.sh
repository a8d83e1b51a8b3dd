# mount_lib.sh — helpers for the test_mount_*.sh tests.  Source it after
# lib.sh.  Every mount made through these helpers is unmounted on exit.
#
# Provides:
#   $PIP_WHL  $PYXY       Debian's pip wheel (skips when missing), "3.11"
#   mkvenv DIR            python3 -m venv --without-pip DIR
#   vinstall CACHE VENV WHEEL...   wheelfs install --cache CACHE VENV ...
#   site_of VENV          VENV/lib/pythonX.Y/site-packages
#   mnt VENV [OPTS]       wheelfs mount -o log=$T/mount.log[,OPTS] VENV/lib
#                         (the cache named in the view); unmounted on exit
#   umnt VENV             wheelfs umount VENV/lib (must succeed)
#   daemon_pid LOG DIR    the pid of the daemon started with -o log=LOG[,...]
#                         that serves DIR (empty when none)
#   is_mounted DIR        DIR is a wheelfs mount point
#   vpy VENV ARGS...      VENV's python, bytecode writing on, -I off
#   cext_wheel OUT NAME   a platlib wheel holding a C extension NAME._fast
#                         (compiled now with gcc and python3-dev), plus
#                         NAME/__init__.py; prints its path (skips the test
#                         when gcc or Python.h are missing)
#   pure_wheel OUT NAME VERSION [MODULE_BODY]   a small pure wheel
#
# Tests run real mounts: they need /dev/fuse and fusermount3 (skip).

[[ -e /dev/fuse ]] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null || skip "no fusermount3 (apt-get install fuse3)"
if [[ $(id -u) != 0 && ! -w /dev/fuse ]]; then
	skip "/dev/fuse is not writable by $(id -un)"
fi
PIP_WHL=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
PYXY=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The environment may say not to write bytecode; the tests want it.
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX PYTHONNOUSERSITE PYTHONPATH
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
MOUNT_LOG=$T/mount.log

mkvenv() {
	"$PY" -m venv --without-pip "$1" || fail "python3 -m venv $1 failed"
}

vinstall() {
	local cache=$1 venv=$2
	shift 2
	run_ok "$WHEELFS" install -q --cache "$cache" "$venv" "$@"
}

site_of() {
	echo "$1/lib/python$PYXY/site-packages"
}

is_mounted() {
	local abs
	abs=$(realpath -m "$1")
	awk -v mp="$abs" '$5 == mp { found = 1 } END { exit !found }' /proc/self/mountinfo
}

mnt() {
	local venv=$1 opts=log=$MOUNT_LOG
	[[ -n ${2:-} ]] && opts+=,$2
	run_ok "$WHEELFS" mount -o "$opts" "$venv/lib"
	# shellcheck disable=SC2016
	wfs_on_exit "is_mounted '$venv/lib' && { '$WHEELFS' umount '$venv/lib' || umount -l '$venv/lib'; }"
	is_mounted "$venv/lib" || fail "$venv/lib is not mounted after wheelfs mount"
}

daemon_pid() {
	pgrep -f -- "mount -o log=$1[^ ]* .*$2\$" | head -n 1
}

umnt() {
	run_ok "$WHEELFS" umount "$1/lib"
	! is_mounted "$1/lib" || fail "$1/lib is still mounted after wheelfs umount"
}

vpy() {
	local venv=$1
	shift
	"$venv/bin/python" "$@"
}

pure_wheel() {
	local out=$1 name=$2 version=$3 body=${4:-}
	[[ -n $body ]] || body="NAME = '$name'; VERSION = '$version'"
	mkwheel --out "$out" --name "$name" --version "$version" \
		--file "$name/__init__.py=$body"$'\n' \
		--file "$name/util.py=def twice(x):"$'\n'"    return 2 * x"$'\n'
}

cext_wheel() {
	local out=$1 name=$2 src inc suffix so
	command -v gcc >/dev/null || skip "no gcc"
	inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
	[[ -f $inc/Python.h ]] || skip "no Python.h (apt-get install python3-dev)"
	suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
	src=$T/cext-$name
	mkdir -p "$src"
	cat >"$src/fast.c" <<EOF
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args)
{
	long a, b;
	(void)self;
	if (!PyArg_ParseTuple(args, "ll", &a, &b))
		return NULL;
	return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = { { "add", add, METH_VARARGS, "a + b" }, { 0 } };
static struct PyModuleDef mod = { PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods };
PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&mod); }
EOF
	so=$src/_fast$suffix
	gcc -shared -fPIC -O2 -I"$inc" -o "$so" "$src/fast.c" || fail "gcc failed"
	mkwheel --out "$out" --name "$name" --version 1.0 --purelib false \
		--tag "cp${PYXY/./}-cp${PYXY/./}-linux_x86_64" \
		--file "$name/__init__.py=from ._fast import add"$'\n' \
		--file-from "$name/_fast$suffix=$so"
}
