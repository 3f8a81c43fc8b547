/*
 * field_cmds.c - the commands of field work: `hamlet person|return|contact|episode|followup|
 * checkpoint|stock|tip|site|notice|penalty ...`.
 *
 * Each verb is a row of one table: the collection it writes, the fields its positional
 * arguments fill, fixed values (a stock movement's kind), and a hook for what is more than
 * setting fields (an episode's end may not precede its start; a count becomes the correction
 * against the stock on hand). Any field of the collection is also an option: `--birth-year
 * 1980` sets birth_year. Values go through the ledger's rules (hm_ledger_check) and the whole
 * verb is one change set.
 */
#include "cli.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_VALS 48

typedef struct fval {
	const hm_field_def *def;
	const char *text; /* borrowed from argv or the hook's own buffers */
} fval;

typedef struct lctx lctx;

typedef struct verb {
	const char *cmd, *sub;
	const char *coll;
	const char
	    *prefix; /* id prefix of a new record; NULL: the verb edits the record in pos 0 */
	const char *pos[3]; /* fields the positional arguments fill, in order */
	int npos;
	const char *fixed[2][2];
	int (*hook)(lctx *x);
	const char *summary, *usage;
} verb;

struct lctx {
	cli *c;
	const verb *v;
	const hm_collection_def *cd;
	hm_node *n;
	char id[HM_ID_MAX + 1];
	fval vals[MAX_VALS];
	int nvals;
	bool json, show_pii, reject;
	const char *opt_id, *opt_days, *opt_to;
	char bufs[6][HM_STR_MAX + 1]; /* text the hooks derive */
	int nbufs;
	const char *note; /* one line the verb adds to its output */
	char notebuf[512];
	/* --FIELD options the schema does not name: perhaps fields the county added (resolved
	 * once the node is open) */
	struct {
		const char *opt, *val;
		hm_field_def def;
		char name[HM_NAME_MAX + 1];
	} added[8];
	int nadded;
};

/* ---- small readers ---- */

static const char *val_text(const lctx *x, const char *field)
{
	for (int i = 0; i < x->nvals; i++)
		if (!strcmp(x->vals[i].def->name, field))
			return x->vals[i].text;
	return NULL;
}

/* Set (or replace) field to text; text must outlive the write. */
static int val_set(lctx *x, const char *field, const char *text)
{
	const hm_field_def *d = hm_schema_field(x->cd, field);

	if (!d)
		return cli_fail(x->c, EXIT_FAIL, "%s has no field '%s'", x->cd->name, field);
	for (int i = 0; i < x->nvals; i++)
		if (x->vals[i].def == d) {
			x->vals[i].text = text;
			return EXIT_OK;
		}
	if (x->nvals == MAX_VALS)
		return cli_fail(x->c, EXIT_USAGE, "too many fields");
	x->vals[x->nvals++] = (fval){d, text};
	return EXIT_OK;
}

static int val_default(lctx *x, const char *field, const char *text)
{
	return val_text(x, field) ? EXIT_OK : val_set(x, field, text);
}

/* A buffer for text a hook derives; a hook takes four at most (hook_followup: three). */
static char *scratch(lctx *x)
{
	assert(x->nbufs < (int)(sizeof(x->bufs) / sizeof(x->bufs[0])));
	return x->bufs[x->nbufs++];
}

/* The person record id, or a clear error. *out owned by the caller; out NULL: only check that
 * the person is there. */
static int need_person(lctx *x, const char *id, hm_record **out)
{
	hm_record *r = NULL;
	hm_err err = hm_node_get(x->n, "person", id, out ? out : &r);
	hm_record_free(r);
	if (err == HM_ERR_NOT_FOUND)
		return cli_fail(x->c, EXIT_FAIL,
		                "unknown person '%s' (register them with `hamlet person add`, or "
		                "find their id with `hamlet person find`)",
		                id);
	return err ? cli_node_fail(x->c, x->n, err) : EXIT_OK;
}

static int need_record(lctx *x, const char *coll, const char *id, const char *what, hm_record **out)
{
	hm_err err = hm_node_get(x->n, coll, id, out);
	if (err == HM_ERR_NOT_FOUND)
		return cli_fail(x->c, EXIT_FAIL, "unknown %s '%s'", what, id);
	return err ? cli_node_fail(x->c, x->n, err) : EXIT_OK;
}

/* A new record of another collection lives where its person lives. */
static int village_of(lctx *x, const char *person_field)
{
	const char *pid = val_text(x, person_field);
	hm_record *p;
	char *buf;
	int rc;

	if (!pid || val_text(x, x->cd->region_field))
		return EXIT_OK;
	if ((rc = need_person(x, pid, &p)))
		return rc;
	buf = scratch(x);
	if (hm_rec_text(p, "village", buf, HM_STR_MAX + 1))
		rc = val_set(x, x->cd->region_field, buf);
	hm_record_free(p);
	return rc;
}

/* ---- episodes ---- */

typedef struct ep_find {
	const char *person, *date;
	char id[HM_ID_MAX + 1];
	char start[16];
} ep_find;

