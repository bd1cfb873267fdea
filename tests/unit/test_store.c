/* Store: outputs become objects + a manifest; the digest depends on bytes only. */
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "t.h"

static struct store *open_store(void)
{
    char *root = path_join(t_tmpdir(), "store");
    struct store *s = NULL;
    struct err e;
    if (store_open(root, &s, &e))
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    free(root);
    return s;
}

/* Makes a scratch OUT with two files and a subdirectory; returns its path. */
static char *make_output(struct store *s, const char *key, const char *content)
{
    char *out;
    struct err e;
    if (store_scratch(s, key, &out, &e))
        return NULL;
    char *a = xasprintf("%s/a.txt", out), *sub = xasprintf("%s/sub", out);
    char *b = xasprintf("%s/sub/b.txt", out);
    mkdir(sub, 0755);
    FILE *f = fopen(a, "w");
    fputs(content, f);
    fclose(f);
    f = fopen(b, "w");
    fputs("b\n", f);
    fclose(f);
    free(a);
    free(b);
    free(sub);
    return out;
}

TEST(store_digest_depends_on_bytes_not_time_or_place)
{
    struct store *s = open_store();
    REQUIRE(s);
    struct output a, b, c;
    struct err e;
    char *o1 = make_output(s, "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", "same\n");
    REQUIRE(o1 && store_ingest(s, o1, &a, &e) == 0);
    CHECK(a.size == 7);
    CHECK_CONTAINS(a.manifest, " 5 a.txt\nd sub\nf ");
    sleep(1);
    char *o2 = make_output(s, "k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2", "same\n");
    REQUIRE(o2 && store_ingest(s, o2, &b, &e) == 0);
    CHECK_STR(a.digest, b.digest);
    char *o3 = make_output(s, "k3k3k3k3k3k3k3k3k3k3k3k3k3k3k3k3k3", "different\n");
    REQUIRE(o3 && store_ingest(s, o3, &c, &e) == 0);
    CHECK(strcmp(a.digest, c.digest) != 0);
    CHECK(store_has_output(s, a.digest, NULL));
    CHECK(store_sync(s, &e) == 0);
    output_free(&a);
    output_free(&b);
    output_free(&c);
    free(o1);
    free(o2);
    free(o3);
    store_close(s);
}

TEST(store_view_is_read_only_and_rebuilt_from_objects)
{
    struct store *s = open_store();
    REQUIRE(s);
    struct output out;
    struct err e;
    char *o = make_output(s, "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", "content\n");
    REQUIRE(o && store_ingest(s, o, &out, &e) == 0);
    const char *d = out.digest;
    char *view = store_view(s, d, NULL, &e);
    REQUIRE(view);
    char *a = xasprintf("%s/a.txt", view);
    struct stat st;
    REQUIRE(stat(a, &st) == 0);
    CHECK((st.st_mode & 0222) == 0);
    CHECK(st.st_nlink >= 2); /* a hard link to the object */
    /* Lose the view: it comes back from the manifest and objects. */
    REQUIRE(remove_tree(view, &e) == 0);
    free(view);
    CHECK(store_view(s, d, NULL, &e) == NULL); /* no manifest, no view */
    view = store_view(s, d, out.manifest, &e);
    REQUIRE(view);
    size_t len;
    char *text = file_read_all(a, &len, &e);
    CHECK_STR(text, "content\n");
    free(text);
    /* A truncated object makes the output unusable, not silently wrong. */
    remove_tree(view, &e);
    char digest[HASH_HEX];
    hash_bytes("content\n", 8, digest);
    char *obj = store_object_path(s, digest);
    REQUIRE(obj);
    chmod(obj, 0644);
    truncate(obj, 3);
    CHECK(!store_has_output(s, d, out.manifest));
    char *again = store_view(s, d, out.manifest, &e);
    CHECK(again == NULL);
    CHECK_CONTAINS(e.msg, "missing or truncated");
    free(again);
    free(obj);
    free(a);
    free(view);
    free(o);
    output_free(&out);
    store_close(s);
}

TEST(store_refuses_symlinks_leaving_out)
{
    struct store *s = open_store();
    REQUIRE(s);
    char *out;
    struct err e;
    REQUIRE(store_scratch(s, "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", &out, &e) == 0);
    char *l = xasprintf("%s/evil", out);
    REQUIRE(symlink("/etc/passwd", l) == 0);
    struct output o;
    CHECK(store_ingest(s, out, &o, &e) != 0);
    output_free(&o);
    CHECK_CONTAINS(e.msg, "symlink to /etc/passwd, outside $OUT");
    free(l);
    free(out);
    store_close(s);
}

static void count_file(void *ctx, const struct store_file *f)
{
    (void)f;
    ++*(int *)ctx;
}

/* A manifest is read back exactly or refused: an escape cut short at the end of a
 * path ("a%4" then the newline) must not take the delimiter as its second digit. */
