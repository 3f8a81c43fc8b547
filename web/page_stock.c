/*
 * page_stock.c - /stock: stock received, issued and counted (the ledger's verbs `stock receive`,
 * `stock issue`, `stock count` as forms, form.c), the store picked from the sites of kind store,
 * and the stock on hand of each item at each store (hm_stock_on_hand, the sum the supplies
 * report also shows).
 */
#include "web_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define STORES_MAX   64
#define ITEMS_MAX    100
#define ON_HAND_ROWS 200

typedef struct stock_page {
	web_choice stores[STORES_MAX];
	web_choice items[ITEMS_MAX]; /* the items stock moved, suggested */
	size_t nstores, nitems;
	web_form forms[3];
} stock_page;

static const struct {
	const char *sub, *title, *button;
	web_ff fields[WEB_FORM_FIELDS];
} stock_defs[] = {
    {"receive",
     N_("Stock received"),
     N_("Save the receipt"),
     {{"item", 0},
      {"quantity", 0},
      {"store", WEB_FF_REQUIRED},
      {N_("date"), 0},
      {"unit", 0},
      {"shipment", 0},
      {"counterparty", 0},
      {"worker", 0}}},
    {"issue",
     N_("Stock issued"),
     N_("Save the issue"),
     {{"item", 0},
      {"quantity", 0},
      {"store", WEB_FF_REQUIRED},
      {N_("date"), 0},
      {"unit", 0},
      {"counterparty", 0},
      {"worker", 0}}},
    {"count",
     N_("Stock counted"),
     N_("Save the count"),
     {{"item", 0}, {"quantity", 0}, {"store", WEB_FF_REQUIRED}, {N_("date"), 0}, {"worker", 0}}},
};

/* ---- stock on hand ---- */

typedef struct on_hand {
	struct {
		char item[256], store[HM_ID_MAX + 1], unit[32];
	} rows[ON_HAND_ROWS];
	size_t n;
	bool more; /* pairs left out */
} on_hand;

/* Each item and store that a movement names, once (with the unit last given). */
static int pair_one(void *arg, const hm_record *rec)
{
	on_hand *h = arg;
	char item[sizeof(h->rows[0].item)], store[HM_ID_MAX + 1], unit[32];
	size_t i;

	if (!hm_rec_text(rec, "item", item, sizeof(item)) || !hm_rec_id(rec, "store", store) ||
	    strlen(item) + 1 >= sizeof(item))
		return 0;
	hm_rec_text(rec, "unit", unit, sizeof(unit));
	for (i = 0; i < h->n; i++)
		if (!strcmp(h->rows[i].item, item) && !strcmp(h->rows[i].store, store))
			break;
	if (i == h->n && h->n == ON_HAND_ROWS) {
		h->more = true;
		return 0;
	}
	if (i == h->n) {
		h->n++;
		memcpy(h->rows[i].item, item, sizeof(item));
		memcpy(h->rows[i].store, store, sizeof(store));
	}
	if (unit[0])
		memcpy(h->rows[i].unit, unit, sizeof(unit));
	return 0;
}

static const char *store_label(const stock_page *p, const char *id)
{
	for (size_t i = 0; i < p->nstores; i++)
		if (!strcmp(p->stores[i].value, id))
			return p->stores[i].label;
	return id;
}

