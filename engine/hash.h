/* hash: SHA-256 through OpenSSL's libcrypto (its low-level functions), as lowercase hex strings.
 *
 * Every digest in sluice (keys, object ids, output digests, `files` digests) is a
 * 64-character hex SHA-256 held in a `char[HASH_HEX]`. Nothing here allocates
 * except struct hasher, which hasher_final() releases.
 */
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define HASH_HEX 65 /* 64 hex digits + NUL */

struct hasher;

struct hasher *hasher_new(void);
void hasher_add(struct hasher *h, const void *data, size_t n);
/* Writes the hex digest and frees h. */
void hasher_final(struct hasher *h, char out[HASH_HEX]);

void hash_bytes(const void *data, size_t n, char out[HASH_HEX]);
/* Hashes an open file from its current offset to EOF; *size gets the byte count. */
int hash_fd(int fd, char out[HASH_HEX], uint64_t *size, struct err *e);
int hash_file(const char *path, char out[HASH_HEX], uint64_t *size, struct err *e);

#endif
