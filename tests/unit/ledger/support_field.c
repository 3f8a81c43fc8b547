/* support_field.c - see support_field.h. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scratch.h"

static uint64_t field_clock(void *arg)
{
	return *(uint64_t *)arg;
}

void field_env_open(field_env *e, const char *name, hm_role role, const char *region)
{
	hm_node_opts opts = {0};
	hm_err err;

	memset(e, 0, sizeof(*e));
	setenv("TZ", "UTC", 1); /* "today" is the station's day: make it the same everywhere */
	tzset();
	e->now_ms = FIELD_T0_MS;
	opts.clock = field_clock;
	opts.clock_ctx = &e->now_ms;
	test_scratch_path(e->dir, sizeof(e->dir), "ledger", name);
	if ((err = hm_node_create(e->dir, role, region, name, &opts, NULL)))
		fail_msg("creating node %s: %s", name, hm_strerror(err));
	if ((err = hm_node_open(e->dir, &opts, &e->n)))
		fail_msg("opening node %s: %s", name, hm_strerror(err));
	hm_ledger_init(&e->l, e->n);
	e->l.clock = field_clock;
	e->l.clock_arg = &e->now_ms;
}

void field_env_close(field_env *e)
{
	hm_node_close(e->n);
	e->n = NULL;
}

static hm_err run_va(field_env *e, const char *cmd, const char *sub, const hm_verb_req *base,
                     hm_verb_result *out, va_list ap)
{
	const hm_verb *v = hm_verb_find(cmd, sub);
	hm_verb_value vals[HM_VERB_VALUES_MAX];
	char texts[HM_VERB_VALUES_MAX][256];
	hm_verb_result ignored;
	hm_verb_req req = *base;
	const char *kv;
	size_t n = 0;

	assert_non_null(v);
	while ((kv = va_arg(ap, const char *)) && n < HM_VERB_VALUES_MAX) {
		char *eq;
		snprintf(texts[n], sizeof(texts[n]), "%s", kv);
		eq = strchr(texts[n], '=');
		assert_non_null(eq);
		*eq = '\0';
		vals[n] = (hm_verb_value){texts[n], eq + 1};
		n++;
	}
	req.values = vals, req.nvalues = n;
	return hm_verb_run(&e->l, v, &req, out ? out : &ignored);
}

hm_err field_run(field_env *e, const char *cmd, const char *sub, const char *id,
                 hm_verb_result *out, ...)
{
	hm_verb_req base = {.id = id};
	va_list ap;
	hm_err err;

	va_start(ap, out);
	err = run_va(e, cmd, sub, &base, out, ap);
	va_end(ap);
	return err;
}

hm_err field_run_opts(field_env *e, const char *cmd, const char *sub, const hm_verb_req *opts,
                      hm_verb_result *out, ...)
{
	va_list ap;
	hm_err err;

	va_start(ap, out);
	err = run_va(e, cmd, sub, opts, out, ap);
	va_end(ap);
	return err;
}

const char *field_get(field_env *e, const char *coll, const char *id, const char *field, char *buf,
                      size_t cap)
{
	hm_record *r;
	hm_err err = hm_node_get(e->n, coll, id, &r);
	const hm_field *f;

	if (err)
		fail_msg("%s/%s: %s", coll, id, hm_strerror(err));
	buf[0] = '\0';
	if ((f = hm_record_field(r, field))) {
		if (f->value.kind == HM_V_STR)
			snprintf(buf, cap, "%.*s", (int)f->value.u.s.n, f->value.u.s.p);
		else if (f->value.kind == HM_V_INT)
			snprintf(buf, cap, "%lld", (long long)f->value.u.i);
		else if (f->value.kind == HM_V_FLOAT)
			snprintf(buf, cap, "%.1f", f->value.u.f);
	}
	hm_record_free(r);
	return buf;
}

void field_assert_msg(field_env *e, const char *text)
{
	const char *msg = hm_node_errmsg(e->n);
	if (!strstr(msg, text))
		fail_msg("message '%s' lacks '%s'", msg, text);
}