TEST(store_manifest_with_a_broken_escape_is_malformed)
{
    static const char *const digest =
        "0000000000000000000000000000000000000000000000000000000000000000";
    char *good = xasprintf("sluice-manifest 1\nf %s 1 a%%20b\n", digest);
    int n = 0;
    CHECK(store_manifest_each(good, count_file, &n) == 0);
    CHECK(n == 1);
    struct strv paths = {0};
    store_manifest_files(good, &paths);
    REQUIRE(paths.n == 1);
    CHECK_STR(paths.v[0], "a b");
    strv_free(&paths);
    const char *const bad[] = {"a%4", "a%", "a%zz", "a%4\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *m = xasprintf("sluice-manifest 1\nf %s 1 %s\n", digest, bad[i]);
        n = 0;
        if (store_manifest_each(m, count_file, &n) != -1)
            t_fail(__FILE__, __LINE__, "manifest path %s was accepted (%d files)", bad[i], n);
        free(m);
    }
    free(good);
}

/* Sets dir's mode to 0755 so a test can alter what is in it. */
static void writable(const char *view, const char *rel)
{
    char *p = rel ? path_join(view, rel) : xstrdup(view);
    chmod(p, 0755);
    free(p);
}

static void put_file(const char *view, const char *rel, const char *content)
{
    char *p = path_join(view, rel);
    unlink(p);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    free(p);
}

/* How many differences store_view_check() finds, the first in *first (caller frees). */
static size_t view_diffs(struct store *s, const struct output *o, char **first)
{
    struct strv d = {0};
    CHECK(store_view_check(s, o->digest, o->manifest, 10, &d) == 0);
    size_t n = d.n;
    *first = n ? xstrdup(d.v[0]) : xstrdup("");
    strv_free(&d);
    return n;
}

/* A manifest from a remote names what sluice writes under a view: nothing may leave it. */
TEST(store_manifest_check_refuses_paths_leaving_the_output)
{
    static const char *const digest =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char *good = xasprintf("sluice-manifest 1\nd sub\nf %s 1 sub/a\nl a l\n", digest);
    struct err e;
    CHECK(store_manifest_check(good, &e) == 0);
    free(good);
    const char *const bad_paths[] = {"../a", "/etc/passwd", "a/../../b", "./a", "a//b", ".",
                                     "sub/.."};
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        char *m = xasprintf("sluice-manifest 1\nf %s 1 %s\n", digest, bad_paths[i]);
        if (store_manifest_check(m, &e) == 0)
            t_fail(__FILE__, __LINE__, "manifest path %s was accepted", bad_paths[i]);
        free(m);
    }
    const char *const bad[] = {
        "sluice-manifest 1\nl ../../etc x\n", "sluice-manifest 1\nl /etc x\n",
        "sluice-manifest 1\nf ../../../../../../../../../../../../../../../../../../../../../../tmp/e 1 x\n",
        "sluice-manifest 1\nf 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef 1 x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (store_manifest_check(bad[i], &e) == 0)
            t_fail(__FILE__, __LINE__, "manifest %s was accepted", bad[i]);
}

TEST(store_view_check_sees_extra_replaced_and_missing_entries_and_store_view_rebuilds)
{
    struct store *s = open_store();
    REQUIRE(s);
    struct output out;
    struct err e;
    char *o = make_output(s, "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", "content\n");
    REQUIRE(o && store_ingest(s, o, &out, &e) == 0);
    char *view = store_view(s, out.digest, out.manifest, &e);
    REQUIRE(view);
    char *first;
    CHECK(view_diffs(s, &out, &first) == 0);
    free(first);
    /* An extra file, directory and symlink. */
    writable(view, NULL);
    writable(view, "sub");
    put_file(view, "sub/planted", "x");
    char *d = path_join(view, "dir"), *l = path_join(view, "link");
    mkdir(d, 0755);
    CHECK(symlink("a.txt", l) == 0);
    CHECK(view_diffs(s, &out, &first) == 3);
    free(first);
    CHECK(store_has_output(s, out.digest, NULL));         /* the directory is there */
    CHECK(store_has_output(s, out.digest, out.manifest));  /* by its objects */
    /* store_view() hands out only a view that matches: it rebuilds this one. */
    char *again = store_view(s, out.digest, out.manifest, &e);
    REQUIRE(again);
    CHECK(view_diffs(s, &out, &first) == 0);
    free(first);
    /* A file replaced by another with the same size is not the stored object. */
    writable(view, NULL);
    put_file(view, "a.txt", "CONTENT\n");
    CHECK(view_diffs(s, &out, &first) == 1);
    CHECK_CONTAINS(first, "a.txt was replaced");
    free(first);
    free(store_view(s, out.digest, out.manifest, &e));
    /* A missing file. */
    writable(view, "sub");
    char *b = path_join(view, "sub/b.txt"), *a = path_join(view, "a.txt");
    unlink(b);
    CHECK(view_diffs(s, &out, &first) == 1);
    CHECK_CONTAINS(first, "sub/b.txt is missing");
    free(first);
    free(store_view(s, out.digest, out.manifest, &e));
    /* Rebuilt directories are read-only, like ingested ones. */
    struct stat st;
    char *sub = path_join(view, "sub");
    CHECK(lstat(sub, &st) == 0 && (st.st_mode & 0222) == 0);
    free(sub);
    free(a);
    free(b);
    free(d);
    free(l);
    free(again);
    free(view);
    free(o);
    output_free(&out);
    store_close(s);
}
