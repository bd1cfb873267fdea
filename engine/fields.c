/* fields: the rows of TASK_FIELDS and FLOW_FIELDS as data. */
#include "fields.h"

#include <string.h>

const struct field_info fields_task[TASK_FIELD_COUNT] = {
#define X(id, name, kind, values, label, where, key) {name, kind, values, label, where, key},
    TASK_FIELDS(X)
#undef X
};

const struct field_info fields_flow[] = {
#define X(id, name, kind) {name, kind, VALUES_ANY, NULL, FIELD_BOTH, false},
    FLOW_FIELDS(X)
#undef X
};
const size_t fields_n_flow = sizeof fields_flow / sizeof fields_flow[0];

const struct field_info *fields_find(const char *name, bool task, size_t *rank)
{
    const struct field_info *table = task ? fields_task : fields_flow;
    size_t n = task ? (size_t)TASK_FIELD_COUNT : fields_n_flow;
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0) {
            if (rank)
                *rank = i;
            return &table[i];
        }
    if (rank)
        *rank = n;
    return NULL;
}
