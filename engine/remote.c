/* remote: bazel-remote's HTTP/1.1 API through libcurl. */
#include "remote.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "strmap.h"

#define ATTEMPTS 3
#define RETRY_MS 200
#define RECORD_MAX (256u << 20) /* bytes of an /ac/ record */
#define RECORD_FORMAT 2 /* 1: no inline objects (still read) */
#define MIN_SPEED 1024 /* bytes a second below which a transfer makes no progress */
#define PUT_UNASKED_MAX (64u << 10) /* an object this small is PUT without a HEAD first */
#define ASK_THREADS 8 /* records asked for at once (prefetch) */
#define INLINE_MAX (4u << 10)    /* an object this small travels inside its record... */
#define INLINE_TOTAL (16u << 10) /* ...while the record carries no more than this */

/* One queued upload: an output's objects, then the key's record. */
struct upload {
    char *key, *task, *manifest;
    struct cache_entry entry;
    struct strv digests, files;
};

/* An object that came inside a record (verified against its digest). */
struct blob {
    size_t n;
    unsigned char bytes[];
};

/* libcurl, loaded when a remote is opened instead of linked: linking it cost every sluice
 * process, remote or not, ~4 ms of CPU for the 20 libraries it brings (a 1,000-task no-op
 * takes ~22 ms). git keeps curl out of its main binary for the same reason. */
struct curl_api {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

struct remote {
    struct cache_tier tier;
    struct curl_api api;
    char *base;  /* URL without a trailing '/' */
    char *shown; /* the URL as messages name it: without credentials */
    char *token;
    char *sigv4, *userpwd, *s3_session; /* an S3 remote's signing */
    bool read_only;
    long timeout_ms;
    const volatile sig_atomic_t *cancel; /* the command was interrupted (Ctrl-C, SIGTERM) */
    void (*progress)(void *ctx, size_t objects, uint64_t bytes); /* remote_opts' */
    void *progress_ctx;
    CURL *curl;            /* the caller's thread */
    CURL *idle_handles[8]; /* for fetches from several threads (under mu) */
    size_t n_idle;
    pthread_mutex_t mu; /* everything below */
    bool curl_tried, curl_ok; /* libcurl loaded (curl_ready()) */
    bool down;
    struct strv warnings;
    struct strmap manifests; /* output digest -> manifest, of records lookup() returned */
    struct strmap answers;   /* key -> struct answer, of records prefetch() asked for */
    struct strmap inlined;   /* object digest -> struct blob, from records' "inline" */
    struct strmap present;   /* objects known to be on the server */
    struct strmap bad;       /* objects the server has damaged: uploads replace them */
    struct remote_counts counts;
    /* the upload thread */
    pthread_t thread;
    bool started, stop, busy;
    pthread_cond_t wake, idle;
    struct upload **queue;
    size_t n_queue, cap_queue;
};

static void warn(struct remote *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct remote *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct sb b = {0};
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->mu);
    strv_push(&r->warnings, sb_take(&b));
    pthread_mutex_unlock(&r->mu);
}

static bool cancelled(const struct remote *r)
{
    return r->cancel && *r->cancel;
}

static bool is_down(struct remote *r)
{
    if (cancelled(r))
        return true;
    pthread_mutex_lock(&r->mu);
    bool d = r->down || r->stop;
    pthread_mutex_unlock(&r->mu);
    return d;
}

static void mark_down(struct remote *r, const char *why)
{
    pthread_mutex_lock(&r->mu);
    bool first = !r->down;
    r->down = true;
    pthread_mutex_unlock(&r->mu);
    if (first)
        warn(r, "remote cache %s unusable (%s): going on without it", r->shown, why);
}

/* --- one request ---------------------------------------------------------------------------- */

