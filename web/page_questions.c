/*
 * page_questions.c - /questions: what the township officer and the county auditor answer.
 * Open identity questions (a name or ID number two stations wrote at once:
 * hm_person_questions), persons registered twice (the same keyed ID hash: hm_person_dups) with
 * "merge" (POST /questions/merge: hm_person_merge, as `hamlet person merge KEEP DROP`) and "keep
 * apart" (POST /questions/apart: hm_person_apart, as `hamlet person apart KEEP DROP`), and the
 * conflict log (hm_node_conflicts, as `hamlet conflicts`). Personal values are masked here
 * (hm_ledger_mask); the person's page reveals.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#define CONFLICTS_SHOWN 200 /* rows of the conflict log on the page; the rest counted */

/* A value as text (masked when the schema marks its field personal) into buf. */
static const char *value_text(const char *coll, const char *field, const hm_value *v, char *buf,
                              size_t cap)
{
	json_t *j = hm_json_value_of(coll, field, v, true);
	char *s = NULL;

	if (json_is_string(j))
		snprintf(buf, cap, "%s", json_string_value(j));
	else if (j && (s = hm_json_dumps(j, JSON_ENCODE_ANY)))
		snprintf(buf, cap, "%s", s);
	else
		snprintf(buf, cap, "-");
	free(s);
	json_decref(j);
	return buf;
}

static void person_link(web_req *r, const char *id)
{
	web_raw(r, "<a href=\"/person/");
	web_esc_query(r, id);
	web_raw(r, "\"><code>");
	web_esc(r, id);
	web_raw(r, "</code></a>");
}

/* The field's name in the page's language: its Chinese header where the ledger has one. */
static void field_name(web_req *r, const char *coll, const char *field)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	const char *zh = cd && !r->en ? hm_ledger_header_zh(cd, field) : NULL;

	web_esc(r, zh ? zh : field);
}

static void table_head(web_req *r, const char *const *cols, size_t n)
{
	web_raw(r, "<table><thead><tr>");
	web_th(r, cols, n);
	web_raw(r, "</tr></thead><tbody>\n");
}

static void none_row(web_req *r, size_t cols, const char *msgid)
{
	web_rawf(r, "<tr><td colspan=\"%zu\" class=\"none\">", cols);
	web_esc(r, web_t(r, msgid));
	web_raw(r, "</td></tr>\n");
}

/* ---- identity questions ---- */

static int question_row(void *arg, const hm_identity_question *q)
{
	web_req *r = arg;
	char value[256], from[2 * HM_NODE_ID_BYTES + 1];

	hm_node_id_hex(&q->from, from);
	web_raw(r, "<tr><td>");
	person_link(r, q->id);
	web_raw(r, "</td><td>");
	field_name(r, N_("person"), q->field);
	web_raw(r, "</td><td>");
	web_esc(r, value_text(N_("person"), q->field, q->other, value, sizeof(value)));
	web_raw(r, "</td><td><code>");
	web_esc(r, from);
	web_raw(r, "</code></td></tr>\n");
	return 0;
}

static hm_err questions_section(web_req *r)
{
	static const char *const cols[] = {"Person", N_("Field"), N_("The other value (masked)"),
	                                   N_("Written by station")};
	size_t n = 0;
	hm_err err;

	web_raw(r, "<section><h2>");
	web_esc(r, web_t(r, "Identity questions"));
	web_raw(r, "</h2><p>");
	web_esc(r, web_t(r, "Two stations wrote a different name or ID number for the same person "
	                    "at once. Open the person and write the right value: the question is "
	                    "then answered."));
	web_raw(r, "</p>");
	table_head(r, cols, 4);
	if ((err = hm_person_questions(&r->led, NULL, question_row, r, &n)))
		return err;
	if (!n)
		none_row(r, 4, N_("No open question."));
	web_raw(r, "</tbody></table></section>\n");
	return HM_OK;
}

/* ---- duplicates ---- */

/* A person's id (a link), masked name and village. */
static void dup_person(web_req *r, const hm_person_key *k)
{
	char name[128], masked[256];
	hm_record *p = NULL;

	person_link(r, k->id);
	if (!hm_node_get(r->led.node, N_("person"), k->id, &p) &&
	    hm_rec_text(p, "name", name, sizeof(name))) {
		hm_ledger_mask(name, strlen(name), masked, sizeof(masked));
		web_raw(r, " ");
		web_esc(r, masked);
	}
	hm_record_free(p);
	web_raw(r, "<br><span class=\"muted\">");
	web_esc(r, k->village);
	web_raw(r, "</span>");
}

