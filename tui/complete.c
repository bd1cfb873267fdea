/* complete: candidates for Tab, from the flow being edited, the action table and the
 * file system. */
#include "complete.h"

#include <dirent.h>
#include <sys/stat.h>

#include "actions.h"
#include "model.h"

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void matching(const struct strv *all, const char *prefix, const char *suffix,
                     struct strv *out)
{
    for (size_t i = 0; i < all->n; i++)
        if (starts(all->v[i], prefix))
            strv_pushf(out, "%s%s", all->v[i], suffix);
}

/* pattern's characters appear in name in order ("ivd" in "invalidate-downstream"). */
static bool subsequence(const char *name, const char *pattern)
{
    for (; *name && *pattern; name++)
        pattern += *name == *pattern;
    return !*pattern;
}

/* A part of the name after a '-' begins with word ("run" in "show-run"). */
static bool part_starts(const char *name, const char *word)
{
    for (const char *d = strchr(name, '-'); d; d = strchr(d + 1, '-'))
        if (starts(d + 1, word))
            return true;
    return false;
}

/* Action names: those the word begins, then those with a part it begins; when there
 * are none, those holding its letters in order ("ivd": invalidate-downstream). */
static void action_names(const char *word, struct strv *out)
{
    struct strv names = {0};
    actions_names(&names);
    matching(&names, word, "", out);
    for (size_t i = 0; i < names.n && word[0]; i++)
        if (!starts(names.v[i], word) && part_starts(names.v[i], word))
            strv_push(out, xstrdup(names.v[i]));
    bool none = !out->n;
    for (size_t i = 0; i < names.n && none; i++)
        if (subsequence(names.v[i], word))
            strv_push(out, xstrdup(names.v[i]));
    strv_free(&names);
}

static void tasks(const struct flowedit *doc, const char *prefix, const char *suffix,
                  struct strv *out)
{
    struct strv names = {0};
    if (doc)
        flowedit_tasks(doc, &names);
    matching(&names, prefix, suffix, out);
    strv_free(&names);
}

/* Entries of dir/<word's directory> that start with the word's last part. */
static void paths(const char *dir, const char *word, struct strv *out)
{
    const char *slash = strrchr(word, '/');
    char *sub = slash ? xstrndup(word, (size_t)(slash - word + 1)) : xstrdup("");
    const char *base = slash ? slash + 1 : word;
    char *where = path_join(dir, sub[0] ? sub : ".");
    DIR *dh = opendir(where);
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || (n[0] == '.' && base[0] != '.') ||
            !starts(n, base))
            continue;
        char *full = xasprintf("%s/%s", where, n);
        struct stat st;
        bool is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        strv_pushf(out, "%s%s%s", sub, n, is_dir ? "/" : "");
        free(full);
    }
    if (dh)
        closedir(dh);
    strv_sort(out);
    free(where);
    free(sub);
}

void complete_field(enum complete_kind kind, const struct flowedit *doc, const char *dir,
                    const char *text, size_t *start, struct strv *out)
{
    const char *comma =
        kind == COMPLETE_TASKS || kind == COMPLETE_PATHS ? strrchr(text, ',') : NULL;
    size_t at = comma ? (size_t)(comma - text) + 1 : 0;
    while (text[at] == ' ')
        at++;
    *start = at;
    const char *word = text + at;
    static const char *const keep[] = {"all", "none"}, *const bools[] = {"false", "true"};
    if (kind == COMPLETE_TASKS)
        tasks(doc, word, "", out);
    else if (kind == COMPLETE_PATHS)
        paths(dir, word, out);
    for (size_t i = 0; i < 2; i++) {
        const char *c = kind == COMPLETE_KEEP ? keep[i] : kind == COMPLETE_BOOL ? bools[i] : NULL;
        if (c && starts(c, word))
            strv_push(out, xstrdup(c));
    }
}

/* "TASK.FIELD": a task, then its fields (top-level fields too, for set name ...). */
static void task_field(const struct flowedit *doc, const char *word, struct strv *out)
{
    struct strv names = {0};
    flowedit_tasks(doc, &names);
    const char *task = NULL;
    for (size_t i = 0; i < names.n; i++) {
        size_t n = strlen(names.v[i]);
        if (strncmp(word, names.v[i], n) == 0 && word[n] == '.' && (!task || n > strlen(task)))
            task = names.v[i];
    }
    struct strv fields = {0};
    if (task) {
        flowedit_fields(doc, task, &fields);
        for (size_t i = 0; i < fields.n; i++)
            if (starts(fields.v[i], word + strlen(task) + 1))
                strv_pushf(out, "%s.%s ", task, fields.v[i]);
    } else {
        matching(&names, word, ".", out);
        flowedit_fields(doc, NULL, &fields);
        matching(&fields, word, " ", out);
    }
    strv_free(&fields);
    strv_free(&names);
}

/* The words of a line (split at spaces); the last one may be empty. */
static void split_words(const char *line, struct strv *words, size_t *last_start)
{
    const char *p = line;
    for (;;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        *last_start = (size_t)(p - line);
        strv_push(words, xstrndup(p, n));
        if (!p[n])
            return;
        p += n;
    }
}

