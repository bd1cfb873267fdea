/* pathset: globs and directory walks for `code` and `files`. */
#include "pathset.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>

bool pathset_is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static char *glob_escape(const char *s)
{
    struct sb b = {0};
    for (; *s; s++) {
        if (strchr("*?[]\\", *s))
            sb_addc(&b, '\\');
        sb_addc(&b, *s);
    }
    return sb_take(&b);
}

void pathset_dir_files(const char *dir, const char *rel, struct strv *out)
{
    char *abs = path_join(dir, rel);
    DIR *d = opendir(abs);
    free(abs);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, ".git") == 0 ||
            strcmp(n, ".sluice") == 0)
            continue;
        char *child = xasprintf("%s/%s", rel, n);
        char *child_abs = path_join(dir, child);
        struct stat st;
        if (stat(child_abs, &st) != 0) {
            /* A dangling (or looping) symlink is no file; any other failure keeps the
             * path, so that fingerprinting it reports the error instead of leaving
             * code out of the key. */
            if (errno != ENOENT && errno != ELOOP)
                strv_push(out, xstrdup(child));
        } else if (S_ISDIR(st.st_mode)) {
            pathset_dir_files(dir, child, out);
        } else if (S_ISREG(st.st_mode)) {
            strv_push(out, xstrdup(child));
        }
        free(child);
        free(child_abs);
    }
    closedir(d);
}

void pathset_glob(const char *dir, const char *pattern, struct strv *out)
{
    char *edir = glob_escape(dir);
    char *full = pattern[0] == '/' ? xstrdup(pattern) : xasprintf("%s/%s", edir, pattern);
    glob_t g;
    if (glob(full, 0, NULL, &g) == 0) {
        size_t dl = strlen(dir);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *m = g.gl_pathv[i];
            struct stat st;
            if (stat(m, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (pattern[0] != '/' && strncmp(m, dir, dl) == 0 && m[dl] == '/')
                m += dl + 1;
            strv_push(out, xstrdup(m));
        }
    }
    globfree(&g);
    free(edir);
    free(full);
}
