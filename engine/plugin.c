/* plugin: dlopen by name, with the ABI checked before anything is called. */
#include "plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#ifndef SLUICE_PLUGIN_DIR
#define SLUICE_PLUGIN_DIR "/usr/local/lib/sluice/plugins"
#endif

/* The leading int of every version of struct executor_ops. */
struct abi_probe {
    int abi;
};

void plugin_dirs(struct strv *dirs)
{
    const char *env = getenv("SLUICE_PLUGIN_PATH");
    for (const char *p = env; p && *p;) {
        size_t n = strcspn(p, ":");
        if (n)
            strv_push(dirs, xstrndup(p, n));
        p += n + (p[n] == ':');
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            strv_pushf(dirs, "%s/plugins", exe[0] ? exe : "/");
        }
    }
    if (!strv_has(dirs, SLUICE_PLUGIN_DIR))
        strv_push(dirs, xstrdup(SLUICE_PLUGIN_DIR));
}

static bool valid_name(const char *name)
{
    if (!name[0] || strlen(name) > 64)
        return false;
    for (const char *c = name; *c; c++)
        if (!(*c >= 'a' && *c <= 'z') && !(*c >= '0' && *c <= '9') && *c != '_' && *c != '-')
            return false;
    return true;
}

static int not_found(const char *name, const struct strv *dirs, struct err *e)
{
    struct sb b = {0};
    for (size_t i = 0; i < dirs->n; i++)
        sb_addf(&b, "%s%s", i ? ", " : "", dirs->v[i]);
    err_set(e, "executor \"%s\": no plugin %s.so in %s (set SLUICE_PLUGIN_PATH to add a directory)",
            name, name, b.len ? b.buf : "(no directories)");
    sb_free(&b);
    return -1;
}

/* Checks the descriptor of an opened plugin; fills out on success. */
static int adopt(const char *name, char *path, void *h, struct plugin *out, struct err *e)
{
    const struct abi_probe *probe = dlsym(h, "sluice_executor");
    int rc = 0;
    if (!probe)
        rc = err_set(e, "%s is not a sluice executor plugin: it has no symbol sluice_executor",
                     path);
    else if (probe->abi != EXECUTOR_ABI)
        rc = err_set(e,
                     "%s: executor ABI version %d, but this sluice needs version %d "
                     "(rebuild the plugin against this sluice's executor.h)",
                     path, probe->abi, EXECUTOR_ABI);
    if (rc) {
        dlclose(h);
        free(path);
        return rc;
    }
    const struct executor_ops *ops = (const struct executor_ops *)probe;
    if (!ops->name || strcmp(ops->name, name) != 0 || !ops->check || !ops->init ||
        !ops->submit || !ops->poll || !ops->cancel || !ops->shutdown) {
        err_set(e, "%s: its descriptor is incomplete or names executor \"%s\", not \"%s\"", path,
                ops->name ? ops->name : "(none)", name);
        dlclose(h);
        free(path);
        return -1;
    }
    *out = (struct plugin){.ops = ops, .path = path, .handle = h};
    return 0;
}

int plugin_load(const char *name, const struct strv *dirs, struct plugin *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!valid_name(name))
        return err_set(e, "executor \"%s\": not a valid executor name", name);
    for (size_t i = 0; i < dirs->n; i++) {
        char *path = xasprintf("%s/%s.so", dirs->v[i], name);
        if (access(path, F_OK) != 0) {
            free(path);
            continue;
        }
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            err_set(e, "executor \"%s\": cannot load %s: %s", name, path, dlerror());
            free(path);
            return -1;
        }
        return adopt(name, path, h, out, e);
    }
    return not_found(name, dirs, e);
}

void plugin_close(struct plugin *p)
{
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    memset(p, 0, sizeof *p);
}
