/* fuzz_template: libFuzzer harness for template substitution.
 *
 * The input's first byte picks whether {key} is known, kept for later or unknown;
 * the rest is the template. template_expand() and template_params() must return a
 * string or a message, never crash, hang or leak. Run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const names[] = {"lr", "data", "n-trees", "x_1"};
    static const char *const values[] = {"0.1", "{params.lr}", "", "a b"};
    struct template_vars v = {.param_names = names,
                              .param_values = values,
                              .n_params = 4,
                              .task = data[0] & 4 ? "train" : NULL,
                              .flow = "churn",
                              .key = data[0] & 1 ? "0123456789abcdef0123456789abcdef" : NULL,
                              .keep_key = data[0] & 2};
    char *tpl = malloc(size);
    if (!tpl)
        abort();
    memcpy(tpl, data + 1, size - 1);
    tpl[size - 1] = 0;
    char *out = NULL;
    struct err e;
    if (template_expand(tpl, &v, &out, &e) == 0)
        free(out);
    struct strv params = {0};
    template_params(tpl, &params);
    strv_free(&params);
    free(tpl);
    return 0;
}
