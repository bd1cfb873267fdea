/* remotes: resolving --remote, $SLUICE_REMOTE and sluice.conf. */
#include "remotes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

#define UPLOAD_WAIT 120 /* seconds a command waits for its uploads at the end */

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"));
}

int remotes_open(const char *flow_path, const char *arg, bool read_only, struct remote **out)
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
                                .token = getenv("SLUICE_REMOTE_TOKEN")};
        if (end && (*end || !(timeout > 0))) {
            cli_error("SLUICE_REMOTE_TIMEOUT must be seconds (> 0)");
            code = EXIT_USAGE;
        } else if (remote_open(&o, out, &e) != 0) {
            cli_error(e.msg);
            code = EXIT_USAGE;
        }
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
        fprintf(stderr, "remote: %zu hit%s, %zu object%s downloaded, %zu entr%s uploaded\n",
                n.hits, n.hits == 1 ? "" : "s", n.fetched, n.fetched == 1 ? "" : "s", n.uploaded,
                n.uploaded == 1 ? "y" : "ies");
    if (n.failed)
        fprintf(stderr, "remote: %zu upload%s failed or timed out\n", n.failed,
                n.failed == 1 ? "" : "s");
    const struct strv *w = remote_warnings(r);
    for (size_t i = 0; i < w->n; i++)
        cli_warn(w->v[i]);
    remote_close(r);
}
