/*
 * report_stock.c - the supplies report (gap 1: stock on hand, daily use, days of cover, gap
 * against requests, shipments, interceptions), the compounds report (gap 4) and the rewards
 * report (tips and penalties). docs/reports.md defines every figure.
 */
#include "ledger_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- supplies (gap 1) ---- */

enum {
	U_RECEIVED,
	U_TRANSFER_IN,
	U_ISSUED,
	U_TRANSFER_OUT,
	U_CONSUMED,
	U_COUNTED,
	U_USE, /* issued and consumed within the window */
	U_REQUESTED,
	U_INTERCEPTED,
	U_VALS
};

typedef struct stock_key {
	const char *item, *store;
	double v[U_VALS];
} stock_key;

typedef struct stock {
	stock_key *v;
	size_t n, cap;
} stock;

static int cmp_stock(const void *p, const void *q)
{
	const stock_key *a = p, *b = q;
	int c = strcmp(a->item, b->item);
	return c ? c : strcmp(a->store, b->store);
}

static double *stock_at(rp_ctx *x, stock *s, const char *item, const char *store)
{
	stock_key key = {.item = item, .store = store};
	bool found;
	size_t i = rp_sorted_find(s->v, s->n, sizeof(*s->v), &key, cmp_stock, &found);
	stock_key *v;

	if (found)
		return s->v[i].v;
	if (!(v = rp_grow(x, s->v, s->n, &s->cap, sizeof(*v))))
		return NULL;
	s->v = v;
	memmove(&v[i + 1], &v[i], (s->n - i) * sizeof(*v));
	v[i] = key;
	s->n++;
	return v[i].v;
}

static void stock_add(rp_ctx *x, stock *s, const char *item, const char *store, int i, double q)
{
	double *v = stock_at(x, s, item, store);
	if (v)
		v[i] += q;
}

static bool txn_counts(const rp_ctx *x, const rp_rec *r)
{
	return strcmp(rp_fs(&x->txn, r, RP_S_DATE), x->date) <= 0;
}

static void supplies_stock(rp_ctx *x, stock *s)
{
	static const char *const moves[] = {"received", "transfer",  "issued",     "consumed",
	                                    "counted",  "requested", "intercepted"};
	for (size_t i = 0; i < x->txn.n; i++) {
		const rp_rec *r = &x->txn.v[i];
		const char *item = rp_fs(&x->txn, r, RP_S_ITEM),
		           *store = rp_fs(&x->txn, r, RP_S_STORE);
		double q = r->x[RP_S_QTY];
		if (!r->in || !txn_counts(x, r))
			continue;
		switch (rp_word_index(rp_fs(&x->txn, r, RP_S_MOVEMENT), moves, 7, -1)) {
		case 0:
			stock_add(x, s, item, store, U_RECEIVED, q);
			break;
		case 1:
			stock_add(x, s, item, store, U_TRANSFER_OUT, q);
			if (rp_has(r, RP_S_TO))
				stock_add(x, s, item, rp_fs(&x->txn, r, RP_S_TO), U_TRANSFER_IN, q);
			break;
		case 2:
		case 3:
			stock_add(x, s, item, store,
			          !strcmp(rp_fs(&x->txn, r, RP_S_MOVEMENT), "issued") ? U_ISSUED
			                                                              : U_CONSUMED,
			          q);
			if (rp_in_window(x, rp_fs(&x->txn, r, RP_S_DATE)))
				stock_add(x, s, item, store, U_USE, q);
			break;
		case 4:
			stock_add(x, s, item, store, U_COUNTED, q);
			break;
		case 5:
			stock_add(x, s, item, store, U_REQUESTED, q);
			break;
		case 6: /* never reached the store: not on hand */
			stock_add(x, s, item, store, U_INTERCEPTED, q);
			break;
		default: /* a movement of a newer version */
			break;
		}
	}
}

