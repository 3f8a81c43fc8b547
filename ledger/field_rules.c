/*
 * field_rules.c - the rules of each verb of field work, and the table of verbs. A rule fills in
 * what the clerk left out (today's date, the person's village, the episode running, a tip's
 * reward from the county's settings) and refuses what field work forbids (an episode ending
 * before it starts, a follow-up without a result, a store that is not a site).
 */
#include "ledger_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct hm_verb_run run;

/* ---- shared ---- */

static char *today(run *x)
{
	char *buf = verb_scratch(x);
	hm_ledger_today(x->l, buf);
	return buf;
}

/* The run staged earlier in the same write that makes coll/id, or NULL. */
static const run *staged(const run *x, const char *coll, const char *id)
{
	for (const run *b = x->before; b && id; b = b->before)
		if (!strcmp(b->cd->name, coll) && !strcmp(b->id, id))
			return b;
	return NULL;
}

/* The person id, in the store or staged in the same write (then *out is NULL). */
static hm_err need_person(run *x, const char *id, hm_record **out)
{
	if (staged(x, "person", id)) {
		if (out)
			*out = NULL;
		return HM_OK;
	}
	return hm_ledger_need_person(x->l, id, out);
}

/* Field of person id as need_person found it (p, or the run staged in this write) into buf;
 * NULL (buf "") when it has none. */
static const char *person_text(const run *x, const hm_record *p, const char *id, const char *field,
                               char *buf, size_t cap)
{
	const run *b = p ? NULL : staged(x, "person", id);
	const char *t = b ? verb_text(b, field) : NULL;

	if (p)
		return hm_rec_text(p, field, buf, cap);
	snprintf(buf, cap, "%s", t ? t : "");
	return buf[0] ? buf : NULL;
}

/* A new record of another collection lives where its person lives. */
static hm_err village_of(run *x, const char *person_field)
{
	const char *pid = verb_text(x, person_field);
	hm_record *p;
	char *buf;
	hm_err err;

	if (!pid || verb_text(x, x->cd->region_field))
		return HM_OK;
	if ((err = need_person(x, pid, &p)))
		return err;
	buf = verb_scratch(x);
	if (person_text(x, p, pid, "village", buf, HM_STR_MAX + 1))
		err = verb_set(x, x->cd->region_field, buf);
	hm_record_free(p);
	return err;
}

static hm_err add_days(run *x, const char *date, const char *days_text, char *out)
{
	char *end;
	long days = strtol(days_text, &end, 10);

	if (!*days_text || *end || days < 1 || days > HM_EPISODE_DAYS_MAX)
		return verb_fail(x, HM_ERR_INVALID, true,
		                 "--days must be a whole number of days, 1 to 365");
	if (!hm_date_add(date, days, out))
		return verb_fail(x, HM_ERR_INVALID, false, "'%s' is not a date YYYY-MM-DD", date);
	return HM_OK;
}

/* ---- episodes ---- */

typedef struct ep_find {
	const char *person, *date;
	char id[HM_ID_MAX + 1];
	char start[16];
} ep_find;

/* The rule of the episode running: one that started on or before the date and has not ended
 * by it; of several, the latest started. */
static void ep_consider(ep_find *f, const char *id, const char *start, const char *end)
{
	if (!start[0] || strcmp(start, f->date) > 0 || (end[0] && strcmp(end, f->date) <= 0))
		return;
	if (!f->id[0] || strcmp(start, f->start) > 0) {
		snprintf(f->id, sizeof(f->id), "%s", id);
		snprintf(f->start, sizeof(f->start), "%s", start);
	}
}

static int ep_active_one(void *arg, const hm_record *r)
{
	ep_find *f = arg;
	char p[HM_ID_MAX + 1], start[16], end[16];

	if (hm_rec_id(r, "person", p) && !strcmp(p, f->person)) {
		hm_rec_text(r, "start", start, sizeof(start));
		hm_rec_text(r, "end", end, sizeof(end));
		ep_consider(f, r->id, start, end);
	}
	return 0;
}

