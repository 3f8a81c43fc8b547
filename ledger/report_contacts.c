/*
 * report_contacts.c - the contacts report (gap 2): exposures per village, the contact graph from
 * a person, close contacts whose contacts are not listed, second-degree contacts not under
 * monitoring, and the chains, each as a tree of who infected whom. docs/reports.md defines them.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- contacts (gap 2) ---- */

enum { C_EXPOSURES, C_CLOSE, C_SECOND };

static void contacts_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind, const char *region,
                         const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssddd", region, level, rp_ll(v[C_EXPOSURES]),
	                  rp_ll(v[C_CLOSE]), rp_ll(v[C_SECOND]));
}

/* The exposure graph over persons through merges: nodes sorted by id; each node's neighbours,
 * undirected, adj[off[i] .. off[i + 1]) in id order; and whom it exposed (source -> contact),
 * out[out_off[i] .. out_off[i + 1]) in id order, with indeg[i] the exposures naming it contact. */
typedef struct graph {
	rp_strs nodes;
	size_t *off, *adj;
	size_t *out_off, *out, *indeg;
} graph;

typedef struct edge {
	size_t a, b;
} edge;

static int cmp_edge(const void *p, const void *q)
{
	const edge *a = p, *b = q;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

/* The edges e[0..k) sorted into adjacency lists over n nodes: *off (n + 1) and *to (k), owned.
 * False when memory ran out (nothing allocated). */
static bool adjacency(edge *e, size_t k, size_t n, size_t **off, size_t **to)
{
	qsort(e, k, sizeof(*e), cmp_edge);
	*off = calloc(n + 1, sizeof(**off));
	*to = calloc(k ? k : 1, sizeof(**to));
	if (!*off || !*to) {
		free(*off), free(*to);
		*off = *to = NULL;
		return false;
	}
	for (size_t i = 0; i < k; i++) {
		(*off)[e[i].a + 1]++;
		(*to)[i] = e[i].b;
	}
	for (size_t i = 0; i < n; i++)
		(*off)[i + 1] += (*off)[i];
	return true;
}

static void graph_nodes(rp_ctx *x, graph *gr)
{
	for (size_t i = 0; i < x->exposure.n; i++) {
		const rp_rec *r = &x->exposure.v[i];
		if (!r->in)
			continue;
		rp_strs_add(x, &gr->nodes, rp_pid(x, rp_fs(&x->exposure, r, RP_X_SOURCE)));
		rp_strs_add(x, &gr->nodes, rp_pid(x, rp_fs(&x->exposure, r, RP_X_CONTACT)));
	}
	rp_strs_sort_unique(&gr->nodes);
}

static void graph_release(graph *gr)
{
	rp_strs_release(&gr->nodes);
	free(gr->off);
	free(gr->adj);
	free(gr->out_off);
	free(gr->out);
	free(gr->indeg);
	memset(gr, 0, sizeof(*gr));
}

static void graph_build(rp_ctx *x, graph *gr)
{
	size_t cap = x->exposure.n ? x->exposure.n : 1, k = 0;
	edge *e = calloc(2 * cap, sizeof(*e)), *d = calloc(cap, sizeof(*d));

	memset(gr, 0, sizeof(*gr));
	graph_nodes(x, gr);
	gr->indeg = calloc(gr->nodes.n ? gr->nodes.n : 1, sizeof(*gr->indeg));
	if (!e || !d || !gr->indeg)
		goto nomem;
	for (size_t i = 0; i < x->exposure.n; i++) {
		const rp_rec *r = &x->exposure.v[i];
		size_t a, b;
		if (!r->in)
			continue;
		a = rp_strs_index(&gr->nodes, rp_pid(x, rp_fs(&x->exposure, r, RP_X_SOURCE)));
		b = rp_strs_index(&gr->nodes, rp_pid(x, rp_fs(&x->exposure, r, RP_X_CONTACT)));
		if (a == (size_t)-1 || b == (size_t)-1 || a == b)
			continue;
		d[k / 2] = (edge){a, b};
		gr->indeg[b]++;
		e[k++] = (edge){a, b};
		e[k++] = (edge){b, a};
	}
	if (!adjacency(e, k, gr->nodes.n, &gr->off, &gr->adj) ||
	    !adjacency(d, k / 2, gr->nodes.n, &gr->out_off, &gr->out))
		goto nomem;
	free(e);
	free(d);
	return;
nomem:
	rp_nomem(x);
	free(e);
	free(d);
	graph_release(gr); /* an empty graph: nothing walks it */
}

/* "a > b > c": the path from the start to node i, through the BFS parents. */
static void path_text(const graph *gr, const size_t *parent, size_t i, char *buf, size_t cap)
{
	size_t chain[4096], n = 0, o = 0;

	for (size_t j = i; n < 4096; j = parent[j]) {
		chain[n++] = j;
		if (parent[j] == j)
			break;
	}
	buf[0] = '\0';
	while (n-- && o < cap)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? " > " : "",
		                      gr->nodes.v[chain[n]]);
}

