/*
 * page_tips.c - /tips: a tip-off, its verification and its reward (the ledger's verbs `tip add`,
 * `tip verify`, `tip pay` as forms, form.c; the reward of a verified tip is the county's
 * setting unless given), with the tips this station holds; /notices: a notice to a compound
 * (`notice add`), with the notices given.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#define TIPS_MAX 200
#define ROWS_MAX 500

typedef struct tips_page {
	web_choice open[TIPS_MAX];           /* tips to verify: state new */
	web_choice verified[TIPS_MAX];       /* tips whose reward is not paid yet */
	web_choice persons[WEB_PERSONS_MAX]; /* suggested as the person a tip names */
	size_t nopen, nverified, npersons;
	size_t open_all, verified_all; /* of which the first TIPS_MAX are choices */
	web_form forms[3];
} tips_page;

static void tip_choice(web_choice *c, const hm_record *rec)
{
	char subject[120], received[16];

	hm_rec_text(rec, "subject", subject, sizeof(subject));
	hm_rec_text(rec, "received", received, sizeof(received));
	snprintf(c->value, sizeof(c->value), "%s", rec->id);
	snprintf(c->label, sizeof(c->label), "%s %s %s", rec->id, received, subject);
}

static int tip_one(void *arg, const hm_record *rec)
{
	tips_page *p = arg;
	char state[32], paid[16];

	hm_rec_text(rec, "state", state, sizeof(state));
	if ((!state[0] || !strcmp(state, "new")) && p->open_all++ < TIPS_MAX)
		tip_choice(&p->open[p->nopen++], rec);
	if (!strcmp(state, "verified") && !hm_rec_text(rec, "paid", paid, sizeof(paid)) &&
	    p->verified_all++ < TIPS_MAX)
		tip_choice(&p->verified[p->nverified++], rec);
	return 0;
}

static const struct {
	const char *sub, *title, *button;
	web_ff fields[WEB_FORM_FIELDS];
} tip_defs[] = {
    {"add",
     N_("A tip received"),
     N_("Save the tip"),
     {{"subject", WEB_FF_REQUIRED | WEB_FF_TEXTAREA}, {N_("person"), 0}, {"received", 0}}},
    {"verify",
     N_("Verify a tip"),
     N_("Save the verification"),
     {{"id", 0}, {"reward", 0}, {"verified", 0}, {"reject", 0}}},
    {"pay", N_("Pay a tip's reward"), N_("Save the payment"), {{"id", 0}, {"paid", 0}}},
};

static hm_err tips_setup(web_req *r, tips_page **out)
{
	tips_page *p = calloc(1, sizeof(*p));
	hm_err err;

	if (!(*out = p))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if ((err = hm_node_list(r->led.node, "tip", tip_one, p)) ||
	    (err = web_persons(r, NULL, p->persons, &p->npersons)))
		return err;
	for (size_t i = 0; i < 3; i++) {
		web_form *f = &p->forms[i];
		f->v = hm_verb_find("tip", tip_defs[i].sub);
		f->action = "/tips";
		f->title = tip_defs[i].title;
		f->button = tip_defs[i].button;
		memcpy(f->fields, tip_defs[i].fields, sizeof(f->fields));
	}
	/* the tip to verify or pay is picked; the ledger checks that it exists (and, to pay, that
	 * it was verified). More than a list can hold: typed, the first TIPS_MAX suggested. */
	p->forms[0].picks[0] = (web_pick){N_("person"), p->persons, p->npersons, NULL, true};
	p->forms[1].picks[0] = (web_pick){"id", p->open, p->nopen, NULL, p->open_all > TIPS_MAX};
	p->forms[2].picks[0] =
	    (web_pick){"id", p->verified, p->nverified, NULL, p->verified_all > TIPS_MAX};
	return HM_OK;
}

static void forms_release(web_form *forms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		web_form_release(&forms[i]);
}

static hm_err tips_write(web_req *r, tips_page *p)
{
	static const char *const cols[] = {"id",    "received", "subject", N_("person"),
	                                   "state", "reward",   "paid"};
	hm_err err;

	web_page_begin(r, "Tips");
	for (size_t i = 0; i < 3; i++)
		web_form_write(r, &p->forms[i]);
	web_raw(r, "<h2>");
	web_esc(r, web_t(r, "Tips of this station"));
	web_raw(r, "</h2>\n");
	if ((err = web_records_table(r, "tip", cols, sizeof(cols) / sizeof(cols[0]), ROWS_MAX,
	                             !web_may(r, HM_RIGHT_REVEAL))))
		return err;
	web_page_end(r);
	return HM_OK;
}