static int ep_active_one(void *arg, const hm_record *r)
{
	ep_find *f = arg;
	char p[HM_ID_MAX + 1], start[16], end[16];

	if (!hm_rec_id(r, "person", p) || strcmp(p, f->person) != 0 ||
	    !hm_rec_text(r, "start", start, sizeof(start)) || strcmp(start, f->date) > 0)
		return 0;
	if (hm_rec_text(r, "end", end, sizeof(end)) && strcmp(end, f->date) <= 0)
		return 0;
	if (!f->id[0] || strcmp(start, f->start) > 0) { /* the latest started */
		snprintf(f->id, sizeof(f->id), "%s", r->id);
		snprintf(f->start, sizeof(f->start), "%s", start);
	}
	return 0;
}

/* The person's episode active on date, into id ("" when none). */
static int active_episode(lctx *x, const char *person, const char *date, char *id, size_t cap)
{
	ep_find f = {person, date, "", ""};
	hm_err err = hm_node_list(x->n, "episode", ep_active_one, &f);
	if (err)
		return cli_node_fail(x->c, x->n, err);
	snprintf(id, cap, "%s", f.id);
	return EXIT_OK;
}

static int add_days(lctx *x, const char *date, const char *days_text, char *out)
{
	char *end;
	long days = strtol(days_text, &end, 10);

	if (!*days_text || *end || days < 1 || days > 365)
		return cli_fail(x->c, EXIT_USAGE,
		                "--days must be a whole number of days, 1 to 365");
	if (!hm_date_add(date, days, out))
		return cli_fail(x->c, EXIT_FAIL, "'%s' is not a date YYYY-MM-DD", date);
	return EXIT_OK;
}

static int hook_episode_start(lctx *x)
{
	char today[11], *plan, active[HM_ID_MAX + 1];
	int rc;

	if ((rc = need_person(x, val_text(x, "person"), NULL)))
		return rc;
	hm_ledger_today(&x->c->led, today);
	if ((rc = val_default(x, "start", strcpy(scratch(x), today))) ||
	    (rc = val_default(x, "checks_per_day", "2")) || (rc = village_of(x, "person")))
		return rc;
	if (x->opt_days && !val_text(x, "planned_end")) {
		plan = scratch(x);
		if ((rc = add_days(x, val_text(x, "start"), x->opt_days, plan)) ||
		    (rc = val_set(x, "planned_end", plan)))
			return rc;
	}
	if (val_text(x, "planned_end") &&
	    strcmp(val_text(x, "planned_end"), val_text(x, "start")) < 0)
		return cli_fail(x->c, EXIT_FAIL, "planned end %s is before the start %s",
		                val_text(x, "planned_end"), val_text(x, "start"));
	if ((rc = active_episode(x, val_text(x, "person"), val_text(x, "start"), active,
	                         sizeof(active))))
		return rc;
	if (active[0]) {
		snprintf(
		    x->notebuf, sizeof(x->notebuf),
		    "note: %s already has episode %s running; end it with `hamlet episode end`",
		    val_text(x, "person"), active);
		x->note = x->notebuf;
	}
	return EXIT_OK;
}

static int hook_episode_extend(lctx *x)
{
	hm_record *e;
	char cur[16], start[16];
	const char *to = x->opt_to ? x->opt_to : val_text(x, "planned_end");
	int rc;

	if ((rc = need_record(x, "episode", x->id, "episode", &e)))
		return rc;
	hm_rec_text(e, "planned_end", cur, sizeof(cur));
	hm_rec_text(e, "start", start, sizeof(start));
	hm_record_free(e);
	if (!to && x->opt_days) {
		char *plan = scratch(x);
		if ((rc = add_days(x, cur[0] ? cur : start, x->opt_days, plan)))
			return rc;
		to = plan;
	}
	if (!to)
		return cli_fail(x->c, EXIT_USAGE,
		                "say the new planned end: --to YYYY-MM-DD or --days N");
	if (cur[0] && strcmp(to, cur) < 0)
		return cli_fail(x->c, EXIT_FAIL,
		                "an episode is extended, never shortened: %s is before its planned "
		                "end %s (end it early with `hamlet episode end`)",
		                to, cur);
	return val_set(x, "planned_end", to);
}

static int hook_episode_end(lctx *x)
{
	hm_record *e;
	char start[16], today[11], ended[16];
	const char *end;
	int rc;

	if ((rc = need_record(x, "episode", x->id, "episode", &e)))
		return rc;
	hm_rec_text(e, "start", start, sizeof(start));
	hm_rec_text(e, "end", ended, sizeof(ended));
	hm_record_free(e);
	hm_ledger_today(&x->c->led, today);
	if ((rc = val_default(x, "end", strcpy(scratch(x), today))))
		return rc;
	end = val_text(x, "end");
	if (strcmp(end, start) < 0)
		return cli_fail(x->c, EXIT_FAIL, "end: %s is before the episode's start %s", end,
		                start);
	if (ended[0]) {
		snprintf(x->notebuf, sizeof(x->notebuf), "note: the episode had ended on %s",
		         ended);
		x->note = x->notebuf;
	}
	return val_default(x, "end_reason", "completed");
}

/* ---- follow-ups ---- */

