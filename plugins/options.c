/* options: an executor's options object against the plugin's list of options. */
#include "options.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int options_size(const char *text, uint64_t *bytes)
{
    const char *p = text;
    if (!isdigit((unsigned char)*p))
        return -1;
    uint64_t v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > UINT64_MAX / 10 / 1024 / 1024 / 1024 / 1024)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    static const char units[] = "KMGT";
    const char *u = *p ? strchr(units, toupper((unsigned char)*p)) : units + 1;
    if (!u || (*p && p[1]) || v == 0)
        return -1;
    for (long i = 0; i <= u - units; i++)
        v *= 1024;
    *bytes = v;
    return 0;
}

/* "90s", "15m", "2h", "1d" (a positive number and a unit). */
static int sluice_duration(const char *text, double *seconds)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v <= 0 || strlen(end) != 1 || !isdigit((unsigned char)*text))
        return -1;
    const char *units = "smhd";
    static const double scale[] = {1, 60, 3600, 86400};
    const char *u = strchr(units, *end);
    if (!u)
        return -1;
    *seconds = v * scale[u - units];
    return 0;
}

/* Reads up to max colon-separated whole numbers; returns how many, or -1. */
static int read_fields(const char *p, long *f, int max)
{
    int n = 0;
    for (;;) {
        if (!isdigit((unsigned char)*p) || n == max)
            return -1;
        char *end;
        f[n++] = strtol(p, &end, 10);
        if (*end == 0)
            return n;
        if (*end != ':')
            return -1;
        p = end + 1;
    }
}

/* Slurm's "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS". */
static int slurm_duration(const char *text, double *seconds)
{
    long days = 0, f[3];
    const char *p = text;
    const char *dash = strchr(text, '-');
    if (dash) {
        char *end;
        days = strtol(text, &end, 10);
        if (end != dash || !isdigit((unsigned char)*text))
            return -1;
        p = dash + 1;
    }
    int n = read_fields(p, f, 3);
    double s;
    if (n < 0)
        return -1;
    if (dash) /* D-HH, D-HH:MM, D-HH:MM:SS */
        s = days * 86400.0 + f[0] * 3600.0 + (n > 1 ? f[1] * 60.0 : 0) + (n > 2 ? f[2] : 0);
    else if (n == 1) /* minutes */
        s = f[0] * 60.0;
    else if (n == 2) /* MM:SS */
        s = f[0] * 60.0 + f[1];
    else
        s = f[0] * 3600.0 + f[1] * 60.0 + f[2];
    if (s <= 0)
        return -1;
    *seconds = s;
    return 0;
}

int options_duration(const char *text, double *seconds)
{
    if (sluice_duration(text, seconds) == 0)
        return 0;
    return slurm_duration(text, seconds);
}

static bool plain_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return false;
    return true;
}

static int read_strings(const cJSON *it, struct opt_value *v, char *err, size_t errlen)
{
    const char *name = it->string;
    if (!cJSON_IsArray(it)) {
        snprintf(err, errlen, "\"%s\" must be an array of strings", name);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(it);
    v->strings = calloc(n + 1, sizeof *v->strings);
    const cJSON *s;
    cJSON_ArrayForEach(s, it)
    {
        if (!cJSON_IsString(s) || !s->valuestring[0]) {
            snprintf(err, errlen, "\"%s\" must be an array of non-empty strings", name);
            return -1;
        }
        v->strings[v->n_strings++] = strdup(s->valuestring);
    }
    return 0;
}

static int read_one(const cJSON *it, enum opt_kind kind, struct opt_value *v, char *err,
                    size_t errlen)
{
    const char *name = it->string;
    v->set = true;
    if (kind == OPT_STRINGS)
        return read_strings(it, v, err, errlen);
    if (kind == OPT_COUNT) {
        double d = cJSON_GetNumberValue(it);
        if (!cJSON_IsNumber(it) || d < 1 || d != floor(d) || d > 1e9) {
            snprintf(err, errlen, "\"%s\" must be a whole number of at least 1", name);
            return -1;
        }
        v->count = (long long)d;
        return 0;
    }
    /* Sizes and durations may be written as numbers: Slurm's megabytes and minutes. */
    char num[64] = "";
    if (cJSON_IsNumber(it) && kind != OPT_STRING)
        snprintf(num, sizeof num, "%.0f", cJSON_GetNumberValue(it));
    const char *text = num[0] ? num : cJSON_IsString(it) ? it->valuestring : NULL;
    int bad = !text || !plain_word(text);
    if (!bad && kind == OPT_SIZE)
        bad = options_size(text, &v->bytes);
    if (!bad && kind == OPT_DURATION)
        bad = options_duration(text, &v->seconds);
    if (bad) {
        const char *want = kind == OPT_SIZE       ? "a size like \"500M\" or \"8G\""
                           : kind == OPT_DURATION ? "a duration like \"90s\", \"2h\" or \"1-12:00:00\""
                                                  : "a non-empty string without spaces";
        if (text)
            snprintf(err, errlen, "\"%s\" must be %s, not \"%s\"", name, want, text);
        else
            snprintf(err, errlen, "\"%s\" must be %s", name, want);
        return -1;
    }
    v->text = strdup(text);
    return 0;
}

static int unknown(const char *name, const struct opt_spec *spec, size_t n, char *err,
                   size_t errlen)
{
    int w = snprintf(err, errlen, "unknown option \"%s\" (options:", name);
    for (size_t i = 0; i < n && w > 0 && (size_t)w < errlen; i++)
        w += snprintf(err + w, errlen - (size_t)w, " %s%s", spec[i].name, i + 1 < n ? "," : ")");
    if (n == 0)
        snprintf(err, errlen, "unknown option \"%s\" (this executor takes none)", name);
    return -1;
}

int options_read(const char *json, const struct opt_spec *spec, size_t n, struct opt_value *values,
                 char *err, size_t errlen)
{
    memset(values, 0, n * sizeof *values);
    if (!json)
        return 0;
    cJSON *o = cJSON_Parse(json);
    int rc = 0;
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "options must be a JSON object");
        rc = -1;
    }
    const cJSON *it;
    for (it = o ? o->child : NULL; it && rc == 0; it = it->next) {
        size_t k = 0;
        while (k < n && strcmp(spec[k].name, it->string) != 0)
            k++;
        if (k == n)
            rc = unknown(it->string, spec, n, err, errlen);
        else
            rc = read_one(it, spec[k].kind, &values[k], err, errlen);
    }
    cJSON_Delete(o);
    if (rc)
        options_free(values, n);
    return rc;
}

void options_free(struct opt_value *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(values[i].text);
        for (size_t k = 0; k < values[i].n_strings; k++)
            free(values[i].strings[k]);
        free(values[i].strings);
        memset(&values[i], 0, sizeof values[i]);
    }
}
