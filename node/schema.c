/*
 * schema.c - the collections hamlet knows, in one table, and how text becomes typed values.
 *
 * This is the only place that names collections and fields: the merge code reads merge rules
 * and region fields from here, so the full ledger grows by adding rows, not code.
 */
#include "node_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F(n, t, m, req, fl, h)                                                                     \
	{                                                                                          \
		.name = n, .type = t, .merge = m, .required = req, .flags = fl, .help = h          \
	}
#define LWW(n, t)        F(n, t, HM_MERGE_LWW, false, 0, NULL)
#define REQ(n, t)        F(n, t, HM_MERGE_LWW, true, 0, NULL)
#define WORDS(n, w)      F(n, HM_T_STR, HM_MERGE_LWW, false, 0, w)
#define REQ_WORDS(n, w)  F(n, HM_T_STR, HM_MERGE_LWW, true, 0, w)
#define PII(n)           F(n, HM_T_STR, HM_MERGE_LWW, false, HM_F_PII, NULL)
#define IDENTITY(n, req) F(n, HM_T_STR, HM_MERGE_LWW, req, HM_F_PII | HM_F_IDENTITY, NULL)
#define COUNTER(n)       F(n, HM_T_INT, HM_MERGE_COUNTER, false, 0, NULL)
#define MAX(n, t)        F(n, t, HM_MERGE_MAX, false, 0, NULL)
#define NFIELDS(a)       (sizeof(a) / sizeof((a)[0]))

/* Words shared by several collections. */
#define CATEGORY "returnee|close|second|case|other"

/* A person's identity (name, ID number) is not settled silently when two stations change it at
 * once: the loser is an open question (`hamlet person show`) until someone writes the answer.
 * id_hash is a keyed hash of the ID number, the same on every node, for finding one person
 * registered twice without comparing ID numbers in clear. */
static const hm_field_def person_fields[] = {
    IDENTITY("name", true),
    LWW("village", HM_T_REGION),
    PII("phone"),
    IDENTITY("id_number", false),
    WORDS("sex", "male|female"),
    LWW("birth_year", HM_T_INT),
    PII("address"),
    LWW("travel_origin", HM_T_STR),
    LWW("arrival_date", HM_T_DATE),
    WORDS("category", CATEGORY),
    LWW("status", HM_T_STR),
    LWW("code", HM_T_STR),
    LWW("compound", HM_T_STR),
    LWW("household", HM_T_STR),
    F("id_hash", HM_T_STR, HM_MERGE_LWW, false, HM_F_PII, NULL),
    LWW("purged", HM_T_DATE),
    /* The stamp (hlc:origin) of the value an edit of name or id_number replaced, so a reader
     * tells an edit made knowing the old value from one made at the same time elsewhere. */
    LWW("name_seen", HM_T_STR),
    LWW("id_number_seen", HM_T_STR),
};

static const hm_field_def return_fields[] = {
    REQ("person", HM_T_STR),
    LWW("village", HM_T_REGION),
    WORDS("from_area", "wuhan|hubei|other"),
    LWW("departure_date", HM_T_DATE),
    LWW("arrival_date", HM_T_DATE),
    WORDS("transport", "train|bus|car|plane|ship|other"),
    LWW("vehicle", HM_T_STR),
    LWW("route", HM_T_STR),
    LWW("activities", HM_T_STR),
    WORDS("found_by", "door|checkpoint|tip|self"),
    LWW("registered", HM_T_DATE),
};

static const hm_field_def exposure_fields[] = {
    REQ("source", HM_T_STR),
    REQ("contact", HM_T_STR),
    F("degree", HM_T_INT, HM_MERGE_LWW, true, 0, "1|2"),
    LWW("village", HM_T_REGION),
    LWW("first_date", HM_T_DATE),
    LWW("last_date", HM_T_DATE),
    WORDS("mode", "meal|household|room|vehicle|care|other"),
};