/* On hand from the sums of supplies_stock, by the ledger's one rule (hm_stock_sign). */
static double on_hand_of(const double *v)
{
	static const struct {
		int u;
		const char *movement;
		bool to;
	} sums[] = {{U_RECEIVED, "received", false},   {U_TRANSFER_IN, "transfer", true},
	            {U_ISSUED, "issued", false},       {U_TRANSFER_OUT, "transfer", false},
	            {U_CONSUMED, "consumed", false},   {U_COUNTED, "counted", false},
	            {U_REQUESTED, "requested", false}, {U_INTERCEPTED, "intercepted", false}};
	double on_hand = 0;

	for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++)
		on_hand += hm_stock_sign(sums[i].movement, sums[i].to) * v[sums[i].u];
	return on_hand;
}

/* One row per item and store from the sums of supplies_stock. */
static void supplies_stock_rows(rp_ctx *x, const stock *s, hm_report_table *t)
{
	for (size_t i = 0; i < s->n; i++) {
		const double *v = s->v[i].v;
		double on_hand = on_hand_of(v);
		double use = v[U_USE] / (double)x->days;
		double gap = v[U_REQUESTED] - v[U_RECEIVED];
		if (!hm_report_row_wanted(x->rep, t))
			continue;
		hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "ssdddddddffdd", s->v[i].item,
		                  s->v[i].store, rp_ll(v[U_RECEIVED]), rp_ll(v[U_TRANSFER_IN]),
		                  rp_ll(v[U_ISSUED]), rp_ll(v[U_TRANSFER_OUT]),
		                  rp_ll(v[U_CONSUMED]), rp_ll(v[U_COUNTED]), rp_ll(on_hand), use,
		                  use > 0 ? on_hand / use : NAN, rp_ll(v[U_REQUESTED]),
		                  rp_ll(gap > 0 ? gap : 0));
	}
}

/* Intercepted quantities per item, over every store. */
static void supplies_intercepted(rp_ctx *x, const stock *s, hm_report_table *t)
{
	for (size_t i = 0; i < s->n;) {
		size_t j = i;
		double q = 0;
		for (; j < s->n && !strcmp(s->v[j].item, s->v[i].item); j++)
			q += s->v[j].v[U_INTERCEPTED];
		if (q != 0 && hm_report_row_wanted(x->rep, t))
			hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "sd", s->v[i].item,
			                  rp_ll(q));
		i = j;
	}
}

/* One row per item a shipment carried: dispatched (its lines), received and intercepted (the
 * movements that name it). */
static void supplies_shipment(rp_ctx *x, const rp_rec *sh, hm_report_table *t)
{
	const char *id = rp_rid(&x->shipment, sh);
	stock per = {0}; /* item -> {dispatched, received, intercepted} in v[0..2] */
	char *lines = strdup(rp_fs(&x->shipment, sh, RP_H_LINES)), *save = NULL;

	if (!lines) {
		rp_nomem(x);
		return;
	}
	for (char *tok = strtok_r(lines, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		while (*tok == ' ')
			tok++;
		if (!colon || colon == tok)
			continue;
		*colon = '\0';
		stock_add(x, &per, tok, "", 0, strtod(colon + 1, NULL));
	}
	for (size_t i = 0; i < x->txn.n; i++) {
		const rp_rec *r = &x->txn.v[i];
		const char *m = rp_fs(&x->txn, r, RP_S_MOVEMENT);
		if (strcmp(rp_fs(&x->txn, r, RP_S_SHIPMENT), id) != 0 || !txn_counts(x, r))
			continue;
		if (!strcmp(m, "received"))
			stock_add(x, &per, rp_fs(&x->txn, r, RP_S_ITEM), "", 1, r->x[RP_S_QTY]);
		else if (!strcmp(m, "intercepted"))
			stock_add(x, &per, rp_fs(&x->txn, r, RP_S_ITEM), "", 2, r->x[RP_S_QTY]);
	}
	if (per.n == 0 && hm_report_row_wanted(x->rep, t))
		hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "sssssnnn", id,
		                  rp_fs(&x->shipment, sh, RP_H_FROM),
		                  rp_fs(&x->shipment, sh, RP_H_TO),
		                  rp_fs(&x->shipment, sh, RP_H_STATUS), NULL);
	for (size_t i = 0; i < per.n; i++)
		if (hm_report_row_wanted(x->rep, t))
			hm_report_row_add(
			    x->rep, t, HM_REPORT_ROW_DATA, "sssssddd", id,
			    rp_fs(&x->shipment, sh, RP_H_FROM), rp_fs(&x->shipment, sh, RP_H_TO),
			    rp_fs(&x->shipment, sh, RP_H_STATUS), per.v[i].item,
			    rp_ll(per.v[i].v[0]), rp_ll(per.v[i].v[1]), rp_ll(per.v[i].v[2]));
	free(per.v);
	free(lines);
}