static int hook_followup(lctx *x)
{
	const char *person = val_text(x, "person"), *t;
	char *now = scratch(x), *ep = scratch(x), date[11];
	int rc;

	if ((rc = need_person(x, person, NULL)))
		return rc;
	{
		uint64_t ms = hm_ledger_now_ms(&x->c->led);
		time_t s = (time_t)(ms / 1000);
		struct tm tm;
		localtime_r(&s, &tm); /* a worker's clock: the station's time zone */
		strftime(now, 17, "%Y-%m-%dT%H:%M", &tm);
	}
	if ((rc = val_default(x, "time", now)) || (rc = village_of(x, "person")))
		return rc;
	t = val_text(x, "time");
	if (!val_text(x, "slot") && strlen(t) >= 13)
		rc = val_set(x, "slot", strcmp(t + 11, "12") < 0 ? "morning" : "evening");
	if (rc)
		return rc;
	snprintf(date, sizeof(date), "%.10s", t);
	if (!val_text(x, "episode")) {
		if ((rc = active_episode(x, person, date, ep, HM_STR_MAX)))
			return rc;
		if (ep[0])
			rc = val_set(x, "episode", ep);
		else {
			snprintf(x->notebuf, sizeof(x->notebuf),
			         "note: %s has no episode running on %s", person, date);
			x->note = x->notebuf;
		}
	}
	return rc;
}

/* ---- contacts ---- */

static int hook_contact(lctx *x)
{
	hm_record *src, *con;
	char cat[32];
	int rc;

	if ((rc = need_person(x, val_text(x, "source"), &src)))
		return rc;
	if ((rc = need_person(x, val_text(x, "contact"), &con))) {
		hm_record_free(src);
		return rc;
	}
	/* A contact of a close contact is second-degree; of anyone else, close. */
	hm_rec_text(src, "category", cat, sizeof(cat));
	hm_record_free(src);
	hm_record_free(con);
	if (!strcmp(val_text(x, "source"), val_text(x, "contact")))
		return cli_fail(x->c, EXIT_FAIL, "a person is not their own contact");
	if ((rc = val_default(x, "degree", strcmp(cat, "close") == 0 ? "2" : "1")))
		return rc;
	return village_of(x, "contact");
}

/* ---- stock ---- */

typedef struct stock_sum {
	const char *item, *store;
	int64_t on_hand;
} stock_sum;

static int stock_one(void *arg, const hm_record *r)
{
	stock_sum *s = arg;
	char item[128], store[128], to[128], mv[32];
	int64_t q = hm_rec_int(r, "quantity", 0);

	if (!hm_rec_text(r, "item", item, sizeof(item)) || strcmp(item, s->item) ||
	    !hm_rec_text(r, "movement", mv, sizeof(mv)))
		return 0;
	hm_rec_text(r, "store", store, sizeof(store));
	hm_rec_text(r, "to_store", to, sizeof(to));
	if (!strcmp(mv, "transfer")) {
		if (!strcmp(store, s->store))
			s->on_hand -= q;
		if (!strcmp(to, s->store))
			s->on_hand += q;
		return 0;
	}
	if (strcmp(store, s->store))
		return 0;
	if (!strcmp(mv, "received") || !strcmp(mv, "counted"))
		s->on_hand += q;
	else if (!strcmp(mv, "issued") || !strcmp(mv, "consumed"))
		s->on_hand -= q;
	return 0;
}

static int on_hand(lctx *x, const char *item, const char *store, int64_t *out)
{
	stock_sum s = {item, store, 0};
	hm_err err = hm_node_list(x->n, "stock_txn", stock_one, &s);
	if (err)
		return cli_node_fail(x->c, x->n, err);
	*out = s.on_hand;
	return EXIT_OK;
}

static int hook_stock(lctx *x)
{
	const char *mv = val_text(x, "movement"), *q = val_text(x, "quantity");
	char today[11];
	int64_t have = 0;
	int rc;

	hm_ledger_today(&x->c->led, today);
	if ((rc = val_default(x, "date", strcpy(scratch(x), today))))
		return rc;
	if (!val_text(x, "store"))
		return cli_fail(x->c, EXIT_USAGE, "say which store: --store NAME");
	if (q[0] == '-' || !strcmp(q, "0"))
		return cli_fail(x->c, EXIT_FAIL,
		                "quantity: must be a positive whole number, not '%s'", q);
	if (!strcmp(mv, "transfer") && !val_text(x, "to_store"))
		return cli_fail(x->c, EXIT_USAGE, "a transfer needs --to STORE");
	if (!strcmp(mv, "intercepted") && !val_text(x, "shipment"))
		return cli_fail(x->c, EXIT_USAGE,
		                "say which shipment was intercepted: --shipment SH");
	if ((rc = on_hand(x, val_text(x, "item"), val_text(x, "store"), &have)))
		return rc;
	if (!strcmp(mv, "counted")) {
		/* A count is stored as the correction, so stock stays a sum of movements. */
		char *delta = scratch(x);
		char *end;
		long long counted = strtoll(q, &end, 10);
		if (*end)
			return cli_fail(x->c, EXIT_FAIL,
			                "quantity: must be a whole number, not '%s'", q);
		snprintf(delta, 24, "%lld", counted - (long long)have);
		snprintf(x->notebuf, sizeof(x->notebuf),
		         "counted %lld %s at %s: the books said %" PRId64 ", corrected by %s",
		         counted, val_text(x, "item"), val_text(x, "store"), have, delta);
		x->note = x->notebuf;
		if ((rc = val_set(x, "counted_as", q)))
			return rc;
		return val_set(x, "quantity", delta);
	}
	if ((!strcmp(mv, "issued") || !strcmp(mv, "consumed") || !strcmp(mv, "transfer")) &&
	    strtoll(q, NULL, 10) > have) {
		snprintf(x->notebuf, sizeof(x->notebuf),
		         "warning: %s at %s goes below zero (the books hold %" PRId64 "): count it",
		         val_text(x, "item"), val_text(x, "store"), have);
		x->note = x->notebuf;
	}
	return EXIT_OK;
}

