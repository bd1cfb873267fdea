/* graphview: which tasks become one node, for matrix tasks, matrix sub-flow nodes
 * (prep@A/...) and sub-flows, over a flow built by hand. */
#include "graphview.h"
#include "t.h"

/* prep@A, prep@B: a matrix sub-flow node's instances (two tasks each); map@A, map@B;
 * sum gathers both; sub is a plain sub-flow holding a matrix task m. */
static struct task tasks[9];
static size_t deps1[] = {0}, deps3[] = {2}, deps6[] = {1, 3, 4, 5};
static size_t order[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
static struct group groups[] = {
    {"prep@A", "", -1, 1, 0, 2}, {"prep@B", "", -1, 3, 2, 4}, {"sub", "", -1, 8, 7, 9}};

static struct flow *hand_flow(void)
{
    static const char *const names[] = {"prep@A/clean", "prep@A/stats", "prep@B/clean",
                                        "prep@B/stats", "map@A",        "map@B",
                                        "sum",          "sub/m@X",      "sub/m@Y"};
    static const int group_of[] = {0, 0, 1, 1, -1, -1, -1, 2, 2};
    static struct flow f;
    for (size_t i = 0; i < 9; i++)
        tasks[i] = (struct task){.name = (char *)names[i], .local = names[i], .group = group_of[i]};
    tasks[1].deps = deps1, tasks[1].n_deps = 1;
    tasks[3].deps = deps3, tasks[3].n_deps = 1;
    tasks[6].deps = deps6, tasks[6].n_deps = 4;
    f = (struct flow){.tasks = tasks, .n_tasks = 9, .order = order, .groups = groups, .n_groups = 3};
    return &f;
}

TEST(graphview_folds_matrix_tasks_and_matrix_sub_flow_nodes)
{
    struct flow *f = hand_flow();
    bool collapsed[] = {true, true, true};
    struct graphview v;
    graphview_build_matrix(f, collapsed, true, NULL, NULL, 0, &v);
    REQUIRE(v.n == 4); /* prep ×2, map ×2, sum, sub */
    long prep = v.of_task[0], map = v.of_task[4], sum = v.of_task[6], sub = v.of_task[7];
    CHECK(v.of_task[3] == prep && v.of_task[5] == map && v.of_task[8] == sub);
    CHECK(v.nodes[prep].first == 0 && v.nodes[prep].instances == 2 && v.nodes[prep].members == 4);
    CHECK(v.nodes[map].first == 4 && v.nodes[map].instances == 2);
    CHECK(v.nodes[sub].group == 2 && v.nodes[sub].first == -1); /* the outer sub-flow wins */
    CHECK(v.n_deps[sum] == 2);
    CHECK(v.member_at[prep + 1] - v.member_at[prep] == 4);
    graphview_free(&v);
}

TEST(graphview_shows_an_open_matrix_task_s_instances)
{
    struct flow *f = hand_flow();
    bool collapsed[] = {true, true, false};
    struct strmap open = {0};
    strmap_put(&open, "prep", (void *)1);
    struct graphview v;
    graphview_build_matrix(f, collapsed, true, &open, NULL, 0, &v);
    /* prep@A and prep@B as collapsed sub-flows, map ×2, sum, sub/m ×2 */
    REQUIRE(v.n == 5);
    CHECK(v.nodes[v.of_task[0]].group == 0 && v.nodes[v.of_task[2]].group == 1);
    CHECK(v.nodes[v.of_task[7]].first == 7 && v.nodes[v.of_task[7]].instances == 2);
    size_t inst;
    CHECK(graphview_matrix_base("prep@A/clean", NULL, &inst) == 4 && inst == 6);
    CHECK(graphview_matrix_base("prep@A/clean", &open, &inst) == 0);
    CHECK(graphview_matrix_base("sub/m@X", NULL, &inst) == 5 && inst == 7);
    graphview_free(&v);
    strmap_free(&open, NULL);
}
