# install_lib.sh — helpers for the install, uninstall, show and adopt tests.
# Source it after lib.sh.
#
# Provides:
#   $PIP_WHL               Debian's pip wheel (skips the test when missing)
#   mkvenv DIR             python3 -m venv --without-pip DIR
#   pip_install VENV ARGS  Debian's pip wheel run by VENV's python:
#                          install --no-deps --no-index ARGS (add
#                          --no-compile yourself); PIP_* from the
#                          environment are ignored
#   pip_run VENV ARGS      the same pip, any subcommand
#   materialize VENV DEST  DEST = what a mount of VENV/lib would show
#                          (materialize.py)
#   venvcmp A B BLIB       compare pip's venv A with wheelfs's venv B and its
#                          materialized lib BLIB (venvcmp.py); fails with
#                          the differences
#   listing DIR [--mtime]  sorted "path type mode sha256|target [mtime]"
#   demo_wheels OUT        build the cross-check wheels into OUT, printing
#                          their paths: demo-pkg 1.0 (every .data scheme,
#                          #!python and #!pythonw scripts, console and gui
#                          entry points including mod:obj.attr, Root-Is-
#                          Purelib false, an executable module) and
#                          other_tool 0.5 (pure, a console script, data)
#   site_of VENV           VENV/lib/python3.X/site-packages (the venv's X.Y)

# Python as a user runs it: bytecode written, no stray paths.
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX PYTHONPATH PYTHONHOME

PIP_WHL=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n $PIP_WHL ]] || skip "no /usr/share/python-wheels/pip-*.whl (apt-get install python3-pip-whl)"
PYXY=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

mkvenv() {
	"$PY" -m venv --without-pip "$1" || fail "python3 -m venv $1 failed"
}

pip_run() {
	local venv=$1
	shift
	env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
		PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_CONFIG_FILE=/dev/null \
		"$venv/bin/python" "$PIP_WHL/pip" "$@"
}

pip_install() {
	local venv=$1
	shift
	pip_run "$venv" install -q --no-deps --no-index "$@" ||
		fail "pip install into $venv failed"
}

materialize() {
	rm -rf "$2"
	"$PY" "$WFS_LIB_DIR/materialize.py" "$WHEELFS" "$1" "$2" ||
		fail "materialize.py $1 $2 failed"
}

venvcmp() {
	local out
	if ! out=$("$PY" "$WFS_LIB_DIR/venvcmp.py" "$@"); then
		echo "$out" >&2
		fail "pip's venv $1 and wheelfs's venv $2 differ (above)"
	fi
}

listing() {
	"$PY" "$WFS_LIB_DIR/venvcmp.py" --listing "$@"
}

site_of() {
	echo "$1/lib/python$PYXY/site-packages"
}

demo_wheels() {
	local out=$1
	mkwheel --out "$out" --name demo-pkg --version 1.0 \
		--purelib false --tag cp311-cp311-linux_x86_64 \
		--file demo_pkg/__init__.py=$'import sys\ndef main():\n    print("demo main", sys.argv[1:])\n    return 0\nclass K:\n    @staticmethod\n    def run():\n        print("demo K.run")\n' \
		--file demo_pkg/sub/__init__.py= \
		--file demo_pkg/sub/mod.py=$'VALUE = 42\n' \
		--file demo_pkg/run.sh=$'#!/bin/sh\necho run\n' --exec demo_pkg/run.sh \
		--data-file purelib/pure_mod.py=$'PURE = 1\n' \
		--data-file platlib/plat_pkg/__init__.py=$'PLAT = 2\n' \
		--script demo-tool=$'#!python\nimport demo_pkg\nprint("demo-tool", demo_pkg.__name__)\n' \
		--script demo-toolw=$'#!pythonw -E\nprint("demo-toolw")\n' \
		--script plain.sh=$'#!/bin/sh\necho plain\n' \
		--data-file headers/demo.h=$'int demo;\n' \
		--data-file headers/sub/demo2.h=$'int demo2;\n' \
		--data-file data/share/demo-pkg/readme.txt=$'readme\n' \
		--data-file data/etc/demo-pkg.conf=$'x = 1\n' \
		--entry-point console_scripts:demo-cli=demo_pkg:main \
		--entry-point console_scripts:demo-k=demo_pkg:K.run \
		--entry-point gui_scripts:demo-gui=demo_pkg:main
	mkwheel --out "$out" --name other_tool --version 0.5 \
		--file other_tool/__init__.py=$'def main():\n    print("other")\n' \
		--data-file data/share/other/notes.txt=$'notes\n' \
		--entry-point console_scripts:other-tool=other_tool:main
}
