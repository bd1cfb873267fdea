/* Fingerprints: the index fast path, modified, untracked and racily clean files. */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "db.h"
#include "fingerprint.h"
#include "t.h"

/* `git` output of a command run in the temp dir (first line). */
static void git_out(const char *cmd, char *out, size_t n)
{
    char *full = xasprintf("cd '%s' && %s", t_tmpdir(), cmd);
    FILE *p = popen(full, "r");
    free(full);
    out[0] = 0;
    if (p && fgets(out, (int)n, p))
        out[strcspn(out, "\n")] = 0;
    if (p)
        pclose(p);
}

static void set_mtime(const char *rel, time_t when)
{
    char *path = path_join(t_tmpdir(), rel);
    struct timespec ts[2] = {{when, 0}, {when, 0}};
    utimensat(AT_FDCWD, path, ts, 0);
    free(path);
}

static int init_repo(void)
{
    return t_sh("git init -q . && git config user.email t@t && git config user.name t");
}

TEST(fingerprint_clean_tracked_file_comes_from_the_index)
{
    REQUIRE(init_repo() == 0);
    t_write("src/a.py", "print('a')\n");
    set_mtime("src/a.py", time(NULL) - 100);
    REQUIRE(t_sh("git add src/a.py") == 0);
    char want[64];
    git_out("git rev-parse :src/a.py", want, sizeof want);
    struct fingerprint *fp;
    struct err e;
    REQUIRE(fingerprint_open(t_tmpdir(), NULL, &fp, &e) == 0);
    CHECK(fingerprint_in_git(fp));
    const struct code_fp *c;
    REQUIRE(fingerprint_file(fp, t_tmpdir(), "src/a.py", &c, &e) == 0);
    CHECK_STR(c->blob, want);
    CHECK_STR(c->repo_path, "src/a.py");
    CHECK(c->clean);
    CHECK(fingerprint_hashed(fp) == 0);
    fingerprint_close(fp);
}

TEST(fingerprint_modified_and_untracked_files_are_hashed)
{
    REQUIRE(init_repo() == 0);
    t_write("a.py", "one\n");
    set_mtime("a.py", time(NULL) - 100);
    REQUIRE(t_sh("git add a.py") == 0);
    t_write("a.py", "two, longer\n");
    t_write("new.py", "untracked\n");
    char want_mod[64], want_new[64];
    git_out("git hash-object --no-filters a.py", want_mod, sizeof want_mod);
    git_out("git hash-object --no-filters new.py", want_new, sizeof want_new);
    struct fingerprint *fp;
    struct err e;
    REQUIRE(fingerprint_open(t_tmpdir(), NULL, &fp, &e) == 0);
    const struct code_fp *c;
    REQUIRE(fingerprint_file(fp, t_tmpdir(), "a.py", &c, &e) == 0);
    CHECK_STR(c->blob, want_mod);
    CHECK(!c->clean);
    REQUIRE(fingerprint_file(fp, t_tmpdir(), "new.py", &c, &e) == 0);
    CHECK_STR(c->blob, want_new);
    CHECK(!c->clean);
    CHECK(fingerprint_hashed(fp) == 2);
    fingerprint_close(fp);
}

TEST(fingerprint_racily_clean_entry_is_hashed)
{
    REQUIRE(init_repo() == 0);
    /* The file's mtime is not older than the index file: git cannot trust the stat
     * data, because a same-size rewrite in the same instant would look unchanged. */
    time_t future = time(NULL) + 1000;
    t_write("a.py", "AAAA\n");
    set_mtime("a.py", future);
    REQUIRE(t_sh("git add a.py") == 0);
    char *path = path_join(t_tmpdir(), "a.py");
    FILE *f = fopen(path, "r+"); /* same inode, same size, new content */
    REQUIRE(f);
    fputs("BBBB\n", f);
    fclose(f);
    free(path);
    set_mtime("a.py", future);
    char index_id[64], real_id[64];
    git_out("git ls-files -s a.py | cut -d' ' -f2", index_id, sizeof index_id);
    git_out("git hash-object --no-filters a.py", real_id, sizeof real_id);
    REQUIRE(strcmp(index_id, real_id) != 0);
    struct fingerprint *fp;
    struct err e;
    REQUIRE(fingerprint_open(t_tmpdir(), NULL, &fp, &e) == 0);
    const struct code_fp *c;
    REQUIRE(fingerprint_file(fp, t_tmpdir(), "a.py", &c, &e) == 0);
    CHECK_STR(c->blob, real_id);
    CHECK(fingerprint_hashed(fp) == 1);
    fingerprint_close(fp);
}

TEST(fingerprint_outside_git_hashes_like_git)
{
    t_write("x.sh", "echo x\n");
    struct fingerprint *fp;
    struct err e;
    REQUIRE(fingerprint_open(t_tmpdir(), NULL, &fp, &e) == 0);
    CHECK(!fingerprint_in_git(fp));
    CHECK(fingerprint_head(fp) == NULL);
    const struct code_fp *c;
    REQUIRE(fingerprint_file(fp, t_tmpdir(), "x.sh", &c, &e) == 0);
    /* `printf 'echo x\n' | git hash-object --stdin` */
    CHECK_STR(c->blob, "67b376aa664bb8bf3648f68d68bf4e1f12661f04");
    CHECK(c->repo_path == NULL);
    fingerprint_close(fp);
}

