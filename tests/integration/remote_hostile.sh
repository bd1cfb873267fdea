# A hostile or broken remote cache (issue 16): whatever a server answers, a run gets
# right outputs (a miss runs the task), writes nothing outside its store, and ends.
# The servers and helpers are remote.sh's; its tests are not run twice from here.
source "$(dirname "${BASH_SOURCE[0]}")/remote.sh"
unset -f $(declare -F | awk '{print $3}' | grep '^test_')

# forge_record KEY MANIFEST: puts on the nginx remote a well-formed record for KEY
# whose manifest is MANIFEST (its digest is right: only the paths are hostile).
forge_record() {
    local digest; digest=$(printf '%s' "$2" | sha256sum | cut -c1-64)
    python3 -c 'import json, sys; print(json.dumps({"sluice_ac": 1, "task": "use", "digest": sys.argv[1], "size": 2, "created": 0, "expires": 0, "manifest": sys.argv[2]}))' \
        "$digest" "$2" >"$T/srv/root/team/ac/$1"
}
use_key() { sqlite3 a/.sluice/sluice.db "select key from entries where task='use' and kind='deep'"; }

# Each symlink on its own stays inside the output when read lexically ("d/up/.." is
# "d"), but d/up is itself a link to "..": followed, e -> the output's parent, e2 ->
# the store, e3 -> the clone. A file under e3 would be written outside the store.
test_remote_manifest_escaping_through_a_chain_of_symlinks_is_a_miss() {
    filled_remote
    local x; x=$(printf 'x\n' | sha256sum | cut -c1-64)
    printf 'x\n' >"$T/srv/root/team/cas/$x"
    forge_record "$(use_key)" "sluice-manifest 1
d d
l .. d/up
l d/up/.. e
l d/up/e/.. e2
l d/up/e2/.. e3
f $x 2 e3/pwned
f $x 2 e2/pwned
f $x 2 e/pwned
"
    git clone -q a b
    (cd b && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "ran 1" && assert_out "its manifest names paths outside the output") || exit 1
    local found; found=$(find "$T" -name pwned -not -path "$T/srv/*")
    [ -z "$found" ] || fail "a remote manifest wrote outside the output: $found"
    diff -r "$(view_of a/.sluice use)" "$(view_of b/.sluice use)" || fail "outputs differ"
}
