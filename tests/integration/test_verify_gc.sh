#!/bin/bash
# verify finds a corrupted blob and --repair removes it; adding the wheel
# again restores it, and a damaged tree too; a blob directory that cannot
# be opened fails verify; gc removes only
# blobs no tree names; gc --prune with no live view empties the cache.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
W=$(mkwheel --out "$T/in" --name demo --version 1.0 \
	--file demo/__init__.py='x = 1' --file-size demo/big.py=20000:s)
run_ok "$WHEELFS" add "$C" "$W"
[ -n "$(ls -A "$C/wheels")" ] || fail "add did not fill the wheel index"
run_ok "$WHEELFS" verify "$C"
grep -q "0 corrupt blobs" "$LAST_OUT" || fail "verify summary: $(cat "$LAST_OUT")"

# An orphan blob (valid content, named by no tree) goes on gc.
echo orphan > "$T/orphan"
h=$(xxh "$T/orphan")
mkdir -p "$C/blobs/${h:0:2}"
cp "$T/orphan" "$C/blobs/${h:0:2}/$h"
n=$(count_blobs "$C")
run_ok "$WHEELFS" gc --dry-run "$C"
[ "$(count_blobs "$C")" = "$n" ] || fail "gc --dry-run removed something"
run_ok "$WHEELFS" gc "$C"
[ -e "$C/blobs/${h:0:2}/$h" ] && fail "gc kept an orphan blob"
[ "$(count_blobs "$C")" = $((n - 1)) ] || fail "gc removed a needed blob"
[ "$(count_trees "$C")" = 1 ] || fail "gc without --prune removed a tree"
check_blobs "$C"

# Corrupt one blob: verify names it and fails; --repair removes it.
unpack_wheel "$W" "$T/x"
blob=$(blob_of "$T/x/demo/big.py" "$C")
chmod u+w "$blob"
printf 'tampered' >> "$blob"
expect_fail_match "$(basename "$blob"): content does not match" "$WHEELFS" verify "$C"
expect_fail_match "removed" "$WHEELFS" verify --repair "$C"
[ -e "$blob" ] && fail "verify --repair kept the corrupt blob"
expect_fail_match "is missing" "$WHEELFS" verify "$C"
# Adding the wheel again restores it.
run_ok "$WHEELFS" add "$C" "$W"
run_ok "$WHEELFS" verify "$C"

# A damaged tree: verify names it, and adding the wheel again writes it
# anew (it kept the damaged file, so add succeeded and install failed).
tree=$(ls "$C"/trees/*.tree)
chmod u+w "$tree"
printf 'X' | dd of="$tree" bs=1 seek=80 conv=notrunc status=none
expect_fail_match "$(basename "$tree" .tree): content does not match its name \(add its wheel again\)" \
	"$WHEELFS" verify --repair "$C"
[ -e "$tree" ] || fail "verify --repair removed a damaged tree"
expect_fail_match "content does not match" "$WHEELFS" ls "$C"
run_ok "$WHEELFS" add "$C" "$W"
run_ok "$WHEELFS" verify "$C"
grep -q "0 unreadable trees" "$LAST_OUT" || fail "the tree is still damaged: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" ls "$C"
# A tree cut short too.
chmod u+w "$tree"
truncate -s 100 "$tree"
expect_fail_match "truncated or oversized" "$WHEELFS" verify "$C"
run_ok "$WHEELFS" add "$C" "$W"
run_ok "$WHEELFS" verify "$C"
[ -z "$(ls -A "$C/tmp")" ] || fail "add left temp files: $(ls -A "$C/tmp")"

# A blobs/xx directory verify cannot open is an error naming it and why,
# and verify fails (it skipped it without a word and reported success);
# gc names it too and frees nothing there.
fan=$(ls "$C/blobs" | head -n 1)
mv "$C/blobs/$fan" "$T/fan"
touch "$C/blobs/$fan"
expect_fail_match "^wheelfs: $C/blobs/$fan: cannot open: Not a directory\$" "$WHEELFS" verify "$C"
[[ $LAST_RC == 1 ]] || fail "verify exited $LAST_RC with an unreadable blob directory"
grep -q "1 unreadable blob directories" "$LAST_OUT" || fail "verify summary: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" gc "$C"
grep -q "^wheelfs: $C/blobs/$fan: cannot open: Not a directory; its blobs are not swept\$" "$LAST_ERR" ||
	fail "gc did not name the directory: $(cat "$LAST_ERR")"
rm "$C/blobs/$fan"
mv "$T/fan" "$C/blobs/$fan"
run_ok "$WHEELFS" verify "$C"

# No view uses the cache: --prune drops the tree and then every blob.
run_ok "$WHEELFS" gc --prune "$C"
[ "$(count_trees "$C")" = 0 ] || fail "gc --prune kept an unused tree"
[ "$(count_blobs "$C")" = 0 ] || fail "gc --prune kept blobs of no tree"
[ -z "$(ls -A "$C/wheels" 2>/dev/null)" ] || fail "gc --prune kept index entries of removed trees"
echo ok