/* ---- tips, checkpoints, sites, notices, penalties, returns ---- */

static int hook_tip_verify(lctx *x)
{
	hm_record *t;
	char today[11], *reward = scratch(x);
	int rc;

	if ((rc = need_record(x, "tip", x->id, "tip", &t)))
		return rc;
	hm_record_free(t);
	hm_ledger_today(&x->c->led, today);
	if (x->reject)
		return val_set(x, "state", "rejected");
	hm_ledger_setting(&x->c->led, "reward.tip", "500", reward, HM_STR_MAX);
	if ((rc = val_set(x, "state", "verified")) ||
	    (rc = val_default(x, "verified", strcpy(scratch(x), today))))
		return rc;
	return val_default(x, "reward", reward);
}

static int hook_tip_pay(lctx *x)
{
	hm_record *t;
	char state[32], today[11];
	int rc;

	if ((rc = need_record(x, "tip", x->id, "tip", &t)))
		return rc;
	hm_rec_text(t, "state", state, sizeof(state));
	hm_record_free(t);
	if (strcmp(state, "verified"))
		return cli_fail(x->c, EXIT_FAIL, "tip %s is not verified: verify it first", x->id);
	hm_ledger_today(&x->c->led, today);
	return val_default(x, "paid", strcpy(scratch(x), today));
}

static int hook_dated(lctx *x)
{
	char today[11];
	hm_ledger_today(&x->c->led, today);
	return val_default(x, "date", strcpy(scratch(x), today));
}

static int hook_tip_add(lctx *x)
{
	char today[11];
	int rc;
	hm_ledger_today(&x->c->led, today);
	if ((rc = val_default(x, "received", strcpy(scratch(x), today))) ||
	    (rc = val_default(x, "state", "new")))
		return rc;
	if (val_text(x, "person")) {
		if ((rc = need_person(x, val_text(x, "person"), NULL)))
			return rc;
	}
	return EXIT_OK;
}

static int hook_checkpoint(lctx *x)
{
	hm_record *s;
	char kind[32];
	int rc;

	if ((rc = need_record(x, "site", val_text(x, "checkpoint"), "checkpoint", &s)))
		return rc;
	hm_rec_text(s, "kind", kind, sizeof(kind));
	hm_record_free(s);
	if (strcmp(kind, "checkpoint"))
		return cli_fail(x->c, EXIT_FAIL, "site %s is a %s, not a checkpoint",
		                val_text(x, "checkpoint"), kind[0] ? kind : "site of no kind");
	return hook_dated(x);
}

static int hook_return(lctx *x)
{
	char today[11];
	int rc;

	if ((rc = need_person(x, val_text(x, "person"), NULL)))
		return rc;
	hm_ledger_today(&x->c->led, today);
	if ((rc = val_default(x, "registered", strcpy(scratch(x), today))))
		return rc;
	if (val_text(x, "departure_date") && val_text(x, "arrival_date") &&
	    strcmp(val_text(x, "arrival_date"), val_text(x, "departure_date")) < 0)
		return cli_fail(x->c, EXIT_FAIL, "arrival_date %s is before departure_date %s",
		                val_text(x, "arrival_date"), val_text(x, "departure_date"));
	return village_of(x, "person");
}

static int hook_penalty(lctx *x)
{
	int rc;

	if ((rc = need_person(x, val_text(x, "person"), NULL)))
		return rc;
	if ((rc = hook_dated(x)) || (rc = val_default(x, "state", "proposed")))
		return rc;
	return village_of(x, "person");
}

typedef struct same_id {
	const char *hash, *self;
	char other[HM_ID_MAX + 1];
} same_id;

static int same_id_one(void *arg, const hm_record *r)
{
	same_id *s = arg;
	char h[2 * HM_ID_HASH_BYTES + 1];

	if (strcmp(r->id, s->self) && hm_rec_text(r, "id_hash", h, sizeof(h)) &&
	    !strcmp(h, s->hash)) {
		snprintf(s->other, sizeof(s->other), "%s", r->id);
		return 1;
	}
	return 0;
}

/* Say so when this node already holds someone with the same ID number. */
static void same_id_note(lctx *x, const char *hash)
{
	same_id s = {hash, x->id, ""};

	if (hm_node_list(x->n, "person", same_id_one, &s) == HM_OK && s.other[0]) {
		snprintf(x->notebuf, sizeof(x->notebuf),
		         "note: %s has the same ID number: the same person? (`hamlet person dups`)",
		         s.other);
		x->note = x->notebuf;
	}
}