static void pair_button(web_req *r, const char *action, const char *keep, const char *drop,
                        const char *msgid, bool plain)
{
	web_form_begin(r, action);
	web_raw(r, "<input type=\"hidden\" name=\"keep\" value=\"");
	web_esc(r, keep);
	web_raw(r, "\"><input type=\"hidden\" name=\"drop\" value=\"");
	web_esc(r, drop);
	web_raw(r, plain ? "\"><button type=\"submit\" class=\"plain\">"
	                 : "\"><button type=\"submit\">");
	web_esc(r, web_t(r, msgid));
	web_raw(r, "</button>");
	web_form_end(r);
}

typedef struct dups_ctx {
	web_req *r;
	size_t shown;
} dups_ctx;

/* Each group: the first is the one to keep, each other one a pair to merge into it. */
static int dup_group(void *arg, const hm_person_key *m, size_t n)
{
	dups_ctx *d = arg;
	web_req *r = d->r;

	for (size_t k = 1; k < n; k++) {
		d->shown++;
		web_raw(r, "<tr><td>");
		dup_person(r, &m[0]);
		web_raw(r, "</td><td>");
		dup_person(r, &m[k]);
		web_raw(r, "</td><td class=\"noprint\">");
		pair_button(r, "/questions/merge", m[0].id, m[k].id, N_("Merge"), false);
		pair_button(r, "/questions/apart", m[0].id, m[k].id, N_("Keep apart"), true);
		web_raw(r, "</td></tr>\n");
	}
	return 0;
}

static hm_err dups_section(web_req *r)
{
	static const char *const cols[] = {N_("Keep"), N_("Merge into it"), ""};
	dups_ctx d = {r, 0};
	hm_err err;

	web_raw(r, "<section><h2>");
	web_esc(r, web_t(r, "Possible duplicates"));
	web_raw(r, "</h2><p>");
	web_esc(r, web_t(r, "Persons registered more than once with the same ID number. Merge "
	                    "records that they are one person; nothing is deleted, and a merge can "
	                    "be undone (hamlet person unmerge)."));
	web_raw(r, "</p><p class=\"muted\">");
	web_esc(r, web_t(r, "Keep apart records that they are two persons: the pair is no longer "
	                    "proposed, here or at any station that takes the record (hamlet person "
	                    "apart; a merge of them later merges them after all)."));
	web_raw(r, "</p>");
	table_head(r, cols, 3);
	if ((err = hm_person_dups(&r->led, dup_group, &d, NULL)))
		return err;
	if (!d.shown)
		none_row(r, 3, N_("No person is registered twice."));
	web_raw(r, "</tbody></table></section>\n");
	return HM_OK;
}

/* ---- conflicts ---- */

typedef struct conflicts_ctx {
	web_req *r;
	size_t n;
} conflicts_ctx;

static int conflict_row(void *arg, const hm_conflict *c)
{
	conflicts_ctx *x = arg;
	web_req *r = x->r;
	char value[256];
	json_t *when;

	if (x->n++ >= CONFLICTS_SHOWN)
		return 0; /* counted only */
	web_raw(r, "<tr><td>");
	web_esc(r, c->collection);
	web_raw(r, "</td><td>");
	if (!strcmp(c->collection, N_("person")))
		person_link(r, c->id);
	else
		web_esc(r, c->id);
	web_raw(r, "</td><td>");
	field_name(r, c->collection, c->field);
	web_raw(r, "</td><td>");
	if (c->by_delete)
		web_esc(r, web_t(r, "(lost to a delete)"));
	else
		web_esc(r, value_text(c->collection, c->field, &c->loser, value, sizeof(value)));
	web_raw(r, "</td><td>");
	when = hm_json_hlc(c->winner_stamp.hlc);
	web_esc(r, json_is_string(when) ? json_string_value(when) : "-");
	json_decref(when);
	web_raw(r, "</td></tr>\n");
	return 0;
}

static hm_err conflicts_section(web_req *r)
{
	static const char *const cols[] = {N_("Collection"), N_("Record"), N_("Field"),
	                                   N_("Value that lost"), N_("Winner written at")};
	conflicts_ctx x = {r, 0};
	hm_err err;

	web_raw(r, "<section><h2>");
	web_esc(r, web_t(r, "Conflicts"));
	web_raw(r, "</h2><p>");
	web_esc(r, web_t(r, "Values that lost to a later write of another station (the conflict "
	                    "log). Nothing is lost: check that the value kept is the right one."));
	web_raw(r, "</p>");
	table_head(r, cols, 5);
	if ((err = hm_node_conflicts(r->led.node, NULL, NULL, conflict_row, &x)))
		return err;
	if (!x.n)
		none_row(r, 5, N_("No conflicts."));
	web_raw(r, "</tbody></table>");
	if (x.n > CONFLICTS_SHOWN) {
		web_rawf(r, "<p class=\"muted\">%zu ", x.n - CONFLICTS_SHOWN);
		web_esc(r, web_t(r, "more: see hamlet conflicts."));
		web_raw(r, "</p>");
	}
	web_raw(r, "</section>\n");
	return HM_OK;
}

