/*
 * check.c - the ledger's rules for what people type, beyond a value's type: the resident ID
 * number's check (GB 11643), the words a field allows, body temperatures, counts and amounts.
 * Applied where people type (the verbs, CSV import, `put`), never to change sets received.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <string.h>

/* GB 11643: 17 digits (6 of place, 8 of birth date, 3 of sequence) and a check character. */
hm_err hm_idnum_check(const char *s, const char **why)
{
	static const int weight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char check[] = "10X98765432";
	char date[11];
	hm_field_def def = {"", HM_T_DATE, HM_MERGE_LWW, false, 0, NULL};
	hm_value v;
	const char *dummy;
	int sum = 0;

	if (strlen(s) != 18) {
		*why = _("an ID number of 18 characters");
		return HM_ERR_INVALID;
	}
	for (int i = 0; i < 17; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = _("an ID number of 17 digits and a check character");
			return HM_ERR_INVALID;
		}
		sum += (s[i] - '0') * weight[i];
	}
	snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", s + 6, s + 10, s + 12);
	if (hm_value_parse(&def, date, &v, &dummy)) {
		*why = _("an ID number whose characters 7-14 are a birth date YYYYMMDD");
		return HM_ERR_INVALID;
	}
	if (s[17] != check[sum % 11] && !(check[sum % 11] == 'X' && s[17] == 'x')) {
		*why =
		    _("an ID number with the right check character (the 18th is wrong: mistyped?)");
		return HM_ERR_INVALID;
	}
	return HM_OK;
}

bool hm_field_word_ok(const hm_field_def *f, const char *text)
{
	size_t n = strlen(text);
	const char *p = f->help;

	if (!p || f->type != HM_T_STR)
		return true;
	while (*p) {
		size_t w = strcspn(p, "|");
		if (w == n && !memcmp(p, text, n))
			return true;
		p += w + (p[w] == '|');
	}
	return false;
}

hm_err hm_ledger_check(const hm_collection_def *c, const hm_field_def *f, const hm_value *v,
                       const char **why)
{
	char text[HM_STR_MAX + 1];
	hm_err err;

	if ((err = hm_value_check(f, v, why)))
		return err;
	if (v->kind == HM_V_NIL)
		return HM_OK;
	if (v->kind == HM_V_STR) {
		snprintf(text, sizeof(text), "%.*s", (int)v->u.s.n, v->u.s.p);
		if (!hm_field_word_ok(f, text)) {
			*why = f->help;
			return HM_ERR_TYPE;
		}
		if (!strcmp(f->name, "id_number") && !strcmp(c->name, "person"))
			return hm_idnum_check(text, why) ? HM_ERR_TYPE : HM_OK;
	}
	if (f->help && f->type == HM_T_INT && v->kind == HM_V_INT) {
		char num[24];
		snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
		if (!hm_field_word_ok(
		        &(hm_field_def){f->name, HM_T_STR, f->merge, false, 0, f->help}, num)) {
			*why = f->help;
			return HM_ERR_TYPE;
		}
	}
	if (!strcmp(f->name, "temperature") && v->kind == HM_V_FLOAT &&
	    (v->u.f < HM_TEMP_MIN || v->u.f > HM_TEMP_MAX)) {
		*why = _("a body temperature between 34 and 43 degrees C");
		return HM_ERR_TYPE;
	}
	if (f->type == HM_T_INT && v->kind == HM_V_INT && v->u.i < 0 &&
	    strcmp(c->name, "stock_txn") != 0) {
		*why = _("a count of zero or more");
		return HM_ERR_TYPE;
	}
	/* Counts, quantities and amounts a person types: beyond a trillion is a typing error, and
	 * a bound keeps every sum a report makes far from overflow. */
	if (v->kind == HM_V_INT && (v->u.i > HM_AMOUNT_MAX || v->u.i < -HM_AMOUNT_MAX)) {
		*why = _("a number of at most 1000000000000");
		return HM_ERR_TYPE;
	}
	return HM_OK;
}
