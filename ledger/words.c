/*
 * words.c - the clerk's own words: the Chinese words of every allowed word of a field, the
 * Chinese column headers of the importable fields, dates and times as spreadsheets write them,
 * and which fields name a person by id. The tables here are the only ones: the import, the
 * field verbs and the web interface read them through ledger.h, and docs/ledger.md lists them.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the words ---- */

typedef struct word_zh {
	const char *field; /* the field's name; NULL: any field whose words include word */
	const char *word;  /* the stored word */
	const char *zh;    /* a Chinese word for it; the first of a word is the one shown */
} word_zh;

static const word_zh words[] = {
    {"sex", "male", "男"},
    {"sex", "male", "男性"},
    {"sex", "female", "女"},
    {"sex", "female", "女性"},
    {NULL, "returnee", "返乡人员"},
    {NULL, "returnee", "返乡"},
    {NULL, "close", "密切接触者"},
    {NULL, "close", "密接"},
    {NULL, "second", "次密切接触者"},
    {NULL, "second", "次密接"},
    {NULL, "case", "病例"},
    {NULL, "fever", "发热"},
    {NULL, "other", "其他"},
    {"method", "visit", "上门"},
    {"method", "phone", "电话"},
    {"method", "self", "自报"},
    {"slot", "morning", "上午"},
    {"slot", "morning", "早"},
    {"slot", "evening", "下午"},
    {"slot", "evening", "晚"},
    {"kind", "home", "居家隔离"},
    {"kind", "central", "集中隔离"},
    {"kind", "monitoring", "健康监测"},
    {"kind", "isolation", "隔离点"},
    {"kind", "clinic", "发热门诊"},
    {"kind", "checkpoint", "卡口"},
    {"kind", "venue", "场所"},
    {"kind", "store", "仓库"},
    {"from_area", "wuhan", "武汉"},
    {"from_area", "hubei", "湖北"},
    {"transport", "train", "火车"},
    {"transport", "bus", "客车"},
    {"transport", "bus", "大巴"},
    {"transport", "car", "自驾"},
    {"transport", "car", "小汽车"},
    {"transport", "plane", "飞机"},
    {"transport", "ship", "轮船"},
    {"found_by", "door", "入户排查"},
    {"found_by", "checkpoint", "卡口"},
    {"found_by", "tip", "举报"},
    {"found_by", "self", "主动申报"},
    {"mode", "meal", "共同用餐"},
    {"mode", "household", "同住"},
    {"mode", "room", "同室"},
    {"mode", "vehicle", "同乘"},
    {"mode", "care", "护理"},
    {"movement", "received", "入库"},
    {"movement", "issued", "发放"},
    {"movement", "transfer", "调拨"},
    {"movement", "intercepted", "截留"},
    {"movement", "consumed", "消耗"},
    {"movement", "counted", "盘点"},
    {"movement", "requested", "申领"},
    {"status", "planned", "计划"},
    {"status", "on_road", "在途"},
    {"status", "arrived", "已到达"},
    {"status", "intercepted", "被截留"},
    {"state", "new", "新线索"},
    {"state", "verified", "已核实"},
    {"state", "rejected", "不属实"},
    {"state", "proposed", "拟处罚"},
    {"state", "imposed", "已处罚"},
    {"state", "paid", "已缴纳"},
    {"state", "waived", "已免除"},
    {"audience", "property", "物业"},
    {"audience", "residents", "居民"},
};

#define NWORDS (sizeof(words) / sizeof(words[0]))

/* Whether word is one of the words of a list "a|b|c". */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !memcmp(p, word, n))
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static bool word_of(const word_zh *w, const hm_field_def *f)
{
	return f->type == HM_T_STR && f->help && (!w->field || !strcmp(w->field, f->name)) &&
	       in_list(f->help, w->word);
}

const char *hm_ledger_word_zh(const hm_field_def *f, const char *word)
{
	for (size_t i = 0; i < NWORDS; i++)
		if (!strcmp(words[i].word, word) && word_of(&words[i], f))
			return words[i].zh;
	return NULL;
}

const char *hm_ledger_field_word_zh(const char *field, const char *word)
{
	size_t n;
	const hm_collection_def *cds = hm_schema_collections(&n);

	for (size_t i = 0; i < n; i++) {
		const hm_field_def *f = hm_schema_field(&cds[i], field);
		const char *zh = f ? hm_ledger_word_zh(f, word) : NULL;
		if (zh)
			return zh;
	}
	return NULL;
}

/* The stored word of f whose Chinese is text, or NULL. */
static const char *word_from_zh(const hm_field_def *f, const char *text)
{
	for (size_t i = 0; i < NWORDS; i++)
		if (!strcmp(words[i].zh, text) && word_of(&words[i], f))
			return words[i].word;
	return NULL;
}

/* ---- the column headers ---- */

typedef struct header_zh {
	const char *coll; /* NULL: any collection with the field */
	const char *field;
	const char *zh;
} header_zh;