struct body {
    FILE *to_file;     /* download into a file (at most `limit` bytes), or */
    uint64_t limit, written;
    bool over;         /* the server sent more than limit: cut off, not retried */
    struct sb *to_mem; /* into memory (bounded by RECORD_MAX) */
    FILE *from_file;   /* upload a file, or */
    const char *from_mem;
    size_t from_len, from_off;
    curl_off_t from_size;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t len = size * n;
    if (b->to_file) {
        if (len > b->limit - b->written) {
            b->over = true;
            return 0;
        }
        b->written += len;
        return fwrite(data, 1, len, b->to_file);
    }
    if (b->to_mem) {
        if (b->to_mem->len + len > RECORD_MAX)
            return 0;
        sb_add(b->to_mem, data, len);
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    if (b->from_file)
        return fread(buf, 1, size * n, b->from_file);
    size_t len = b->from_len - b->from_off;
    if (len > size * n)
        len = size * n;
    memcpy(buf, b->from_mem + b->from_off, len);
    b->from_off += len;
    return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    struct remote *r = arg;
    pthread_mutex_lock(&r->mu);
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop || cancelled(r); /* remote_finish() gave up on the uploads, or Ctrl-C */
}

/* Rewinds a body for another attempt. */
static void body_rewind(struct body *b)
{
    if (b->to_file) {
        fflush(b->to_file);
        if (ftruncate(fileno(b->to_file), 0) == 0)
            rewind(b->to_file);
        b->written = 0;
        b->over = false;
    }
    if (b->to_mem)
        b->to_mem->len = 0;
    if (b->from_file)
        rewind(b->from_file);
    b->from_off = 0;
}

static void setup(struct remote *r, CURL *c, const char *method, const char *url, struct body *b)
{
    r->api.easy_reset(c);
    r->api.easy_setopt(c, CURLOPT_URL, url);
    r->api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r->api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms < 3000 ? r->timeout_ms : 3000L);
    /* "No progress" is less than MIN_SPEED bytes a second: a server dripping a byte now
     * and then must not hold a run for ever. A record is small: all of it in the time. */
    r->api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)MIN_SPEED);
    r->api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (r->timeout_ms + 999) / 1000);
    if (b->to_mem)
        r->api.easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    if (r->sigv4) {
        r->api.easy_setopt(c, CURLOPT_AWS_SIGV4, r->sigv4);
        r->api.easy_setopt(c, CURLOPT_USERPWD, r->userpwd);
    } else {
        r->api.easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
    }
    r->api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    r->api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    r->api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    r->api.easy_setopt(c, CURLOPT_XFERINFODATA, r);
    if (r->token) {
        r->api.easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        r->api.easy_setopt(c, CURLOPT_XOAUTH2_BEARER, r->token);
    }
    r->api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    r->api.easy_setopt(c, CURLOPT_WRITEDATA, b);
    if (strcmp(method, "HEAD") == 0)
        r->api.easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (strcmp(method, "PUT") == 0) {
        r->api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
        r->api.easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        r->api.easy_setopt(c, CURLOPT_READDATA, b);
        r->api.easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                         b->from_file ? b->from_size : (curl_off_t)b->from_len);
    }
}

/* One request, tried up to ATTEMPTS times while it fails in a way that may pass.
 * Returns the HTTP status (2xx, 404), or -1: then the remote is down. */
static long request(struct remote *r, CURL *c, const char *method, const char *path, struct body *b)
{
    if (!c || is_down(r))
        return -1;
    char *url = xasprintf("%s/%s", r->base, path);
    struct curl_slist *hdr = r->api.slist_append(NULL, "Expect:");
    if (r->sigv4) /* S3 wants the payload's hash named: ours are checked by digest */
        hdr = r->api.slist_append(hdr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (r->s3_session)
        hdr = r->api.slist_append(hdr, r->s3_session);
    char why[CURL_ERROR_SIZE + 64] = "";
    long status = -1;
    for (int attempt = 0; attempt < ATTEMPTS && !is_down(r); attempt++) {
        if (attempt)
            nanosleep(&(struct timespec){0, RETRY_MS * 1000000L}, NULL);
        body_rewind(b);
        setup(r, c, method, url, b);
        r->api.easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        char cerr[CURL_ERROR_SIZE] = "";
        r->api.easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        pthread_mutex_lock(&r->mu);
        r->counts.requests++;
        pthread_mutex_unlock(&r->mu);
        CURLcode rc = r->api.easy_perform(c);
        long code = 0;
        r->api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (b->over && (code < 200 || code >= 300)) { /* an error page: only its status counts */
            b->over = false;
            if (code == 404)
                rc = CURLE_OK;
        }
        if (rc == CURLE_OK && ((code >= 200 && code < 300) || code == 404)) {
            status = code;
            break;
        }
        if (b->over) { /* the caller says it is damaged: the server is not down */
            status = code;
            break;
        }
        if (rc == CURLE_OK)
            snprintf(why, sizeof why, "%s %s: HTTP %ld", method, path, code);
        else
            snprintf(why, sizeof why, "%s %s: %s", method, path,
                     cerr[0] ? cerr : r->api.easy_strerror(rc));
        if (rc == CURLE_OK && code >= 400 && code < 500 && code != 408 && code != 429)
            break; /* refused (auth, method): trying again will not help */
    }
    r->api.slist_free_all(hdr);
    free(url);
    if (status < 0 && why[0] && !cancelled(r))
        mark_down(r, why);
    return status;
}

/* --- records ------------------------------------------------------------------------------ */

/* inline: the small objects the record carries ({digest: base64}), or NULL (taken). */
static char *record_json(const char *task, const struct cache_entry *en, const char *manifest,
                         cJSON *inline_objects)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sluice_ac", inline_objects ? RECORD_FORMAT : 1);
    cJSON_AddStringToObject(o, "task", task);
    cJSON_AddStringToObject(o, "digest", en->digest);
    cJSON_AddNumberToObject(o, "size", (double)en->size);
    cJSON_AddNumberToObject(o, "created", en->created);
    cJSON_AddNumberToObject(o, "expires", en->expires);
    cJSON_AddStringToObject(o, "manifest", manifest);
    if (inline_objects)
        cJSON_AddItemToObject(o, "inline", inline_objects);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}