static int hook_person(lctx *x)
{
	const char *idnum = val_text(x, "id_number");
	char *hash;
	hm_err err;

	if (!idnum)
		return EXIT_OK;
	if (!idnum[0])
		return val_set(x, "id_hash", ""); /* no number, no hash */
	hash = scratch(x);
	if (!(err = hm_node_id_hash(x->n, idnum, hash)))
		same_id_note(x, hash);
	if (err) {
		fprintf(
		    stderr,
		    "hamlet: %s %s: warning: %s; the ID number is kept, but this person cannot be "
		    "matched with registrations elsewhere\n",
		    x->v->cmd, x->v->sub, hm_node_errmsg(x->n));
		return EXIT_OK;
	}
	return val_set(x, "id_hash", hash);
}

static int hook_person_edit(lctx *x)
{
	static const char *const identity[][2] = {{"name", "name_seen"},
	                                          {"id_number", "id_number_seen"}};
	hm_record *p;
	int rc;

	if ((rc = need_person(x, x->id, &p)))
		return rc;
	/* Say which value each identity edit replaces (person_cmds.c: identity_open). */
	for (size_t i = 0; i < 2; i++) {
		const hm_field *f = hm_record_field(p, identity[i][0]);
		char *seen, hex[2 * HM_NODE_ID_BYTES + 1];
		if (!val_text(x, identity[i][0]) || !f)
			continue;
		seen = scratch(x);
		hm_node_id_hex(&f->stamp.origin, hex);
		snprintf(seen, HM_STR_MAX, "%" PRIu64 ":%s", f->stamp.hlc, hex);
		if ((rc = val_set(x, identity[i][1], seen)))
			break;
	}
	hm_record_free(p);
	return rc ? rc : hook_person(x);
}

/* ---- the table ---- */

#define U(s) "usage: hamlet [-d DIR] " s

