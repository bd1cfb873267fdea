/* template: placeholder substitution for run, code, files, env and publish. */
#include "template.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define KEY_DIGITS (HASH_HEX - 1)

static bool param_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* If s starts a placeholder, returns its length (including braces) and sets kind. */
enum ph { PH_NONE, PH_PARAM, PH_TASK, PH_FLOW, PH_KEY };

static size_t placeholder(const char *s, enum ph *kind, const char **arg, size_t *arglen)
{
    *kind = PH_NONE;
    if (s[0] != '{')
        return 0;
    if (strncmp(s, "{params.", 8) == 0) {
        size_t n = 0;
        while (param_char(s[8 + n]))
            n++;
        if (n == 0 || s[8 + n] != '}')
            return 0;
        *kind = PH_PARAM;
        *arg = s + 8;
        *arglen = n;
        return 8 + n + 1;
    }
    if (strncmp(s, "{task}", 6) == 0)
        return *kind = PH_TASK, 6;
    if (strncmp(s, "{flow}", 6) == 0)
        return *kind = PH_FLOW, 6;
    if (strncmp(s, "{key}", 5) == 0) {
        *kind = PH_KEY;
        *arg = NULL;
        *arglen = 0;
        return 5;
    }
    if (strncmp(s, "{key:", 5) == 0) {
        size_t n = 0;
        while (isdigit((unsigned char)s[5 + n]))
            n++;
        if (n == 0 || s[5 + n] != '}')
            return 0;
        *kind = PH_KEY;
        *arg = s + 5;
        *arglen = n;
        return 5 + n + 1;
    }
    return 0;
}

static const char *closest_param(const struct template_vars *v, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < v->n_params; i++) {
        size_t d = edit_distance(name, v->param_names[i]);
        if (d < best_d) {
            best_d = d;
            best = v->param_names[i];
        }
    }
    size_t limit = strlen(name) / 3 + 1;
    return best && best_d <= limit ? best : NULL;
}

static int expand_param(const struct template_vars *v, const char *a, size_t n, struct sb *b,
                        struct err *e)
{
    for (size_t i = 0; i < v->n_params; i++) {
        if (strlen(v->param_names[i]) == n && memcmp(v->param_names[i], a, n) == 0) {
            assert(v->param_values[i]); /* every parameter has its text */
            sb_adds(b, v->param_values[i]);
            return 0;
        }
    }
    char *name = xstrndup(a, n);
    const char *near = closest_param(v, name);
    if (near)
        err_set(e, "unknown parameter {params.%s} (did you mean {params.%s}?)", name, near);
    else
        err_set(e, "unknown parameter {params.%s}", name);
    free(name);
    return -1;
}

/* Strict mode: what is wrong with a "{" at s that opens no placeholder. */
static int not_a_placeholder(const char *s, struct err *e)
{
    const char *close = strchr(s, '}');
    if (!close)
        return err_set(e, "unclosed placeholder %s", s);
    int n = (int)(close - s + 1);
    if (strncmp(s, "{key:", 5) == 0)
        return err_set(e, "%.*s: the length must be from 1 to %d", n, s, KEY_DIGITS);
    return err_set(e, "unknown placeholder %.*s (there are {params.NAME}, {task}, {flow}, "
                      "{key} and {key:N})",
                   n, s);
}

/* {key:N}: N from 1 to the key's length; 0 for {key}; -1 when out of range. */
static int key_length(const char *arg, size_t arglen)
{
    if (!arg)
        return 0;
    int want = arglen <= 2 ? atoi(arg) : 0;
    return want >= 1 && want <= KEY_DIGITS ? want : -1;
}

int template_expand(const char *tpl, const struct template_vars *v, char **out, struct err *e)
{
    struct sb b = {0};
    assert(tpl && v && out);
    assert(v->n_params == 0 || (v->param_names && v->param_values));
    const char *s = tpl;
    while (*s) {
        enum ph kind;
        const char *arg = NULL;
        size_t arglen = 0;
        size_t n = placeholder(s, &kind, &arg, &arglen);
        if (n == 0 && v->strict && *s == '{') {
            sb_free(&b);
            return not_a_placeholder(s, e);
        }
        if (n == 0) {
            /* Copy up to the next brace in one go. */
            const char *brace = strchr(s + 1, '{');
            size_t span = brace ? (size_t)(brace - s) : strlen(s);
            sb_add(&b, s, span);
            s += span;
            continue;
        }
        int rc = 0;
        switch (kind) {
        case PH_PARAM:
            rc = expand_param(v, arg, arglen, &b, e);
            break;
        case PH_TASK:
            if (!v->task)
                rc = err_set(e, "{task} is not available here");
            else
                sb_adds(&b, v->task);
            break;
        case PH_FLOW:
            sb_adds(&b, v->flow ? v->flow : "");
            break;
        case PH_KEY: {
            int want = key_length(arg, arglen);
            size_t len = v->key ? strlen(v->key) : 0;
            if (!v->key && !v->keep_key)
                rc = err_set(e, "%.*s is only available in publish", (int)n, s);
            else if (want < 0)
                rc = err_set(e, "%.*s: the length must be from 1 to %d", (int)n, s, KEY_DIGITS);
            else if (v->keep_key)
                sb_add(&b, s, n);
            else
                sb_add(&b, v->key, want > 0 && (size_t)want < len ? (size_t)want : len);
            break;
        }
        case PH_NONE:
            break;
        }
        if (rc) {
            sb_free(&b);
            return -1;
        }
        s += n;
    }
    *out = sb_take(&b);
    return 0;
}

void template_params(const char *tpl, struct strv *names)
{
    for (const char *s = tpl; *s; s++) {
        enum ph kind;
        const char *arg;
        size_t arglen;
        size_t n = placeholder(s, &kind, &arg, &arglen);
        if (kind != PH_PARAM)
            continue;
        assert(n > 0 && arglen > 0);
        char *name = xstrndup(arg, arglen);
        if (strv_has(names, name))
            free(name);
        else
            strv_push(names, name);
        s += n - 1;
    }
}