static void add_size(void *arg, const struct store_file *f)
{
    *(uint64_t *)arg += f->size;
}

static void note_digest(void *arg, const struct store_file *f)
{
    strmap_put(arg, f->digest, (void *)1);
}

/* The record's inline objects, decoded into blobs: false when one is malformed, is not
 * in the manifest, or its bytes do not hash to its name. */
static bool inline_parse(const cJSON *objects, const char *manifest, struct strmap *blobs)
{
    if (!objects)
        return true;
    if (!cJSON_IsObject(objects))
        return false;
    struct strmap named = {0};
    store_manifest_each(manifest, note_digest, &named);
    bool ok = true;
    const cJSON *it;
    cJSON_ArrayForEach(it, objects)
    {
        size_t len = cJSON_IsString(it) ? strlen(it->valuestring) : 1;
        ok = len % 4 == 0 && len / 4 * 3 <= INLINE_TOTAL && strmap_get(&named, it->string);
        if (!ok)
            break;
        struct blob *b = xmalloc(sizeof *b + len / 4 * 3 + 1);
        int n = EVP_DecodeBlock(b->bytes, (const unsigned char *)it->valuestring, (int)len);
        for (size_t k = len; n > 0 && k > len - 2 && k > 0 && it->valuestring[k - 1] == '='; k--)
            n--; /* the padding decodes as zero bytes */
        char got[HASH_HEX];
        if (n >= 0)
            hash_bytes(b->bytes, (size_t)n, got);
        ok = n >= 0 && strcmp(got, it->string) == 0;
        if (!ok) {
            free(b);
            break;
        }
        b->n = (size_t)n;
        free(strmap_put(blobs, it->string, b));
    }
    strmap_free(&named, NULL);
    return ok;
}

/* Parses a record; NULL (and a reason) when it is not one, or its manifest does not
 * hash to the digest it names, or an object it carries does not hash to its name. Its
 * inline objects go into blobs. */
static char *record_parse(const char *text, struct cache_entry *en, struct strmap *blobs,
                          const char **why)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "sluice_ac");
    const cJSON *dg = cJSON_GetObjectItemCaseSensitive(o, "digest");
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(o, "manifest");
    char *manifest = NULL;
    *why = "not a sluice record";
    if (cJSON_IsNumber(fmt) && (fmt->valueint == 1 || fmt->valueint == RECORD_FORMAT) &&
        cJSON_IsString(dg) &&
        cJSON_IsString(mf) && strlen(dg->valuestring) == HASH_HEX - 1) {
        char actual[HASH_HEX];
        hash_bytes(mf->valuestring, strlen(mf->valuestring), actual);
        *why = "its manifest does not hash to its digest";
        struct err me;
        bool same = strcmp(actual, dg->valuestring) == 0;
        if (same && store_manifest_check(mf->valuestring, &me) != 0) {
            *why = "its manifest names paths outside the output";
            same = false;
        }
        if (same && !inline_parse(cJSON_GetObjectItemCaseSensitive(o, "inline"),
                                  mf->valuestring, blobs)) {
            *why = "an object it carries is not one its manifest names";
            same = false;
        }
        if (same) {
            memset(en, 0, sizeof *en);
            memcpy(en->digest, actual, HASH_HEX);
            /* The size is the manifest's, never the record's word for it (a hostile
             * "size": -5e300 was shown and stored as 8388608 TB). */
            store_manifest_each(mf->valuestring, add_size, &en->size);
            const cJSON *v;
            if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "created")))
                en->created = v->valuedouble;
            if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "expires")))
                en->expires = v->valuedouble;
            en->remote = true;
            manifest = xstrdup(mf->valuestring);
        }
    }
    cJSON_Delete(o);
    return manifest;
}

