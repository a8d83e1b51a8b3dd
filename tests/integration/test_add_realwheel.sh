#!/bin/bash
# Real wheels (Debian's bundled pip and setuptools): they add cleanly, every
# blob is valid, every file is stored, and ls counts every non-directory
# entry of the zip.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wheels=()
for w in /usr/share/python-wheels/pip-*.whl /usr/share/python-wheels/setuptools-*.whl; do
	[[ -f $w ]] && wheels+=("$w")
done
((${#wheels[@]} > 0)) || skip "no pip or setuptools wheel in /usr/share/python-wheels (apt-get install python3-pip-whl python3-setuptools-whl)"
((${#wheels[@]} == 2)) || echo "note: only ${wheels[*]} present"

C=$T/cache
run_ok "$WHEELFS" add "$C" "${wheels[@]}"
echo "summary: $(cat "$LAST_OUT")"
grep -Eq "(^|[^0-9])${#wheels[@]} wheels?" "$LAST_OUT" || fail "summary: $(cat "$LAST_OUT")"
check_blobs "$C"
[[ $(count_trees "$C") == "${#wheels[@]}" ]] || fail "expected ${#wheels[@]} trees: $(ls "$C/trees")"

run_ok "$WHEELFS" ls --json "$C"
cp "$LAST_OUT" "$T/ls.json"
"$PY" - "$T/ls.json" "$C" "${wheels[@]}" <<'PYEOF' || fail "ls --json does not match the wheels: $(cat "$T/ls.json")"
import json, os, subprocess, sys, zipfile
lsfile, cache, wheels = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(lsfile) as f:
    listed = json.load(f)
assert len(listed) == len(wheels), f"{len(listed)} listed, {len(wheels)} added"
by_name = {(w["name"], w["version"]): w for w in listed}
for path in wheels:
    name, version, tags = os.path.basename(path)[:-4].split("-", 2)
    w = by_name.get((name, version))
    assert w, f"{name} {version} not listed"
    assert w["tags"] == tags, f"{name}: tags {w['tags']} != {tags}"
    with zipfile.ZipFile(path) as zf:
        files = [i for i in zf.infolist() if not i.is_dir()]
        assert w["files"] == len(files), f"{name}: files {w['files']} != {len(files)}"
        size = sum(i.file_size for i in files)
        assert w["size"] == size, f"{name}: size {w['size']} != {size}"
        # every file's content is a blob (hashed independently by xxh128sum)
        tmp = os.path.join(os.path.dirname(lsfile), "content", name)
        os.makedirs(tmp)
        paths = []
        for n, i in enumerate(files):
            paths.append(os.path.join(tmp, str(n)))
            with open(paths[-1], "wb") as f:
                f.write(zf.read(i))
        out = subprocess.run(["xxh128sum", *paths], capture_output=True,
                             text=True, check=True).stdout.splitlines()
        assert len(out) == len(files), out
        for line, i, p in zip(out, files, paths):
            h = line.split()[0]
            with open(os.path.join(cache, "blobs", h[:2], h), "rb") as f, \
                 open(p, "rb") as g:
                assert f.read() == g.read(), f"{name}: blob {h} differs from {i.filename}"
    print(f"{name} {version}: {len(files)} files, {size} bytes, all blobs present")
PYEOF

run_ok "$WHEELFS" ls "$C"
cat "$LAST_OUT"
[[ $(wc -l <"$LAST_OUT") == "${#wheels[@]}" ]] || fail "ls: expected ${#wheels[@]} lines"
echo "ok"
