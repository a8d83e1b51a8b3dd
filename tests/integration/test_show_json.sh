#!/bin/bash
# test_show_json.sh — `wheelfs show` reports what the view holds: per
# distribution name, version, tree, files, bytes and requested, totals, the
# cache, python, pinned and mounted state; `show --files` lists every view
# path with its type, mode, size, mtime and blob (the blobs exist and hash
# to their names); errors for a venv without a view.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

V=$T/venv
mkvenv "$V"
mapfile -t wheels < <(demo_wheels "$T/w")
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "${wheels[@]}"
run_ok "$WHEELFS" ls --json "$T/cache"
cp "$LAST_OUT" "$T/ls.json"

run_ok "$WHEELFS" show --json "$V"
"$PY" - "$LAST_OUT" "$T/ls.json" "$V" "$(realpath "$T/cache")" "$PYXY" <<'EOF' || fail "show --json: $(cat "$LAST_OUT")"
import json, sys
show = json.load(open(sys.argv[1]))
ls = json.load(open(sys.argv[2]))
venv, cache, py = sys.argv[3:6]
assert show["venv"] == venv, show["venv"]
assert show["cache"] == cache, show["cache"]
assert show["python"] == py and show["pinned"] is False and show["mounted"] is False
dists = show["distributions"]
assert [d["name"] for d in dists] == ["demo_pkg", "other_tool"], dists
assert [d["version"] for d in dists] == ["1.0", "0.5"]
assert all(d["requested"] for d in dists)
# ls reports the same trees, files and bytes.
by_tree = {w["tree"]: w for w in ls}
for d in dists:
    w = by_tree[d["tree"]]
    assert (d["files"], d["bytes"]) == (w["files"], w["size"]), (d, w)
t = show["total"]
assert t["distributions"] == 2
assert t["files"] == sum(d["files"] for d in dists)
assert t["bytes"] == sum(d["bytes"] for d in dists)
EOF

run_ok "$WHEELFS" show "$V"
grep -q '^demo_pkg  *1\.0  *[0-9]' "$LAST_OUT" || fail "show (text): $(cat "$LAST_OUT")"
grep -q '^2 distributions, ' "$LAST_OUT" || fail "show (text) totals"
grep -q "^cache: *$(realpath "$T/cache")" "$LAST_OUT" || fail "show (text) cache"

run_ok "$WHEELFS" show --files --json "$V"
"$PY" - "$LAST_OUT" "$PYXY" <<'EOF' || fail "show --files --json: $(head -c 2000 "$LAST_OUT")"
import json, os, sys
d = json.load(open(sys.argv[1]))
site = f"python{sys.argv[2]}/site-packages"
files = {e["path"]: e for e in d["files"]}
assert files[f"python{sys.argv[2]}"]["type"] == "dir"
e = files[f"{site}/demo_pkg/__init__.py"]
assert e["type"] == "file" and e["mode"] == 0o644 and e["dist"] == "demo_pkg"
assert os.path.getsize(e["blob"]) == e["size"]
assert e["mtime_sec"] > 0
assert f"{site}/pure_mod.py" in files and f"{site}/plat_pkg/__init__.py" in files
assert not any(".data" in p for p in files), "a .data path in the view"
assert f"{site}/demo_pkg-1.0.dist-info/RECORD" not in files, "RECORD in the view"
assert f"{site}/demo_pkg-1.0.dist-info/METADATA" in files
for e in files.values():
    if e["type"] == "file":
        assert os.path.exists(e["blob"]), e
EOF
# Every blob named hashes to its name.
while read -r type mode size mtime blob path; do
	[[ $type == f ]] || continue
	[[ $(xxh "$blob") == "${blob##*/}" ]] || fail "$blob does not hash to its name"
done < <("$WHEELFS" show --files "$V")

run_ok "$WHEELFS" uninstall "$V" other_tool
run_ok "$WHEELFS" show --json "$V"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert [x["name"] for x in d["distributions"]] == ["demo_pkg"] and d["total"]["distributions"] == 1' "$LAST_OUT" ||
	fail "show after uninstall: $(cat "$LAST_OUT")"

mkvenv "$T/empty"
expect_fail_match "no wheelfs view here; run .wheelfs install. or .wheelfs adopt. first" \
	"$WHEELFS" show "$T/empty"
expect_fail_match "no such virtual environment" "$WHEELFS" show "$T/nope"
echo PASS