/* --- the tier ----------------------------------------------------------------------------- */

static CURL *handle_take(struct remote *r);
static void handle_give(struct remote *r, CURL *c);

/* What the remote said about a key prefetch() asked for. */
struct answer {
    bool found;
    struct cache_entry entry;
};

/* GET /ac/<key> on handle c: 1 and *out when the remote has a usable record. */
static int ask(struct remote *r, CURL *c, const char *key, struct cache_entry *out)
{
    struct sb text = {0};
    struct body b = {.to_mem = &text};
    char *path = xasprintf("ac/%s", key);
    long status = request(r, c, "GET", path, &b);
    free(path);
    int found = 0;
    if (status >= 200 && status < 300) {
        const char *why;
        char *text_s = sb_take(&text);
        struct strmap blobs = {0};
        char *manifest = record_parse(text_s, out, &blobs, &why);
        free(text_s);
        if (!manifest) {
            warn(r, "remote entry %.12s is unusable (%s): a miss", key, why);
        } else {
            pthread_mutex_lock(&r->mu);
            free(strmap_put(&r->manifests, out->digest, manifest));
            for (size_t i = 0; i < blobs.cap; i++)
                if (blobs.keys[i])
                    free(strmap_put(&r->inlined, blobs.keys[i], blobs.vals[i]));
            pthread_mutex_unlock(&r->mu);
            found = 1;
        }
        strmap_free(&blobs, manifest ? NULL : free);
    }
    sb_free(&text);
    return found;
}

static int tier_lookup(void *ctx, const char *key, struct cache_entry *out)
{
    struct remote *r = ctx;
    pthread_mutex_lock(&r->mu);
    const struct answer *a = strmap_get(&r->answers, key);
    int found = a && a->found;
    if (found)
        *out = a->entry;
    pthread_mutex_unlock(&r->mu);
    if (!a) {
        if (!r->curl)
            r->curl = handle_take(r);
        found = ask(r, r->curl, key, out);
    }
    pthread_mutex_lock(&r->mu);
    r->counts.hits += found;
    pthread_mutex_unlock(&r->mu);
    return found;
}

/* Keys being asked for by prefetch()'s threads. */
struct asking {
    struct remote *r;
    const char *const *keys;
    size_t n, next; /* next: the first key no thread has taken (under r->mu) */
};

static void *ask_thread(void *arg)
{
    struct asking *q = arg;
    struct remote *r = q->r;
    CURL *c = handle_take(r);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = q->next < q->n ? q->next++ : q->n;
        pthread_mutex_unlock(&r->mu);
        if (i == q->n || !c)
            break;
        struct answer *a = xcalloc(1, sizeof *a);
        a->found = ask(r, c, q->keys[i], &a->entry) == 1;
        pthread_mutex_lock(&r->mu);
        free(strmap_put(&r->answers, q->keys[i], a));
        pthread_mutex_unlock(&r->mu);
    }
    if (c)
        handle_give(r, c);
    return NULL;
}

/* Asks for every key not asked for yet, ASK_THREADS at a time: lookup() then answers
 * from what the remote said. */
static void tier_prefetch(void *ctx, const char *const *keys, size_t n)
{
    struct remote *r = ctx;
    const char **fresh = xcalloc(n + 1, sizeof *fresh);
    struct asking q = {.r = r, .keys = fresh};
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < n; i++)
        if (!strmap_get(&r->answers, keys[i]))
            fresh[q.n++] = keys[i];
    pthread_mutex_unlock(&r->mu);
    pthread_t t[ASK_THREADS];
    size_t started = 0;
    while (q.n > 1 && started < ASK_THREADS && started < q.n &&
           pthread_create(&t[started], NULL, ask_thread, &q) == 0)
        started++;
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(fresh); /* a key left (one, or no thread) is asked for by lookup() */
}