hm_err rp_supplies(rp_ctx *x)
{
	static const char *const cols[] = {
	    "item",          "store",     "received", "transfer_in", "issued",
	    "transfer_out",  "consumed",  "counted",  "on_hand",     "daily_use",
	    "days_of_cover", "requested", "gap",      NULL};
	static const char *const ship_cols[] = {"shipment", "from",        "to",
	                                        "status",   "item",        "dispatched",
	                                        "received", "intercepted", NULL};
	static const char *const int_cols[] = {"item", "intercepted", NULL};
	stock s = {0};
	hm_report_table *t;

	supplies_stock(x, &s);
	t = hm_report_table_add(
	    x->rep, "stock",
	    "Stock on hand per item and store, daily use over the last N days, days "
	    "of cover, and the gap against requests",
	    cols);
	if (t)
		t->chart = 8, t->chart_label = 0, t->chart_label2 = 1;
	supplies_stock_rows(x, &s, t);
	t = hm_report_table_add(x->rep, "shipments",
	                        "Shipments: quantities dispatched, received and intercepted",
	                        ship_cols);
	for (size_t i = 0; i < x->shipment.n; i++)
		if (x->shipment.v[i].in)
			supplies_shipment(x, &x->shipment.v[i], t);
	t = hm_report_table_add(x->rep, "intercepted", "Intercepted quantities per item", int_cols);
	supplies_intercepted(x, &s, t);
	free(s.v);
	return HM_OK;
}

/* ---- compounds (gap 4) ---- */

enum { K_COMPOUNDS, K_MONITORED, K_PROPERTY_NOT_TOLD, K_RESIDENTS_NOT_TOLD };

static void compounds_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                          const char *region, const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssdddd", region, level, rp_ll(v[K_COMPOUNDS]),
	                  rp_ll(v[K_MONITORED]), rp_ll(v[K_PROPERTY_NOT_TOLD]),
	                  rp_ll(v[K_RESIDENTS_NOT_TOLD]));
}

/* Whether a notice with audience reached compound (of village) on or before D. */
static bool told(const rp_ctx *x, const char *village, const char *compound, const char *audience)
{
	for (size_t i = 0; i < x->notice.n; i++) {
		const rp_rec *r = &x->notice.v[i];
		if (!strcmp(r->region, village) &&
		    !strcmp(rp_fs(&x->notice, r, RP_O_COMPOUND), compound) &&
		    !strcmp(rp_fs(&x->notice, r, RP_O_AUDIENCE), audience) &&
		    strcmp(rp_fs(&x->notice, r, RP_O_DATE), x->date) <= 0)
			return true;
	}
	return false;
}

/* One key per monitored person, then sorted and summed: as many keys as persons, too many to keep
 * sorted as they come (stock_at moves the tail for each new one). */
