/* remote: a shared cache on an HTTP server speaking bazel-remote's HTTP/1.1 API.
 *
 *   GET/HEAD/PUT <url>/cas/<sha256>  an object's bytes
 *   GET/PUT      <url>/ac/<key>      sluice's record of the key's entry (JSON: task, output
 *                                    digest, size, created, expires, the manifest, and
 *                                    the bytes of its small objects, which then have no
 *                                    /cas/ copy)
 *
 * It is the cache tier behind the local cache (cache.h): remote_tier(). Nothing is
 * requested until the cache asks. Every request has bounded time (opts.timeout seconds
 * below 1 KB/s, 3 s to connect; a record whole within opts.timeout; an object no longer
 * than its manifest's size) and a transient failure (refused, 5xx, timeout, a
 * truncated body) is tried 3 times; after that the remote is down for the rest of the
 * process and every request fails at once. A record or object that does not hash to
 * its name is a miss. What went wrong is kept as warnings (remote_warnings()), never
 * printed. Uploads (put) go through one background thread; remote_finish() waits for
 * them, bounded. Credentials: the URL's user:password, ~/.netrc, or opts.token
 * (a bearer token); they are never logged.
 *
 * An S3 remote, s3://BUCKET[/PREFIX], is the same layout under the bucket
 * (<endpoint>/BUCKET/PREFIX/ac/..., path-style), each request signed with AWS SigV4
 * (libcurl's) for opts.s3 (endpoint default https://s3.REGION.amazonaws.com).
 */
#ifndef SLUICE_REMOTE_H
#define SLUICE_REMOTE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

struct remote_opts {
    const char *url;   /* http[s]://host[:port][/prefix] */
    bool read_only;    /* lookups and fetches only: put does nothing */
    double timeout;    /* seconds without progress before a request fails (> 0) */
    const char *token; /* bearer token, or NULL */
    const volatile sig_atomic_t *cancel; /* when *cancel is set, every request stops (or NULL) */
    /* Called (one call at a time, from the threads that download) after each object
     * downloaded, with the totals so far; may be NULL. */
    void (*progress)(void *ctx, size_t objects, uint64_t bytes);
    void *progress_ctx;
    struct {
        const char *endpoint, *region;      /* NULL: AWS's, us-east-1 */
        const char *key, *secret, *session; /* credentials (session token may be NULL) */
    } s3;
};

struct remote;
int remote_open(const struct remote_opts *o, struct remote **out, struct err *e);
/* The tier the cache and the planner use; valid while r is open. */
const struct cache_tier *remote_tier(struct remote *r);

struct remote_counts {
    size_t requests;         /* HTTP requests made (retries included) */
    size_t hits, fetched;    /* entries found; objects downloaded */
    uint64_t fetched_bytes;
    size_t uploaded, failed; /* outputs uploaded; uploads that failed or timed out */
};
/* Waits at most `timeout` seconds for the queued uploads (those left are failed),
 * stops the upload thread, and fills *c. */
void remote_finish(struct remote *r, double timeout, struct remote_counts *c);
/* What went wrong so far, one line each (at most one "unreachable"). Owned by r. */
const struct strv *remote_warnings(const struct remote *r);
void remote_close(struct remote *r);

#endif
