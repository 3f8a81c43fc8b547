/*
 * settings.c - the county's settings: which there are, their defaults, what a good value is,
 * and setting them (node/ledger.c keeps them as records, and reads clock.max_drift itself for
 * its clock rule).
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hm_setting_def settings[] = {
    {"reward.tip", "500", "reward per verified tip-off"},
    {"penalty.before", "2000", "per missed returnee dated before the cutoff"},
    {"penalty.after", "5000", "per missed returnee dated on or after the cutoff"},
    {"penalty.cutoff", "1970-01-01", "the cutoff date"},
    {"fever.threshold", "37.3", "the temperature (degrees C) that raises a fever alert"},
    {HM_SETTING_MAX_DRIFT, "1440",
     "minutes a change set's clock may be ahead of a receiver's before it waits in quarantine "
     "(1 to 10080)"},
};

const hm_setting_def *hm_ledger_settings(size_t *count)
{
	*count = sizeof(settings) / sizeof(settings[0]);
	return settings;
}

hm_err hm_ledger_setting_check(const char *name, const char *value, char *why, size_t cap)
{
	size_t k, n = sizeof(settings) / sizeof(settings[0]);
	uint64_t ms;
	double d;
	char *end;
	bool money;

	for (k = 0; k < n && strcmp(name, settings[k].name); k++)
		;
	if (k == n) {
		snprintf(why, cap, _("no setting '%s' (see `hamlet setting --help`)"), name);
		return HM_ERR_SCHEMA;
	}
	if (!strcmp(name, HM_SETTING_MAX_DRIFT)) {
		if (!hm_drift_parse(value, strlen(value), &ms))
			return HM_OK;
		snprintf(why, cap, _("%s must be a whole number of minutes from 1 to %u, not '%s'"),
		         name, HM_DRIFT_MAX_MINUTES, value);
		return HM_ERR_INVALID;
	}
	if (!strcmp(name, "penalty.cutoff")) {
		if (hm_date_valid(value))
			return HM_OK;
		snprintf(why, cap, "%s", _("penalty.cutoff must be a date YYYY-MM-DD"));
		return HM_ERR_INVALID;
	}
	money = strcmp(name, "fever.threshold") != 0;
	d = money ? (double)strtoll(value, &end, 10) : strtod(value, &end);
	if (!*end && end != value && d >= 0 && (money || (d >= 35 && d <= 42)))
		return HM_OK;
	snprintf(why, cap, _("%s must be %s, not '%s'"), name,
	         money ? _("a whole amount of zero or more") : _("a temperature between 35 and 42"),
	         value);
	return HM_ERR_INVALID;
}

hm_err hm_ledger_setting_set(hm_ledger *l, const char *name, const char *value,
                             hm_changeset_info *info)
{
	char why[512];
	hm_changeset_info ignored;
	hm_err err = hm_ledger_setting_check(name, value, why, sizeof(why));

	if (err)
		return hm_node_fail(l->node, err, "%s", why);
	return hm_node_set_setting(l->node, name, value, info ? info : &ignored);
}

typedef struct list_ctx {
	hm_setting_cb cb;
	void *arg;
	size_t count;
} list_ctx;

static int list_one(void *arg, const hm_record *r)
{
	list_ctx *s = arg;
	char v[HM_STR_MAX + 1];

	hm_rec_text(r, "value", v, sizeof(v));
	s->count++;
	return s->cb(s->arg, r->id, v);
}

hm_err hm_ledger_setting_list(hm_ledger *l, hm_setting_cb cb, void *arg, size_t *count)
{
	list_ctx s = {cb, arg, 0};
	hm_err err = hm_node_list(l->node, "_setting", list_one, &s);
	if (count)
		*count = s.count;
	return err;
}

/* ---- the settings as the front ends show them ---- */

typedef struct settings_out {
	FILE *f;   /* text, or NULL */
	json_t *o; /* JSON, or NULL */
	bool nomem;
} settings_out;

static int setting_one(void *arg, const char *name, const char *value)
{
	settings_out *s = arg;

	if (s->o) {
		if (json_object_set_new(s->o, name, hm_json_cstr(value)))
			s->nomem = true;
		return s->nomem ? -1 : 0;
	}
	hm_text_pad(s->f, name, 20);
	fputc(' ', s->f);
	hm_text_cstr(s->f, value);
	fputc('\n', s->f);
	return 0;
}

hm_err hm_ledger_settings_json(hm_ledger *l, json_t **out)
{
	settings_out s = {NULL, json_object(), false};
	hm_err err = s.o ? hm_ledger_setting_list(l, setting_one, &s, NULL) : HM_OK;

	return lj_give(l->node, err, s.nomem, s.o, out);
}

hm_err hm_ledger_settings_write(hm_ledger *l, FILE *f)
{
	settings_out s = {f, NULL, false};
	size_t count = 0;
	hm_err err = hm_ledger_setting_list(l, setting_one, &s, &count);

	if (!err && !count)
		fputs("(no setting changed: every default applies)\n", f);
	return err;
}
