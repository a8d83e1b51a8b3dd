#!/bin/bash
# test_install_conflict.sh — two distributions claiming one path.
#   site-packages (the view): refused naming both, even with
#     --force-overwrite (the view cannot hold both); nothing written;
#   a real file (a bin/ launcher): refused naming both; with
#     --force-overwrite the later one wins and the earlier one's RECORD drops
#     the path, so uninstalling the earlier one leaves the file alone (also
#     when its RECORD is gone: a rerun after a crash);
#   the same file (content and mode) from two distributions: no conflict;
#   two versions of one distribution in one command: refused;
#   one distribution shipping a file in its root and in .data/purelib, or
#     in .data/platlib and .data/purelib: installed as pip does (cross-
#     checked file for file), the .data copy serving (purelib over
#     platlib), its RECORD row giving that copy's hash.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

V=$T/venv
mkvenv "$V"
site=python$PYXY/site-packages
alpha=$(mkwheel --out "$T/w" --name alpha --version 1.0 \
	--file alpha/__init__.py= --file shared.py=$'WHO = "alpha"\n')
beta=$(mkwheel --out "$T/w" --name beta --version 1.0 \
	--file beta/__init__.py= --file shared.py=$'WHO = "beta"\n')
gamma=$(mkwheel --out "$T/w" --name gamma --version 1.0 \
	--file gamma/__init__.py=$'def main():\n    print("gamma")\n' \
	--entry-point console_scripts:tool=gamma:main)
delta=$(mkwheel --out "$T/w" --name delta --version 1.0 \
	--file delta/__init__.py=$'def main():\n    print("delta")\n' \
	--entry-point console_scripts:tool=delta:main)

run_ok "$WHEELFS" install --cache "$T/cache" "$V" "$alpha" "$gamma"
before=$(tree_snapshot "$V")

# site-packages conflict
expect_fail_match "shared\.py: claimed by both (alpha and beta|beta and alpha)" \
	"$WHEELFS" install --cache "$T/cache" "$V" "$beta"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC, not 1"
[[ $(tree_snapshot "$V") == "$before" ]] || fail "the venv changed after a refused install"
expect_fail_match "claimed by both.*cannot override" \
	"$WHEELFS" install --cache "$T/cache" --force-overwrite "$V" "$beta"
[[ $(tree_snapshot "$V") == "$before" ]] || fail "the venv changed after a refused --force-overwrite"

# bin/ conflict
expect_fail_match "bin/tool: claimed by both gamma and delta" \
	"$WHEELFS" install --cache "$T/cache" "$V" "$delta"
[[ $(tree_snapshot "$V") == "$before" ]] || fail "the venv changed after a refused install (bin)"
run_ok "$WHEELFS" install --cache "$T/cache" --force-overwrite "$V" "$delta"
grep -q '^from delta import main' "$V/bin/tool" || fail "bin/tool is not delta's"
grep -q 'bin/tool' "$V/lib/$site/gamma-1.0.dist-info/RECORD" && fail "gamma's RECORD still lists bin/tool"
grep -q '^\.\./\.\./\.\./bin/tool,' "$V/lib/$site/delta-1.0.dist-info/RECORD" || fail "delta's RECORD does not list bin/tool"
# An uninstall of gamma killed after it removed gamma's RECORD (which goes
# last) and before the view changed: the rerun, with no RECORD to go by,
# must still leave delta's bin/tool alone.
rm "$V/lib/$site/gamma-1.0.dist-info/RECORD"
run_ok "$WHEELFS" uninstall "$V" gamma
[[ -f $V/bin/tool ]] || fail "uninstalling gamma removed delta's bin/tool"
grep -q '^from delta import main' "$V/bin/tool" || fail "bin/tool is not delta's any more"
run_ok "$WHEELFS" uninstall "$V" delta
[[ ! -e $V/bin/tool ]] || fail "uninstalling delta left bin/tool"

# Within one command: the later source wins with --force-overwrite.
expect_fail_match "bin/tool: claimed by both gamma and delta" \
	"$WHEELFS" install --cache "$T/cache" "$V" "$gamma" "$delta"
run_ok "$WHEELFS" install --cache "$T/cache" --force-overwrite "$V" "$gamma" "$delta"
grep -q '^from delta import main' "$V/bin/tool" || fail "the later source did not win"

# The same file from two distributions (a pkgutil-style namespace package's
# __init__.py): no conflict; it stays while either is installed.
nsinit=$'__path__ = __import__("pkgutil").extend_path(__path__, __name__)\n'
nsa=$(mkwheel --out "$T/w" --name nsa --version 1.0 --file "ns/__init__.py=$nsinit" --file ns/a.py=A=1)
nsb=$(mkwheel --out "$T/w" --name nsb --version 1.0 --file "ns/__init__.py=$nsinit" --file ns/b.py=B=1)
V2=$T/venv2
mkvenv "$V2"
run_ok "$WHEELFS" install --cache "$T/cache" "$V2" "$nsa" "$nsb"
materialize "$V2" "$T/m1"
for f in __init__.py a.py b.py; do
	[[ -f $T/m1/$site/ns/$f ]] || fail "ns/$f missing with nsa and nsb installed"