static char *tier_manifest(void *ctx, const char *digest)
{
    struct remote *r = ctx;
    pthread_mutex_lock(&r->mu);
    const char *m = strmap_get(&r->manifests, digest);
    char *out = m ? xstrdup(m) : NULL;
    pthread_mutex_unlock(&r->mu);
    return out;
}

static int curl_api_load(struct curl_api *a, struct err *e);

/* libcurl, with OpenSSL and a dozen libraries of its own (3 ms), is loaded for the
 * first request, so that a run whose hits are all local never pays for it. False (and
 * the remote is down) when it cannot be. */
static bool curl_ready(struct remote *r)
{
    struct err e = {0};
    pthread_mutex_lock(&r->mu);
    bool first = !r->curl_tried;
    if (first) {
        r->curl_tried = true;
        if (curl_api_load(&r->api, &e) == 0) {
            r->curl_ok = r->api.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
            if (!r->curl_ok)
                err_set(&e, "libcurl cannot start");
        }
    }
    bool ok = r->curl_ok;
    pthread_mutex_unlock(&r->mu);
    if (first && !ok)
        mark_down(r, e.msg);
    return ok;
}

/* A handle for one thread's requests, or NULL without libcurl. */
static CURL *handle_take(struct remote *r)
{
    if (!curl_ready(r))
        return NULL;
    pthread_mutex_lock(&r->mu);
    CURL *c = r->n_idle ? r->idle_handles[--r->n_idle] : NULL;
    pthread_mutex_unlock(&r->mu);
    return c ? c : r->api.easy_init();
}