/* planned_end merges by max: two workers extending at once keep the later date, and no write can
 * shorten it. */
static const hm_field_def episode_fields[] = {
    REQ("person", HM_T_STR),
    LWW("village", HM_T_REGION),
    REQ_WORDS("kind", "home|central|monitoring"),
    WORDS("reason", CATEGORY "|fever"),
    REQ("start", HM_T_DATE),
    MAX("planned_end", HM_T_DATE),
    LWW("end", HM_T_DATE),
    LWW("end_reason", HM_T_STR),
    LWW("checks_per_day", HM_T_INT),
    LWW("site", HM_T_STR),
    LWW("worker", HM_T_STR),
};

static const hm_field_def followup_fields[] = {
    REQ("person", HM_T_STR),          REQ("time", HM_T_TIME),
    LWW("temperature", HM_T_FLOAT),   WORDS("method", "visit|phone|self"),
    LWW("result", HM_T_STR),          LWW("village", HM_T_REGION),
    LWW("worker", HM_T_STR),          LWW("episode", HM_T_STR),
    WORDS("slot", "morning|evening"), LWW("symptoms", HM_T_STR),
    LWW("action", HM_T_STR),
};

static const hm_field_def site_fields[] = {
    REQ("name", HM_T_STR),      REQ_WORDS("kind", "isolation|clinic|checkpoint|venue|store"),
    LWW("region", HM_T_REGION), LWW("beds", HM_T_INT),
    LWW("address", HM_T_STR),   LWW("status", HM_T_STR),
};

static const hm_field_def tally_fields[] = {
    REQ("checkpoint", HM_T_STR),
    REQ("date", HM_T_DATE),
    F("shift", HM_T_INT, HM_MERGE_LWW, true, 0, "1|2|3"),
    LWW("region", HM_T_REGION),
    LWW("vehicles", HM_T_INT),
    LWW("persons", HM_T_INT),
    LWW("from_hubei", HM_T_INT),
    LWW("fever", HM_T_INT),
    LWW("referred", HM_T_INT),
    LWW("turned_back", HM_T_INT),
    LWW("worker", HM_T_STR),
};

/* Stock on hand is never stored: it is the sum of these movements (docs/data-model.md). */
static const hm_field_def stock_txn_fields[] = {
    REQ("item", HM_T_STR),
    REQ("store", HM_T_STR),
    REQ_WORDS("movement", "received|issued|transfer|intercepted|consumed|counted|requested"),
    REQ("quantity", HM_T_INT),
    REQ("date", HM_T_DATE),
    LWW("region", HM_T_REGION),
    LWW("unit", HM_T_STR), /* piece, kg, tonne: what quantity counts */
    LWW("to_store", HM_T_STR),
    LWW("counterparty", HM_T_STR),
    LWW("shipment", HM_T_STR),
    LWW("counted_as", HM_T_INT),
    LWW("worker", HM_T_STR),
};

static const hm_field_def shipment_fields[] = {
    REQ("from", HM_T_STR),
    REQ("to", HM_T_STR),
    LWW("region", HM_T_REGION),
    LWW("lines", HM_T_STR),
    LWW("dispatched", HM_T_DATE),
    LWW("expected", HM_T_DATE),
    WORDS("status", "planned|on_road|arrived|intercepted"),
};

static const hm_field_def fund_fields[] = {
    REQ("recipient", HM_T_STR), REQ("amount", HM_T_INT),  REQ("date", HM_T_DATE),
    LWW("region", HM_T_REGION), LWW("purpose", HM_T_STR),
};

static const hm_field_def tip_fields[] = {
    REQ("received", HM_T_DATE),
    LWW("village", HM_T_REGION),
    LWW("subject", HM_T_STR),
    LWW("person", HM_T_STR),
    WORDS("state", "new|verified|rejected"),
    LWW("verified", HM_T_DATE),
    LWW("reward", HM_T_INT),
    LWW("paid", HM_T_DATE),
};

