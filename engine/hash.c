/* hash: SHA-256 with libcrypto's low-level functions.
 *
 * Not EVP: fetching the EVP implementation initialises libcrypto's providers, about
 * 4.5 M instructions in every process (a fifth of a no-op run's own work on 1,000
 * tasks), and every EVP digest allocates a context. SHA256_Init/Update/Final run the
 * same assembly (SHA-NI, AVX2) with neither. OpenSSL 3 marks them deprecated; they
 * are still part of its API. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <string.h>
#include <unistd.h>

struct hasher {
    SHA256_CTX ctx;
};

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
    SHA256_Init(&h->ctx);
    return h;
}

void hasher_add(struct hasher *h, const void *data, size_t n)
{
    SHA256_Update(&h->ctx, data, n);
}

void hasher_final(struct hasher *h, char out[HASH_HEX])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256_Final(d, &h->ctx);
    free(h);
    to_hex(d, sizeof d, out);
}

void hash_bytes(const void *data, size_t n, char out[HASH_HEX])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx; /* not SHA256(): in OpenSSL 3 that fetches through EVP every call */
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, n);
    SHA256_Final(d, &ctx);
    to_hex(d, sizeof d, out);
}

int hash_fd(int fd, char out[HASH_HEX], uint64_t *size, struct err *e)
{
    struct hasher *h = hasher_new();
    static const size_t bufsz = 1 << 16; /* under malloc's mmap threshold: no mmap per file */
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