/* ---- the page and its two forms ---- */

/* The page, with the outcome of what was just done on top (kind "ok" or "error"; may be NULL). */
static hm_err questions_page(web_req *r, const char *kind, const char *outcome)
{
	hm_err err;

	web_page_begin(r, "Questions to answer");
	if (outcome)
		web_notice(r, kind, outcome);
	if ((err = questions_section(r)) || (err = dups_section(r)) || (err = conflicts_section(r)))
		return err;
	web_page_end(r);
	return HM_OK;
}

/* The name of the person id names, or the id. */
static void name_of(web_req *r, const char *id, char *out, size_t cap)
{
	hm_record *p = NULL;

	if (hm_node_get(r->led.node, N_("person"), id, &p) || !hm_rec_text(p, "name", out, cap))
		snprintf(out, cap, "%s", id);
	hm_record_free(p);
}

hm_err web_page_questions(web_req *r)
{
	const char *done = web_arg(r, "done"), *keep = web_arg(r, "keep"),
	           *drop = web_arg(r, "drop"), *why;
	char a[HM_STR_MAX + 1], b[HM_STR_MAX + 1], msg[3 * HM_STR_MAX];

	/* the outcome of a merge or a keep apart, carried by its 303: two ids, named here by the
	 * persons' names */
	if (!done || (strcmp(done, "merged") && strcmp(done, "apart")) || !keep || !drop ||
	    hm_id_check(keep, &why) || hm_id_check(drop, &why))
		return questions_page(r, NULL, NULL);
	name_of(r, drop, a, sizeof(a));
	name_of(r, keep, b, sizeof(b));
	if (!strcmp(done, "apart"))
		snprintf(msg, sizeof(msg), "%s: %s, %s", web_t(r, "Kept apart (two persons)"), b,
		         a);
	else
		snprintf(msg, sizeof(msg), "%s: %s → %s", web_t(r, "Merged (merged away → kept)"),
		         a, b);
	return questions_page(r, "ok", msg);
}

/* The pair of the form, both record ids; false when the page says what is wrong. */
static bool pair_fields(web_req *r, const char **keep, const char **drop, hm_err *err)
{
	const char *why;

	*keep = web_field_get(r, "keep"), *drop = web_field_get(r, "drop");
	if (*keep && *drop && !hm_id_check(*keep, &why) && !hm_id_check(*drop, &why))
		return true;
	web_status(r, 400);
	*err = questions_page(r, "error", web_t(r, "Choose a pair from the list."));
	return false;
}

/* Merge the form's pair, or keep it apart: written, said in the log, then a 303 back to
 * /questions (a reload writes nothing again) that says what was done. */
static hm_err pair_answer(web_req *r, bool apart)
{
	const char *keep, *drop;
	char reason[HM_USER_NAME_MAX + 64], msg[600], to[6 * HM_ID_MAX + 48];
	char kq[3 * HM_ID_MAX + 1], dq[3 * HM_ID_MAX + 1];
	hm_merge_result res;
	hm_err err = HM_OK;

	if (!pair_fields(r, &keep, &drop, &err))
		return err;
	snprintf(reason, sizeof(reason), "%s in the web interface by %s",
	         apart ? "kept apart" : "merged", r->user->name);
	err = apart ? hm_person_apart(&r->led, keep, drop, reason, &res)
	            : hm_person_merge(&r->led, keep, drop, reason, false, &res);
	if (err) {
		if (err != HM_ERR_INVALID && err != HM_ERR_NOT_FOUND)
			return err;
		snprintf(msg, sizeof(msg), "%s: %s",
		         apart ? web_t(r, "Not kept apart") : web_t(r, "Not merged"),
		         hm_node_errmsg(r->led.node));
		web_status(r, err == HM_ERR_INVALID ? 409 : 404);
		return questions_page(r, "error", msg);
	}
	web_log(r, "info", "%s %s %s %s %s (%s)", r->user->name, apart ? "kept" : "merged", drop,
	        apart ? "apart from" : "into", keep, res.id);
	if (!web_query_encode(keep, kq, sizeof(kq)) || !web_query_encode(drop, dq, sizeof(dq)))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "no room for the pair's ids");
	snprintf(to, sizeof(to), "/questions?done=%s&keep=%s&drop=%s", apart ? "apart" : "merged",
	         kq, dq);
	web_redirect(r, to);
	return HM_OK;
}

hm_err web_page_questions_merge(web_req *r)
{
	return pair_answer(r, false);
}

hm_err web_page_questions_apart(web_req *r)
{
	return pair_answer(r, true);
}
