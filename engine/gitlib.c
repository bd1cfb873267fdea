/* gitlib: libgit2 through dlopen, behind its own function names. */
#include "gitlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef GITLIB_SONAME
#define GITLIB_SONAME "libgit2.so"
#endif

/* X(return type, name, parameters, arguments, what a failed call returns) */
#define GITLIB_INT(X)                                                                              \
    X(int, git_libgit2_init, (void), (), -1)                                                       \
    X(int, git_libgit2_shutdown, (void), (), -1)                                                   \
    X(int, git_blob_lookup, (git_blob * *blob, git_repository * repo, const git_oid * id),         \
      (blob, repo, id), -1)                                                                        \
    X(int, git_index_entry_stage, (const git_index_entry * entry), (entry), -1)                    \
    X(int, git_odb_hash, (git_oid * out, const void *data, size_t len, git_object_t type),         \
      (out, data, len, type), -1)                                                                  \
    X(int, git_odb_hashfile, (git_oid * out, const char *path, git_object_t type),                 \
      (out, path, type), -1)                                                                       \
    X(int, git_oid_equal, (const git_oid * a, const git_oid *b), (a, b), 0)                        \
    X(int, git_oid_fromstr, (git_oid * out, const char *str), (out, str), -1)                      \
    X(int, git_patch_from_buffers,                                                                 \
      (git_patch * *out, const void *old_buffer, size_t old_len, const char *old_as_path,          \
       const void *new_buffer, size_t new_len, const char *new_as_path,                            \
       const git_diff_options *opts),                                                              \
      (out, old_buffer, old_len, old_as_path, new_buffer, new_len, new_as_path, opts), -1)         \
    X(int, git_patch_to_buf, (git_buf * out, git_patch * patch), (out, patch), -1)                 \
    X(int, git_reference_lookup, (git_reference * *out, git_repository * repo, const char *name),  \
      (out, repo, name), -1)                                                                       \
    X(int, git_reference_name_to_id, (git_oid * out, git_repository * repo, const char *name),     \
      (out, repo, name), -1)                                                                       \
    X(int, git_repository__cleanup, (git_repository * repo), (repo), -1)                           \
    X(int, git_repository_index, (git_index * *out, git_repository * repo), (out, repo), -1)       \
    X(int, git_repository_is_bare, (const git_repository *repo), (repo), 0)                        \
    X(int, git_repository_open_ext,                                                                \
      (git_repository * *out, const char *path, unsigned int flags, const char *ceiling_dirs),     \
      (out, path, flags, ceiling_dirs), -1)

#define GITLIB_PTR(X)                                                                              \
    X(const void *, git_blob_rawcontent, (const git_blob *blob), (blob), NULL)                     \
    X(git_object_size_t, git_blob_rawsize, (const git_blob *blob), (blob), 0)                      \
    X(const git_index_entry *, git_index_get_bypath, (git_index * index, const char *path,         \
                                                      int stage),                                  \
      (index, path, stage), NULL)                                                                  \
    X(char *, git_oid_tostr, (char *out, size_t n, const git_oid *id), (out, n, id), NULL)         \
    X(const char *, git_reference_symbolic_target, (const git_reference *ref), (ref), NULL)        \
    X(git_reference_t, git_reference_type, (const git_reference *ref), (ref),                      \
      GIT_REFERENCE_INVALID)                                                                       \
    X(const char *, git_repository_commondir, (const git_repository *repo), (repo), NULL)          \
    X(const char *, git_repository_path, (const git_repository *repo), (repo), NULL)               \
    X(const char *, git_repository_workdir, (const git_repository *repo), (repo), NULL)

/* X(name, the object it frees): nothing to free, nothing to load. */
#define GITLIB_FREE(X)                                                                             \
    X(git_blob_free, git_blob)                                                                     \
    X(git_buf_dispose, git_buf)                                                                    \
    X(git_index_free, git_index)                                                                   \
    X(git_patch_free, git_patch)                                                                   \
    X(git_reference_free, git_reference)                                                           \
    X(git_repository_free, git_repository)

#define SLOT(ret, name, params, args, fail) ret(*name) params;
#define FREE_SLOT(name, type) void (*name)(type *);

/* Written once, under pthread_once, before any call reads it. */
static struct {
    pthread_once_t once;
    bool ok;
    git_error error; /* why libgit2 is not there */
    char why[512];
    struct {
        GITLIB_INT(SLOT)
        GITLIB_PTR(SLOT)
        GITLIB_FREE(FREE_SLOT)
        const git_error *(*git_error_last)(void);
        int (*git_libgit2_opts)(int option, ...);
    } f;
} lib = {.once = PTHREAD_ONCE_INIT};

static void load(void)
{
    /* Never unloaded: libgit2 keeps global state between init and shutdown. */
    void *h = dlopen(GITLIB_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    bool ok = h != NULL;
#define RESOLVE(name) ok = ok && (*(void **)&lib.f.name = dlsym(h, #name)) != NULL;
#define RESOLVE_X(ret, name, params, args, fail) RESOLVE(name)
#define RESOLVE_F(name, type) RESOLVE(name)
    GITLIB_INT(RESOLVE_X)
    GITLIB_PTR(RESOLVE_X)
    GITLIB_FREE(RESOLVE_F)
    RESOLVE(git_error_last)
    RESOLVE(git_libgit2_opts)
    if (!ok)
        snprintf(lib.why, sizeof lib.why, "libgit2 (%s) cannot be loaded: %s", GITLIB_SONAME,
                 dlerror());
    lib.error = (git_error){.message = lib.why, .klass = GIT_ERROR_OS};
    lib.ok = ok;
}

static bool loaded(void)
{
    pthread_once(&lib.once, load);
    return lib.ok;
}

#define DEFINE(ret, name, params, args, fail)                                                      \
    ret name params                                                                                \
    {                                                                                              \
        return loaded() ? lib.f.name args : (fail);                                                \
    }
#define DEFINE_FREE(name, type)                                                                    \
    void name(type *p)                                                                             \
    {                                                                                              \
        if (p && loaded())                                                                         \
            lib.f.name(p);                                                                         \
    }
GITLIB_INT(DEFINE)
GITLIB_PTR(DEFINE)
GITLIB_FREE(DEFINE_FREE)

const git_error *git_error_last(void)
{
    return loaded() ? lib.f.git_error_last() : &lib.error;
}

int git_libgit2_opts(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    int value = va_arg(ap, int);
    va_end(ap);
    return loaded() ? lib.f.git_libgit2_opts(option, value) : -1;
}