static const hm_field_def penalty_fields[] = {
    LWW("village", HM_T_REGION),
    REQ("person", HM_T_STR),
    LWW("rule", HM_T_STR),
    LWW("amount", HM_T_INT),
    WORDS("state", "proposed|imposed|paid|waived"),
    LWW("date", HM_T_DATE),
};

static const hm_field_def notice_fields[] = {
    REQ("compound", HM_T_STR), REQ_WORDS("audience", "property|residents"),
    REQ("date", HM_T_DATE),    LWW("village", HM_T_REGION),
    LWW("worker", HM_T_STR),
};

static const hm_field_def merge_fields[] = {
    REQ("keep", HM_T_STR),      REQ("drop", HM_T_STR),
    LWW("region", HM_T_REGION), WORDS("state", "merged|undone|apart"),
    LWW("reason", HM_T_STR),
};

static const hm_field_def access_fields[] = {
    REQ("time", HM_T_TIME), REQ_WORDS("action", "reveal|export"), LWW("what", HM_T_STR),
    LWW("node", HM_T_STR),  LWW("region", HM_T_REGION),           LWW("records", HM_T_INT),
    LWW("actor", HM_T_STR), /* the person, when the web interface names one */
};

static const hm_field_def stock_fields[] = {
    REQ("item", HM_T_STR),
    LWW("site", HM_T_REGION),
    LWW("unit", HM_T_STR),
    COUNTER("quantity"),
};

/* System collections: written only by the county, through hamlet itself (trust.c). They live
 * county-wide (their region field is left to default to the county's region), so a revocation
 * and its new keys are one change set that reaches every node: each wrapped key opens only for
 * the node it names. */
static const hm_field_def revocation_fields[] = {
    REQ("node", HM_T_STR),    REQ("after_seq", HM_T_INT), LWW("reason", HM_T_STR),
    LWW("streams", HM_T_STR), LWW("region", HM_T_REGION),
};

static const hm_field_def datakey_fields[] = {
    REQ("node", HM_T_STR),    REQ("scope", HM_T_REGION),  REQ("epoch", HM_T_INT),
    REQ("wrapped", HM_T_STR), LWW("region", HM_T_REGION),
};

/* Certificates a township issued (id: the certificate's hash in hex), written by `enroll sign`
 * in the township's own log, so a receiver can tell that a certificate was issued before its
 * issuer's revocation (trust.c). The region is the issuer's own, so every node that hears from
 * the township hears of what it issued. */
static const hm_field_def issued_fields[] = {
    REQ("node", HM_T_STR),
    REQ("cert", HM_T_STR),
    LWW("region", HM_T_REGION),
};

/* County settings (reward per tip, penalties, the fever threshold), one record per setting. */
static const hm_field_def setting_fields[] = {
    REQ("value", HM_T_STR),
    LWW("region", HM_T_REGION),
};

/* Fields the county adds to the schema: id "collection.field". Every node that receives the
 * record may write the field; a node that has not yet keeps and passes it on all the same. */
static const hm_field_def field_fields[] = {
    REQ("collection", HM_T_STR),
    REQ("name", HM_T_STR),
    REQ_WORDS("type", "text|int|number|bool|date|time"),
    LWW("help", HM_T_STR),
    LWW("region", HM_T_REGION),
};