static void handle_give(struct remote *r, CURL *c)
{
    pthread_mutex_lock(&r->mu);
    if (r->n_idle < ARRAY_LEN(r->idle_handles)) {
        r->idle_handles[r->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (c)
        r->api.easy_cleanup(c);
}

/* One more object downloaded (size bytes): counted, and told to the progress line. */
static void count_fetched(struct remote *r, uint64_t size)
{
    pthread_mutex_lock(&r->mu);
    r->counts.fetched++;
    r->counts.fetched_bytes += size;
    if (r->progress)
        r->progress(r->progress_ctx, r->counts.fetched, r->counts.fetched_bytes);
    pthread_mutex_unlock(&r->mu);
}

/* An object its record carried: written to the new file path, no request. 1 when it
 * was one, 0 when not, -1 with e when it cannot be written. */
static int fetch_inlined(struct remote *r, const char *digest, uint64_t size, const char *path,
                         struct err *e)
{
    pthread_mutex_lock(&r->mu);
    struct blob *b = strmap_get(&r->inlined, digest);
    if (b && b->n == size)
        strmap_put(&r->inlined, digest, NULL); /* taken: the store keeps it from now on */
    pthread_mutex_unlock(&r->mu);
    if (!b || b->n != size)
        return 0;
    FILE *f = fopen(path, "wbx");
    bool ok = f && fwrite(b->bytes, 1, b->n, f) == b->n;
    ok = (f && fclose(f) == 0) && ok;
    free(b);
    if (!ok)
        return err_set(e, "%s: %s", path, strerror(errno));
    count_fetched(r, size);
    return 1;
}

static int tier_fetch(void *ctx, const char *digest, uint64_t size, const char *path,
                      struct err *e)
{
    struct remote *r = ctx;
    int inlined = fetch_inlined(r, digest, size, path, e);
    if (inlined != 0)
        return inlined < 0 ? -1 : 0;
    FILE *f = fopen(path, "wbx");
    if (!f)
        return err_set(e, "%s: %s", path, strerror(errno));
    struct body b = {.to_file = f, .limit = size};
    char *rel = xasprintf("cas/%s", digest);
    CURL *c = handle_take(r);
    long status = c ? request(r, c, "GET", rel, &b) : -1;
    if (c)
        handle_give(r, c);
    free(rel);
    int rc = fclose(f) == 0 ? 0 : err_set(e, "%s: %s", path, strerror(errno));
    if (rc == 0 && b.over)
        rc = err_set(e, "object %.12s on the remote is damaged (longer than its %llu bytes)",
                     digest, (unsigned long long)size);
    else if (rc == 0 && status == 404)
        rc = err_set(e, "object %.12s is missing on the remote", digest);
    else if (rc == 0 && status < 0)
        rc = err_set(e, "the remote is unusable");
    char got[HASH_HEX];
    uint64_t got_size;
    if (rc == 0 && hash_file(path, got, &got_size, e) != 0)
        rc = -1;
    bool damaged = b.over;
    if (rc == 0 && strcmp(got, digest) != 0) {
        rc = err_set(e, "object %.12s on the remote is damaged (its bytes hash to %.12s)", digest,
                     got);
        damaged = true;
    }
    if (damaged) { /* an upload replaces it */
        pthread_mutex_lock(&r->mu);
        strmap_put(&r->bad, digest, (void *)1);
        pthread_mutex_unlock(&r->mu);
    }
    if (rc == 0)
        count_fetched(r, size);
    return rc;
}

static void upload_free(struct upload *u)
{
    free(u->key);
    free(u->task);
    free(u->manifest);
    strv_free(&u->digests);
    strv_free(&u->files);
    free(u);
}

static void collect_digest(void *arg, const struct store_file *f)
{
    strv_push(arg, xstrdup(f->digest));
}

static void *uploader_main(void *arg);

static void tier_put(void *ctx, const char *key, const char *task, const struct cache_entry *en,
                     const char *manifest, const struct strv *files)
{
    struct remote *r = ctx;
    if (r->read_only)
        return;
    curl_ready(r); /* here, before the upload thread starts */
    struct upload *u = xcalloc(1, sizeof *u);
    u->key = xstrdup(key);
    u->task = xstrdup(task);
    u->entry = *en;
    u->manifest = xstrdup(manifest);
    store_manifest_each(manifest, collect_digest, &u->digests);
    for (size_t i = 0; i < files->n; i++)
        strv_push(&u->files, xstrdup(files->v[i]));
    pthread_mutex_lock(&r->mu);
    xgrow(&r->queue, &r->cap_queue, r->n_queue + 1, sizeof *r->queue);
    r->queue[r->n_queue++] = u;
    if (!r->started && pthread_create(&r->thread, NULL, uploader_main, r) == 0)
        r->started = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
}

static void tier_note(void *ctx, const char *warning)
{
    warn(ctx, "%s", warning);
}

static const struct cache_tier_ops remote_ops = {tier_lookup, tier_prefetch, tier_manifest,
                                                 tier_fetch,  tier_put,      tier_note};

/* --- uploads ------------------------------------------------------------------------------ */

static bool put_object(struct remote *r, CURL *c, const char *digest, const char *file)
{
    pthread_mutex_lock(&r->mu);
    bool known = strmap_get(&r->present, digest) != NULL;
    bool bad = strmap_get(&r->bad, digest) != NULL;
    pthread_mutex_unlock(&r->mu);
    if (known)
        return true;
    char *path = xasprintf("cas/%s", digest);
    struct body b = {0};
    struct stat st;
    /* A small object is sent at once: asking first would cost as much as sending it
     * (the same bytes under the same name; a damaged one is replaced). */
    bool small = stat(file, &st) == 0 && st.st_size <= PUT_UNASKED_MAX;
    long status = bad || small ? 404 : request(r, c, "HEAD", path, &b);
    if (status == 404) {
        b.from_file = fopen(file, "rb");
        if (b.from_file && fseeko(b.from_file, 0, SEEK_END) == 0) {
            b.from_size = ftello(b.from_file);
            status = request(r, c, "PUT", path, &b);
        } else {
            status = -1;
        }
        if (b.from_file)
            fclose(b.from_file);
    }
    free(path);
    bool ok = status >= 200 && status < 300;
    if (ok) {
        pthread_mutex_lock(&r->mu);
        strmap_put(&r->present, digest, (void *)1);
        pthread_mutex_unlock(&r->mu);
    }
    return ok;
}

/* A small object's bytes in base64, to travel inside its record (one request, not
 * two, for each tiny output), or NULL: too big for the room left, or unreadable, or
 * not what its name says. *n: its size. */
static char *inline_bytes(const char *file, const char *digest, size_t room, size_t *n)
{
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > INLINE_MAX ||
        (size_t)st.st_size > room)
        return NULL;
    *n = (size_t)st.st_size;
    unsigned char *buf = xmalloc(*n + 1);
    FILE *f = fopen(file, "rb");
    bool ok = f && fread(buf, 1, *n, f) == *n && fgetc(f) == EOF;
    if (f)
        fclose(f);
    char got[HASH_HEX];
    if (ok)
        hash_bytes(buf, *n, got);
    char *out = NULL;
    if (ok && strcmp(got, digest) == 0) {
        out = xmalloc(4 * ((*n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, buf, (int)*n);
    }
    free(buf);
    return out;
}

static bool upload_one(struct remote *r, CURL *c, const struct upload *u)
{
    bool ok = u->digests.n == u->files.n;
    cJSON *carried = NULL;
    size_t room = INLINE_TOTAL, n;
    for (size_t i = 0; ok && i < u->files.n; i++) {
        const char *digest = u->digests.v[i];
        if (carried && cJSON_GetObjectItemCaseSensitive(carried, digest))
            continue; /* the same bytes twice in one output */
        char *b64 = inline_bytes(u->files.v[i], digest, room, &n);
        if (b64) {
            if (!carried)
                carried = cJSON_CreateObject();
            cJSON_AddStringToObject(carried, digest, b64);
            room -= n;
            free(b64);
        } else {
            ok = put_object(r, c, digest, u->files.v[i]);
        }
    }
    if (!ok) {
        cJSON_Delete(carried);
        return false;
    }
    /* the record last: it never names objects the server lacks */
    char *record = record_json(u->task, &u->entry, u->manifest, carried);
    char *path = xasprintf("ac/%s", u->key);
    struct body b = {.from_mem = record, .from_len = strlen(record)};
    long status = request(r, c, "PUT", path, &b);
    free(path);
    free(record);
    return status >= 200 && status < 300;
}

static void *uploader_main(void *arg)
{
    struct remote *r = arg;
    CURL *c = handle_take(r);
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && r->n_queue == 0) {
            pthread_cond_broadcast(&r->idle);
            pthread_cond_wait(&r->wake, &r->mu);
        }
        if (r->stop)
            break;
        struct upload *u = r->queue[0];
        memmove(r->queue, r->queue + 1, --r->n_queue * sizeof *r->queue);
        r->busy = true;
        pthread_mutex_unlock(&r->mu);
        bool ok = c && upload_one(r, c, u);
        upload_free(u);
        pthread_mutex_lock(&r->mu);
        r->busy = false;
        if (ok)
            r->counts.uploaded++;
        else
            r->counts.failed++;
    }
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->mu);
    if (c)
        r->api.easy_cleanup(c);
    return NULL;
}

