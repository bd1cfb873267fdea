/* config: sluice.conf, key = value lines. */
#include "config.h"

#include <ctype.h>
#include <unistd.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static char *dir_of(const char *path)
{
    char *dir = path_absolute(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0;
    return dir;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* Whether a URL carries user:password@ before its host. */
static bool has_userinfo(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t end = strcspn(host, "/?#");
    return memchr(host, '@', end) != NULL;
}

static int set_key(struct config *c, const char *dir, const char *key, const char *val, int line,
                   struct err *e)
{
    if (!strcmp(key, "store")) {
        free(c->store);
        c->store = path_join(dir, val);
    } else if (!strcmp(key, "remote")) {
        if (has_userinfo(val))
            return err_set(e,
                           "%s:%d: credentials do not belong in %s: put them in ~/.netrc or "
                           "SLUICE_REMOTE_TOKEN",
                           c->path, line, "sluice.conf");
        free(c->remote);
        c->remote = xstrdup(val);
    } else if (!strcmp(key, "remote-read-only")) {
        if (parse_bool(val, &c->read_only))
            return err_set(e, "%s:%d: remote-read-only is yes or no, not \"%s\"", c->path, line,
                           val);
    } else if (!strcmp(key, "remote-timeout")) {
        char *end;
        double t = strtod(val, &end);
        if (*end || !(t > 0))
            return err_set(e, "%s:%d: remote-timeout is seconds (> 0), not \"%s\"", c->path, line,
                           val);
        c->timeout = t;
    } else if (!strcmp(key, "s3-endpoint") || !strcmp(key, "s3-region")) {
        char **slot = key[3] == 'e' ? &c->s3_endpoint : &c->s3_region;
        if (key[3] == 'e' && has_userinfo(val))
            return err_set(e, "%s:%d: credentials do not belong in sluice.conf", c->path, line);
        free(*slot);
        *slot = xstrdup(val);
    } else {
        return err_set(e,
                       "%s:%d: unknown key \"%s\" (store, remote, remote-read-only, "
                       "remote-timeout, s3-endpoint, s3-region)",
                       c->path, line, key);
    }
    return 0;
}

int config_load(const char *flow_path, struct config *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->read_only = -1;
    char *dir = dir_of(flow_path);
    out->path = path_join(dir, "sluice.conf");
    size_t len;
    char *text = NULL;
    int rc = 0;
    if (access(out->path, F_OK) == 0 && !(text = file_read_all(out->path, &len, e)))
        rc = -1;
    int line = 0;
    for (char *s = text, *next; rc == 0 && s && *s; s = next) {
        next = s + strcspn(s, "\n");
        if (*next)
            *next++ = 0;
        line++;
        char *l = trim(s);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = err_set(e, "%s:%d: expected key = value", out->path, line);
            break;
        }
        *eq = 0;
        rc = set_key(out, dir, trim(l), trim(eq + 1), line, e);
    }
    free(text);
    free(dir);
    if (rc)
        config_free(out);
    return rc;
}

void config_free(struct config *c)
{
    free(c->path);
    free(c->store);
    free(c->remote);
    free(c->s3_endpoint);
    free(c->s3_region);
    memset(c, 0, sizeof *c);
}