static const verb verbs[] = {
    {"person",
     "add",
     "person",
     "p",
     {0},
     0,
     {{0}},
     hook_person,
     "register a person",
     U("person add --name NAME [--FIELD VALUE...] [--id ID] [--json]\n\n"
       "Register a person: a returnee, a close or second-degree contact, a case. Fields:\n"
       "  --name (required) --id-number (18 characters, checked) --sex male|female\n"
       "  --birth-year --phone --address --compound --household --code\n"
       "  --category returnee|close|second|case|other --status --village PATH\n"
       "A new id is made (time-ordered) unless --id is given; the ID number's keyed hash is\n"
       "stored so one person registered by two villages is found (`hamlet person dups`).\n\n"
       "example: hamlet person add --name \"Li Wei\" --id-number 11010519491231002X \\\n"
       "           --category returnee --compound \"Riverside 3\" --phone 13800000000\n")},
    {"person",
     "edit",
     "person",
     NULL,
     {0},
     0,
     {{0}},
     hook_person_edit,
     "change a person's fields",
     U("person edit ID --FIELD VALUE... [--json]\n\n"
       "Change fields of person ID (any field of `person add`). A name or ID number that two\n"
       "stations changed at once is an open question in `hamlet conflicts`; edit it to decide.\n\n"
       "example: hamlet person edit p-mx1k2a1x3f2a9c0d --status released --phone 13900000000\n")},
    {"return",
     "add",
     "return",
     "r",
     {"person"},
     1,
     {{0}},
     hook_return,
     "record a returnee's journey",
     U("return add PERSON [--FIELD VALUE...] [--json]\n\n"
       "Record how PERSON came back: --from-area wuhan|hubei|other --departure-date\n"
       "--arrival-date --transport train|bus|car|plane|ship|other --vehicle (number)\n"
       "--route \"place date; place date\" --activities TEXT --found-by door|checkpoint|tip|self\n"
       "--registered DATE (default today).\n\n"
       "example: hamlet return add p-0012 --from-area wuhan --arrival-date 2026-11-20 \\\n"
       "           --transport train --vehicle G1234 --found-by door\n")},
    {"contact",
     "add",
     "exposure",
     "x",
     {"source", "contact"},
     2,
     {{0}},
     hook_contact,
     "record that two persons were in contact",
     U("contact add SOURCE CONTACT [--degree 1|2] [--mode MODE] [--first-date D]\n"
       "       [--last-date D] [--json]\n\n"
       "Record that CONTACT was in contact with SOURCE (both registered persons). The degree is\n"
       "2 when SOURCE is a close contact, else 1, unless given. MODE: meal|household|room|\n"
       "vehicle|care|other.\n\n"
       "example: hamlet contact add p-case1 p-child7 --mode meal --last-date 2026-11-18\n")},
    {"episode",
     "start",
     "episode",
     "e",
     {"person"},
     1,
     {{0}},
     hook_episode_start,
     "start isolation or health monitoring",
     U("episode start PERSON --kind home|central|monitoring [--reason R] [--start D]\n"
       "       [--days N | --planned-end D] [--checks-per-day N] [--site S] [--worker W] "
       "[--json]\n\n"
       "Start a period of home or central isolation or health monitoring (start: today unless\n"
       "given; checks per day: 2 unless given). REASON: returnee|close|second|case|fever|other.\n\n"
       "example: hamlet episode start p-0012 --kind home --reason close --days 14\n")},
    {"episode",
     "extend",
     "episode",
     NULL,
     {0},
     0,
     {{0}},
     hook_episode_extend,
     "move an episode's planned end later",
     U("episode extend EPISODE --to YYYY-MM-DD | --days N [--json]\n\n"
       "Move the planned end later (--days counts from the current planned end). An episode is\n"
       "never shortened: an earlier date is refused here, and between nodes the later date "
       "wins.\n")},
    {"episode",
     "end",
     "episode",
     NULL,
     {0},
     0,
     {{0}},
     hook_episode_end,
     "end an episode",
     U("episode end EPISODE [--end D] [--end-reason TEXT] [--json]\n\n"
       "End an episode (today unless --end; not before its start).\n")},
    {"followup",
     "add",
     "followup",
     "f",
     {"person"},
     1,
     {{0}},
     hook_followup,
     "record a temperature check or visit",
     U("followup add PERSON --temp 37.4 --method visit|phone|self [--time T]\n"
       "       [--slot morning|evening] [--result R] [--symptoms S] [--action A] [--worker W]\n"
       "       [--json]\n\n"
       "Record one check of PERSON (time: now unless given; slot: from the time; the episode:\n"
       "the one running). Temperatures outside 34-43 are refused as mistyped.\n\n"
       "example: hamlet followup add p-0012 --temp 37.4 --method visit --worker Wang\n")},
    {"checkpoint",
     "tally",
     "checkpoint_tally",
     "k",
     {"checkpoint"},
     1,
     {{0}},
     hook_checkpoint,
     "record a checkpoint shift's counts",
     U("checkpoint tally CHECKPOINT --shift 1|2|3 [--date D] [--vehicles N] [--persons N]\n"
       "       [--from-hubei N] [--fever N] [--referred N] [--turned-back N] [--json]\n\n"
       "CHECKPOINT is a site of kind checkpoint (`hamlet site add`).\n\n"
       "example: hamlet checkpoint tally s-north --shift 1 --vehicles 40 --persons 75 --fever "
       "1\n")},
    {"stock",
     "receive",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "received"}},
     hook_stock,
     "stock received",
     U("stock receive ITEM QUANTITY --store S [--shipment SH] [--counterparty X] [--date D]\n\n"
       "example: hamlet stock receive N95 500 --store township-depot --shipment sh-12\n")},
    {"stock",
     "issue",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "issued"}},
     hook_stock,
     "stock issued",
     U("stock issue ITEM QUANTITY --store S [--counterparty WHO] [--date D]\n")},
    {"stock",
     "transfer",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "transfer"}},
     hook_stock,
     "stock moved between stores",
     U("stock transfer ITEM QUANTITY --store FROM --to TO [--date D]\n")},
    {"stock",
     "intercept",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "intercepted"}},
     hook_stock,
     "supplies intercepted on the road",
     U("stock intercept ITEM QUANTITY --store S --shipment SH [--counterparty WHO] [--date D]\n\n"
       "Record supplies of shipment SH stopped on the road (they never reach store S).\n")},
    {"stock",
     "consume",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "consumed"}},
     hook_stock,
     "stock used up",
     U("stock consume ITEM QUANTITY --store S [--date D]\n")},
    {"stock",
     "count",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "counted"}},
     hook_stock,
     "a physical count",
     U("stock count ITEM QUANTITY --store S [--date D]\n\n"
       "Record a physical count: stored as the correction against the books, so stock on hand\n"
       "stays the sum of movements.\n")},
    {"stock",
     "request",
     "stock_txn",
     "t",
     {"item", "quantity"},
     2,
     {{"movement", "requested"}},
     hook_stock,
     "supplies requested",
     U("stock request ITEM QUANTITY --store S [--date D]\n")},
    {"tip",
     "add",
     "tip",
     "tip",
     {0},
     0,
     {{0}},
     hook_tip_add,
     "record a tip-off",
     U("tip add --subject TEXT [--person P] [--received D] [--json]\n")},
    {"tip",
     "verify",
     "tip",
     NULL,
     {0},
     0,
     {{0}},
     hook_tip_verify,
     "verify (or --reject) a tip",
     U("tip verify TIP [--reject] [--reward N] [--json]\n\n"
       "Mark TIP verified; its reward is the county's setting reward.tip (500 unless set) unless\n"
       "--reward is given. --reject marks it rejected.\n")},
    {"tip",
     "pay",
     "tip",
     NULL,
     {0},
     0,
     {{0}},
     hook_tip_pay,
     "record a reward paid",
     U("tip pay TIP [--paid D] [--json]\n")},
    {"site",
     "add",
     "site",
     "s",
     {0},
     0,
     {{0}},
     NULL,
     "register a site",
     U("site add --name NAME --kind isolation|clinic|checkpoint|venue|store [--beds N]\n"
       "       [--address A] [--status S] [--id ID] [--json]\n")},
    {"notice",
     "add",
     "notice",
     "n",
     {"compound"},
     1,
     {{0}},
     hook_dated,
     "record that a compound was told",
     U("notice add COMPOUND --audience property|residents [--date D] [--worker W] [--json]\n\n"
       "Record that a compound's property management (or its residents) were told that someone\n"
       "there is under monitoring.\n")},
    {"penalty",
     "add",
     "penalty",
     "pen",
     {"person"},
     1,
     {{0}},
     hook_penalty,
     "record a returnee a village missed",
     U("penalty add PERSON [--rule TEXT] [--amount N] [--date D] [--state S] [--json]\n\n"
       "The amount, unless given, follows the county's rule in `hamlet report rewards`.\n")},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const struct {
	const char *opt, *field;
} aliases[] = {
    {"temp", "temperature"},
    {"to", "to_store"},
    {"store", "store"},
};