/* The usage token for argument k (0-based) of an action ("TASK", "VALUE..."), or NULL;
 * *rest is the index of a last token that takes the rest of the line ("VALUE..."). */
static char *usage_token(const char *usage, size_t k, size_t *rest)
{
    struct strv tokens = {0};
    size_t ignored;
    split_words(usage, &tokens, &ignored);
    char *tok = NULL;
    size_t last = tokens.n - 1;
    *rest = strstr(tokens.v[last], "...") ? last : (size_t)-1;
    if (k < tokens.n && tokens.v[k][0])
        tok = xstrdup(tokens.v[k]);
    else if (k >= tokens.n && *rest == last)
        tok = xstrdup(tokens.v[last]);
    strv_free(&tokens);
    return tok;
}

static void argument(const struct flowedit *doc, const struct strv *words, const char *tok,
                     struct strv *out)
{
    const char *word = words->v[words->n - 1];
    size_t k = words->n - 2; /* this argument's index */
    if (strcmp(tok, "TASK") == 0 || strcmp(tok, "UP") == 0 || strcmp(tok, "DOWN") == 0) {
        tasks(doc, word, " ", out);
    } else if (strcmp(tok, "TASK.FIELD") == 0) {
        task_field(doc, word, out);
    } else if (strcmp(tok, "PARAM") == 0) {
        struct strv names = {0};
        flowedit_params(doc, &names);
        matching(&names, word, " ", out);
        strv_free(&names);
    } else if (strcmp(tok, "FILE") == 0) {
        paths(".", word, out);
    } else if (strcmp(tok, "STATE") == 0) {
        struct strv names = {0};
        for (size_t s = 0; model_state_word(s); s++)
            if (!strchr(model_state_word(s), ' ')) /* "not kept" is not one word */
                strv_push(&names, xstrdup(model_state_word(s)));
        matching(&names, word, " ", out);
        strv_free(&names);
    } else if (starts(tok, "VALUE") && k == 1 && !word[0]) {
        const char *what = words->v[1];
        char *cur =
            strcmp(words->v[0], "param") == 0 ? flowedit_param(doc, what) : flowedit_get(doc, what);
        if (cur)
            strv_push(out, cur);
    }
}

enum complete_kind complete_kind_of(enum field_values values)
{
    switch (values) {
    case VALUES_TASKS:
        return COMPLETE_TASKS;
    case VALUES_PATHS:
        return COMPLETE_PATHS;
    case VALUES_KEEP:
        return COMPLETE_KEEP;
    case VALUES_BOOL:
        return COMPLETE_BOOL;
    case VALUES_ANY:
        break;
    }
    return COMPLETE_NONE;
}

/* How the value of a field completes ("train.code": paths), as the field table says. */
static enum complete_kind value_kind(const char *path)
{
    const char *dot = strrchr(path, '.');
    const struct field_info *f = fields_find(dot ? dot + 1 : path, true, NULL);
    return f ? complete_kind_of(f->values) : COMPLETE_NONE;
}

/* Where the argument that takes the rest of the line begins (it is argument rest). */
static size_t rest_start(const char *line, size_t rest)
{
    const char *p = line + strspn(line, " ");
    for (size_t i = 0; i < rest + 1 && *p; i++) {
        p += strcspn(p, " ");
        p += strspn(p, " ");
    }
    return (size_t)(p - line);
}

/* The value of `set TASK.FIELD VALUE` completes as the field's kind says. */
static void set_value(const struct flowedit *doc, const char *line, const char *path,
                      size_t *start, struct strv *out)
{
    char *dir = xstrdup(flowedit_path(doc));
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0;
    size_t at;
    complete_field(value_kind(path), doc, slash ? dir : ".", line + *start, &at, out);
    *start += at;
    free(dir);
}

void complete_command(const struct flowedit *doc, const char *line, size_t *start, struct strv *out)
{
    struct strv words = {0};
    split_words(line, &words, start);
    if (words.n == 1) {
        action_names(words.v[0], out);
    } else {
        const char *usage = actions_usage(words.v[0]);
        size_t rest;
        char *tok = usage && doc ? usage_token(usage, words.n - 2, &rest) : NULL;
        if (tok)
            argument(doc, &words, tok, out);
        if (tok && words.n - 2 >= rest) /* a value runs to the end of the line */
            *start = rest_start(line, rest);
        if (tok && !out->n && strcmp(words.v[0], "set") == 0 && words.n > 2)
            set_value(doc, line, words.v[1], start, out);
        free(tok);
    }
    strv_free(&words);
}

char *complete_common(const struct strv *c)
{
    if (!c->n)
        return xstrdup("");
    size_t n = strlen(c->v[0]);
    for (size_t i = 1; i < c->n; i++) {
        size_t k = 0;
        while (k < n && c->v[i][k] == c->v[0][k])
            k++;
        n = k;
    }
    return xstrndup(c->v[0], n);
}