/* ---- the episodes read once for many runs (verb_episodes_load) ---- */

struct verb_ep {
	char person[HM_ID_MAX + 1], id[HM_ID_MAX + 1];
	char start[16], end[16];
};

static int ep_cmp(const void *a, const void *b)
{
	return strcmp(((const struct verb_ep *)a)->person, ((const struct verb_ep *)b)->person);
}

static int ep_load_one(void *arg, const hm_record *r)
{
	verb_episodes *e = arg;
	struct verb_ep *ep;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 256;
		struct verb_ep *v = realloc(e->v, cap * sizeof(*v));
		if (!v) {
			e->nomem = true;
			return 1;
		}
		e->v = v, e->cap = cap;
	}
	ep = &e->v[e->n];
	if (!hm_rec_id(r, "person", ep->person))
		return 0;
	snprintf(ep->id, sizeof(ep->id), "%s", r->id);
	hm_rec_text(r, "start", ep->start, sizeof(ep->start));
	hm_rec_text(r, "end", ep->end, sizeof(ep->end));
	e->n++;
	return 0;
}

hm_err verb_episodes_load(hm_ledger *l, verb_episodes *out)
{
	hm_err err;

	memset(out, 0, sizeof(*out));
	if ((err = hm_node_list(l->node, "episode", ep_load_one, out)))
		return err;
	if (out->nomem)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "reading the episodes: out of memory");
	qsort(out->v, out->n, sizeof(*out->v), ep_cmp);
	return HM_OK;
}