/* --- opening and closing -------------------------------------------------------------------- */

/* Fills *a from libcurl.so.4 (never unloaded: libcurl and its TLS library keep state). */
static int curl_api_load(struct curl_api *a, struct err *e)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h)
        return err_set(e, "a remote cache needs libcurl (Debian: apt-get install libcurl4): %s",
                       dlerror());
    static const struct {
        const char *name;
        size_t at;
    } syms[] = {
        {"curl_global_init", offsetof(struct curl_api, global_init)},
        {"curl_easy_init", offsetof(struct curl_api, easy_init)},
        {"curl_easy_setopt", offsetof(struct curl_api, easy_setopt)},
        {"curl_easy_perform", offsetof(struct curl_api, easy_perform)},
        {"curl_easy_getinfo", offsetof(struct curl_api, easy_getinfo)},
        {"curl_easy_reset", offsetof(struct curl_api, easy_reset)},
        {"curl_easy_cleanup", offsetof(struct curl_api, easy_cleanup)},
        {"curl_easy_strerror", offsetof(struct curl_api, easy_strerror)},
        {"curl_slist_append", offsetof(struct curl_api, slist_append)},
        {"curl_slist_free_all", offsetof(struct curl_api, slist_free_all)},
    };
    _Static_assert(sizeof syms / sizeof syms[0] * sizeof(void (*)(void)) == sizeof(struct curl_api),
                   "one symbol per member of struct curl_api");
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f)
            return err_set(e, "libcurl.so.4 lacks %s: %s", syms[i].name, dlerror());
        memcpy((char *)a + syms[i].at, &f, sizeof f);
    }
    return 0;
}