static hm_err contacts_walk(rp_ctx *x, const graph *gr, hm_report_table *t)
{
	const char *start = rp_pid(x, x->start);
	size_t s = rp_strs_index(&gr->nodes, start), head = 0, tail = 0;
	size_t *parent = NULL, *dist = NULL, *queue = NULL;
	char name[512], *path = NULL;

	if (s == (size_t)-1) {
		/* A person with no exposure is a graph of one; an unknown id is a mistake. */
		if (!rp_person_find(x, start) && !rp_person_find(x, x->start))
			return hm_node_fail(x->n, HM_ERR_NOT_FOUND, "no person '%s' on this node",
			                    x->start);
		hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "ssds", start,
		                  rp_person_name(x, start, name, sizeof(name)), 0LL, start);
		return HM_OK;
	}
	parent = malloc(gr->nodes.n * sizeof(*parent));
	dist = malloc(gr->nodes.n * sizeof(*dist));
	queue = malloc(gr->nodes.n * sizeof(*queue));
	path = malloc(HM_STR_MAX);
	if (!parent || !dist || !queue || !path) {
		rp_nomem(x);
		goto out;
	}
	for (size_t i = 0; i < gr->nodes.n; i++)
		dist[i] = (size_t)-1;
	dist[s] = 0, parent[s] = s, queue[tail++] = s;
	while (head < tail) {
		size_t u = queue[head++];
		if (rp_person_row_wanted(x, t)) {
			path_text(gr, parent, u, path, HM_STR_MAX);
			hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "ssds", gr->nodes.v[u],
			                  rp_person_name(x, gr->nodes.v[u], name, sizeof(name)),
			                  (long long)dist[u], path);
		}
		if (x->depth >= 0 && dist[u] >= (size_t)x->depth)
			continue;
		for (size_t j = gr->off[u]; j < gr->off[u + 1]; j++) {
			size_t v = gr->adj[j];
			if (dist[v] != (size_t)-1)
				continue;
			dist[v] = dist[u] + 1, parent[v] = u, queue[tail++] = v;
		}
	}
out:
	free(parent);
	free(dist);
	free(queue);
	free(path);
	return HM_OK; /* out of memory: x->rep->nomem says so */
}

typedef struct chain {
	size_t first, size; /* first: its smallest node, so equal sizes keep id order */
	bool has_case;
} chain;

static int cmp_chain(const void *p, const void *q)
{
	const chain *a = p, *b = q;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* The connected groups of the graph into chains (comp[i]: node i's group), largest first;
 * returns how many. */
static size_t chains_find(rp_ctx *x, const graph *gr, size_t *comp, size_t *queue, chain *chains)
{
	size_t n = gr->nodes.n, nchains = 0;

	for (size_t i = 0; i < n; i++)
		comp[i] = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t head = 0, tail = 0;
		chain *c = &chains[nchains];
		if (comp[i] != (size_t)-1)
			continue;
		c->first = i;
		comp[i] = nchains, queue[tail++] = i;
		while (head < tail) {
			size_t u = queue[head++];
			c->size++;
			c->has_case |= rp_strs_has(&x->cases, gr->nodes.v[u]);
			for (size_t j = gr->off[u]; j < gr->off[u + 1]; j++)
				if (comp[gr->adj[j]] == (size_t)-1)
					comp[gr->adj[j]] = nchains, queue[tail++] = gr->adj[j];
		}
		nchains++;
	}
	qsort(chains, nchains, sizeof(*chains), cmp_chain);
	return nchains;
}

/* The persons of chain c (component id) as "p1 p2 p3" in id order, cut at a whole id. */
static void chain_persons(const graph *gr, const size_t *comp, const chain *c, size_t id, char *buf,
                          size_t cap)
{
	size_t o = 0, listed = 0;

	buf[0] = '\0';
	/* Nodes are in id order, so a walk over them lists the chain's persons sorted. */
	for (size_t i = c->first; i < gr->nodes.n; i++) {
		size_t len;
		if (comp[i] != id)
			continue;
		len = strlen(gr->nodes.v[i]) + 1;
		if (o + len + 32 >= cap) {
			/* a whole id or none, and say how many are left out */
			snprintf(buf + o, cap - o, " (and %zu more)", c->size - listed);
			break;
		}
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? " " : "", gr->nodes.v[i]);
		listed++;
	}
}