done
run_ok "$WHEELFS" uninstall "$V2" nsa
materialize "$V2" "$T/m2"
[[ -f $T/m2/$site/ns/__init__.py && -f $T/m2/$site/ns/b.py ]] ||
	fail "uninstalling nsa took the namespace's __init__.py from nsb"
[[ ! -e $T/m2/$site/ns/a.py ]] || fail "nsa's ns/a.py is left"

# .data/data through a symlink of the venv: lib64 -> lib (python -m venv
# makes it) stands for lib/, so wheelfs's state stays out of reach and
# uninstall finds the file; any other symlink is refused.
V3=$T/venv3
mkvenv "$V3"
[[ -L $V3/lib64 ]] || ln -s lib "$V3/lib64"
l64=$(mkwheel --out "$T/w" --name l64 --version 1.0 --file l64/__init__.py= \
	--data-file "data/lib64/python$PYXY/site-packages/l64_extra.pth=import sys"$'\n')
run_ok "$WHEELFS" install --cache "$T/cache" "$V3" "$l64"
[[ -f $V3/lib/$site/l64_extra.pth ]] || fail "the .pth did not land in lib/"
run_ok "$WHEELFS" uninstall "$V3" l64
[[ ! -e $V3/lib/$site/l64_extra.pth ]] || fail "uninstall left the .pth installed through lib64"
st=$(mkwheel --out "$T/w" --name st --version 1.0 --file st/__init__.py= \
	--data-file data/lib64/.wheelfs/whiteouts=junk)
expect_fail_match "would overwrite wheelfs's own state" \
	"$WHEELFS" install --cache "$T/cache" "$V3" "$st"
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere" "$V3/out"
esc=$(mkwheel --out "$T/w" --name esc --version 1.0 --file esc/__init__.py= \
	--data-file data/out/evil=x)
expect_fail_match "would install through the venv's symlink out" \
	"$WHEELFS" install --cache "$T/cache" "$V3" "$esc"
[[ -z $(ls -A "$T/elsewhere") ]] || fail "a file was written through the venv's symlink"

# Two versions of one distribution at once.
d1=$(mkwheel --out "$T/w" --name dup --version 1.0 --file dup/__init__.py=)
d2=$(mkwheel --out "$T/w" --name dup --version 2.0 --file dup/__init__.py=)
expect_fail_match "both dup" "$WHEELFS" install --cache "$T/cache" "$V" "$d1" "$d2"

# One distribution, one path twice: pip extracts the root's files first,
# then .data's in the wheel's order (here and in wheels built by the wheel
# tool, sorted: platlib before purelib); the last one written stays.
twice=$(mkwheel --out "$T/w2" --name twice --version 1.0 --file twice/__init__.py= \
	--file twice/x.py=$'WHO = "root"\n' --data-file purelib/twice/x.py=$'WHO = "purelib"\n' \
	--data-file platlib/twice/y.py=$'WHO = "platlib"\n' \
	--data-file purelib/twice/y.py=$'WHO = "purelib y"\n' \
	--file twice/z.py=$'WHO = "root z"\n' --data-file platlib/twice/z.py=$'WHO = "platlib z"\n')
A=$T/pip/venv B=$T/wfs/venv
mkdir -p "$T/pip" "$T/wfs"
mkvenv "$A"
pip_install "$A" --no-compile "$twice"
mkvenv "$B"
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "$twice"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"
[[ $(cat "$T/Blib/$site/twice/x.py") == 'WHO = "purelib"' &&
	$(cat "$T/Blib/$site/twice/y.py") == 'WHO = "purelib y"' &&
	$(cat "$T/Blib/$site/twice/z.py") == 'WHO = "platlib z"' ]] || fail "the wrong copies serve"
for f in x y z; do
	h=$(sha256sum <"$T/Blib/$site/twice/$f.py" | cut -d' ' -f1)
	row=$(grep "^twice/$f.py," "$B/lib/$site/twice-1.0.dist-info/RECORD")
	[[ $(wc -l <<<"$row") == 1 ]] || fail "RECORD rows for twice/$f.py: $row"
	"$PY" - "$row" "$h" <<'PYEOF' || fail "RECORD row $row: not the serving copy's hash"
import base64, sys
row, h = sys.argv[1], sys.argv[2]
b64 = row.split(",")[1].split("=", 1)[1]
assert base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).hex() == h
PYEOF
done
run_ok "$WHEELFS" uninstall "$B" twice
echo PASS