/* Fingerprints "a.py" with the store's cache; returns the blob, reports git use. */
static void fp_cached(struct db *db, char blob[BLOB_HEX], bool *used_git, const char **head)
{
    struct fingerprint *fp;
    struct err e;
    const struct code_fp *c;
    blob[0] = 0;
    if (fingerprint_open(t_tmpdir(), db, &fp, &e) != 0 || fingerprint_file(fp, t_tmpdir(), "a.py", &c, &e) != 0)
        return;
    memcpy(blob, c->blob, BLOB_HEX);
    static char h[BLOB_HEX];
    snprintf(h, sizeof h, "%s", fingerprint_head(fp) ? fingerprint_head(fp) : "");
    *head = h;
    *used_git = fingerprint_used_git(fp);
    fingerprint_save(fp);
    fingerprint_close(fp);
}

TEST(fingerprint_store_cache_skips_git_until_something_changes)
{
    REQUIRE(init_repo() == 0);
    t_write("a.py", "one\n");
    set_mtime("a.py", time(NULL) - 100);
    REQUIRE(t_sh("git add a.py && git commit -qm one") == 0);
    char *dbp = path_join(t_tmpdir(), "cache.db");
    struct db *db;
    struct err e;
    REQUIRE(db_open(dbp, &db, &e) == 0);
    char blob[BLOB_HEX], head1[BLOB_HEX], want[64];
    const char *head;
    bool used;
    git_out("git rev-parse HEAD:a.py", want, sizeof want);
    fp_cached(db, blob, &used, &head);
    CHECK_STR(blob, want);
    CHECK(used);
    snprintf(head1, sizeof head1, "%s", head);
    fp_cached(db, blob, &used, &head); /* nothing changed: no libgit2 at all */
    CHECK_STR(blob, want);
    CHECK(!used);
    CHECK_STR(head, head1);
    t_write("a.py", "two, longer\n"); /* the file changes */
    set_mtime("a.py", time(NULL) - 50); /* old enough for its hash to be cached ... */
    REQUIRE(t_sh("sleep 2.1") == 0); /* ... and so must its ctime be, which no call sets */
    git_out("git hash-object --no-filters a.py", want, sizeof want);
    fp_cached(db, blob, &used, &head);
    CHECK_STR(blob, want);
    CHECK(used);
    fp_cached(db, blob, &used, &head);
    CHECK(!used);
    REQUIRE(t_sh("git commit -qam two") == 0); /* the index and HEAD change */
    fp_cached(db, blob, &used, &head);
    CHECK_STR(blob, want);
    CHECK(used);
    CHECK(strcmp(head, head1) != 0);
    db_close(db);
    free(dbp);
}

/* Fingerprints f0.py .. f99.py with the store's cache into blobs; reports git use. */
static void fp_many(struct db *db, char blobs[][BLOB_HEX], bool *used_git, size_t *hashed)
{
    struct fingerprint *fp;
    struct err e;
    REQUIRE(fingerprint_open(t_tmpdir(), db, &fp, &e) == 0);
    for (int i = 0; i < 100; i++) {
        char rel[16];
        snprintf(rel, sizeof rel, "f%d.py", i);
        const struct code_fp *c;
        blobs[i][0] = 0;
        if (fingerprint_file(fp, t_tmpdir(), rel, &c, &e) == 0)
            memcpy(blobs[i], c->blob, BLOB_HEX);
    }
    *used_git = fingerprint_used_git(fp);
    *hashed = fingerprint_hashed(fp);
    fingerprint_save(fp);
    fingerprint_close(fp);
}

/* Past 64 files the store's records are read in one query: a changed file among them
 * is still seen (the 100th, read from that batch). */
TEST(fingerprint_store_cache_read_in_one_batch_still_sees_a_change)
{
    REQUIRE(init_repo() == 0);
    for (int i = 0; i < 100; i++) {
        char rel[16], text[32];
        snprintf(rel, sizeof rel, "f%d.py", i);
        snprintf(text, sizeof text, "file %d\n", i);
        t_write(rel, text);
        set_mtime(rel, time(NULL) - 100);
    }
    REQUIRE(t_sh("git add . && git commit -qm many") == 0);
    char *dbp = path_join(t_tmpdir(), ".cache.db");
    struct db *db;
    struct err e;
    REQUIRE(db_open(dbp, &db, &e) == 0);
    static char first[100][BLOB_HEX], again[100][BLOB_HEX];
    bool used;
    size_t hashed;
    fp_many(db, first, &used, &hashed);
    CHECK(used);
    fp_many(db, again, &used, &hashed); /* nothing changed: every row from the store */
    CHECK(!used);
    for (int i = 0; i < 100; i++)
        CHECK_STR(again[i], first[i]);
    t_write("f99.py", "file 99, changed\n");
    char want[64];
    git_out("git hash-object --no-filters f99.py", want, sizeof want);
    fp_many(db, again, &used, &hashed);
    CHECK(used);
    CHECK(hashed == 1);
    CHECK_STR(again[99], want);
    CHECK_STR(again[98], first[98]);
    db_close(db);
    free(dbp);
}