/* The form of forms[0..n) that r posted, run; NULL (and a 400 page) when none is. */
static web_form *post_one(web_req *r, web_form *forms, size_t n, hm_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!web_form_is(r, &forms[i]))
			continue;
		if (!(*err = web_form_post(r, &forms[i])) && forms[i].refused)
			web_status(r, 400);
		return &forms[i];
	}
	web_error(r, 400, "This form is not one of this page's.", NULL);
	return NULL;
}

hm_err web_page_tips(web_req *r)
{
	tips_page *p = NULL;
	hm_err err;

	if (!(err = tips_setup(r, &p))) {
		web_form_outcome(r, p->forms, 3);
		err = tips_write(r, p);
	}
	if (p)
		forms_release(p->forms, 3);
	free(p);
	return err;
}

hm_err web_page_tips_post(web_req *r)
{
	tips_page *p = NULL;
	web_form *f;
	hm_err err;

	if (!(err = tips_setup(r, &p)) && (f = post_one(r, p->forms, 3, &err)) && !err &&
	    !web_form_done(r, f, "/tips")) {
		/* the tips to verify and to pay, as what was just written left them */
		p->nopen = p->nverified = p->open_all = p->verified_all = 0;
		if (!(err = hm_node_list(r->led.node, "tip", tip_one, p))) {
			p->forms[1].picks[0].n = p->nopen;
			p->forms[2].picks[0].n = p->nverified;
			p->forms[1].picks[0].suggest = p->open_all > TIPS_MAX;
			p->forms[2].picks[0].suggest = p->verified_all > TIPS_MAX;
			err = tips_write(r, p);
		}
	}
	if (p)
		forms_release(p->forms, 3);
	free(p);
	return err;
}

/* ---- /notices ---- */

#define COMPOUNDS_MAX 200

typedef struct notice_page {
	web_form f;
	web_choice compounds[COMPOUNDS_MAX]; /* where persons live, suggested */
} notice_page;

static void notice_form(web_form *f)
{
	static const web_ff fields[] = {{"compound", 0},
	                                {"audience", WEB_FF_REQUIRED},
	                                {N_("date"), 0},
	                                {"worker", 0},
	                                {NULL, 0}};

	memset(f, 0, sizeof(*f));
	f->v = hm_verb_find("notice", "add");
	f->action = "/notices";
	f->title = N_("A notice to a compound");
	f->button = N_("Save the notice");
	memcpy(f->fields, fields, sizeof(fields));
}

static hm_err notices_write(web_req *r, web_form *f)
{
	static const char *const cols[] = {N_("date"), "compound", "audience", "worker", "id"};
	hm_err err;

	web_page_begin(r, "Notices");
	web_form_write(r, f);
	web_raw(r, "<h2>");
	web_esc(r, web_t(r, "Notices given"));
	web_raw(r, "</h2>\n");
	if ((err = web_records_table(r, "notice", cols, sizeof(cols) / sizeof(cols[0]), ROWS_MAX,
	                             false)))
		return err;
	web_page_end(r);
	return HM_OK;
}

/* The notice's form, the compounds the node's persons live in suggested. */
static hm_err notice_setup(web_req *r, notice_page **out)
{
	notice_page *p = calloc(1, sizeof(*p));

	if (!(*out = p))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	notice_form(&p->f);
	p->f.picks[0] = (web_pick){"compound", p->compounds, 0, NULL, true};
	return web_distinct(r, N_("person"), "compound", p->compounds, COMPOUNDS_MAX,
	                    &p->f.picks[0].n);
}

static void notice_release(notice_page *p)
{
	if (p)
		web_form_release(&p->f);
	free(p);
}

hm_err web_page_notices(web_req *r)
{
	notice_page *p = NULL;
	hm_err err;

	if (!(err = notice_setup(r, &p))) {
		web_form_outcome(r, &p->f, 1);
		err = notices_write(r, &p->f);
	}
	notice_release(p);
	return err;
}

hm_err web_page_notices_post(web_req *r)
{
	notice_page *p = NULL;
	hm_err err;

	if (!(err = notice_setup(r, &p)) && post_one(r, &p->f, 1, &err) && !err &&
	    !web_form_done(r, &p->f, "/notices"))
		err = notices_write(r, &p->f);
	notice_release(p);
	return err;
}
