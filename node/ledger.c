/*
 * ledger.c - what the node itself keeps of the prevention ledger: the keyed hash of an ID number
 * (it needs the county's data key), the county's settings as records (and clock.max_drift, which
 * the node's clock rule reads), and the fields the county adds. The rules people's values meet
 * (the ID number's check, hm_ledger_check) are the ledger library's (ledger/check.c).
 */
#include "node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The id-hash key: derived from the county's first data key, which every node enrolled before a
 * revocation holds; a node without trust uses a fixed key (tests and single-node use only). */
hm_err hm_node_id_hash(hm_node *n, const char *idnum, char out[2 * HM_ID_HASH_BYTES + 1])
{
	static const char label[] = "hamlet id-hash v1";
	uint8_t key[HM_DATA_KEY_BYTES] = {0}, hkey[HM_HASH_BYTES] = {0};
	char canon[19], county[HM_REGION_MAX + 1];
	hm_hash h;
	MDB_txn *txn;
	hm_err err = HM_OK;

	if (strlen(idnum) != 18)
		return HM_ERR_INVALID;
	memcpy(canon, idnum, 19);
	if (canon[17] == 'x')
		canon[17] = 'X';
	if (n->trust) {
		uint32_t epoch = 1;
		snprintf(county, sizeof(county), "%.*s", (int)strcspn(n->region, "/"), n->region);
		if ((err = hm_store_read_begin(n, &txn)))
			return err;
		err = hm_trust_data_key(n, txn, county, &epoch, key);
		mdb_txn_abort(txn);
		if (err == HM_ERR_NOT_FOUND)
			return hm_node_fail(n, err,
			                    "this node does not hold the county's first data key, "
			                    "which keys the ID-number hash");
		if (err)
			return err;
		hm_hash_keyed(key, label, sizeof(label) - 1, &h);
		memcpy(hkey, h.b, sizeof(hkey));
		hm_wipe(key, sizeof(key));
	}
	hm_hash_keyed(hkey, canon, 18, &h);
	hm_wipe(hkey, sizeof(hkey));
	for (size_t i = 0; i < HM_ID_HASH_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", h.b[i]);
	return HM_OK;
}

hm_err hm_node_setting(hm_node *n, const char *name, char *buf, size_t cap)
{
	hm_record *r;
	const hm_field *f;
	hm_err err = hm_node_get(n, "_setting", name, &r);

	if (err)
		return err;
	f = hm_record_field(r, "value");
	if (!f || f->value.kind != HM_V_STR || f->value.u.s.n >= cap)
		err = HM_ERR_NOT_FOUND;
	else
		snprintf(buf, cap, "%.*s", (int)f->value.u.s.n, f->value.u.s.p);
	hm_record_free(r);
	return err;
}

hm_err hm_drift_parse(const char *text, size_t len, uint64_t *ms)
{
	uint64_t minutes = 0;

	if (len == 0 || len > 5)
		return HM_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return HM_ERR_INVALID;
		minutes = minutes * 10 + (uint64_t)(text[i] - '0');
	}
	if (minutes < 1 || minutes > HM_DRIFT_MAX_MINUTES)
		return HM_ERR_INVALID;
	*ms = minutes * 60000;
	return HM_OK;
}

uint64_t hm_drift_ms(hm_node *n, MDB_txn *txn)
{
	static const char name[] = HM_SETTING_MAX_DRIFT;
	uint8_t key[HM_RECORD_KEY_MAX];
	uint64_t ms = HM_DRIFT_DEFAULT_MS;
	/* Settings are the county's records: they live in its region, the first part of ours. */
	size_t kn = hm_record_key(key, sizeof(key), "_setting", 8, name, sizeof(name) - 1,
	                          n->region, strcspn(n->region, "/"));
	msgpack_sbuffer scratch;
	msgpack_zone zone;
	hm_rec *r = NULL;
	MDB_val v;

	if (n->max_drift_ms)
		return n->max_drift_ms;
	msgpack_sbuffer_init(&scratch);
	if (!msgpack_zone_init(&zone, 256))
		goto out_scratch;
	/* Any failure to read it leaves the default: the bound is never lifted by a bad record. */
	if ((r = malloc(sizeof(*r))) && kn &&
	    !hm_seal_get(n, txn, HM_DB_RECORDS, key, kn, &v, &scratch) &&
	    !hm_rec_decode(v.mv_data, v.mv_size, &zone, r) && hm_rec_live(r)) {
		const hm_rfield *f = hm_rec_find(r, "value", 5);
		uint64_t set;
		if (f && f->value.kind == HM_V_STR &&
		    !hm_drift_parse(f->value.u.s.p, f->value.u.s.n, &set))
			ms = set;
	}
	free(r);
	msgpack_zone_destroy(&zone);
out_scratch:
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	return ms;
}

hm_err hm_node_set_setting(hm_node *n, const char *name, const char *value, hm_changeset_info *info)
{
	hm_write *w;
	hm_value v = {HM_V_STR, {.s = {value, (uint32_t)strlen(value)}}};
	hm_err err;

	if (n->role != HM_ROLE_COUNTY)
		return hm_node_fail(n, HM_ERR_SCHEMA, "settings are the county's: set them there");
	if ((err = hm_write_begin_system(n, &w)))
		return err;
	if ((err = hm_write_set(w, "_setting", name, "value", &v))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, info);
}