static const header_zh headers[] = {
    {NULL, "id", "编号"},
    {"person", "name", "姓名"},
    {NULL, "village", "村"},
    {NULL, "region", "地区"},
    {"person", "phone", "电话"},
    {"person", "id_number", "身份证号"},
    {"person", "sex", "性别"},
    {"person", "birth_year", "出生年份"},
    {"person", "address", "住址"},
    {"person", "travel_origin", "来源地"},
    {NULL, "arrival_date", "到达日期"},
    {"person", "category", "类别"},
    {"person", "status", "状态"},
    {"person", "code", "健康码"},
    {"person", "compound", "小区"},
    {"person", "household", "户"},
    {NULL, "person", "人员编号"},
    {"return", "from_area", "来自地区"},
    {"return", "departure_date", "出发日期"},
    {"return", "transport", "交通方式"},
    {"return", "vehicle", "车次航班"},
    {"return", "route", "途经地点"},
    {"return", "activities", "返乡后活动"},
    {"return", "found_by", "发现方式"},
    {"return", "registered", "登记日期"},
    {"exposure", "source", "源头人员编号"},
    {"exposure", "contact", "接触人员编号"},
    {"exposure", "degree", "接触级别"},
    {"exposure", "first_date", "首次接触日期"},
    {"exposure", "last_date", "末次接触日期"},
    {"exposure", "mode", "接触方式"},
    {"episode", "kind", "隔离方式"},
    {"episode", "reason", "原因"},
    {"episode", "start", "开始日期"},
    {"episode", "planned_end", "计划结束日期"},
    {"episode", "end", "结束日期"},
    {"episode", "end_reason", "结束原因"},
    {"episode", "checks_per_day", "每日测温次数"},
    {"episode", "site", "隔离点"},
    {NULL, "worker", "工作人员"},
    {"followup", "time", "时间"},
    {"followup", "temperature", "体温"},
    {"followup", "method", "方式"},
    {"followup", "result", "结果"},
    {"followup", "episode", "隔离编号"},
    {"followup", "slot", "时段"},
    {"followup", "symptoms", "症状"},
    {"followup", "action", "处理"},
    {NULL, "date", "日期"},
    {NULL, "amount", "金额"},
    {NULL, "state", "状态"},
};

#define NHEADERS (sizeof(headers) / sizeof(headers[0]))

const char *hm_ledger_header_zh(const hm_collection_def *cd, const char *field)
{
	for (size_t i = 0; i < NHEADERS; i++)
		if ((!headers[i].coll || !strcmp(headers[i].coll, cd->name)) &&
		    !strcmp(headers[i].field, field) &&
		    (!strcmp(field, "id") || hm_schema_field(cd, field)))
			return headers[i].zh;
	return NULL;
}

/* ---- fields that name a person ---- */

static const struct {
	const char *coll, *field;
} person_refs[] = {
    {"return", "person"},   {"exposure", "source"}, {"exposure", "contact"}, {"episode", "person"},
    {"followup", "person"}, {"tip", "person"},      {"penalty", "person"},
};

const char *hm_ledger_field_refers(const hm_collection_def *cd, const hm_field_def *f)
{
	for (size_t i = 0; i < sizeof(person_refs) / sizeof(person_refs[0]); i++)
		if (!strcmp(person_refs[i].coll, cd->name) &&
		    !strcmp(person_refs[i].field, f->name))
			return "person";
	return NULL;
}

hm_err hm_ledger_need_record(hm_ledger *l, const char *coll, const char *id, hm_record **out)
{
	hm_record *r = NULL;
	const char *why;
	hm_err err;

	if (out)
		*out = NULL;
	if (hm_id_check(id, &why))
		return hm_node_fail(l->node, HM_ERR_INVALID,
		                    "'%s' is not a %s id: the record id %s", id, coll, why);
	err = hm_node_get(l->node, coll, id, out ? out : &r);
	hm_record_free(r);
	if (err == HM_ERR_NOT_FOUND && !strcmp(coll, "person"))
		return hm_node_fail(
		    l->node, err,
		    "unknown person '%s' (register them with `hamlet person add`, or "
		    "find their id with `hamlet person find`)",
		    id);
	if (err == HM_ERR_NOT_FOUND)
		return hm_node_fail(l->node, err, "unknown %s '%s'", _(coll), id);
	return err;
}

/* ---- dates and times as spreadsheets write them ---- */

