/*
 * register.c - the clerk's writes of many records at once (ledger.h, The clerk's day): a batch
 * of temperature checks, and a returnee's person, journey and isolation. Each record is run by
 * its verb (field.c, field_rules.c: the one copy of every rule) into one write, so a batch is one
 * change set, committed only when every record passed.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values of a request ---- */

typedef struct req_values {
	hm_verb_value v[HM_VERB_VALUES_MAX];
	size_t n;
} req_values;

/* Add field = text when text is given (not NULL). */
static void put(req_values *q, const char *field, const char *text)
{
	if (text && q->n < HM_VERB_VALUES_MAX)
		q->v[q->n++] = (hm_verb_value){field, text};
}

/* ---- a batch of checks ---- */

static void check_values(const hm_check_row *c, req_values *q)
{
	q->n = 0;
	put(q, "person", c->person ? c->person : "");
	put(q, "slot", c->slot);
	put(q, "temperature", c->temperature);
	put(q, "method", c->method);
	put(q, "symptoms", c->symptoms);
	put(q, "result", c->result);
	put(q, "worker", c->worker);
	put(q, "time", c->time);
	put(q, "episode", c->episode);
}

/* A new id for row i's check, into ids[i]: taken neither by an earlier row of the batch nor in
 * the store. Ids are the time, the writer and 16 random bits: a batch made within one
 * millisecond would otherwise give two rows one id, and the later row's fields would overwrite
 * the earlier's in the write. */
static hm_err new_check_id(hm_ledger *l, const char *prefix, char (*ids)[HM_ID_MAX + 1], size_t i)
{
	for (int tries = 0; tries < 64; tries++) {
		hm_record *r = NULL;
		bool taken = false;
		hm_err err;

		hm_ledger_new_id(l, prefix, ids[i], HM_ID_MAX + 1);
		for (size_t j = 0; j < i && !taken; j++)
			taken = !strcmp(ids[j], ids[i]);
		if (taken)
			continue;
		err = hm_node_get(l->node, "followup", ids[i], &r);
		hm_record_free(r);
		if (err == HM_ERR_NOT_FOUND)
			return HM_OK;
		if (err)
			return err;
	}
	return hm_node_fail(l->node, HM_ERR_EXISTS, "no free record id for a check");
}

/* Run every row into w; the reason of each bad row into errs. Returns the first bad row's
 * error (HM_OK when none), its index in *first and how many were bad in *bad. ids: n ids'
 * room. */
static hm_err stage_checks(hm_ledger *l, const hm_check_row *rows, size_t n, hm_write *w,
                           const verb_episodes *eps, char (*ids)[HM_ID_MAX + 1],
                           char (*errs)[HM_CHECK_WHY], size_t *first, size_t *bad)
{
	const hm_verb *v = hm_verb_find("followup", "add");
	hm_err first_err = HM_OK;
	req_values q;
	hm_verb_result res;

	*bad = 0;
	for (size_t i = 0; i < n; i++) {
		hm_verb_req req = {0};
		hm_err err;

		check_values(&rows[i], &q);
		req.values = q.v, req.nvalues = q.n, req.id = ids[i];
		errs[i][0] = '\0';
		if ((err = new_check_id(l, v->prefix, ids, i)))
			return err; /* the store failed: no row's fault */
		/* the values' types first, as `followup add` checks them, then its rule */
		err = hm_verb_check(v, &req, errs[i], HM_CHECK_WHY);
		if (!err && (err = verb_stage(l, v, &req, w, NULL, eps, &res, NULL)))
			snprintf(errs[i], HM_CHECK_WHY, "%s", hm_node_errmsg(l->node));
		if (!err)
			continue;
		if (!(*bad)++)
			first_err = err, *first = i;
	}
	return first_err;
}

/* Whether a row leaves the rule to find the episode running (then the episodes are read once). */
static bool any_without_episode(const hm_check_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!rows[i].episode || !rows[i].episode[0])
			return true;
	return false;
}

hm_err hm_followup_batch(hm_ledger *l, const hm_check_row *rows, size_t n,
                         char (*errs)[HM_CHECK_WHY], hm_changeset_info *info)
{
	hm_changeset_info ignored;
	verb_episodes eps = {0};
	char(*ids)[HM_ID_MAX + 1] = NULL;
	hm_write *w = NULL;
	size_t first = 0, bad = 0;
	char why[HM_CHECK_WHY];
	bool loaded;
	hm_err err;

	for (size_t i = 0; i < n; i++)
		errs[i][0] = '\0';
	if (n == 0)
		return hm_node_fail(l->node, HM_ERR_INVALID, "no checks to record");
	if (n > HM_CHECK_BATCH_MAX)
		return hm_node_fail(l->node, HM_ERR_TOO_BIG,
		                    "%zu checks are more than one write takes (%d): send them in "
		                    "parts",
		                    n, HM_CHECK_BATCH_MAX);
	if ((loaded = any_without_episode(rows, n)) && (err = verb_episodes_load(l, &eps)))
		goto out;
	if ((err = hm_write_begin(l->node, &w))) {
		err = hm_node_fail(l->node, err, "out of memory");
		goto out;
	}
	if (!(ids = calloc(n, sizeof(*ids)))) {
		hm_write_abort(w);
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = stage_checks(l, rows, n, w, loaded ? &eps : NULL, ids, errs, &first, &bad))) {
		hm_write_abort(w);
		if (!bad) /* the store failed, no row */
			goto out;
		snprintf(why, sizeof(why), "%s", errs[first]);
		err = hm_node_fail(l->node, err,
		                   "row %zu: %s (%zu of %zu rows refused; nothing written)",
		                   first + 1, why, bad, n);
		goto out;
	}
	err = hm_write_commit(w, info ? info : &ignored); /* w consumed */