static void print_group_usage(FILE *f, const char *cmd)
{
	fprintf(f, "usage: hamlet [-d DIR] %s VERB ...\n\nverbs:\n", cmd);
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(verbs[i].cmd, cmd))
			fprintf(f, "  %-10s %s\n", verbs[i].sub, verbs[i].summary);
	if (!strcmp(cmd, "person"))
		fputs("  show       a person with journeys, contacts, episodes, follow-ups\n"
		      "  find       search persons\n"
		      "  dups       persons registered twice (merge proposals)\n"
		      "  merge      record that two registrations are one person\n"
		      "  unmerge    undo a merge\n",
		      f);
	fprintf(f, "\n`hamlet %s VERB --help` tells more.\n", cmd);
}

static const hm_field_def *option_field(const lctx *x, const char *opt)
{
	char name[HM_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(opt, aliases[i].opt) && hm_schema_field(x->cd, aliases[i].field))
			return hm_schema_field(x->cd, aliases[i].field);
	for (i = 0; opt[i] && i < HM_NAME_MAX; i++)
		name[i] = opt[i] == '-' ? '_' : opt[i];
	name[i] = '\0';
	return hm_schema_field(x->cd, name);
}

static int parse(lctx *x, int argc, char **argv)
{
	int npos = 0;

	for (int i = 2; i < argc; i++) {
		char *a = argv[i], *val = NULL, *eq;
		const hm_field_def *d;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(x->v->usage, stdout);
			return -1;
		}
		if (a[0] != '-' || a[1] != '-') {
			int need = x->v->npos + (x->v->prefix ? 0 : 1);
			if (npos >= need)
				return cli_fail(x->c, EXIT_USAGE,
				                "unexpected argument '%s'; usage:\n%s", a,
				                x->v->usage);
			if (!x->v->prefix && npos == 0) {
				if (cli_id_arg(x->c, "ID", a))
					return EXIT_USAGE;
				snprintf(x->id, sizeof(x->id), "%s", a);
			} else if (cli_id_arg(x->c, x->v->pos[npos - (x->v->prefix ? 0 : 1)], a)) {
				/* every positional field names a person by id (person, source,
				 * contact) */
				return EXIT_USAGE;
			} else if (val_set(x, x->v->pos[npos - (x->v->prefix ? 0 : 1)], a))
				return EXIT_FAIL;
			npos++;
			continue;
		}
		a += 2;
		if (!strcmp(a, "json") || !strcmp(a, "show-pii") || !strcmp(a, "reject")) {
			*(a[0] == 'j' ? &x->json : a[0] == 's' ? &x->show_pii : &x->reject) = true;
			continue;
		}
		if ((eq = strchr(a, '=')))
			*eq = '\0', val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return cli_fail(x->c, EXIT_USAGE, "option '--%s' needs a value", a);
		if (!strcmp(a, "id") && x->v->prefix) {
			if (cli_id_arg(x->c, "--id", val))
				return EXIT_USAGE;
			x->opt_id = val;
		} else if (!strcmp(a, "days"))
			x->opt_days = val;
		else if (!strcmp(a, "to") && !strcmp(x->v->sub, "extend"))
			x->opt_to = val;
		else if ((d = option_field(x, a)) && d->merge != HM_MERGE_COUNTER &&
		         strcmp(d->name, "id_hash") != 0 && !strstr(d->name, "_seen")) {
			if (val_set(x, d->name, val))
				return EXIT_FAIL;
		} else if (!d && x->nadded < (int)(sizeof(x->added) / sizeof(x->added[0]))) {
			x->added[x->nadded].opt = a;
			x->added[x->nadded++].val = val;
		} else
			return cli_fail(
			    x->c, EXIT_USAGE,
			    "unknown option '--%s' (a %s has no such field; see `hamlet %s %s "
			    "--help`)",
			    a, x->cd->name, x->v->cmd, x->v->sub);
	}
	if (npos < x->v->npos + (x->v->prefix ? 0 : 1))
		return cli_fail(x->c, EXIT_USAGE, "missing arguments; usage:\n%s", x->v->usage);
	return EXIT_OK;
}

/* Each value through its type and the ledger's rules, naming the field on error. */
static int check_values(lctx *x)
{
	for (int i = 0; i < x->nvals; i++) {
		const hm_field_def *d = x->vals[i].def;
		const char *why;
		hm_value v;

		if (!x->vals[i].text[0]) {
			if (d->required)
				return cli_fail(x->c, EXIT_FAIL, "%s: is required, not empty",
				                d->name);
			continue;
		}
		if (hm_value_parse(d, x->vals[i].text, &v, &why) ||
		    hm_ledger_check(x->cd, d, &v, &why)) {
			char shown[4 * HM_STR_MAX + 1];
			const char *t = x->vals[i].text;
			if (d->flags & HM_F_PII) /* error output may end up in a log */
				out_mask(t, strlen(t), shown, sizeof(shown)), t = shown;
			return cli_fail(x->c, EXIT_FAIL, "%s: must be %s, not '%s'", d->name, why,
			                t);
		}
	}
	return EXIT_OK;
}

