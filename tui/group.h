/* group: a matrix task drawn as one box (graphview's collapsed matrix nodes) in the TUI.
 *
 * A matrix task (`map` with instances map@A, map@B...; a matrix sub-flow node `prep`
 * with prep@A/...) starts as one box `map ×3` whose glyph and colour are its worst
 * instance's state and whose counts say how many instances are in each state
 * (`2 ✓ 1 ○`). m->open_matrix says which ones show their instances instead (base
 * name -> non-NULL; every base seen is a key, so group_name()'s strings live as long
 * as the model). Pure functions of the model, no curses.
 */
#ifndef SLUICE_GROUP_H
#define SLUICE_GROUP_H

#include "model.h"

/* Whether view node i is a collapsed matrix task. */
bool group_is(const struct model *m, size_t i);
/* Its base name ("map"); owned by the model. */
const char *group_name(const struct model *m, size_t i);
/* "map ×3": its box's label (the caller frees it). */
char *group_label(const struct model *m, size_t i);
/* Columns its box needs beyond the label for the counts. */
int group_counts_room(const struct model *m, size_t i);
/* Its worst instance's state word, and that instance (a task of it). */
const char *group_state(const struct model *m, size_t i);
size_t group_task(const struct model *m, size_t i);
/* "2 ✓ 1 ○": its instances per state, at most max_w columns wide. */
void group_counts(const struct model *m, size_t i, int max_w, char *buf, size_t n);

/* The sub-flow whose file defines collapsed matrix task i (-1: the top flow file). */
int group_defined_in(const struct model *m, size_t i);

/* Shows the instances of collapsed matrix task i (false: i is none), selecting its
 * worst instance. */
bool group_expand(struct model *m, size_t i);
/* Collapses the innermost open matrix task or expanded sub-flow around node i into
 * one box, selecting it; returns its name, or NULL when there is none. */
const char *group_collapse_around(struct model *m, size_t i);

#endif