out:
	verb_episodes_release(&eps);
	free(ids);
	return err;
}

/* ---- a returnee ---- */

typedef struct returnee_reqs {
	req_values person, ret, episode;
	hm_verb_req preq, rreq, ereq;
} returnee_reqs;

static void returnee_values(const hm_returnee *r, const char *village, returnee_reqs *q)
{
	put(&q->person, "name", r->name ? r->name : "");
	put(&q->person, "category", "returnee");
	put(&q->person, "village", village);
	put(&q->person, "id_number", r->id_number);
	put(&q->person, "phone", r->phone);
	put(&q->person, "sex", r->sex);
	put(&q->person, "birth_year", r->birth_year);
	put(&q->person, "address", r->address);
	put(&q->person, "compound", r->compound);
	put(&q->person, "household", r->household);
	put(&q->person, "travel_origin", r->from_area);
	put(&q->person, "arrival_date", r->arrival_date);
	put(&q->ret, "from_area", r->from_area);
	put(&q->ret, "departure_date", r->departure_date);
	put(&q->ret, "arrival_date", r->arrival_date);
	put(&q->ret, "transport", r->transport);
	put(&q->ret, "vehicle", r->vehicle);
	put(&q->ret, "route", r->route);
	put(&q->episode, "kind", r->kind ? r->kind : "home");
	put(&q->episode, "reason", "returnee");
	put(&q->episode, "start", r->start);
	put(&q->episode, "worker", r->worker);
	q->preq = (hm_verb_req){.values = q->person.v, .nvalues = q->person.n};
	q->ereq.days = r->days ? r->days : HM_RETURNEE_DAYS;
}

static void note_add(hm_register_result *out, const hm_verb_result *res)
{
	size_t k = strlen(out->note);
	if (res->note[0])
		snprintf(out->note + k, sizeof(out->note) - k, "%s%s", k ? "\n" : "", res->note);
}

/* The person staged, then their return and episode naming them. runs[0..3) kept for the
 * later stages' rules; the caller frees them. */
static hm_err stage_returnee(hm_ledger *l, returnee_reqs *q, hm_write *w, bool refuse_dup,
                             hm_register_result *out, struct hm_verb_run *runs[3])
{
	hm_verb_result res;
	hm_err err;

	if ((err = verb_stage(l, hm_verb_find("person", "add"), &q->preq, w, NULL, NULL, &res,
	                      &runs[0])))
		return err;
	snprintf(out->person, sizeof(out->person), "%s", res.id);
	snprintf(out->dup, sizeof(out->dup), "%s", res.same_person);
	note_add(out, &res);
	if (refuse_dup && out->dup[0])
		return hm_node_fail(l->node, HM_ERR_EXISTS,
		                    "%s has the same ID number: the same person? Nothing was "
		                    "written (see `hamlet person show %s`)",
		                    out->dup, out->dup);
	put(&q->ret, "person", out->person);
	put(&q->episode, "person", out->person);
	q->rreq.values = q->ret.v, q->rreq.nvalues = q->ret.n;
	q->ereq.values = q->episode.v, q->ereq.nvalues = q->episode.n;
	if ((err = verb_stage(l, hm_verb_find("return", "add"), &q->rreq, w, runs[0], NULL, &res,
	                      &runs[1])))
		return err;
	snprintf(out->ret, sizeof(out->ret), "%s", res.id);
	note_add(out, &res);
	if ((err = verb_stage(l, hm_verb_find("episode", "start"), &q->ereq, w, runs[1], NULL, &res,
	                      &runs[2])))
		return err;
	snprintf(out->episode, sizeof(out->episode), "%s", res.id);
	note_add(out, &res);
	return HM_OK;
}

hm_err hm_register_returnee(hm_ledger *l, const hm_returnee *r, bool refuse_dup,
                            hm_register_result *out)
{
	returnee_reqs *q = calloc(1, sizeof(*q));
	struct hm_verb_run *runs[3] = {NULL, NULL, NULL};
	hm_node_info self;
	hm_write *w = NULL;
	char dup[HM_ID_MAX + 1];
	hm_err err;

	memset(out, 0, sizeof(*out));
	if (!q)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	hm_node_ident(l->node, &self);
	returnee_values(r, r->village ? r->village : self.region, q);
	if ((err = hm_write_begin(l->node, &w))) {
		err = hm_node_fail(l->node, err, "out of memory");
		goto out;
	}
	err = stage_returnee(l, q, w, refuse_dup, out, runs);
	if (err)
		hm_write_abort(w);
	else
		err = hm_write_commit(w, &out->info); /* w consumed */
	if (err) { /* nothing written: only the duplicate is worth saying */
		snprintf(dup, sizeof(dup), "%s", out->dup);
		memset(out, 0, sizeof(*out));
		snprintf(out->dup, sizeof(out->dup), "%s", dup);
	}
out:
	for (int i = 0; i < 3; i++)
		free(runs[i]);
	free(q);
	return err;
}
