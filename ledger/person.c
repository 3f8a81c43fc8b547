/*
 * person.c - persons: the one rule for a reference to a person, finding them, and the open
 * questions about a person's identity.
 */
#include "ledger_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hm_err hm_ledger_need_person(hm_ledger *l, const char *id, hm_record **out)
{
	return hm_ledger_need_record(l, "person", id, out);
}

/* ---- a region to filter by ---- */

typedef struct region_seen {
	const char *region;
	bool found;
} region_seen;

static int region_one(void *arg, const hm_record *r)
{
	region_seen *s = arg;
	char v[HM_REGION_MAX + 1];

	if (hm_rec_text(r, "village", v, sizeof(v)) && hm_region_contains(s->region, v)) {
		s->found = true;
		return 1;
	}
	return 0;
}

hm_err hm_person_region_check(hm_ledger *l, const char *region)
{
	hm_node_info me;
	region_seen s = {region, false};
	hm_err err;

	if (!hm_region_valid(region))
		return hm_node_fail(
		    l->node, HM_ERR_INVALID,
		    "'%s' is not a region (county/township/village: a-z, 0-9, '_', '-')", region);
	hm_node_ident(l->node, &me);
	if (hm_region_contains(region, me.region))
		return HM_OK; /* this node's region or wider: every person here is in it */
	if (!hm_region_contains(me.region, region))
		return hm_node_fail(l->node, HM_ERR_NOT_FOUND,
		                    "region %s is outside this node's region %s: it holds nothing "
		                    "there",
		                    region, me.region);
	if ((err = hm_node_list(l->node, "person", region_one, &s)))
		return err;
	if (!s.found)
		return hm_node_fail(l->node, HM_ERR_NOT_FOUND,
		                    "no village in %s is known to this node (region %s): no person "
		                    "lives there; mistyped?",
		                    region, me.region);
	return HM_OK;
}

/* ---- find ---- */

typedef struct find_ctx {
	const hm_person_query *q;
	char hash[2 * HM_ID_HASH_BYTES + 1];
	hm_person_cb cb;
	void *arg;
	size_t count;
} find_ctx;

static bool has(const hm_record *r, const char *field, const char *text, bool exact)
{
	char buf[HM_STR_MAX + 1];
	if (!hm_rec_text(r, field, buf, sizeof(buf)))
		return false;
	return exact ? !strcmp(buf, text) : strstr(buf, text) != NULL;
}

static bool find_match(const find_ctx *f, const hm_record *r)
{
	const hm_person_query *q = f->q;
	char buf[HM_STR_MAX + 1];

	if (q->id_number && !has(r, "id_hash", f->hash, true))
		return false;
	if (q->village &&
	    (!hm_rec_text(r, "village", buf, sizeof(buf)) || !hm_region_contains(q->village, buf)))
		return false;
	if ((q->category && !has(r, "category", q->category, true)) ||
	    (q->compound && !has(r, "compound", q->compound, true)))
		return false;
	return !q->text || strstr(r->id, q->text) || has(r, "code", q->text, false) ||
	       has(r, "name", q->text, false) || has(r, "phone", q->text, false);
}

static int find_one(void *arg, const hm_record *r)
{
	find_ctx *f = arg;

	if (!find_match(f, r))
		return 0;
	f->count++;
	return f->cb ? f->cb(f->arg, r) : 0;
}

hm_err hm_person_find(hm_ledger *l, const hm_person_query *q, hm_person_cb cb, void *arg,
                      size_t *count)
{
	find_ctx f = {q, "", cb, arg, 0};
	const char *why;
	hm_err err;

	if (q->id_number && hm_idnum_check(q->id_number, &why))
		return hm_node_fail(l->node, HM_ERR_INVALID, "--id-number %s", why);
	if (q->village && (err = hm_person_region_check(l, q->village)))
		return err;
	if (q->id_number && (err = hm_node_id_hash(l->node, q->id_number, f.hash)))
		return err;
	err = hm_node_list(l->node, "person", find_one, &f);
	if (count)
		*count = f.count;
	return err;
}

/* ---- what names a person ---- */

typedef struct related_ctx {
	const char *person, *field, *field2;
	hm_person_cb cb;
	void *arg;
	size_t count;
} related_ctx;

static int related_one(void *arg, const hm_record *r)
{
	related_ctx *s = arg;

	if (!has(r, s->field, s->person, true) &&
	    !(s->field2 && has(r, s->field2, s->person, true)))
		return 0;
	s->count++;
	return s->cb(s->arg, r);
}