static const struct {
	const char *word;
	hm_type type;
} type_words[] = {
    {"text", HM_T_STR},  {"int", HM_T_INT},   {"number", HM_T_FLOAT},
    {"bool", HM_T_BOOL}, {"date", HM_T_DATE}, {"time", HM_T_TIME},
};

const char *hm_type_word(hm_type t)
{
	for (size_t i = 0; i < sizeof(type_words) / sizeof(type_words[0]); i++)
		if (type_words[i].type == t)
			return type_words[i].word;
	return "region";
}

hm_err hm_node_field(hm_node *n, const hm_collection_def *c, const char *field, hm_field_def *out,
                     char name[HM_NAME_MAX + 1])
{
	const hm_field_def *d = hm_schema_field(c, field);
	char id[2 * HM_NAME_MAX + 2], type[16];
	hm_record *r;
	hm_err err;

	if (d) {
		*out = *d;
		return HM_OK;
	}
	if (c->name[0] == '_' || !hm_field_name_valid(field, strlen(field)) ||
	    snprintf(id, sizeof(id), "%s.%s", c->name, field) >= (int)sizeof(id))
		return HM_ERR_SCHEMA;
	if ((err = hm_node_get(n, "_field", id, &r)))
		return err == HM_ERR_NOT_FOUND ? HM_ERR_SCHEMA : err;
	{
		const hm_field *t = hm_record_field(r, "type");
		snprintf(type, sizeof(type), "%.*s",
		         t && t->value.kind == HM_V_STR ? (int)t->value.u.s.n : 0,
		         t && t->value.kind == HM_V_STR ? t->value.u.s.p : "");
	}
	hm_record_free(r);
	for (size_t i = 0; i < sizeof(type_words) / sizeof(type_words[0]); i++)
		if (!strcmp(type, type_words[i].word)) {
			snprintf(name, HM_NAME_MAX + 1, "%s", field);
			*out =
			    (hm_field_def){name, type_words[i].type, HM_MERGE_LWW, false, 0, NULL};
			return HM_OK;
		}
	return HM_ERR_SCHEMA; /* a type word of a newer version */
}

typedef struct added_count {
	const char *coll;
	size_t n;
} added_count;

static int count_added(void *ctx, const hm_record *r)
{
	added_count *a = ctx;
	const hm_field *f = hm_record_field(r, "collection");
	if (f && f->value.kind == HM_V_STR && f->value.u.s.n == strlen(a->coll) &&
	    !memcmp(f->value.u.s.p, a->coll, f->value.u.s.n))
		a->n++;
	return 0;
}

hm_err hm_node_add_field(hm_node *n, const char *coll, const char *field, const char *type,
                         const char *help, hm_changeset_info *info)
{
	const hm_collection_def *c = hm_schema_collection(coll);
	char id[2 * HM_NAME_MAX + 2];
	hm_write *w;
	hm_err err;
	bool known = false;

	if (n->role != HM_ROLE_COUNTY)
		return hm_node_fail(n, HM_ERR_SCHEMA,
		                    "the schema is the county's: add fields there");
	if (!c || coll[0] == '_')
		return hm_node_fail(n, HM_ERR_SCHEMA, "no collection '%s'", coll);
	if (!hm_field_name_valid(field, strlen(field)) || field[0] == '_' ||
	    strspn(field, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(field))
		return hm_node_fail(
		    n, HM_ERR_INVALID,
		    "a field name is 1 to %u of a-z, 0-9 and '_', not starting with '_'",
		    HM_NAME_MAX);
	if (hm_schema_field(c, field))
		return hm_node_fail(n, HM_ERR_EXISTS, "%s already has a field '%s'", coll, field);
	{
		/* A record holds at most HM_FIELDS_MAX fields: keep room for all of them. */
		added_count ac = {coll, 0};
		if ((err = hm_node_list(n, "_field", count_added, &ac)))
			return err;
		if (c->nfields + ac.n + 1 > HM_FIELDS_MAX)
			return hm_node_fail(
			    n, HM_ERR_TOO_BIG,
			    "%s has %zu fields already (%zu added): a record holds at "
			    "most %u",
			    coll, c->nfields + ac.n, ac.n, HM_FIELDS_MAX);
	}
	for (size_t i = 0; i < sizeof(type_words) / sizeof(type_words[0]); i++)
		known |= !strcmp(type, type_words[i].word);
	if (!known)
		return hm_node_fail(n, HM_ERR_INVALID,
		                    "type must be text, int, number, bool, date or time, not '%s'",
		                    type);
	snprintf(id, sizeof(id), "%s.%s", coll, field);
	if ((err = hm_write_begin_system(n, &w)))
		return err;
#define SET(f, str)                                                                                \
	hm_write_set(w, "_field", id, f,                                                           \
	             &(hm_value){HM_V_STR, {.s = {(str), (uint32_t)strlen(str)}}})
	if ((err = SET("collection", coll)) || (err = SET("name", field)) ||
	    (err = SET("type", type)) || (help && (err = SET("help", help)))) {
		hm_write_abort(w);
		return err;
	}
#undef SET
	return hm_write_commit(w, info);
}