static hm_err on_hand_write(web_req *r, const stock_page *p)
{
	static const char *const cols[] = {N_("Item"), N_("Store"), N_("On hand"), N_("Unit")};
	on_hand *h = calloc(1, sizeof(*h));
	hm_err err;
	int64_t q;

	if (!h)
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	web_raw(r, "<h2>");
	web_esc(r, web_t(r, "Stock on hand"));
	web_raw(r, "</h2>\n");
	if ((err = hm_node_list(r->led.node, "stock_txn", pair_one, h)))
		goto out;
	if (!h->n) {
		web_raw(r, "<p class=\"empty\">");
		web_esc(r, web_t(r, "No stock has been recorded here yet."));
		web_raw(r, "</p>\n");
		goto out;
	}
	web_raw(r, "<table id=\"on-hand\"><thead><tr>");
	for (size_t i = 0; i < 4; i++) {
		web_raw(r, i == 2 ? "<th class=\"num\">" : "<th>");
		web_esc(r, web_t(r, cols[i]));
		web_raw(r, "</th>");
	}
	web_raw(r, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < h->n; i++) {
		if ((err = hm_stock_on_hand(&r->led, h->rows[i].item, h->rows[i].store, &q)))
			goto out;
		web_raw(r, "<tr><td>");
		web_esc(r, h->rows[i].item);
		web_raw(r, "</td><td>");
		web_esc(r, store_label(p, h->rows[i].store));
		web_rawf(r, "</td><td class=\"num\">%" PRId64 "</td><td>", q);
		web_esc(r, h->rows[i].unit);
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
	if (h->more)
		web_notice(r, "error", web_t(r, "Only the first 200 items and stores are shown."));
out:
	free(h);
	return err;
}

/* ---- the page ---- */

static hm_err stock_setup(web_req *r, stock_page **out)
{
	stock_page *p = calloc(1, sizeof(*p));
	hm_err err;

	if (!(*out = p))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if ((err = web_stores(r, p->stores, STORES_MAX, &p->nstores)) ||
	    (err = web_distinct(r, "stock_txn", "item", p->items, ITEMS_MAX, &p->nitems)))
		return err;
	for (size_t i = 0; i < 3; i++) {
		web_form *f = &p->forms[i];
		f->v = hm_verb_find("stock", stock_defs[i].sub);
		f->action = "/stock";
		f->title = stock_defs[i].title;
		f->button = stock_defs[i].button;
		memcpy(f->fields, stock_defs[i].fields, sizeof(f->fields));
		f->picks[0] = (web_pick){"store", p->stores, p->nstores, hm_stock_store_check};
		f->picks[1] = (web_pick){"item", p->items, p->nitems, NULL, true};
	}
	return HM_OK;
}

static void stock_release(stock_page *p)
{
	for (size_t i = 0; p && i < 3; i++)
		web_form_release(&p->forms[i]);
	free(p);
}

static hm_err stock_write(web_req *r, stock_page *p)
{
	hm_err err;

	web_page_begin(r, "Stock");
	if ((err = on_hand_write(r, p)))
		return err;
	if (!p->nstores) {
		web_raw(r, "<p class=\"notice error\">");
		web_esc(r, web_t(r, "No store is known here yet: a store is a site of kind store "
		                    "(hamlet site add --kind store)."));
		web_raw(r, "</p>\n");
	}
	for (size_t i = 0; i < 3; i++)
		web_form_write(r, &p->forms[i]);
	web_page_end(r);
	return HM_OK;
}

hm_err web_page_stock(web_req *r)
{
	stock_page *p = NULL;
	hm_err err;

	if (!(err = stock_setup(r, &p))) {
		web_form_outcome(r, p->forms, 3);
		err = stock_write(r, p);
	}
	stock_release(p);
	return err;
}

hm_err web_page_stock_post(web_req *r)
{
	stock_page *p = NULL;
	web_form *f = NULL;
	hm_err err;

	if ((err = stock_setup(r, &p)))
		goto out;
	for (size_t i = 0; i < 3 && !f; i++)
		f = web_form_is(r, &p->forms[i]) ? &p->forms[i] : NULL;
	if (!f) {
		web_error(r, 400, "This form is not one of this page's.", NULL);
		goto out;
	}
	if ((err = web_form_post(r, f)) || web_form_done(r, f, "/stock"))
		goto out;
	if (f->refused)
		web_status(r, 400);
	err = stock_write(r, p);
out:
	stock_release(p);
	return err;
}