static const hm_collection_def collections[] = {
    {"person", false, "village", person_fields, NFIELDS(person_fields),
     "people registered by a station: returnees, contacts, cases"},
    {"return", false, "village", return_fields, NFIELDS(return_fields),
     "a returnee's journey: where from, when, how, the route and what they did since"},
    {"exposure", false, "village", exposure_fields, NFIELDS(exposure_fields),
     "who was in contact with whom (degree 1 close, 2 second-degree)"},
    {"episode", false, "village", episode_fields, NFIELDS(episode_fields),
     "a period of home or central isolation or health monitoring"},
    {"followup", true, "village", followup_fields, NFIELDS(followup_fields),
     "temperature checks and visits (append-only)"},
    {"site", false, "region", site_fields, NFIELDS(site_fields),
     "isolation points, fever clinics, checkpoints, closed venues, stores"},
    {"checkpoint_tally", true, "region", tally_fields, NFIELDS(tally_fields),
     "a checkpoint's counts for one shift (append-only)"},
    {"stock_txn", true, "region", stock_txn_fields, NFIELDS(stock_txn_fields),
     "one movement of supplies (append-only)"},
    {"shipment", false, "region", shipment_fields, NFIELDS(shipment_fields),
     "supplies on the road between stores"},
    {"fund", true, "region", fund_fields, NFIELDS(fund_fields), "money paid out (append-only)"},
    {"tip", false, "village", tip_fields, NFIELDS(tip_fields),
     "a tip-off, its verification and reward"},
    {"penalty", false, "village", penalty_fields, NFIELDS(penalty_fields),
     "a penalty for a returnee a village missed"},
    {"notice", true, "village", notice_fields, NFIELDS(notice_fields),
     "a compound's property management or residents told (append-only)"},
    {"merge", false, "region", merge_fields, NFIELDS(merge_fields),
     "one person registered twice, merged (or the merge undone)"},
    {"access", true, "region", access_fields, NFIELDS(access_fields),
     "who revealed or exported personal data, when (append-only)"},
    {"stock", false, "site", stock_fields, NFIELDS(stock_fields),
     "running tallies per item and site; quantity is a counter"},
    {"_revocation", true, "region", revocation_fields, NFIELDS(revocation_fields),
     "revoked nodes (county only)"},
    {"_datakey", true, "region", datakey_fields, NFIELDS(datakey_fields),
     "data keys wrapped for each node entitled to them (county only)"},
    {"_issued", true, "region", issued_fields, NFIELDS(issued_fields),
     "certificates a township issued (the township, at `enroll sign`)"},
    {"_setting", false, "region", setting_fields, NFIELDS(setting_fields),
     "county settings: rewards, penalties, fever threshold (county only)"},
    {"_field", false, "region", field_fields, NFIELDS(field_fields),
     "fields the county added to the schema (county only)"},
};

const hm_collection_def *hm_schema_collections(size_t *count)
{
	*count = NFIELDS(collections);
	return collections;
}

const hm_collection_def *hm_schema_collection(const char *name)
{
	for (size_t i = 0; i < NFIELDS(collections); i++)
		if (strcmp(collections[i].name, name) == 0)
			return &collections[i];
	return NULL;
}

const hm_field_def *hm_schema_field(const hm_collection_def *c, const char *name)
{
	for (size_t i = 0; i < c->nfields; i++)
		if (strcmp(c->fields[i].name, name) == 0)
			return &c->fields[i];
	return NULL;
}

/* A name is read up to its first NUL, as lookups by C string have always read it: a change set
 * must mean the same to every version of hamlet. */
static size_t name_len(const char *name, size_t len)
{
	const char *nul = len ? memchr(name, 0, len) : NULL;
	return nul ? (size_t)(nul - name) : len;
}

/* name holds no NUL: strncmp stops at the end of def, and def[len] is then within it. */
static bool name_is(const char *def, const char *name, size_t len)
{
	return def[0] == (len ? name[0] : 0) && strncmp(def, name, len) == 0 && def[len] == 0;
}

const hm_collection_def *hm_schema_collection_n(const char *name, size_t len)
{
	len = name_len(name, len);
	for (size_t i = 0; i < NFIELDS(collections); i++)
		if (name_is(collections[i].name, name, len))
			return &collections[i];
	return NULL;
}

const hm_field_def *hm_schema_field_n(const hm_collection_def *c, const char *name, size_t len)
{
	len = name_len(name, len);
	for (size_t i = 0; i < c->nfields; i++)
		if (name_is(c->fields[i].name, name, len))
			return &c->fields[i];
	return NULL;
}

