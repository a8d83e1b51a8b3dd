#!/bin/bash
# Symlinks that stay inside the wheel are accepted whether or not the zip has
# explicit directory entries (the wheel tool writes none): a directory that
# is only implied by the paths under it is a name the wheel has, so ".."
# after it, or a chain of symlinks through it, is not refused.  The same
# wheel unpacked gives the same tree.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for de in "" --dir-entries; do
	out=$T/in${de:+-dirs}
	W=$(mkwheel --out "$out" --name demo --version 1.0 $de \
		--file demo/__init__.py= \
		--file demo/c/real.py=$'X = 1\n' \
		--symlink demo/b/link2=../c/real.py \
		--symlink demo/a/link1=../b/link2 \
		--symlink demo/link3=c/../c/real.py)
	C=$T/cache${de:+-dirs}
	run_ok "$WHEELFS" add "$C" "$W"
	grep -Eq '(^|[^0-9])1 wheel' "$LAST_OUT" || fail "${de:-no dir entries}: $(cat "$LAST_OUT")"
	[[ $(count_trees "$C") == 1 ]] || fail "${de:-no dir entries}: no tree"
	echo "ok: ${de:-no dir entries}: $(cat "$LAST_OUT")"
done

# The unpacked wheel (every directory explicit) gives the same tree as the
# .whl without directory entries.
X=$T/x
mkdir -p "$X"
(cd "$X" && "$PY" -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        if i.is_dir():
            continue
        os.makedirs(os.path.dirname(i.filename) or ".", exist_ok=True)
        if (i.external_attr >> 16) & 0o170000 == 0o120000:
            os.symlink(z.read(i).decode(), i.filename)
        else:
            with open(i.filename, "wb") as f:
                f.write(z.read(i))
' "$T/in/demo-1.0-py3-none-any.whl")
run_ok "$WHEELFS" add "$T/cache-x" "$X"
[[ $(count_trees "$T/cache-x") == 1 ]] || fail "unpacked: no tree"
echo "ok"