static int write_values(lctx *x)
{
	hm_write *w = NULL;
	hm_changeset_info info;
	hm_err err;

	if ((err = hm_write_begin(x->n, &w)))
		return cli_node_fail(x->c, x->n, err);
	for (int i = 0; i < x->nvals; i++) {
		const hm_field_def *d = x->vals[i].def;
		const char *why;
		hm_value v = {HM_V_NIL};

		if (x->vals[i].text[0] && hm_value_parse(d, x->vals[i].text, &v, &why)) {
			hm_write_abort(w);
			return cli_fail(x->c, EXIT_FAIL, "%s: must be %s", d->name, why);
		}
		if ((err = hm_write_set(w, x->cd->name, x->id, d->name, &v))) {
			hm_write_abort(w);
			return cli_node_fail(x->c, x->n, err);
		}
	}
	if ((err = hm_write_commit(w, &info)))
		return cli_node_fail(x->c, x->n, err);
	if (x->json) {
		printf("{\"collection\":");
		out_json_cstr(stdout, x->cd->name);
		printf(",\"id\":");
		out_json_cstr(stdout, x->id);
		printf(",\"seq\":%" PRIu64 ",\"changeset\":\"", info.seq);
		out_hex(stdout, info.id.b, HM_HASH_BYTES);
		printf("\"");
		if (x->note) {
			printf(",\"note\":");
			out_json_cstr(stdout, x->note);
		}
		printf("}\n");
	} else {
		printf("%s %s: %s %s (change set %" PRIu64 ")\n", x->v->cmd, x->v->sub, x->cd->name,
		       x->id, info.seq);
		if (x->note)
			printf("%s\n", x->note);
	}
	return EXIT_OK;
}

static int run_verb(cli *c, const verb *v, int argc, char **argv)
{
	lctx *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return cli_fail(c, EXIT_FAIL, "out of memory");
	x->c = c, x->v = v, x->cd = hm_schema_collection(v->coll);
	for (int i = 0; i < 2 && v->fixed[i][0]; i++)
		if ((rc = val_set(x, v->fixed[i][0], v->fixed[i][1])))
			goto out;
	if ((rc = parse(x, argc, argv))) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	/* Types first: a mistyped value is named before anything is opened. */
	if ((rc = check_values(x)) || (rc = cli_open(c, &x->n)))
		goto out;
	if (v->prefix) {
		if (x->opt_id)
			snprintf(x->id, sizeof(x->id), "%s", x->opt_id);
		else
			hm_ledger_new_id(&c->led, v->prefix, x->id, sizeof(x->id));
		hm_record *existing = NULL;
		hm_err err = hm_node_get(x->n, v->coll, x->id, &existing);
		hm_record_free(existing);
		if (err == HM_OK) {
			rc = cli_fail(c, EXIT_FAIL, "%s %s already exists", v->coll, x->id);
			goto out;
		}
		if (err != HM_ERR_NOT_FOUND) {
			rc = cli_node_fail(c, x->n, err);
			goto out;
		}
	}
	for (int i = 0; i < x->nadded; i++) {
		char name[HM_NAME_MAX + 1];
		size_t k;
		for (k = 0; x->added[i].opt[k] && k < HM_NAME_MAX; k++)
			name[k] = x->added[i].opt[k] == '-' ? '_' : x->added[i].opt[k];
		name[k] = '\0';
		if (hm_node_field(x->n, x->cd, name, &x->added[i].def, x->added[i].name) ||
		    x->nvals == MAX_VALS) {
			rc = cli_fail(
			    c, EXIT_USAGE,
			    "unknown option '--%s' (a %s has no such field; see `hamlet %s %s "
			    "--help`)",
			    x->added[i].opt, x->cd->name, v->cmd, v->sub);
			goto out;
		}
		x->vals[x->nvals++] = (fval){&x->added[i].def, x->added[i].val};
	}
	if (v->hook && (rc = v->hook(x)))
		goto out;
	if ((rc = check_values(x)))
		goto out;
	if (x->nvals == 0) {
		rc = cli_fail(c, EXIT_USAGE, "nothing to change; usage:\n%s", v->usage);
		goto out;
	}
	rc = write_values(x);
out:
	hm_node_close(x->n);
	free(x);
	return rc;
}

int cmd_field(cli *c, int argc, char **argv)
{
	static char name[64];
	const char *cmd = argv[0];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_group_usage(argc < 2 ? stderr : stdout, cmd);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(verbs[i].cmd, cmd) && !strcmp(verbs[i].sub, argv[1])) {
			snprintf(name, sizeof(name), "%s %s", cmd, argv[1]); /* for messages */
			c->cmd = name;
			return run_verb(c, &verbs[i], argc, argv);
		}
	cli_fail(c, EXIT_USAGE, "no verb '%s'", argv[1]);
	print_group_usage(stderr, cmd);
	return EXIT_USAGE;
}