static void compounds_count(rp_ctx *x, stock *s)
{
	size_t out = 0;

	for (size_t i = 0; i < x->nmon; i++) {
		const rp_rec *p = rp_person_find(x, x->mon[i].pid);
		stock_key *v;
		if (!p || !p->in || !rp_has(p, RP_P_COMPOUND))
			continue;
		if (!(v = rp_grow(x, s->v, s->n, &s->cap, sizeof(*v))))
			return;
		s->v = v;
		v[s->n++] = (stock_key){
		    .item = p->region, .store = rp_fs(&x->person, p, RP_P_COMPOUND), .v = {1}};
	}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_stock);
	for (size_t i = 0; i < s->n; i++) {
		if (out && cmp_stock(&s->v[out - 1], &s->v[i]) == 0)
			s->v[out - 1].v[0] += s->v[i].v[0];
		else
			s->v[out++] = s->v[i];
	}
	s->n = out;
}

/* Compounds as stock keys: item = village, store = compound, v[0] = persons monitored. */
hm_err rp_compounds(rp_ctx *x)
{
	static const char *const cols[] = {
	    "region", "level", "compounds", "monitored", "property_not_told", "residents_not_told",
	    NULL};
	static const char *const comp_cols[] = {"village",       "compound",       "monitored",
	                                        "property_told", "residents_told", NULL};
	static const char *const list_cols[] = {"village", "compound", "monitored", NULL};
	stock s = {0};
	rp_groups g = {0};
	hm_report_table *t, *tc, *tp, *tr;

	compounds_count(x, &s);
	t = hm_report_table_add(x->rep, "villages",
	                        "Compounds with someone under monitoring, and those not told",
	                        cols);
	if (t)
		t->chart = 3, t->chart_label = 0;
	tc = hm_report_table_add(x->rep, "compounds", "Persons under monitoring per compound",
	                         comp_cols);
	tp =
	    hm_report_table_add(x->rep, "property_not_told",
	                        "Compounds whose property management has not been told", list_cols);
	tr = hm_report_table_add(x->rep, "residents_not_told",
	                         "Compounds whose residents have not been told", list_cols);
	for (size_t i = 0; i < s.n; i++) {
		const stock_key *k = &s.v[i];
		bool prop = told(x, k->item, k->store, "property");
		bool res = told(x, k->item, k->store, "residents");
		rp_group_add(x, &g, k->item, K_COMPOUNDS, 1);
		rp_group_add(x, &g, k->item, K_MONITORED, k->v[0]);
		rp_group_add(x, &g, k->item, K_PROPERTY_NOT_TOLD, !prop);
		rp_group_add(x, &g, k->item, K_RESIDENTS_NOT_TOLD, !res);
		if (hm_report_row_wanted(x->rep, tc))
			hm_report_row_add(x->rep, tc, HM_REPORT_ROW_DATA, "ssdss", k->item,
			                  k->store, rp_ll(k->v[0]), prop ? "yes" : "no",
			                  res ? "yes" : "no");
		if (!prop && hm_report_row_wanted(x->rep, tp))
			hm_report_row_add(x->rep, tp, HM_REPORT_ROW_DATA, "ssd", k->item, k->store,
			                  rp_ll(k->v[0]));
		if (!res && hm_report_row_wanted(x->rep, tr))
			hm_report_row_add(x->rep, tr, HM_REPORT_ROW_DATA, "ssd", k->item, k->store,
			                  rp_ll(k->v[0]));
	}
	rp_groups_emit(x, &g, t, compounds_row);
	rp_groups_release(&g);
	free(s.v);
	return HM_OK;
}

/* ---- rewards ---- */

enum {
	W_RECEIVED,
	W_VERIFIED,
	W_REJECTED,
	W_OWED,
	W_PAID,
	W_PAID_AMOUNT,
	W_PENALTIES,
	W_AMOUNT,
	W_STATE, /* count and amount per state, in the order of penalty_states */
};

static const char *const penalty_states[] = {"proposed", "imposed", "paid", "waived"};

static void tips_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind, const char *region,
                     const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssddddddd", region, level, rp_ll(v[W_RECEIVED]),
	                  rp_ll(v[W_VERIFIED]), rp_ll(v[W_REJECTED]), rp_ll(v[W_OWED]),
	                  rp_ll(v[W_PAID]), rp_ll(v[W_PAID_AMOUNT]),
	                  rp_ll(v[W_OWED] - v[W_PAID_AMOUNT]));
}

