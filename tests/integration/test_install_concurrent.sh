#!/bin/bash
# Commands that change one venv at once never lose each other's changes:
# they take turns on the view lock (flock of VENV/lib).  Six concurrent
# `wheelfs install`s of different wheels into one venv leave all six in
# the view, with their files, scripts and RECORDs; the same on a mounted
# venv, where all six import live; then an uninstall and two installs at
# once.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
W=$T/wheels
mkdir -p "$W"
names=(p0 p1 p2 p3 p4 p5)
for n in "${names[@]}" q0 q1; do
	mkwheel --out "$W" --name "$n" --version 1.0 \
		--file "$n/__init__.py=NAME = '$n'" --file-size "$n/data.bin=3000:$n" \
		--entry-point "console_scripts:$n-tool=$n:NAME" >/dev/null
done
run_ok "$WHEELFS" add -q "$C" "$W"/*.whl

at_once() { # VENV CMD...: run "wheelfs CMD... VENV WHEEL" per name in $names
	local venv=$1 pids=() n i
	shift
	for n in "${names[@]}"; do
		"$WHEELFS" "$@" "$venv" "$(ls "$W"/"$n"-*.whl)" >"$T/out.$n" 2>&1 &
		pids+=($!)
	done
	i=0
	for n in "${names[@]}"; do
		wait "${pids[i]}" || fail "wheelfs $* $venv ($n) failed: $(cat "$T/out.$n")"
		i=$((i + 1))
	done
}
has_all() { # VENV NAME...: in the view (show), importable (mounted), with launchers
	local venv=$1 n
	shift
	run_ok "$WHEELFS" show "$venv"
	for n in "$@"; do
		grep -q "^$n " "$LAST_OUT" || fail "$n is not in the view of $venv: $(cat "$LAST_OUT")"
		[[ -x $venv/bin/$n-tool ]] || fail "no launcher for $n in $venv"
		[[ -f $(site_of "$venv")/$n-1.0.dist-info/RECORD ]] || fail "no RECORD for $n in $venv"
		[[ $(vpy "$venv" -c "import $n; print($n.NAME)") == "$n" ]] || fail "$n does not import from $venv"
	done
}

# Not mounted (then mounted, to import).
mkvenv "$T/v1"
at_once "$T/v1" install -q --cache "$C"
mnt "$T/v1"
has_all "$T/v1" "${names[@]}"
umnt "$T/v1"

# Mounted: each install reloads the daemon.
mkvenv "$T/v2"
vinstall "$C" "$T/v2" "$W"/q0-*.whl
mnt "$T/v2"
at_once "$T/v2" install -q --cache "$C"
has_all "$T/v2" q0 "${names[@]}"

# One uninstall and two installs at once.
names=(q1)
"$WHEELFS" uninstall "$T/v2" p0 >"$T/out.un" 2>&1 &
un=$!
at_once "$T/v2" install -q --cache "$C"
wait $un || fail "uninstall p0 failed: $(cat "$T/out.un")"
run_ok "$WHEELFS" show "$T/v2"
grep -q "^p0 " "$LAST_OUT" && fail "p0 is still in the view"
has_all "$T/v2" q0 q1 p1 p2 p3 p4 p5
expect_fail_match "No module named 'p0'" vpy "$T/v2" -c 'import p0'
umnt "$T/v2"
echo ok
