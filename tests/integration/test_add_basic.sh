#!/bin/bash
# wheelfs add / ls on one small wheel: layout, blob names and contents, blob
# modes, ls and ls --json, idempotent re-add, and an unpacked wheel directory.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
W=$(mkwheel --out "$T/in" --name demo --version 1.0 \
	--file demo/__init__.py=$'from .core import main\n' \
	--file demo/core.py=$'def main():\n    print("hello")\n' \
	--file demo/sub/__init__.py= \
	--file demo/sub/mod.py=$'VALUE = 42\n' \
	--file demo/run.sh=$'#!/bin/sh\necho run\n' --exec demo/run.sh \
	--entry-point console_scripts:demo=demo.core:main)

# add: exit 0, one summary line on stdout.
run_ok "$WHEELFS" add "$C" "$W"
[[ $(wc -l <"$LAST_OUT") == 1 ]] || fail "summary is not one line: $(cat "$LAST_OUT")"
grep -Eq '(^|[^0-9])1 wheel' "$LAST_OUT" || fail "summary does not say 1 wheel: $(cat "$LAST_OUT")"
echo "summary: $(cat "$LAST_OUT")"

# Layout.
[[ -d $C/blobs && -d $C/trees ]] || fail "cache has no blobs/ or trees/: $(ls -A "$C")"
[[ $(count_trees "$C") == 1 ]] || fail "expected 1 tree, got $(ls "$C/trees")"
tree=$(basename "$C"/trees/*.tree .tree)
[[ $tree =~ ^[0-9a-f]{32}$ ]] || fail "tree not named <32hex>.tree: $tree"
check_blobs "$C"

# Every file of the wheel is a blob with the same content, mode 0444.
X=$T/x
unpack_wheel "$W" "$X"
nfiles=0
size=0
while IFS= read -r -d '' f; do
	b=$(blob_of "$f" "$C")
	[[ -f $b ]] || fail "no blob for ${f#"$X"/} (expected $b)"
	cmp -s "$f" "$b" || fail "blob $b differs from ${f#"$X"/}"
	nfiles=$((nfiles + 1))
	size=$((size + $(stat -c %s "$f")))
done < <(find "$X" -type f -print0)
[[ $nfiles == 9 ]] || fail "expected 9 files in the wheel, found $nfiles"
bad=$(find "$C/blobs" -type f ! -perm 0444)
[[ -z $bad ]] || fail "blobs not mode 0444: $(stat -c '%a %n' $bad)"
# distinct contents: the empty sub/__init__.py is the only possible repeat
[[ $(count_blobs "$C") == "$(find "$X" -type f -exec xxh128sum {} + | cut -d' ' -f1 | sort -u | wc -l)" ]] ||
	fail "blob count $(count_blobs "$C") is not the number of distinct contents"

# ls: one line with name, version and tags.
run_ok "$WHEELFS" ls "$C"
[[ $(wc -l <"$LAST_OUT") == 1 ]] || fail "ls: expected one line: $(cat "$LAST_OUT")"
read -r l_name l_version l_tags _ <"$LAST_OUT"
[[ $l_name == demo && $l_version == 1.0 && $l_tags == py3-none-any ]] ||
	fail "ls: expected 'demo 1.0 py3-none-any ...', got: $(cat "$LAST_OUT")"

# ls --json: an array of one object with the contract's keys and values.
run_ok "$WHEELFS" ls --json "$C"
"$PY" - "$LAST_OUT" "$nfiles" "$size" "$tree" <<'EOF' || fail "ls --json: $(cat "$LAST_OUT")"
import json, sys
out, nfiles, size, tree = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(out) as f:
    data = json.load(f)
assert isinstance(data, list) and len(data) == 1, data
w = data[0]
for k in ("name", "version", "tags", "files", "size", "tree"):
    assert k in w, f"missing key {k}: {w}"
assert (w["name"], w["version"], w["tags"]) == ("demo", "1.0", "py3-none-any"), w
assert w["files"] == nfiles, f"files {w['files']} != {nfiles}"
assert w["size"] == size, f"size {w['size']} != {size}"
assert w["tree"] == tree, f"tree {w['tree']} != {tree}"
EOF

# Adding the same wheel again changes nothing in the cache.
before=$(tree_snapshot "$C")
run_ok "$WHEELFS" add "$C" "$W"
after=$(tree_snapshot "$C")
if [[ $before != "$after" ]]; then
	diff <(echo "$before") <(echo "$after") >&2 || true
	fail "re-adding the same wheel changed the cache"
fi
run_ok "$WHEELFS" ls "$C"
[[ $(wc -l <"$LAST_OUT") == 1 ]] || fail "ls after re-add: $(cat "$LAST_OUT")"
check_blobs "$C"

# An unpacked wheel directory gives the same blobs.
C2=$T/cache2
run_ok "$WHEELFS" add "$C2" "$X"
grep -Eq '(^|[^0-9])1 wheel' "$LAST_OUT" || fail "summary does not say 1 wheel: $(cat "$LAST_OUT")"
check_blobs "$C2"
[[ $(cd "$C/blobs" && find . -type f | sort) == "$(cd "$C2/blobs" && find . -type f | sort)" ]] ||
	fail "the unpacked directory gave different blobs than the wheel"
run_ok "$WHEELFS" ls "$C2"
read -r l_name l_version l_tags _ <"$LAST_OUT"
[[ $l_name == demo && $l_version == 1.0 && $l_tags == py3-none-any ]] ||
	fail "ls (directory source): got: $(cat "$LAST_OUT")"
echo "ok"
