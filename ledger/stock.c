/*
 * stock.c - stock on hand, computed once: never stored, always the sum of an item's movements
 * at a store (docs/data-model.md); and stores, which are sites of kind store.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stock_sum {
	const char *item, *store;
	int64_t on_hand;
} stock_sum;

static int stock_one(void *arg, const hm_record *r)
{
	stock_sum *s = arg;
	char item[HM_STR_MAX + 1], store[HM_STR_MAX + 1], to[HM_STR_MAX + 1], mv[32];
	int64_t q = hm_rec_int(r, "quantity", 0);

	if (!hm_rec_text(r, "item", item, sizeof(item)) || strcmp(item, s->item) ||
	    !hm_rec_text(r, "movement", mv, sizeof(mv)))
		return 0;
	hm_rec_text(r, "store", store, sizeof(store));
	hm_rec_text(r, "to_store", to, sizeof(to));
	if (!strcmp(store, s->store))
		s->on_hand += hm_stock_sign(mv, false) * q;
	if (!strcmp(to, s->store))
		s->on_hand += hm_stock_sign(mv, true) * q;
	return 0;
}

int hm_stock_sign(const char *movement, bool at_to_store)
{
	if (!strcmp(movement, "transfer"))
		return at_to_store ? 1 : -1;
	if (at_to_store)
		return 0;
	if (!strcmp(movement, "received") || !strcmp(movement, "counted"))
		return 1; /* a count is stored as its correction against the books */
	if (!strcmp(movement, "issued") || !strcmp(movement, "consumed"))
		return -1;
	return 0; /* requested, intercepted (it never reached the store), a newer kind */
}

hm_err hm_stock_on_hand(hm_ledger *l, const char *item, const char *store, int64_t *out)
{
	stock_sum s = {item, store, 0};
	hm_err err = hm_node_list(l->node, "stock_txn", stock_one, &s);
	if (!err)
		*out = s.on_hand;
	return err;
}

typedef struct store_find {
	const char *store;
	bool found;
	char known[512]; /* the stores this node holds, for the refusal */
	size_t nknown;
} store_find;

static int store_one(void *arg, const hm_record *r)
{
	store_find *f = arg;
	char kind[32];
	size_t len = strlen(f->known);

	if (!hm_rec_text(r, "kind", kind, sizeof(kind)) || strcmp(kind, "store"))
		return 0;
	if (!strcmp(r->id, f->store)) {
		f->found = true;
		return 1;
	}
	if (len + strlen(r->id) + 8 < sizeof(f->known))
		snprintf(f->known + len, sizeof(f->known) - len, "%s%s", f->nknown ? ", " : "",
		         r->id);
	else if (!strstr(f->known, "..."))
		snprintf(f->known + len, sizeof(f->known) - len, ", ...");
	f->nknown++;
	return 0;
}

hm_err hm_stock_store_check(hm_ledger *l, const char *store)
{
	store_find *f = calloc(1, sizeof(*f));
	hm_err err;

	if (!f)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	f->store = store;
	err = hm_node_list(l->node, "site", store_one, f);
	if (!err && !f->found)
		err = hm_node_fail(
		    l->node, HM_ERR_NOT_FOUND,
		    "unknown store '%s' (%s%s; a store is a site: add it with `hamlet "
		    "site add --kind store --id %s --name NAME`)",
		    store, f->nknown ? _("known: ") : _("no store is known here"), f->known, store);
	free(f);
	return err;
}