/* Who infected whom, from root: breadth first along the exposures (source -> contact), so each
 * person hangs under the one of the nearest generation who exposed them. parent[] of a person
 * not yet placed is -1. */
static void tree_place(const graph *gr, size_t root, size_t *parent, size_t *queue)
{
	size_t head = 0, tail = 0;

	parent[root] = root, queue[tail++] = root;
	while (head < tail) {
		size_t u = queue[head++];
		for (size_t j = gr->out_off[u]; j < gr->out_off[u + 1]; j++) {
			size_t v = gr->out[j];
			if (parent[v] == (size_t)-1)
				parent[v] = u, queue[tail++] = v;
		}
	}
}

typedef struct tree_walk {
	size_t *parent, *queue, *stack, *next; /* next: -1 until the person's row is written */
	long long chain;
} tree_walk;

static void tree_row(rp_ctx *x, const graph *gr, hm_report_table *t, const tree_walk *w, size_t v,
                     size_t depth)
{
	size_t p = w->parent[v];

	if (!hm_report_row_wanted(x->rep, t))
		return;
	hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "dssds", w->chain, gr->nodes.v[v],
	                  p == v ? NULL : gr->nodes.v[p], (long long)depth,
	                  rp_strs_has(&x->cases, gr->nodes.v[v]) ? "yes" : "no");
}

/* The tree placed from root as rows in pre-order: each person, then those they infected (in id
 * order), one deeper. */
static void tree_emit(rp_ctx *x, const graph *gr, hm_report_table *t, tree_walk *w, size_t root)
{
	size_t top = 0;

	tree_place(gr, root, w->parent, w->queue);
	tree_row(x, gr, t, w, root, 0);
	w->next[root] = gr->out_off[root], w->stack[top++] = root;
	while (top) {
		size_t u = w->stack[top - 1], v;
		if (w->next[u] == gr->out_off[u + 1]) {
			top--;
			continue;
		}
		v = gr->out[w->next[u]++];
		if (w->parent[v] != u || w->next[v] != (size_t)-1)
			continue; /* placed under another, or a second exposure by the same source
			           */
		tree_row(x, gr, t, w, v, top);
		w->next[v] = gr->out_off[v], w->stack[top++] = v;
	}
}

/* Chain c as trees: from each person nobody exposed (in id order), then, for persons left (a
 * ring of exposures), from the smallest id left. */
static void chain_trees(rp_ctx *x, const graph *gr, const size_t *comp, size_t id,
                        hm_report_table *t, tree_walk *w)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < gr->nodes.n; i++)
			if (comp[i] == id && w->parent[i] == (size_t)-1 &&
			    (pass || gr->indeg[i] == 0))
				tree_emit(x, gr, t, w, i);
}

/* Connected groups of the graph, largest first, each with its persons in id order (t), and
 * each as a tree of who infected whom (tt). */
static void contacts_chains(rp_ctx *x, const graph *gr, hm_report_table *t, hm_report_table *tt)
{
	size_t n = gr->nodes.n ? gr->nodes.n : 1, nchains;
	size_t *comp = malloc(n * sizeof(size_t)), *queue = malloc(n * sizeof(size_t));
	chain *chains = calloc(n, sizeof(*chains));
	tree_walk w = {malloc(n * sizeof(size_t)), queue, malloc(n * sizeof(size_t)),
	               malloc(n * sizeof(size_t)), 0};
	char *persons = malloc(HM_STR_MAX * 4);

	if (!comp || !queue || !chains || !persons || !w.parent || !w.stack || !w.next) {
		rp_nomem(x);
		goto out;
	}
	nchains = chains_find(x, gr, comp, queue, chains);
	for (size_t i = 0; i < gr->nodes.n; i++)
		w.parent[i] = w.next[i] = (size_t)-1;
	for (size_t k = 0; k < nchains; k++) {
		if (hm_report_row_wanted(x->rep, t)) {
			chain_persons(gr, comp, &chains[k], comp[chains[k].first], persons,
			              HM_STR_MAX * 4);
			hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "ddss", (long long)(k + 1),
			                  (long long)chains[k].size, persons,
			                  chains[k].has_case ? "yes" : "no");
		}
		w.chain = (long long)(k + 1);
		if (hm_report_rows_full(x->rep, tt)) /* a row for each of its persons */
			tt->rows_more += chains[k].size;
		else
			chain_trees(x, gr, comp, comp[chains[k].first], tt, &w);
	}
