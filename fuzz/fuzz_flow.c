/* fuzz_flow: libFuzzer harness for the flow reader and validator.
 *
 * Each input is written as flow.json in a scratch directory that also holds a valid
 * sub-flow (sub.json) and a code file (code.sh), so includes, globs and parameters
 * are reachable; flow_load() must return a flow or a message, never crash, hang or
 * leak. Run by `make fuzz`; see fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow.h"

static char flow_path[4096];

static void put(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[] = "/tmp/sluice-fuzz-flow.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    put(dir, "sub.json",
        "{\"params\": {\"src\": \"x\"}, \"tasks\": {\"a\": {\"run\": \"cat {params.src}\"},"
        " \"b\": {\"run\": \"b\", \"after\": [\"a\"], \"output\": true}}}");
    put(dir, "code.sh", "echo code\n");
    snprintf(flow_path, sizeof flow_path, "%s/flow.json", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(flow_path, "w");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    struct strv overrides = {0};
    strv_push(&overrides, xstrdup("lr=0.5"));
    struct flow *flow = NULL;
    struct err e;
    if (flow_load(flow_path, &overrides, &flow, &e) == 0)
        flow_free(flow);
    strv_free(&overrides);
    return 0;
}
