/* strmap: a string -> pointer hash map (open addressing). Keys are copied and owned
 * by the map; values are not. */
#ifndef SLUICE_STRMAP_H
#define SLUICE_STRMAP_H

#include <stddef.h>

struct strmap {
    char **keys;
    void **vals;
    size_t n, cap;
};

void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns the previous value (or NULL). */
void *strmap_put(struct strmap *m, const char *key, void *val);
/* The map's own copy of key (valid while the entry exists), or NULL. */
const char *strmap_key(const struct strmap *m, const char *key);
/* Frees the keys (and the values with free_val, if not NULL). */
void strmap_free(struct strmap *m, void (*free_val)(void *));

#endif