void verb_episodes_release(verb_episodes *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* The person's episode active on date, into id ("" when none). */
static hm_err active_episode(run *x, const char *person, const char *date, char *id, size_t cap)
{
	ep_find f = {person, date, "", ""};
	const verb_episodes *e = x->episodes;
	hm_err err = HM_OK;

	if (e) {
		struct verb_ep key;
		size_t lo = 0, hi = e->n;
		snprintf(key.person, sizeof(key.person), "%s", person);
		while (lo < hi) { /* the first of the person's */
			size_t mid = (lo + hi) / 2;
			if (ep_cmp(&e->v[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < e->n && !strcmp(e->v[lo].person, person); lo++)
			ep_consider(&f, e->v[lo].id, e->v[lo].start, e->v[lo].end);
	} else {
		err = hm_node_list(x->l->node, "episode", ep_active_one, &f);
	}
	if (!err)
		snprintf(id, cap, "%s", f.id);
	return err;
}

static hm_err rule_episode_start(run *x)
{
	char active[HM_ID_MAX + 1], *plan;
	const char *start, *end;
	hm_err err;

	if ((err = need_person(x, verb_text(x, "person"), NULL)) ||
	    (err = verb_default(x, "start", today(x))) ||
	    (err = verb_default(x, "checks_per_day", "2")) || (err = village_of(x, "person")))
		return err;
	start = verb_text(x, "start");
	if (x->req->days && !verb_text(x, "planned_end")) {
		plan = verb_scratch(x);
		if ((err = add_days(x, start, x->req->days, plan)) ||
		    (err = verb_set(x, "planned_end", plan)))
			return err;
	}
	if ((end = verb_text(x, "planned_end")) && strcmp(end, start) < 0)
		return verb_fail(x, HM_ERR_INVALID, false, "planned end %s is before the start %s",
		                 end, start);
	if ((err = active_episode(x, verb_text(x, "person"), start, active, sizeof(active))))
		return err;
	if (active[0])
		verb_note(
		    x, "note: %s already has episode %s running; end it with `hamlet episode end`",
		    verb_text(x, "person"), active);
	return HM_OK;
}

static hm_err rule_episode_extend(run *x)
{
	hm_record *e;
	char cur[16], start[16];
	const char *to =
	    x->req->to ? verb_canonical(x, "planned_end", x->req->to) : verb_text(x, "planned_end");
	hm_err err;

	if ((err = verb_need(x, "episode", x->id, N_("episode"), &e)))
		return err;
	hm_rec_text(e, "planned_end", cur, sizeof(cur));
	hm_rec_text(e, "start", start, sizeof(start));
	hm_record_free(e);
	if (!to && x->req->days) {
		char *plan = verb_scratch(x);
		if ((err = add_days(x, cur[0] ? cur : start, x->req->days, plan)))
			return err;
		to = plan;
	}
	if (!to)
		return verb_fail(x, HM_ERR_INVALID, true,
		                 "say the new planned end: --to YYYY-MM-DD or --days N");
	if (cur[0] && strcmp(to, cur) < 0)
		return verb_fail(
		    x, HM_ERR_INVALID, false,
		    "an episode is extended, never shortened: %s is before its planned "
		    "end %s (end it early with `hamlet episode end`)",
		    to, cur);
	return verb_set(x, "planned_end", to);
}

static hm_err rule_episode_end(run *x)
{
	hm_record *e;
	char start[16], ended[16];
	const char *end;
	hm_err err;

	if ((err = verb_need(x, "episode", x->id, N_("episode"), &e)))
		return err;
	hm_rec_text(e, "start", start, sizeof(start));
	hm_rec_text(e, "end", ended, sizeof(ended));
	hm_record_free(e);
	if ((err = verb_default(x, "end", today(x))))
		return err;
	end = verb_text(x, "end");
	if (strcmp(end, start) < 0)
		return verb_fail(x, HM_ERR_INVALID, false,
		                 "end: %s is before the episode's start %s", end, start);
	if (ended[0])
		verb_note(x, "note: the episode had ended on %s", ended);
	return verb_default(x, "end_reason", "completed");
}

/* ---- follow-ups ---- */

static void now_minutes(run *x, char *out)
{
	time_t s = (time_t)(hm_ledger_now_ms(x->l) / 1000);
	struct tm tm;
	localtime_r(&s, &tm); /* a worker's clock: the station's time zone */
	strftime(out, 17, "%Y-%m-%dT%H:%M", &tm);
}

static hm_err rule_followup(run *x)
{
	const char *person = verb_text(x, "person"), *t, *r = verb_text(x, "result");
	const char *temp = verb_text(x, "temperature");
	char *now = verb_scratch(x), *ep = verb_scratch(x), date[11];
	hm_err err;

	/* A check is done when it has a result: a reading, or what happened instead. */
	if ((!temp || !temp[0]) && (!r || !r[0]))
		return verb_fail(x, HM_ERR_INVALID, true,
		                 "a follow-up needs its result: --temp T (the reading), or "
		                 "--result TEXT when there was none (not at home, refused)");
	if ((err = need_person(x, person, NULL)))
		return err;
	now_minutes(x, now);
	if ((err = verb_default(x, "time", now)) || (err = village_of(x, "person")))
		return err;
	t = verb_text(x, "time");
	if (!verb_text(x, "slot") && hm_followup_slot(t) &&
	    (err = verb_set(x, "slot", hm_followup_slot(t))))
		return err;
	snprintf(date, sizeof(date), "%.10s", t);
	if (verb_text(x, "episode"))
		return HM_OK;
	if ((err = active_episode(x, person, date, ep, HM_STR_MAX)))
		return err;
	if (ep[0])
		return verb_set(x, "episode", ep);
	verb_note(x, "note: %s has no episode running on %s", person, date);
	return HM_OK;
}

/* ---- contacts ---- */

static hm_err rule_contact(run *x)
{
	hm_record *src, *con;
	char cat[32];
	hm_err err;

	if ((err = need_person(x, verb_text(x, "source"), &src)))
		return err;
	if ((err = need_person(x, verb_text(x, "contact"), &con))) {
		hm_record_free(src);
		return err;
	}
	/* A contact of a close contact is second-degree; of anyone else, close. */
	person_text(x, src, verb_text(x, "source"), "category", cat, sizeof(cat));
	hm_record_free(src);
	hm_record_free(con);
	if (!strcmp(verb_text(x, "source"), verb_text(x, "contact")))
		return verb_fail(x, HM_ERR_INVALID, false, "a person is not their own contact");
	if ((err = verb_default(x, "degree", strcmp(cat, "close") == 0 ? "2" : "1")))
		return err;
	return village_of(x, "contact");
}

/* ---- stock ---- */

static bool moves_out(const char *mv)
{
	return !strcmp(mv, "issued") || !strcmp(mv, "consumed") || !strcmp(mv, "transfer");
}

/* A count is stored as the correction, so stock stays a sum of movements. */
static hm_err stock_count(run *x, const char *q, int64_t have)
{
	char *delta = verb_scratch(x), *end;
	long long counted = strtoll(q, &end, 10);
	hm_err err;

	if (*end)
		return verb_fail(x, HM_ERR_TYPE, false,
		                 "quantity: must be a whole number, not '%s'", q);
	snprintf(delta, 24, "%lld", counted - (long long)have);
	verb_note(x, "counted %lld %s at %s: the books said %" PRId64 ", corrected by %s", counted,
	          verb_text(x, "item"), verb_text(x, "store"), have, delta);
	if ((err = verb_set(x, "counted_as", q)))
		return err;
	return verb_set(x, "quantity", delta);
}

static hm_err stock_args(run *x, const char *mv, const char *q)
{
	if (!verb_text(x, "store"))
		return verb_fail(x, HM_ERR_INVALID, true, "say which store: --store NAME");
	if (q[0] == '-' || !strcmp(q, "0"))
		return verb_fail(x, HM_ERR_INVALID, false,
		                 "quantity: must be a positive whole number, not '%s'", q);
	if (!strcmp(mv, "transfer") && !verb_text(x, "to_store"))
		return verb_fail(x, HM_ERR_INVALID, true, "a transfer needs --to STORE");
	if (!strcmp(mv, "intercepted") && !verb_text(x, "shipment"))
		return verb_fail(x, HM_ERR_INVALID, true,
		                 "say which shipment was intercepted: --shipment SH");
	return HM_OK;
}

static hm_err rule_stock(run *x)
{
	const char *mv = verb_text(x, "movement"), *q = verb_text(x, "quantity");
	const char *store, *to;
	int64_t have = 0;
	hm_err err;

	if ((err = verb_default(x, "date", today(x))) || (err = stock_args(x, mv, q)))
		return err;
	store = verb_text(x, "store"), to = verb_text(x, "to_store");
	if ((err = hm_stock_store_check(x->l, store)) ||
	    (to && (err = hm_stock_store_check(x->l, to))))
		return err;
	if ((err = hm_stock_on_hand(x->l, verb_text(x, "item"), store, &have)))
		return err;
	if (!strcmp(mv, "counted"))
		return stock_count(x, q, have);
	if (moves_out(mv) && strtoll(q, NULL, 10) > have)
		verb_note(
		    x, "warning: %s at %s goes below zero (the books hold %" PRId64 "): count it",
		    verb_text(x, "item"), store, have);
	return HM_OK;
}

/* ---- tips, checkpoints, notices, penalties, returns ---- */

static hm_err rule_dated(run *x)
{
	return verb_default(x, "date", today(x));
}

static hm_err rule_tip_add(run *x)
{
	hm_err err;

	if ((err = verb_default(x, "received", today(x))) ||
	    (err = verb_default(x, "state", "new")))
		return err;
	return verb_text(x, "person") ? need_person(x, verb_text(x, "person"), NULL) : HM_OK;
}

static hm_err rule_tip_verify(run *x)
{
	hm_record *t;
	char *reward = verb_scratch(x);
	hm_err err;

	if ((err = verb_need(x, "tip", x->id, N_("tip"), &t)))
		return err;
	hm_record_free(t);
	if (x->req->reject)
		return verb_set(x, "state", "rejected");
	hm_ledger_setting(x->l, "reward.tip", "500", reward, HM_STR_MAX);
	if ((err = verb_set(x, "state", "verified")) ||
	    (err = verb_default(x, "verified", today(x))))
		return err;
	return verb_default(x, "reward", reward);
}

static hm_err rule_tip_pay(run *x)
{
	hm_record *t;
	char state[32];
	hm_err err;

	if ((err = verb_need(x, "tip", x->id, N_("tip"), &t)))
		return err;
	hm_rec_text(t, "state", state, sizeof(state));
	hm_record_free(t);
	if (strcmp(state, "verified"))
		return verb_fail(x, HM_ERR_INVALID, false,
		                 "tip %s is not verified: verify it first", x->id);
	return verb_default(x, "paid", today(x));
}

static hm_err rule_checkpoint(run *x)
{
	const char *id = verb_text(x, "checkpoint");
	hm_record *s;
	char kind[32];
	hm_err err;

	if ((err = verb_need(x, "site", id, N_("checkpoint"), &s)))
		return err;
	hm_rec_text(s, "kind", kind, sizeof(kind));
	hm_record_free(s);
	if (strcmp(kind, "checkpoint"))
		return verb_fail(x, HM_ERR_INVALID, false, "site %s is a %s, not a checkpoint", id,
		                 kind[0] ? kind : "site of no kind");
	return rule_dated(x);
}

static hm_err rule_return(run *x)
{
	const char *dep, *arr;
	hm_err err;

	if ((err = need_person(x, verb_text(x, "person"), NULL)) ||
	    (err = verb_default(x, "registered", today(x))))
		return err;
	dep = verb_text(x, "departure_date"), arr = verb_text(x, "arrival_date");
	if (dep && arr && strcmp(arr, dep) < 0)
		return verb_fail(x, HM_ERR_INVALID, false,
		                 "arrival_date %s is before departure_date %s", arr, dep);
	return village_of(x, "person");
}

static hm_err rule_penalty(run *x)
{
	hm_err err;

	if ((err = need_person(x, verb_text(x, "person"), NULL)) || (err = rule_dated(x)) ||
	    (err = verb_default(x, "state", "proposed")))
		return err;
	return village_of(x, "person");
}

/* ---- persons: the identity bookkeeping ---- */

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

/* The keyed hash of the ID number, so one person registered twice is found; say so when this
 * node already holds someone with the same number. */
static hm_err rule_person(run *x)
{
	const char *idnum = verb_text(x, "id_number");
	same_id s = {NULL, x->id, ""};
	char *hash;

	if (!idnum)
		return HM_OK;
	if (!idnum[0])
		return verb_set(x, "id_hash", ""); /* no number, no hash */
	hash = verb_scratch(x);
	if (hm_node_id_hash(x->l->node, idnum, hash)) {
		snprintf(x->out->warning, sizeof(x->out->warning),
		         _("%s; the ID number is kept, but this person cannot be matched with "
		           "registrations elsewhere"),
		         hm_node_errmsg(x->l->node));
		return HM_OK;
	}
	s.hash = hash;
	if (hm_node_list(x->l->node, "person", same_id_one, &s) == HM_OK && s.other[0]) {
		snprintf(x->out->same_person, sizeof(x->out->same_person), "%s", s.other);
		verb_note(
		    x, "note: %s has the same ID number: the same person? (`hamlet person dups`)",
		    s.other);
	}
	return verb_set(x, "id_hash", hash);
}

/* Say which value each identity edit replaces (person.c: an identity question is open until
 * someone writes the field knowing the other value). */
static hm_err rule_person_edit(run *x)
{
	static const char *const identity[][2] = {{"name", "name_seen"},
	                                          {"id_number", "id_number_seen"}};
	hm_record *p;
	hm_err err = HM_OK;

	if ((err = need_person(x, x->id, &p)))
		return err;
	for (size_t i = 0; i < 2 && p && !err; i++) {
		const hm_field *f = hm_record_field(p, identity[i][0]);
		char *seen, hex[2 * HM_NODE_ID_BYTES + 1];
		if (!verb_text(x, identity[i][0]) || !f)
			continue;
		seen = verb_scratch(x);
		hm_node_id_hex(&f->stamp.origin, hex);
		snprintf(seen, HM_STR_MAX, "%" PRIu64 ":%s", f->stamp.hlc, hex);
		err = verb_set(x, identity[i][1], seen);
	}
	hm_record_free(p);
	return err ? err : rule_person(x);
}

/* ---- the table ---- */

#define VERB(c, s, coll, pre) .cmd = c, .sub = s, .collection = coll, .prefix = pre
#define MOVE(s, mv, sum, more_)                                                                    \
	{                                                                                          \
		VERB("stock", s, "stock_txn", "t"),                                                \
		    .pos = {"item", "quantity"}, .npos = 2, .fixed = {{"movement", mv}},           \
		    .rule = rule_stock, .summary = sum, .args = "ITEM QUANTITY", .more = more_     \
	}

const hm_verb hm_verb_table[] = {
    {VERB("person", "add", "person", "p"), .rule = rule_person, .summary = N_("register a person"),
     .more = "Register a person: a returnee, a close or second-degree contact, a case. --name is\n"
             "required; the ID number is checked (18 characters). A new id is made (time-ordered)\n"
             "unless --id is given; the ID number's keyed hash is stored so one person registered\n"
             "by two villages is found (`hamlet person dups`).\n\n"
             "example: hamlet person add --name \"Li Wei\" --id-number 11010519491231002X \\\n"
             "           --category returnee --compound \"Riverside 3\" --phone 13800000000\n"},
    {VERB("person", "edit", "person", NULL), .rule = rule_person_edit,
     .summary = N_("change a person's fields"), .args = "ID",
     .more =
         "Change fields of person ID (any field of `person add`). A name or ID number that two\n"
         "stations changed at once is an open question in `hamlet conflicts`; edit it to\n"
         "decide.\n\n"
         "example: hamlet person edit p-mx1k2a1x3f2a9c0d --status released --phone "
         "13900000000\n"},
    {VERB("return", "add", "return", "r"), .pos = {"person"}, .npos = 1, .rule = rule_return,
     .summary = N_("record a returnee's journey"), .args = "PERSON",
     .more = "Record how PERSON came back (--registered: today unless given). --route is\n"
             "\"place date; place date\".\n\n"
             "example: hamlet return add p-0012 --from-area wuhan --arrival-date 2026-11-20 \\\n"
             "           --transport train --vehicle G1234 --found-by door\n"},
    {VERB("contact", "add", "exposure", "x"), .pos = {"source", "contact"}, .npos = 2,
     .rule = rule_contact, .summary = N_("record that two persons were in contact"),
     .args = "SOURCE CONTACT",
     .more =
         "Record that CONTACT was in contact with SOURCE (both registered persons). The degree\n"
         "is 2 when SOURCE is a close contact, else 1, unless given.\n\n"
         "example: hamlet contact add p-case1 p-child7 --mode meal --last-date 2026-11-18\n"},
    {VERB("episode", "start", "episode", "e"), .pos = {"person"}, .npos = 1, .flags = HM_VERB_DAYS,
     .rule = rule_episode_start, .summary = N_("start isolation or health monitoring"),
     .args = "PERSON",
     .more = "Start a period of home or central isolation or health monitoring (start: today\n"
             "unless given; checks per day: 2 unless given; --days N sets the planned end).\n\n"
             "example: hamlet episode start p-0012 --kind home --reason close --days 14\n"},
    {VERB("episode", "extend", "episode", NULL), .flags = HM_VERB_DAYS | HM_VERB_TO,
     .rule = rule_episode_extend, .summary = N_("move an episode's planned end later"),
     .args = "EPISODE",
     .more = "Move the planned end later: --to YYYY-MM-DD, or --days N counted from the current\n"
             "planned end. An episode is never shortened: an earlier date is refused here, and\n"
             "between nodes the later date wins.\n"},
    {VERB("episode", "end", "episode", NULL), .rule = rule_episode_end,
     .summary = N_("end an episode"), .args = "EPISODE",
     .more = "End an episode (today unless --end; not before its start).\n"},
    {VERB("followup", "add", "followup", "f"), .pos = {"person"}, .npos = 1, .rule = rule_followup,
     .summary = N_("record a temperature check or visit"), .args = "PERSON",
     .more = "Record one check of PERSON: its result is the reading (--temp) or, when there was\n"
             "none, --result (a follow-up with neither is refused). Time: now unless given; slot:\n"
             "from the time; the episode: the one running. Temperatures outside 34-43 are refused\n"
             "as mistyped.\n\n"
             "example: hamlet followup add p-0012 --temp 37.4 --method visit --worker Wang\n"},
    {VERB("checkpoint", "tally", "checkpoint_tally", "k"), .pos = {"checkpoint"}, .npos = 1,
     .rule = rule_checkpoint, .summary = N_("record a checkpoint shift's counts"),
     .args = "CHECKPOINT",
     .more = "CHECKPOINT is a site of kind checkpoint (`hamlet site add`).\n\n"
             "example: hamlet checkpoint tally s-north --shift 1 --vehicles 40 --persons 75 "
             "--fever 1\n"},
    MOVE("receive", "received", N_("stock received"),
         "STORE is a site of kind store (`hamlet site add --kind store`).\n\n"
         "example: hamlet stock receive N95 500 --store s-elm-store --shipment sh-12\n"),
    MOVE("issue", "issued", N_("stock issued"),
         "STORE is a site of kind store (`hamlet site add --kind store`).\n"),
    MOVE("transfer", "transfer", N_("stock moved between stores"),
         "From --store to --to, both sites of kind store.\n"),
    MOVE("intercept", "intercepted", N_("supplies intercepted on the road"),
         "Record supplies of shipment --shipment stopped on the road (they never reach the\n"
         "store).\n"),
    MOVE("consume", "consumed", N_("stock used up"), NULL),
    MOVE("count", "counted", N_("a physical count"),
         "Record a physical count: stored as the correction against the books, so stock on\n"
         "hand stays the sum of movements.\n"),
    MOVE("request", "requested", N_("supplies requested"), NULL),
    {VERB("tip", "add", "tip", "tip"), .rule = rule_tip_add, .summary = N_("record a tip-off")},
    {VERB("tip", "verify", "tip", NULL), .flags = HM_VERB_REJECT, .rule = rule_tip_verify,
     .summary = N_("verify (or --reject) a tip"), .args = "TIP",
     .more = "Mark TIP verified; its reward is the county's setting reward.tip (500 unless set)\n"
             "unless --reward is given. --reject marks it rejected.\n"},
    {VERB("tip", "pay", "tip", NULL), .rule = rule_tip_pay, .summary = N_("record a reward paid"),
     .args = "TIP"},
    {VERB("site", "add", "site", "s"), .summary = N_("register a site"),
     .more =
         "A site: an isolation point, a fever clinic, a checkpoint, a closed venue, or a store\n"
         "that stock moves in and out of.\n"},
    {VERB("notice", "add", "notice", "n"), .pos = {"compound"}, .npos = 1, .rule = rule_dated,
     .summary = N_("record that a compound was told"), .args = "COMPOUND",
     .more = "Record that a compound's property management (or its residents) were told that\n"
             "someone there is under monitoring.\n"},
    {VERB("penalty", "add", "penalty", "pen"), .pos = {"person"}, .npos = 1, .rule = rule_penalty,
     .summary = N_("record a returnee a village missed"), .args = "PERSON",
     .more = "The amount, unless given, follows the county's rule in `hamlet report rewards`.\n"},
};

const size_t hm_verb_table_len = sizeof(hm_verb_table) / sizeof(hm_verb_table[0]);