/* Digits at *p (1 to max of them) as a number; -1 when there are none. */
static int number_at(const char **p, int max)
{
	int v = 0, n = 0;
	while (n < max && **p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0'), n++;
	return n ? v : -1;
}

/* "2026/12/6", "2026-12-6", "2026.12.6", "2026年12月6日", then optionally " 8:00[:30]": the
 * parts, hh -1 without a time. false when text is none of these. */
static bool loose_time(const char *t, int *y, int *m, int *d, int *hh, int *mm, int *ss)
{
	const char *p = t;
	bool zh = false;

	*hh = *mm = *ss = -1;
	if ((*y = number_at(&p, 4)) < 1000 || p - t != 4)
		return false;
	if (!strncmp(p, "年", 3))
		zh = true, p += 3;
	else if (*p == '/' || *p == '-' || *p == '.')
		p++;
	else
		return false;
	if ((*m = number_at(&p, 2)) < 0)
		return false;
	if (zh ? strncmp(p, "月", 3) : *p != t[4])
		return false;
	p += zh ? 3 : 1;
	if ((*d = number_at(&p, 2)) < 0)
		return false;
	if (zh && !strncmp(p, "日", 3))
		p += 3;
	if (!*p)
		return true;
	if (*p != ' ' && *p != 'T')
		return false;
	while (*p == ' ' || *p == 'T')
		p++;
	if ((*hh = number_at(&p, 2)) < 0 || *p++ != ':' || (*mm = number_at(&p, 2)) < 0 ||
	    p[-1] == ':')
		return false;
	if (*p == ':' && (p++, (*ss = number_at(&p, 2)) < 0))
		return false;
	return *p == '\0';
}

/* v (0 <= v < 10^n) as n decimal digits at out. */
static void digits_to(char *out, int v, int n)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* A slot of l's storage for a rewritten value. */
static char *norm_slot(hm_ledger *l)
{
	return l->norm[l->nnorm++ % HM_LEDGER_NORM_SLOTS];
}

/* text, a date or time of field f as a spreadsheet writes it, rewritten as the schema stores it
 * into l's storage; NULL when it is not one (hm_value_parse then says why). */
static const char *loose_date(hm_ledger *l, const hm_field_def *f, const char *text)
{
	int y, m, d, hh, mm, ss;
	char *out;

	if (!loose_time(text, &y, &m, &d, &hh, &mm, &ss) || m > 12 || d > 31 || hh > 23 ||
	    mm > 59 || ss > 59)
		return NULL;
	if (f->type == HM_T_TIME && hh < 0)
		return NULL;
	out = norm_slot(l);
	digits_to(out, y, 4);
	out[4] = '-', digits_to(out + 5, m, 2);
	out[7] = '-', digits_to(out + 8, d, 2);
	out[10] = '\0';
	if (f->type == HM_T_TIME) {
		out[10] = 'T', digits_to(out + 11, hh, 2);
		out[13] = ':', digits_to(out + 14, mm, 2);
		out[16] = '\0';
		if (ss >= 0)
			out[16] = ':', digits_to(out + 17, ss, 2), out[19] = '\0';
	}
	return out;
}

/* "1.10105E+17", "1.10105e17", "110105E+12": a long number as a spreadsheet shows it. */
static bool spreadsheet_number(const char *s)
{
	if (!(*s >= '1' && *s <= '9'))
		return false;
	s++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	else
		while (*s >= '0' && *s <= '9')
			s++;
	if (*s != 'E' && *s != 'e')
		return false;
	s += s[1] == '+' ? 2 : 1;
	if (!(*s >= '0' && *s <= '9'))
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

hm_err hm_ledger_value_parse(hm_ledger *l, const hm_field_def *f, const char *text, hm_value *out,
                             const char **why)
{
	const char *word, *date;

	if (!strcmp(f->name, "id_number") && spreadsheet_number(text)) {
		memset(out, 0, sizeof(*out));
		*why =
		    _("the ID number was turned into a number by a spreadsheet: format the column "
		      "as text and export again");
		return HM_ERR_INVALID;
	}
	if (f->type == HM_T_STR && f->help && (word = word_from_zh(f, text)))
		text = word; /* static */
	if ((f->type == HM_T_DATE || f->type == HM_T_TIME) && hm_value_parse(f, text, out, why) &&
	    (date = loose_date(l, f, text)))
		text = date; /* in l->norm */
	return hm_value_parse(f, text, out, why);
}

size_t hm_ledger_mask(const char *s, size_t n, char *buf, size_t cap)
{
	size_t o = 0, digits = 0, cp = 0;

	for (size_t i = 0; i < n; i++)
		digits += (s[i] >= '0' && s[i] <= '9') || s[i] == 'X' || s[i] == 'x';
	if (cap == 0)
		return 0;
	if (n >= 7 && digits == n) {
		/* A phone or ID number: the first 3 and last 2 say which, not who. */
		for (size_t i = 0; i < n && o + 1 < cap; i++)
			buf[o++] = i < 3 || i >= n - 2 ? s[i] : '*';
		buf[o] = '\0';
		return o;
	}
	/* Text: its first character (one UTF-8 sequence), then a star per character. */
	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		bool lead = ((unsigned char)s[i] & 0xc0) != 0x80;
		cp += lead;
		if (cp <= 1)
			buf[o++] = s[i];
		else if (lead)
			buf[o++] = '*';
	}
	buf[o] = '\0';
	return o;
}