hm_err hm_person_related(hm_ledger *l, const char *person, const char *coll, hm_person_cb cb,
                         void *arg, size_t *count)
{
	bool exposure = !strcmp(coll, "exposure");
	related_ctx s = {
	    person, exposure ? "source" : "person", exposure ? "contact" : NULL, cb, arg, 0};
	hm_err err;

	if (!exposure && strcmp(coll, "return") && strcmp(coll, "episode") &&
	    strcmp(coll, "followup"))
		return hm_node_fail(l->node, HM_ERR_SCHEMA, "a %s does not name a person", coll);
	err = hm_node_list(l->node, coll, related_one, &s);
	if (count)
		*count = s.count;
	return err;
}

/* ---- open identity questions ---- */

typedef struct open_ctx {
	hm_node *n;
	hm_identity_cb cb;
	void *arg;
	size_t count;
	bool scan; /* the first pass: find each station's latest value per field */
	struct latest {
		char field[HM_NAME_MAX + 1];
		hm_node_id origin;
		hm_hlc hlc;
	} latest[32];
	size_t nlatest;
} open_ctx;

/* The latest open loser of field from origin (a station that edited twice asks one question). */
static struct latest *latest_of(open_ctx *o, const hm_conflict *cf, bool add)
{
	for (size_t i = 0; i < o->nlatest; i++)
		if (!strcmp(o->latest[i].field, cf->field) &&
		    !memcmp(o->latest[i].origin.b, cf->loser_stamp.origin.b, HM_NODE_ID_BYTES))
			return &o->latest[i];
	if (!add || o->nlatest == sizeof(o->latest) / sizeof(o->latest[0]))
		return NULL;
	snprintf(o->latest[o->nlatest].field, sizeof(o->latest[0].field), "%s", cf->field);
	o->latest[o->nlatest].origin = cf->loser_stamp.origin;
	o->latest[o->nlatest].hlc = 0;
	return &o->latest[o->nlatest++];
}

/* Whether the winner replaced the loser knowingly: it names the loser's stamp (field_seen). */
static bool seen_by_winner(const hm_record *r, const hm_conflict *cf)
{
	char seen_field[HM_NAME_MAX + 8], seen[128], want[128], hex[2 * HM_NODE_ID_BYTES + 1];

	snprintf(seen_field, sizeof(seen_field), "%s_seen", cf->field);
	hm_node_id_hex(&cf->loser_stamp.origin, hex);
	snprintf(want, sizeof(want), "%" PRIu64 ":%s", cf->loser_stamp.hlc, hex);
	return hm_rec_text(r, seen_field, seen, sizeof(seen)) && !strcmp(seen, want);
}

/* An identity conflict is open while the value that won is still the field's value (nobody has
 * written the field since) and the winner did not know the loser. */
static bool identity_open(hm_node *n, const hm_conflict *cf)
{
	const hm_collection_def *cd = hm_schema_collection(cf->collection);
	const hm_field_def *fd = cd ? hm_schema_field(cd, cf->field) : NULL;
	const hm_field *f;
	hm_record *r;
	bool open;

	if (!fd || !(fd->flags & HM_F_IDENTITY) || cf->by_delete)
		return false;
	if (hm_node_get(n, cf->collection, cf->id, &r))
		return false;
	f = hm_record_field(r, cf->field);
	open = f && hm_stamp_cmp(&f->stamp, &cf->winner_stamp) == 0 && !seen_by_winner(r, cf);
	hm_record_free(r);
	return open;
}

static int open_one(void *arg, const hm_conflict *cf)
{
	open_ctx *o = arg;
	struct latest *l;
	hm_identity_question q;

	if (!identity_open(o->n, cf))
		return 0;
	if (o->scan) {
		if ((l = latest_of(o, cf, true)) && cf->loser_stamp.hlc > l->hlc)
			l->hlc = cf->loser_stamp.hlc;
		return 0;
	}
	if ((l = latest_of(o, cf, false)) && cf->loser_stamp.hlc < l->hlc)
		return 0; /* that station wrote again since: its later value is the question */
	q = (hm_identity_question){cf->id, cf->field, &cf->loser, cf->loser_stamp.origin};
	o->count++;
	return o->cb(o->arg, &q);
}

hm_err hm_person_questions(hm_ledger *l, const char *person, hm_identity_cb cb, void *arg,
                           size_t *count)
{
	open_ctx *o = calloc(1, sizeof(*o));
	hm_err err;

	if (!o)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	o->n = l->node, o->cb = cb, o->arg = arg, o->scan = true;
	err = hm_node_conflicts(l->node, "person", person, open_one, o);
	o->scan = false;
	if (!err)
		err = hm_node_conflicts(l->node, "person", person, open_one, o);
	if (count)
		*count = o->count;
	free(o);
	return err;
}