out:
	free(comp);
	free(queue);
	free(chains);
	free(persons);
	free(w.parent);
	free(w.stack);
	free(w.next);
}

static void contacts_lists(rp_ctx *x, hm_report_table *unlisted, hm_report_table *second)
{
	rp_strs sources = {0}, close = {0}, far = {0};
	char name[512];

	for (size_t i = 0; i < x->exposure.n; i++) {
		const rp_rec *r = &x->exposure.v[i];
		const char *p = rp_pid(x, rp_fs(&x->exposure, r, RP_X_CONTACT));
		if (!r->in)
			continue;
		rp_strs_add(x, &sources, rp_pid(x, rp_fs(&x->exposure, r, RP_X_SOURCE)));
		if (rp_has(r, RP_X_DEGREE) && r->x[RP_X_DEGREE] == 1)
			rp_strs_add(x, &close, p);
		else if (rp_has(r, RP_X_DEGREE) && r->x[RP_X_DEGREE] == 2)
			rp_strs_add(x, &far, p);
	}
	rp_strs_sort_unique(&sources);
	rp_strs_sort_unique(&close);
	rp_strs_sort_unique(&far);
	for (size_t i = 0; i < close.n; i++)
		if (!rp_strs_has(&sources, close.v[i]) && rp_person_row_wanted(x, unlisted))
			hm_report_row_add(x->rep, unlisted, HM_REPORT_ROW_DATA, "sss", close.v[i],
			                  rp_person_name(x, close.v[i], name, sizeof(name)),
			                  rp_person_village(x, close.v[i]));
	for (size_t i = 0; i < far.n; i++)
		if (!rp_monitored_find(x, far.v[i]) && rp_person_row_wanted(x, second))
			hm_report_row_add(x->rep, second, HM_REPORT_ROW_DATA, "sss", far.v[i],
			                  rp_person_name(x, far.v[i], name, sizeof(name)),
			                  rp_person_village(x, far.v[i]));
	rp_strs_release(&sources);
	rp_strs_release(&close);
	rp_strs_release(&far);
}

hm_err rp_contacts(rp_ctx *x)
{
	static const char *const cols[] = {"region", "level", "exposures", "close", "second", NULL};
	static const char *const walk_cols[] = {"person", "name", "distance", "path", NULL};
	static const char *const list_cols[] = {"person", "name", "village", NULL};
	static const char *const chain_cols[] = {"chain", "size", "persons", "case", NULL};
	static const char *const tree_cols[] = {"chain", "person", "infected_by",
	                                        "depth", "case",   NULL};
	rp_groups g = {0};
	graph gr;
	hm_report_table *t, *t2;
	hm_err rc = HM_OK;

	for (size_t i = 0; i < x->exposure.n; i++) {
		const rp_rec *r = &x->exposure.v[i];
		if (!r->in)
			continue;
		rp_group_add(x, &g, r->region, C_EXPOSURES, 1);
		if (rp_has(r, RP_X_DEGREE) && (r->x[RP_X_DEGREE] == 1 || r->x[RP_X_DEGREE] == 2))
			rp_group_add(x, &g, r->region, r->x[RP_X_DEGREE] == 1 ? C_CLOSE : C_SECOND,
			             1);
	}
	t = hm_report_table_add(x->rep, "exposures",
	                        "Exposures listed: close (degree 1) and second-degree (degree 2)",
	                        cols);
	if (t)
		t->chart = 2, t->chart_label = 0;
	rp_groups_emit(x, &g, t, contacts_row);
	rp_groups_release(&g);
	graph_build(x, &gr);
	if (x->start) {
		t = hm_report_table_add(
		    x->rep, "graph",
		    "The contact graph from the person asked: each person reached, "
		    "its distance and the path",
		    walk_cols);
		if ((rc = contacts_walk(x, &gr, t)))
			goto out;
	}
	t = hm_report_table_add(x->rep, "close_unlisted",
	                        "Close contacts whose own contacts have not been listed",
	                        list_cols);
	t2 = hm_report_table_add(x->rep, "second_unmonitored",
	                         "Second-degree contacts not under monitoring", list_cols);
	contacts_lists(x, t, t2);
	t = hm_report_table_add(
	    x->rep, "chains",
	    "Chains: connected groups of contacts, largest first, and whether they "
	    "hold a case",
	    chain_cols);
	t2 = hm_report_table_add(x->rep, "chain_trees",
	                         "Chains as trees: who infected whom (each person under the one "
	                         "who exposed them)",
	                         tree_cols);
	if (t2)
		t2->tree_depth = 3;
	contacts_chains(x, &gr, t, t2);
out:
	graph_release(&gr);
	return rc;
}
