# Safety: sluice never destroys or alters a file it does not own. Publishing replaces
# only what sluice published itself, never the flow file, the store or .git; a
# published file is never the store's object; two publications of one path are
# refused; a task's $OUT that points outside is never followed, chmodded or linked.
# Each scenario checks the exit code, the message, and that the user's files are
# byte-identical (same content, inode, mode and link count) afterwards.

# Everything under the current directory but the store and $RUNS: path, type, mode,
# inode, links, size, content. With an argument: the store's objects and views.
snapshot() {
    if [ -n "${1:-}" ]; then
        find "$1/objects" "$1/views"
    else
        find . -mindepth 1 \( -path ./.sluice -o -path "./${SLUICE_STORE#"$T"/}" -o -path ./.runs \) \
            -prune -o -print
    fi | LC_ALL=C sort |
        while IFS= read -r p; do
            if [ -d "$p" ] && [ ! -L "$p" ]; then
                stat -c '%n %F %a %i' "$p"
            else
                printf '%s %s\n' "$(stat -c '%n %F %a %i %h %s' "$p")" \
                    "$([ -f "$p" ] && [ ! -L "$p" ] && sha256sum <"$p" | cut -c1-16)"
            fi
        done
}
assert_untouched() { # SNAPSHOT WHAT [STORE]
    [ "$(snapshot "${3:-}")" = "$1" ] || fail "$2 changed:
$(diff <(echo "$1") <(snapshot "${3:-}"))"
}

# Defect 5: a $OUT replaced by a symbolic link is not followed.
test_a_symlinked_out_is_never_followed() {
    git_repo
    write outside/keep 'precious'
    chmod 644 outside/keep
    echo '{"tasks": {"a": {"run": "rm -rf $OUT && ln -s '"$T"'/outside $OUT"}}}' >flow.json
    before=$(snapshot)
    sl run; assert_rc 1
    assert_out "the task replaced \$OUT with a symbolic link: nothing was stored"
    assert_untouched "$before" "the directory the symlink points at"
    assert_eq "$(find .sluice/objects -type f | wc -l)" 0 "objects"
}

# Defect 5: a hard link in $OUT to a user's file is copied, never chmodded or linked.
test_a_hard_link_in_out_is_copied() {
    git_repo
    write data.txt 'user data'
    chmod 644 data.txt
    echo '{"tasks": {"a": {"run": "ln '"$T"'/data.txt $OUT/d"}, "b": {"run": "cat $IN_a/d >$OUT/c", "after": ["a"]}}}' >flow.json
    before=$(snapshot)
    sl run; assert_rc 0
    assert_untouched "$before" "the user's hard-linked file"
    obj=$(find .sluice/objects -type f | head -n 1)
    [ "$(stat -c %i "$obj")" != "$(stat -c %i data.txt)" ] || fail "data.txt became a store object"
    echo changed >data.txt
    sl verify; assert_rc 0
    assert_eq "$(cat .sluice/views/*/d)" "user data" "the stored output"
}
