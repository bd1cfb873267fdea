/* hash: SHA-256 via EVP. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct hasher {
    EVP_MD_CTX *ctx;
};

/* The SHA-256 implementation, fetched once per process: an implicit fetch on every
 * digest costs more than hashing a key. Set once, then only read. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md) {
        fputs("sluice: libcrypto has no SHA-256\n", stderr);
        abort();
    }
}

static const EVP_MD *sha256(void)
{
    pthread_once(&sha256_once, fetch_sha256);
    return sha256_md;
}

static void to_hex(const unsigned char *d, unsigned n, char out[HASH_HEX])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = 0;
}

struct hasher *hasher_new(void)
{
    struct hasher *h = xmalloc(sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex2(h->ctx, sha256(), NULL) != 1) {
        fputs("sluice: cannot initialise SHA-256\n", stderr);
        abort();
    }
    return h;
}

void hasher_add(struct hasher *h, const void *data, size_t n)
{
    EVP_DigestUpdate(h->ctx, data, n);
}

void hasher_final(struct hasher *h, char out[HASH_HEX])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(h->ctx, d, &n);
    EVP_MD_CTX_free(h->ctx);
    free(h);
    to_hex(d, n, out);
}

void hash_bytes(const void *data, size_t n, char out[HASH_HEX])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data, n, d, &len, sha256(), NULL);
    to_hex(d, len, out);
}

int hash_fd(int fd, char out[HASH_HEX], uint64_t *size, struct err *e)
{
    struct hasher *h = hasher_new();
    static const size_t bufsz = 1 << 17;
    char *buf = xmalloc(bufsz);
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, bufsz);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            hasher_final(h, out);
            return err_set(e, "read: %s", strerror(saved));
        }
        if (n == 0)
            break;
        hasher_add(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    free(buf);
    hasher_final(h, out);
    if (size)
        *size = total;
    return 0;
}

int hash_file(const char *path, char out[HASH_HEX], uint64_t *size, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    int rc = hash_fd(fd, out, size, e);
    close(fd);
    if (rc)
        err_prefix(e, "%s", path);
    return rc;
}