static void penalties_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                          const char *region, const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssdddddddddd", region, level, rp_ll(v[W_PENALTIES]),
	                  rp_ll(v[W_AMOUNT]), rp_ll(v[W_STATE]), rp_ll(v[W_STATE + 1]),
	                  rp_ll(v[W_STATE + 2]), rp_ll(v[W_STATE + 3]), rp_ll(v[W_STATE + 4]),
	                  rp_ll(v[W_STATE + 5]), rp_ll(v[W_STATE + 6]), rp_ll(v[W_STATE + 7]));
}

static long long penalty_amount(const rp_ctx *x, const rp_rec *r)
{
	const char *date = rp_fs(&x->penalty, r, RP_N_DATE);
	if (rp_has(r, RP_N_AMOUNT))
		return rp_ll(r->x[RP_N_AMOUNT]);
	/* The county's rule: the lower amount for a miss before the cutoff date. */
	return *date && strcmp(date, x->cutoff) < 0 ? x->penalty_before : x->penalty_after;
}

hm_err rp_rewards(rp_ctx *x)
{
	static const char *const tip_cols[] = {"region",      "level", "received", "verified",
	                                       "rejected",    "owed",  "paid",     "paid_amount",
	                                       "outstanding", NULL};
	static const char *const pen_cols[] = {
	    "region",  "level",          "penalties", "amount",      "proposed", "proposed_amount",
	    "imposed", "imposed_amount", "paid",      "paid_amount", "waived",   "waived_amount",
	    NULL};
	rp_groups tips = {0}, pens = {0};
	hm_report_table *t;

	for (size_t i = 0; i < x->tip.n; i++) {
		const rp_rec *r = &x->tip.v[i];
		const char *state = rp_fs(&x->tip, r, RP_I_STATE);
		if (!r->in)
			continue;
		rp_group_add(x, &tips, r->region, W_RECEIVED, 1);
		if (!strcmp(state, "rejected"))
			rp_group_add(x, &tips, r->region, W_REJECTED, 1);
		if (strcmp(state, "verified") != 0)
			continue;
		double owed = rp_has(r, RP_I_REWARD) ? r->x[RP_I_REWARD] : (double)x->reward_tip;
		rp_group_add(x, &tips, r->region, W_VERIFIED, 1);
		rp_group_add(x, &tips, r->region, W_OWED, owed);
		if (rp_has(r, RP_I_PAID)) {
			rp_group_add(x, &tips, r->region, W_PAID, 1);
			rp_group_add(x, &tips, r->region, W_PAID_AMOUNT, owed);
		}
	}
	for (size_t i = 0; i < x->penalty.n; i++) {
		const rp_rec *r = &x->penalty.v[i];
		double amount;
		int st;
		if (!r->in)
			continue;
		amount = (double)penalty_amount(x, r);
		st = rp_word_index(rp_fs(&x->penalty, r, RP_N_STATE), penalty_states, 4, -1);
		rp_group_add(x, &pens, r->region, W_PENALTIES, 1);
		rp_group_add(x, &pens, r->region, W_AMOUNT, amount);
		if (st >= 0) {
			rp_group_add(x, &pens, r->region, W_STATE + 2 * st, 1);
			rp_group_add(x, &pens, r->region, W_STATE + 2 * st + 1, amount);
		}
	}
	t = hm_report_table_add(x->rep, "penalties",
	                        "Penalties per village under the county's rule, by state",
	                        pen_cols);
	if (t)
		t->chart = 3, t->chart_label = 0;
	rp_groups_emit(x, &pens, t, penalties_row);
	t = hm_report_table_add(x->rep, "tips", "Tips: verified, rewards owed and paid", tip_cols);
	rp_groups_emit(x, &tips, t, tips_row);
	rp_groups_release(&tips);
	rp_groups_release(&pens);
	return HM_OK;
}
