#!/bin/bash
# Two versions of a wheel sharing most files: the second add stores only the
# contents that changed, and its summary reports deduplicated bytes.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
common=()
for i in 1 2 3 4 5; do
	common+=(--file-size "demo/m$i.py=8192:m$i")
done
W1=$(mkwheel --out "$T/in" --name demo --version 1.0 "${common[@]}" \
	--file demo/__init__.py=$'VERSION = "1.0"\n' \
	--file-size demo/changed.py=8192:v1)
W2=$(mkwheel --out "$T/in" --name demo --version 2.0 "${common[@]}" \
	--file demo/__init__.py=$'VERSION = "2.0"\n' \
	--file-size demo/changed.py=8192:v2 \
	--file-size demo/added.py=4096:v2)

run_ok "$WHEELFS" add "$C" "$W1"
echo "first:  $(cat "$LAST_OUT")"
n1=$(count_blobs "$C")

# The blobs the second wheel needs that the first did not provide.
unpack_wheel "$W2" "$T/x2"
expected_new=0
while IFS= read -r h; do
	[[ -f $C/blobs/${h:0:2}/$h ]] || expected_new=$((expected_new + 1))
done < <(find "$T/x2" -type f -exec xxh128sum {} + | cut -d' ' -f1 | sort -u)
# __init__.py, changed.py, added.py, METADATA and RECORD differ; WHEEL and
# the five m*.py are shared.
[[ $expected_new == 5 ]] || fail "test setup: expected 5 new contents, computed $expected_new"

run_ok "$WHEELFS" add "$C" "$W2"
summary=$(cat "$LAST_OUT")
echo "second: $summary"
[[ $(wc -l <"$LAST_OUT") == 1 ]] || fail "summary is not one line: $summary"
grep -Eq '(^|[^0-9])1 wheel' "$LAST_OUT" || fail "summary does not say 1 wheel: $summary"
n2=$(count_blobs "$C")
[[ $n2 == $((n1 + expected_new)) ]] ||
	fail "blob count went from $n1 to $n2, expected +$expected_new"
check_blobs "$C"

# "<number> <unit> deduplicated", number > 0 (5 x 8 KiB shared at least).
"$PY" - "$summary" <<'EOF' || fail "summary does not report deduplicated bytes > 0: $summary"
import re, sys
m = re.search(r"([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B|bytes?)?\s+dedup", sys.argv[1], re.I)
assert m, "no '<n> <unit> deduplicated' in the summary"
assert float(m.group(1)) > 0, f"deduplicated is {m.group(0)}"
EOF

# ls shows both versions, once each.
run_ok "$WHEELFS" ls "$C"
[[ $(wc -l <"$LAST_OUT") == 2 ]] || fail "ls: expected 2 lines: $(cat "$LAST_OUT")"
[[ $(awk '$1 == "demo" && $2 == "1.0"' "$LAST_OUT" | wc -l) == 1 ]] || fail "ls: no demo 1.0: $(cat "$LAST_OUT")"
[[ $(awk '$1 == "demo" && $2 == "2.0"' "$LAST_OUT" | wc -l) == 1 ]] || fail "ls: no demo 2.0: $(cat "$LAST_OUT")"
[[ $(count_trees "$C") == 2 ]] || fail "expected 2 trees: $(ls "$C/trees")"
echo "ok"
