/*
 * core.c - what every part of the ledger shares: its clock and dates, new record ids, fields of
 * a record, the county's settings with their defaults, and the access log that records each
 * reveal and export of personal data.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void hm_ledger_init(hm_ledger *l, hm_node *node)
{
	memset(l, 0, sizeof(*l));
	l->node = node;
}

uint64_t hm_ledger_now_ms(const hm_ledger *l)
{
	struct timespec ts;
	if (l->clock)
		return l->clock(l->clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + l->clock_offset_ms);
}

void hm_ledger_today(const hm_ledger *l, char out[11])
{
	time_t t = (time_t)(hm_ledger_now_ms(l) / 1000);
	struct tm tm;
	localtime_r(&t, &tm); /* the station's day, in its time zone (TZ) */
	strftime(out, 11, "%Y-%m-%d", &tm);
}

const char *hm_followup_slot(const char *t)
{
	if (strlen(t) < 13)
		return NULL;
	return strncmp(t + 11, "12", 2) < 0 ? "morning" : "evening";
}

const char *hm_ledger_slot_now(const hm_ledger *l)
{
	time_t t = (time_t)(hm_ledger_now_ms(l) / 1000);
	struct tm tm;
	char now[32];

	if (!localtime_r(&t, &tm)) /* a worker's clock: the station's time zone */
		return "morning";  /* (a clock past what a date holds) */
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M", &tm);
	return hm_followup_slot(now) ? hm_followup_slot(now) : "morning";
}

bool hm_date_valid(const char *s)
{
	hm_field_def def = {.name = "date", .type = HM_T_DATE};
	hm_value v;
	const char *why;
	return hm_value_parse(&def, s, &v, &why) == HM_OK;
}

bool hm_date_add(const char *date, long days, char out[11])
{
	struct tm tm = {0};
	time_t t;

	if (!hm_date_valid(date))
		return false;
	tm.tm_year = atoi(date) - 1900;
	tm.tm_mon = atoi(date + 5) - 1;
	tm.tm_mday = atoi(date + 8);
	tm.tm_hour = 12; /* midday: no day boundary moves under any time zone rule */
	t = timegm(&tm) + (time_t)days * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return true;
}

void hm_ledger_new_id(const hm_ledger *l, const char *prefix, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char ms[16], *p = ms + sizeof(ms);
	uint64_t t = hm_ledger_now_ms(l);
	uint8_t rnd[2];
	const hm_node_id *self = hm_node_self(l->node);

	/* Time first, so new records land at the end of their table (LMDB appends instead of
	 * splitting pages); then the writer and a random part, so two nodes never collide. */
	*--p = '\0';
	do
		*--p = digits[t % 36];
	while ((t /= 36) && p > ms);
	hm_random_bytes(rnd, sizeof(rnd));
	snprintf(out, cap, "%s-%s%02x%02x%02x%02x", prefix, p, self->b[0], self->b[1], rnd[0],
	         rnd[1]);
}

const char *hm_rec_text(const hm_record *r, const char *field, char *buf, size_t cap)
{
	const hm_field *f = hm_record_field(r, field);
	if (!f || f->value.kind != HM_V_STR) {
		buf[0] = '\0';
		return NULL;
	}
	snprintf(buf, cap, "%.*s", (int)f->value.u.s.n, f->value.u.s.p);
	return buf;
}

const char *hm_rec_id(const hm_record *r, const char *field, char *buf)
{
	const hm_field *f = hm_record_field(r, field);
	const char *why;
	if (!f || f->value.kind != HM_V_STR ||
	    hm_id_check_n(f->value.u.s.p, f->value.u.s.n, &why)) {
		buf[0] = '\0';
		return NULL;
	}
	memcpy(buf, f->value.u.s.p, f->value.u.s.n);
	buf[f->value.u.s.n] = '\0';
	return buf;
}

int64_t hm_rec_int(const hm_record *r, const char *field, int64_t dflt)
{
	const hm_field *f = hm_record_field(r, field);
	return f && f->value.kind == HM_V_INT ? f->value.u.i : dflt;
}

const char *hm_ledger_setting(const hm_ledger *l, const char *name, const char *dflt, char *buf,
                              size_t cap)
{
	if (hm_node_setting(l->node, name, buf, cap) == HM_OK)
		return buf;
	snprintf(buf, cap, "%s", dflt);
	return buf;
}

static hm_err set_str(hm_write *w, const char *id, const char *field, const char *s)
{
	hm_value v = {HM_V_STR, {.s = {s, (uint32_t)strlen(s)}}};
	return hm_write_set(w, "access", id, field, &v);
}

hm_err hm_ledger_record_access(hm_ledger *l, const char *action, const char *what, size_t records)
{
	char id[64], when[20], node[2 * HM_NODE_ID_BYTES + 1];
	time_t t = (time_t)(hm_ledger_now_ms(l) / 1000);
	hm_value count = {HM_V_INT, {.i = (int64_t)records}};
	struct tm tm;
	hm_write *w;
	hm_err err;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	hm_node_id_hex(hm_node_self(l->node), node);
	hm_ledger_new_id(l, "a", id, sizeof(id));
	if ((err = hm_write_begin(l->node, &w)))
		return err;
	if ((err = set_str(w, id, "time", when)) || (err = set_str(w, id, "action", action)) ||
	    (err = set_str(w, id, "what", what)) || (err = set_str(w, id, "node", node)) ||
	    (l->actor && (err = set_str(w, id, "actor", l->actor))) ||
	    (err = hm_write_set(w, "access", id, "records", &count))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, NULL);
}