/* The URL without user:password@. */
static char *shown_url(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = memrchr(host, '@', strcspn(host, "/")); /* a password may hold '@' or '#' */
    if (!at)
        return xstrdup(url);
    return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

/* s3://BUCKET[/PREFIX]: the base URL and the signing. */
static int open_s3(struct remote *r, const struct remote_opts *o, struct err *e)
{
    const char *bucket = o->url + 5;
    size_t n = strcspn(bucket, "/");
    if (n == 0)
        return err_set(e, "remote %s: no bucket (s3://BUCKET/PREFIX)", o->url);
    if (!o->s3.key || !o->s3.secret || !*o->s3.key || !*o->s3.secret)
        return err_set(e,
                       "remote %s: no AWS credentials (AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials)",
                       o->url);
    const char *region = o->s3.region && *o->s3.region ? o->s3.region : "us-east-1";
    char *endpoint = o->s3.endpoint && *o->s3.endpoint
                         ? xstrdup(o->s3.endpoint)
                         : xasprintf("https://s3.%s.amazonaws.com", region);
    for (size_t k = strlen(endpoint); k > 0 && endpoint[k - 1] == '/'; k--)
        endpoint[k - 1] = 0;
    r->base = xasprintf("%s/%s", endpoint, bucket);
    free(endpoint);
    r->sigv4 = xasprintf("aws:amz:%s:s3", region);
    r->userpwd = xasprintf("%s:%s", o->s3.key, o->s3.secret);
    if (o->s3.session && *o->s3.session)
        r->s3_session = xasprintf("x-amz-security-token: %s", o->s3.session);
    return 0;
}

int remote_open(const struct remote_opts *o, struct remote **out, struct err *e)
{
    bool s3 = strncmp(o->url, "s3://", 5) == 0;
    if (!s3 && strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) {
        char *shown = shown_url(o->url);
        err_set(e, "remote %s: only http://, https:// and s3:// remotes are supported", shown);
        free(shown);
        return -1;
    }
    struct remote *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->wake, NULL);
    pthread_cond_init(&r->idle, NULL);
    if (s3 && open_s3(r, o, e) != 0) {
        remote_close(r);
        return -1;
    }
    if (!s3)
        r->base = xstrdup(o->url);
    r->shown = shown_url(o->url);
    for (size_t n = strlen(r->base); n > 0 && r->base[n - 1] == '/'; n--)
        r->base[n - 1] = 0;
    r->token = o->token && *o->token ? xstrdup(o->token) : NULL;
    r->read_only = o->read_only;
    r->progress = o->progress;
    r->progress_ctx = o->progress_ctx;
    r->cancel = o->cancel;
    r->timeout_ms = (long)(o->timeout * 1000);
    if (r->timeout_ms < 100)
        r->timeout_ms = 100;
    r->tier = (struct cache_tier){&remote_ops, r};
    *out = r;
    return 0;
}

const struct cache_tier *remote_tier(struct remote *r)
{
    return &r->tier;
}

void remote_finish(struct remote *r, double timeout, struct remote_counts *c)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)timeout;
    pthread_mutex_lock(&r->mu);
    while (r->started && (r->n_queue > 0 || r->busy) &&
           pthread_cond_timedwait(&r->idle, &r->mu, &until) == 0)
        ;
    r->stop = true; /* an upload still going is aborted (on_progress) */
    pthread_cond_broadcast(&r->wake);
    bool started = r->started;
    r->started = false;
    pthread_mutex_unlock(&r->mu);
    if (started)
        pthread_join(r->thread, NULL);
    pthread_mutex_lock(&r->mu);
    r->counts.failed += r->n_queue;
    for (size_t i = 0; i < r->n_queue; i++)
        upload_free(r->queue[i]);
    r->n_queue = 0;
    *c = r->counts;
    pthread_mutex_unlock(&r->mu);
}

const struct strv *remote_warnings(const struct remote *r)
{
    return &r->warnings;
}

static void free_manifest(void *p)
{
    free(p);
}

void remote_close(struct remote *r)
{
    if (!r)
        return;
    struct remote_counts c;
    remote_finish(r, 0, &c);
    if (r->curl)
        r->api.easy_cleanup(r->curl);
    for (size_t i = 0; i < r->n_idle; i++)
        r->api.easy_cleanup(r->idle_handles[i]);
    strmap_free(&r->manifests, free_manifest);
    strmap_free(&r->answers, free);
    strmap_free(&r->inlined, free);
    strmap_free(&r->present, NULL);
    strmap_free(&r->bad, NULL);
    strv_free(&r->warnings);
    free(r->queue);
    pthread_cond_destroy(&r->wake);
    pthread_cond_destroy(&r->idle);
    pthread_mutex_destroy(&r->mu);
    free(r->base);
    free(r->shown);
    free(r->token);
    free(r->sigv4);
    if (r->userpwd)
        memset(r->userpwd, 0, strlen(r->userpwd));
    free(r->userpwd);
    free(r->s3_session);
    free(r);
}