bool hm_field_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > HM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] <= 0x20 || name[i] == '=' || name[i] == 0x7f)
			return false;
	return true;
}

size_t hm_utf8_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	/* Most text is ASCII: skip it 8 bytes at a time. */
	while ((size_t)(end - p) >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		if (w & 0x8080808080808080ull)
			break;
		p += 8;
	}
	while (p < end) {
		const unsigned char *at = p;
		unsigned c = *p++, more;
		uint32_t cp;
		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0)
			more = 1, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			more = 2, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			more = 3, cp = c & 0x07;
		else
			return (size_t)(at - (const unsigned char *)s);
		if ((size_t)(end - p) < more)
			return (size_t)(at - (const unsigned char *)s);
		for (unsigned i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return (size_t)(at - (const unsigned char *)s);
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (size_t)(at - (const unsigned char *)s);
	}
	return n;
}

_Static_assert(HM_ID_MAX == 128u, "the id rule's messages say 128 bytes");

hm_err hm_id_check_n(const char *id, size_t n, const char **why)
{
	const unsigned char *p = (const unsigned char *)id;

	if (n == 0)
		return *why = _("is empty"), HM_ERR_INVALID;
	if (n > HM_ID_MAX)
		return *why = _("is longer than 128 bytes"), HM_ERR_INVALID;
	if (hm_utf8_prefix(id, n) != n)
		return *why = _("is not UTF-8 text"), HM_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		/* C0 and DEL; C1 is U+0080-U+009F (C2 80..C2 9F); U+2028-U+202E and U+2066-U+2069
		 * (E2 80 A8..AE, E2 81 A6..A9) separate lines or reorder what follows. */
		bool bad = p[i] < 0x20 || p[i] == 0x7f ||
		           (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) ||
		           (p[i] == 0xe2 && i + 2 < n && p[i + 1] == 0x80 && p[i + 2] >= 0xa8 &&
		            p[i + 2] <= 0xae) ||
		           (p[i] == 0xe2 && i + 2 < n && p[i + 1] == 0x81 && p[i + 2] >= 0xa6 &&
		            p[i + 2] <= 0xa9);
		if (bad)
			return *why = _("holds a control character or a bidi control"),
			       HM_ERR_INVALID;
	}
	*why = NULL;
	return HM_OK;
}

hm_err hm_id_check(const char *id, const char **why)
{
	return hm_id_check_n(id, strlen(id), why);
}

