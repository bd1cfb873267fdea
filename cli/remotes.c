/* remotes: resolving --remote, $SLUICE_REMOTE and sluice.conf. */
#include "remotes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

#define UPLOAD_WAIT 120 /* seconds a command waits for its uploads at the end */

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"));
}

/* The first set environment variable of names, or NULL. */
static const char *env_any(const char *const *names)
{
    for (; *names; names++) {
        const char *v = getenv(*names);
        if (v && v[0])
            return v;
    }
    return NULL;
}

/* AWS credentials of a profile in an INI file (~/.aws/credentials): owned strings. */
struct aws_creds {
    char *key, *secret, *session;
};

static void aws_creds_file(struct aws_creds *c)
{
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    char *path = file && file[0] ? xstrdup(file)
                 : home          ? xasprintf("%s/.aws/credentials", home)
                                 : NULL;
    const char *profile = getenv("AWS_PROFILE");
    profile = profile && profile[0] ? profile : "default";
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[1024];
    bool in = false;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char name[256], value[768];
        if (line[0] == '[') {
            in = sscanf(line, "[%255[^]]]", name) == 1 && strcmp(name, profile) == 0;
        } else if (in && sscanf(line, " %255[^= ] = %767s", name, value) == 2) {
            char **slot = !strcmp(name, "aws_access_key_id")       ? &c->key
                          : !strcmp(name, "aws_secret_access_key") ? &c->secret
                          : !strcmp(name, "aws_session_token")     ? &c->session
                                                                   : NULL;
            if (slot && !*slot)
                *slot = xstrdup(value);
        }
    }
    if (f)
        fclose(f);
    free(path);
}

static void aws_creds(struct aws_creds *c)
{
    const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (key && key[0] && secret && secret[0]) {
        const char *session = getenv("AWS_SESSION_TOKEN");
        c->key = xstrdup(key);
        c->secret = xstrdup(secret);
        c->session = session && session[0] ? xstrdup(session) : NULL;
        return;
    }
    aws_creds_file(c);
}

static void aws_creds_free(struct aws_creds *c)
{
    if (c->secret)
        memset(c->secret, 0, strlen(c->secret));
    free(c->key);
    free(c->secret);
    free(c->session);
}

/* On a terminal, one line that counts the downloads while a run plans (its own progress
 * line, or its first event, then clears it: see progress.c). */
static void show_fetching(void *ctx, size_t objects, uint64_t bytes)
{
    (void)ctx;
    char size[32];
    fmt_size(size, sizeof size, bytes);
    printf("\r\033[Kfetching from the remote: %zu object%s, %s", objects, objects == 1 ? "" : "s",
           size);
    fflush(stdout);
}

int remotes_open(const char *flow_path, const char *arg, bool read_only,
                 const volatile sig_atomic_t *cancel, struct remote **out)
{
    *out = NULL;
    struct config c;
    struct err e;
    if (config_load(flow_path, &c, &e) != 0) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    const char *env = getenv("SLUICE_REMOTE");
    const char *url = arg ? arg : env && env[0] ? env : c.remote;
    int code = EXIT_OK;
    if (url && strcmp(url, "off") != 0) {
        const char *t = getenv("SLUICE_REMOTE_TIMEOUT");
        char *end = NULL;
        double timeout = t && t[0] ? strtod(t, &end) : c.timeout > 0 ? c.timeout : 10;
        struct remote_opts o = {.url = url,
                                .read_only = read_only || env_true("SLUICE_REMOTE_READ_ONLY") ||
                                             c.read_only == 1,
                                .timeout = timeout,
                                .token = getenv("SLUICE_REMOTE_TOKEN"),
                                .cancel = cancel,
                                .progress = isatty(STDOUT_FILENO) ? show_fetching : NULL};
        struct aws_creds creds = {0};
        if (strncmp(url, "s3://", 5) == 0) {
            aws_creds(&creds);
            o.s3.key = creds.key;
            o.s3.secret = creds.secret;
            o.s3.session = creds.session;
            const char *ep =
                env_any((const char *const[]){"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", NULL});
            const char *region =
                env_any((const char *const[]){"AWS_REGION", "AWS_DEFAULT_REGION", NULL});
            o.s3.endpoint = ep ? ep : c.s3_endpoint;
            o.s3.region = region ? region : c.s3_region;
        }
        if (end && (*end || !(timeout > 0))) {
            cli_error("SLUICE_REMOTE_TIMEOUT must be seconds (> 0)");
            code = EXIT_USAGE;
        } else if (remote_open(&o, out, &e) != 0) {
            cli_error(e.msg);
            code = EXIT_USAGE;
        }
        aws_creds_free(&creds);
    }
    config_free(&c);
    return code;
}

void remotes_close(struct remote *r)
{
    if (!r)
        return;
    struct remote_counts n;
    fflush(stdout); /* after the run's own summary */
    remote_finish(r, UPLOAD_WAIT, &n);
    if (n.hits || n.fetched || n.uploaded || n.failed)
        fprintf(stderr, "remote: %zu hit%s, %zu object%s downloaded, %zu entr%s uploaded\n", n.hits,
                n.hits == 1 ? "" : "s", n.fetched, n.fetched == 1 ? "" : "s", n.uploaded,
                n.uploaded == 1 ? "y" : "ies");
    if (n.failed)
        fprintf(stderr, "remote: %zu upload%s failed or timed out\n", n.failed,
                n.failed == 1 ? "" : "s");
    const struct strv *w = remote_warnings(r);
    for (size_t i = 0; i < w->n; i++)
        cli_warn(w->v[i]);
    remote_close(r);
}
