/* filedigest: SHA-256 of external input files (`files`), with a stat cache.
 *
 * The cache (table file_stat) maps an absolute path to (size, mtime ns, inode,
 * ctime ns, digest). A file whose stat data matches is not re-read, so an unchanged 1 GB
 * input costs one stat. Entries are only recorded for files last changed over two seconds
 * before they were hashed, so a write racing the hash can never be mistaken for an
 * unchanged file. A store that cannot be written simply caches nothing.
 */
#ifndef SLUICE_FILEDIGEST_H
#define SLUICE_FILEDIGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "hash.h"

struct file_fp {
    char *path; /* as written in the flow (substituted) */
    char digest[HASH_HEX];
    uint64_t size;
    struct file_stamp stamp; /* its stat data before it was read */
};

/* Fingerprints `path` (relative to dir unless absolute); db may be NULL (no cache). */
int filedigest_get(struct db *db, const char *dir, const char *path, struct file_fp *out,
                   struct err *e);

#endif
