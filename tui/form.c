/* form: fields, keys, completion, and the edits a form means. */
#include "form.h"

#include <assert.h>
#include <curses.h>

#include "fields.h"

#define CTRL(c) ((c)&0x1f)

/* The quick form that adds a task: its name, then these fields of the table. */
static const enum task_field_id add_fields[] = {TASK_FIELD_run, TASK_FIELD_code,
                                                TASK_FIELD_after, TASK_FIELD_matrix};

static void add_field(struct form *f, const char *label, const char *field,
                      enum complete_kind complete)
{
    assert(f->n < FORM_FIELDS);
    struct form_field *fl = &f->fields[f->n++];
    fl->label = label;
    fl->field = field;
    fl->complete = complete;
    sb_adds(&fl->text, "");
}

static void add_table_field(struct form *f, enum task_field_id id)
{
    const struct field_info *fi = &fields_task[id];
    add_field(f, fi->label, fi->name, complete_kind_of(fi->values));
}

/* The name, then every field of the table the form of a task (or a node) shows. */
static void set_fields(struct form *f, enum field_where where)
{
    add_field(f, "name", "", COMPLETE_NONE);
    for (size_t i = 0; i < TASK_FIELD_COUNT; i++)
        if (fields_task[i].label && (fields_task[i].where & where))
            add_table_field(f, (enum task_field_id)i);
}

static void set_text(struct form_field *fl, const char *text)
{
    sb_free(&fl->text);
    sb_adds(&fl->text, text ? text : "");
    fl->cursor = fl->text.len;
}

void form_open_add(struct form *f, const char *name, const char *after)
{
    memset(f, 0, sizeof *f);
    f->kind = FORM_ADD;
    add_field(f, "name", "", COMPLETE_NONE);
    for (size_t i = 0; i < ARRAY_LEN(add_fields); i++)
        add_table_field(f, add_fields[i]);
    set_text(&f->fields[0], name);
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].field, "after") == 0)
            set_text(&f->fields[i], after);
    f->focus = name && name[0] ? 1 : 0;
}

void form_open_edit(struct form *f, const struct flowedit *doc, const char *task)
{
    memset(f, 0, sizeof *f);
    f->kind = FORM_EDIT;
    f->task = xstrdup(task);
    char *path = xasprintf("%s.flow", task);
    char *subflow = flowedit_get(doc, path);
    free(path);
    if (subflow)
        set_fields(f, FIELD_NODE);
    else
        set_fields(f, FIELD_TASK);
    free(subflow);
    for (size_t i = 0; i < f->n; i++) {
        struct form_field *fl = &f->fields[i];
        if (fl->field[0]) {
            char *p = xasprintf("%s.%s", task, fl->field);
            fl->initial = flowedit_get(doc, p);
            free(p);
        } else {
            fl->initial = xstrdup(task);
        }
        if (!fl->initial)
            fl->initial = xstrdup("");
        set_text(fl, fl->initial);
    }
    f->focus = 1;
}

void form_free(struct form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        sb_free(&f->fields[i].text);
        free(f->fields[i].initial);
    }
    free(f->task);
    free(f->verdict);
    free(f->hint);
    memset(f, 0, sizeof *f);
}

/* --- editing the text ------------------------------------------------------------------------- */

static bool continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

static void insert(struct form_field *fl, const char *s, size_t n)
{
    struct sb b = {0};
    sb_add(&b, fl->text.buf, fl->cursor);
    sb_add(&b, s, n);
    sb_adds(&b, fl->text.buf + fl->cursor);
    sb_free(&fl->text);
    fl->text = b;
    fl->cursor += n;
}

static void erase_range(struct form_field *fl, size_t from, size_t to)
{
    memmove(fl->text.buf + from, fl->text.buf + to, fl->text.len - to + 1);
    fl->text.len -= to - from;
    fl->cursor = from;
}

static size_t char_before(const struct form_field *fl, size_t at)
{
    while (at > 0 && continuation(fl->text.buf[--at]))
        ;
    return at;
}

static size_t char_after(const struct form_field *fl, size_t at)
{
    if (at < fl->text.len)
        at++;
    while (at < fl->text.len && continuation(fl->text.buf[at]))
        at++;
    return at;
}