static bool utf8_valid(const char *s, size_t n)
{
	return hm_utf8_prefix(s, n) == n;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool date_valid(const char *s, size_t n)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

static bool time_valid(const char *s, size_t n)
{
	int hh, mm;

	if ((n != 16 && n != 19) || !date_valid(s, 10) || s[10] != 'T' || s[13] != ':')
		return false;
	hh = digits(s + 11, 2), mm = digits(s + 14, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return false;
	if (n == 19) {
		int ss = digits(s + 17, 2);
		if (s[16] != ':' || ss < 0 || ss > 59)
			return false;
	}
	return true;
}

static bool region_valid_n(const char *p, size_t n)
{
	char buf[HM_REGION_MAX + 1];

	if (n == 0 || n > HM_REGION_MAX || memchr(p, 0, n))
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	return hm_region_valid(buf);
}

static const char *type_name(hm_type t)
{
	switch (t) {
	case HM_T_STR:
		return _("text");
	case HM_T_INT:
		return _("a whole number");
	case HM_T_FLOAT:
		return _("a number");
	case HM_T_BOOL:
		return _("true or false");
	case HM_T_DATE:
		return _("a date YYYY-MM-DD");
	case HM_T_TIME:
		return _("a time YYYY-MM-DDTHH:MM");
	case HM_T_REGION:
		return _("a region path county/township/village (a-z, 0-9, _ and -)");
	}
	return "?";
}

hm_err hm_value_check(const hm_field_def *f, const hm_value *v, const char **why)
{
	bool ok = false;

	if (v->kind == HM_V_NIL) {
		/* nil clears an optional field, and personal data, which may always be cleared */
		if (!f->required || (f->flags & HM_F_PII))
			return HM_OK;
		*why = type_name(f->type);
		return HM_ERR_TYPE;
	}
	switch (f->type) {
	case HM_T_STR:
		ok =
		    v->kind == HM_V_STR && v->u.s.n <= HM_STR_MAX && utf8_valid(v->u.s.p, v->u.s.n);
		break;
	case HM_T_INT:
		ok = v->kind == HM_V_INT;
		break;
	case HM_T_FLOAT:
		ok = v->kind == HM_V_FLOAT && isfinite(v->u.f);
		break;
	case HM_T_BOOL:
		ok = v->kind == HM_V_BOOL;
		break;
	case HM_T_DATE:
		ok = v->kind == HM_V_STR && date_valid(v->u.s.p, v->u.s.n);
		break;
	case HM_T_TIME:
		ok = v->kind == HM_V_STR && time_valid(v->u.s.p, v->u.s.n);
		break;
	case HM_T_REGION:
		ok = v->kind == HM_V_STR && region_valid_n(v->u.s.p, v->u.s.n);
		break;
	}
	if (ok)
		return HM_OK;
	*why = type_name(f->type); /* (a catalogue's look-up: only when it is said) */
	return HM_ERR_TYPE;
}

hm_err hm_value_parse(const hm_field_def *f, const char *text, hm_value *out, const char **why)
{
	char *end;

	memset(out, 0, sizeof(*out));
	switch (f->type) {
	case HM_T_INT:
		errno = 0;
		out->kind = HM_V_INT;
		out->u.i = strtoll(text, &end, 10);
		if (errno || end == text || *end) {
			*why = type_name(f->type);
			return HM_ERR_TYPE;
		}
		break;
	case HM_T_FLOAT:
		errno = 0;
		out->kind = HM_V_FLOAT;
		out->u.f = strtod(text, &end);
		if (errno || end == text || *end) {
			*why = type_name(f->type);
			return HM_ERR_TYPE;
		}
		break;
	case HM_T_BOOL:
		out->kind = HM_V_BOOL;
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1"))
			out->u.b = true;
		else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0"))
			out->u.b = false;
		else {
			*why = type_name(f->type);
			return HM_ERR_TYPE;
		}
		break;
	default:
		if (strlen(text) > HM_STR_MAX) {
			*why = _("text longer than 4096 bytes");
			return HM_ERR_TYPE;
		}
		out->kind = HM_V_STR;
		out->u.s.p = text;
		out->u.s.n = (uint32_t)strlen(text);
		break;
	}
	return hm_value_check(f, out, why);
}

int hm_value_equal(const hm_value *a, const hm_value *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case HM_V_NIL:
		return 1;
	case HM_V_BOOL:
		return a->u.b == b->u.b;
	case HM_V_INT:
		return a->u.i == b->u.i;
	case HM_V_FLOAT:
		return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
	case HM_V_STR:
		return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
	}
	return 0;
}

const char *hm_role_name(hm_role role)
{
	switch (role) {
	case HM_ROLE_COUNTY:
		return "county";
	case HM_ROLE_TOWNSHIP:
		return "township";
	case HM_ROLE_VILLAGE:
		return "village";
	}
	return "unknown";
}

hm_err hm_role_parse(const char *text, hm_role *out)
{
	for (int r = HM_ROLE_COUNTY; r <= HM_ROLE_VILLAGE; r++)
		if (strcmp(text, hm_role_name((hm_role)r)) == 0) {
			*out = (hm_role)r;
			return HM_OK;
		}
	return HM_ERR_INVALID;
}