/* Tab: completes the item before the cursor, or lists what it could be. */
static void complete(struct form *f, struct form_field *fl, const struct flowedit *doc,
                     const char *dir)
{
    char *before = xstrndup(fl->text.buf, fl->cursor);
    size_t start;
    struct strv c = {0};
    complete_field(fl->complete, doc, dir, before, &start, &c);
    free(f->hint);
    f->hint = NULL;
    if (c.n == 0) {
        f->hint = xstrdup("no completion");
    } else {
        char *common = complete_common(&c);
        erase_range(fl, start, fl->cursor);
        insert(fl, common, strlen(common));
        free(common);
        if (c.n > 1) {
            struct sb b = {0};
            for (size_t i = 0; i < c.n; i++)
                sb_addf(&b, "%s%s", i ? "  " : "", c.v[i]);
            f->hint = sb_take(&b);
        }
    }
    strv_free(&c);
    free(before);
}

static enum form_result edit_key(struct form_field *fl, int key)
{
    size_t len = fl->text.len;
    if (key == KEY_LEFT || key == CTRL('b'))
        fl->cursor = char_before(fl, fl->cursor);
    else if (key == KEY_RIGHT || key == CTRL('f'))
        fl->cursor = char_after(fl, fl->cursor);
    else if (key == KEY_HOME || key == CTRL('a'))
        fl->cursor = 0;
    else if (key == KEY_END || key == CTRL('e'))
        fl->cursor = len;
    else if ((key == KEY_BACKSPACE || key == 127 || key == 8) && fl->cursor > 0)
        erase_range(fl, char_before(fl, fl->cursor), fl->cursor);
    else if (key == KEY_DC && fl->cursor < len)
        erase_range(fl, fl->cursor, char_after(fl, fl->cursor));
    else if (key == CTRL('u'))
        erase_range(fl, 0, len);
    else if (key >= ' ' && key < 256 && key != 127) {
        char c = (char)key;
        insert(fl, &c, 1);
    } else
        return FORM_KEEP;
    return fl->text.len != len ? FORM_CHANGED : FORM_KEEP;
}

enum form_result form_key(struct form *f, int key, const struct flowedit *doc, const char *dir)
{
    struct form_field *fl = &f->fields[f->focus];
    if (key == 27)
        return FORM_CANCEL;
    if (key == '\n' || key == '\r' || key == KEY_ENTER)
        return FORM_SUBMIT;
    free(f->hint);
    f->hint = NULL;
    if (key == '\t' && fl->complete != COMPLETE_NONE) {
        size_t before = fl->text.len;
        complete(f, fl, doc, dir);
        return fl->text.len != before ? FORM_CHANGED : FORM_KEEP;
    }
    if (key == KEY_UP || key == KEY_BTAB) {
        f->focus = (f->focus + f->n - 1) % f->n;
        return FORM_KEEP;
    }
    if (key == KEY_DOWN || key == '\t') {
        f->focus = (f->focus + 1) % f->n;
        return FORM_KEEP;
    }
    return edit_key(fl, key);
}

/* --- what the form means ---------------------------------------------------------------------- */

static const char *text_of(const struct form_field *fl)
{
    return fl->text.buf ? fl->text.buf : "";
}

const char *form_task_name(const struct form *f)
{
    return text_of(&f->fields[0]);
}

static const char *kept(struct strv *keep, char *s)
{
    strv_push(keep, s);
    return s;
}

size_t form_edits(const struct form *f, struct edit *out, struct strv *keep)
{
    const char *name = form_task_name(f);
    size_t n = 0;
    if (f->kind == FORM_ADD)
        out[n++] = (struct edit){.op = EDIT_ADD, .a = name};
    else if (strcmp(name, f->task) != 0)
        out[n++] = (struct edit){.op = EDIT_RENAME, .a = f->task, .b = name};
    for (size_t i = 1; i < f->n; i++) {
        const struct form_field *fl = &f->fields[i];
        const char *text = text_of(fl);
        const char *was = fl->initial ? fl->initial : "";
        if (strcmp(text, was) == 0 && (f->kind == FORM_EDIT || !text[0]))
            continue;
        const char *path = kept(keep, xasprintf("%s.%s", name, fl->field));
        if (text[0])
            out[n++] = (struct edit){.op = EDIT_SET, .a = path, .value = text};
        else
            out[n++] = (struct edit){.op = EDIT_UNSET, .a = path};
    }
    return n;
}
