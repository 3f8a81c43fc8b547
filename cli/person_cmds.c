/*
 * person_cmds.c - reading about persons (`person show`, `person find`), one person registered
 * twice (`person dups`, `merge`, `unmerge`), the county's settings and `purge`.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ---- */

/* Print a field of r as text or a JSON string, masked when personal and mask is set. */
static void put_text(const hm_record *r, const char *field, bool json, bool mask)
{
	char buf[HM_STR_MAX + 1], masked[4 * HM_STR_MAX + 1];
	const char *s = hm_rec_text(r, field, buf, sizeof(buf));

	if (s && mask && out_field_masked(r, field))
		s = masked, out_mask(buf, strlen(buf), masked, sizeof(masked));
	if (json)
		s ? out_json_cstr(stdout, s) : (void)fputs("null", stdout);
	else
		out_text_cstr(stdout, s ? s : "-");
}

/* ---- person find ---- */

typedef struct find_ctx {
	const char *text, *village, *category, *compound;
	char hash[2 * HM_ID_HASH_BYTES + 1];
	bool by_hash, json, show_pii, counting;
	size_t count;
} find_ctx;

static bool find_match(find_ctx *f, const hm_record *r)
{
	char buf[HM_STR_MAX + 1];

	if (f->by_hash && (!hm_rec_text(r, "id_hash", buf, sizeof(buf)) || strcmp(buf, f->hash)))
		return false;
	if (f->village &&
	    (!hm_rec_text(r, "village", buf, sizeof(buf)) || !hm_region_contains(f->village, buf)))
		return false;
	if (f->category &&
	    (!hm_rec_text(r, "category", buf, sizeof(buf)) || strcmp(buf, f->category)))
		return false;
	if (f->compound &&
	    (!hm_rec_text(r, "compound", buf, sizeof(buf)) || strcmp(buf, f->compound)))
		return false;
	if (f->text) {
		bool hit = strstr(r->id, f->text) != NULL;
		hit = hit || (hm_rec_text(r, "code", buf, sizeof(buf)) && strstr(buf, f->text));
		hit = hit || (hm_rec_text(r, "name", buf, sizeof(buf)) && strstr(buf, f->text));
		hit = hit || (hm_rec_text(r, "phone", buf, sizeof(buf)) && strstr(buf, f->text));
		if (!hit)
			return false;
	}
	return true;
}

static int find_one(void *arg, const hm_record *r)
{
	static const char *const cols[] = {"name", "category", "status", "village", "compound"};
	find_ctx *f = arg;
	bool mask = !f->show_pii;

	if (!find_match(f, r))
		return 0;
	if (f->counting) {
		f->count++;
		return 0;
	}
	if (f->json) {
		fputs(f->count ? ",\n {\"id\":" : "{\"id\":", stdout);
		out_json_cstr(stdout, r->id);
		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			printf(",\"%s\":", cols[i]);
			put_text(r, cols[i], true, mask);
		}
		fputs("}", stdout);
	} else {
		out_text_pad(stdout, r->id, 22);
		fputc(' ', stdout);
		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			put_text(r, cols[i], false, mask);
			fputs(i + 1 < sizeof(cols) / sizeof(cols[0]) ? "  " : "\n", stdout);
		}
	}
	f->count++;
	return 0;
}

static int person_find(cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: hamlet [-d DIR] person find [TEXT] [--village PATH] [--category C]\n"
	    "       [--compound X] [--id-number N] [--show-pii] [--json]\n\n"
	    "List persons whose id, code, name or phone holds TEXT, and who match every other\n"
	    "option. --id-number finds a person by the keyed hash of the number (the number "
	    "itself\n"
	    "is not searched in clear). Names and phones are masked unless --show-pii (recorded "
	    "in\n"
	    "the access log).\n\n"
	    "example: hamlet person find Li --village lin/east/elm --category close\n";
	find_ctx f = {0};
	const char *idnum = NULL;
	hm_node *n = NULL;
	hm_err err;
	int rc = EXIT_OK;

	const cli_opt opts[] = {{"json", 0, NULL, &f.json},
	                        {"show-pii", 0, NULL, &f.show_pii},
	                        {"village", 0, &f.village, NULL},
	                        {"category", 0, &f.category, NULL},
	                        {"compound", 0, &f.compound, NULL},
	                        {"id-number", 0, &idnum, NULL},
	                        {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos;

	if ((rc = cli_args_parse(c, usage, argc - 1, argv + 1, opts, pos, 0, 1, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	f.text = npos ? pos[0] : NULL;
	if (idnum) {
		const char *why;
		if (hm_idnum_check(idnum, &why))
			return cli_fail(c, EXIT_FAIL, "--id-number %s", why);
	}
	if ((rc = cli_open(c, &n)))
		return rc;
	if (idnum) {
		if ((err = hm_node_id_hash(n, idnum, f.hash))) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
		f.by_hash = true;
	}
	if (f.show_pii) {
		char what[256];
		f.counting = true;
		if ((err = hm_node_list(n, "person", find_one, &f))) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
		/* The access log is replicated: it says a search was made, not what for. */
		snprintf(what, sizeof(what), "person find%s%s%s%s%s%s%s", f.text ? " TEXT" : "",
		         f.village ? " --village " : "", f.village ? f.village : "",
		         f.category ? " --category " : "", f.category ? f.category : "",
		         f.compound ? " --compound " : "", idnum ? " --id-number" : "");
		if ((rc = cli_record_access(c, n, "reveal", what, f.count)))
			goto out;
		f.counting = false, f.count = 0;
	}
	if (f.json)
		fputs("[", stdout);
	if ((err = hm_node_list(n, "person", find_one, &f)))
		rc = cli_node_fail(c, n, err);
	if (f.json)
		fputs("]\n", stdout);
	else if (!rc && cli_is_tty(stdout))
		printf("(%zu person%s)\n", f.count, f.count == 1 ? "" : "s");
out:
	hm_node_close(n);
	return rc;
}

/* ---- person show ---- */

typedef struct show_ctx {
	const char *person;
	bool json, mask;
	size_t count;
	const char *field; /* the field naming the person in this collection */
	const char *field2;
} show_ctx;

static int show_related(void *arg, const hm_record *r)
{
	show_ctx *s = arg;
	char buf[HM_ID_MAX + 1];
	bool hit = hm_rec_text(r, s->field, buf, sizeof(buf)) && !strcmp(buf, s->person);

	if (!hit && s->field2)
		hit = hm_rec_text(r, s->field2, buf, sizeof(buf)) && !strcmp(buf, s->person);
	if (!hit)
		return 0;
	if (s->json)
		fputs(s->count ? "," : "", stdout);
	else
		fputs("  ", stdout);
	out_record(stdout, r, s->json, s->mask);
	s->count++;
	return 0;
}

typedef struct open_ctx {
	hm_node *n;
	size_t count;
	bool json, mask;
	bool scan; /* the first pass: find each station's latest value per field */
	struct latest {
		char field[HM_NAME_MAX + 1];
		hm_node_id origin;
		hm_hlc hlc;
	} latest[32];
	size_t nlatest;
} open_ctx;

/* The latest open loser of field from origin (a station that edited twice asks one question). */
static struct latest *latest_of(open_ctx *o, const hm_conflict *cf, bool add)
{
	for (size_t i = 0; i < o->nlatest; i++)
		if (!strcmp(o->latest[i].field, cf->field) &&
		    !memcmp(o->latest[i].origin.b, cf->loser_stamp.origin.b, HM_NODE_ID_BYTES))
			return &o->latest[i];
	if (!add || o->nlatest == sizeof(o->latest) / sizeof(o->latest[0]))
		return NULL;
	snprintf(o->latest[o->nlatest].field, sizeof(o->latest[0].field), "%s", cf->field);
	o->latest[o->nlatest].origin = cf->loser_stamp.origin;
	o->latest[o->nlatest].hlc = 0;
	return &o->latest[o->nlatest++];
}

/* An identity conflict is open while the value that won is still the field's value: nobody has
 * written the field since, so nobody has decided. */
static bool identity_open(hm_node *n, const hm_conflict *cf)
{
	const hm_collection_def *cd = hm_schema_collection(cf->collection);
	const hm_field_def *fd = cd ? hm_schema_field(cd, cf->field) : NULL;
	hm_record *r;
	const hm_field *f;
	bool open = false;

	if (!fd || !(fd->flags & HM_F_IDENTITY) || cf->by_delete)
		return false;
	if (hm_node_get(n, cf->collection, cf->id, &r))
		return false;
	f = hm_record_field(r, cf->field);
	open = f && hm_stamp_cmp(&f->stamp, &cf->winner_stamp) == 0;
	if (open) {
		/* The winner replaced the loser knowingly when it names the loser's stamp. */
		char seen_field[HM_NAME_MAX + 8], seen[128], want[128],
		    hex[2 * HM_NODE_ID_BYTES + 1];
		snprintf(seen_field, sizeof(seen_field), "%s_seen", cf->field);
		hm_node_id_hex(&cf->loser_stamp.origin, hex);
		snprintf(want, sizeof(want), "%" PRIu64 ":%s", cf->loser_stamp.hlc, hex);
		open = !hm_rec_text(r, seen_field, seen, sizeof(seen)) || strcmp(seen, want) != 0;
	}
	hm_record_free(r);
	return open;
}

static int open_one(void *arg, const hm_conflict *cf)
{
	open_ctx *o = arg;
	char buf[4 * HM_STR_MAX + 1];

	struct latest *l;

	if (!identity_open(o->n, cf))
		return 0;
	if (o->scan) {
		if ((l = latest_of(o, cf, true)) && cf->loser_stamp.hlc > l->hlc)
			l->hlc = cf->loser_stamp.hlc;
		return 0;
	}
	if ((l = latest_of(o, cf, false)) && cf->loser_stamp.hlc < l->hlc)
		return 0; /* that station wrote again since: its later value is the question */
	if (cf->loser.kind == HM_V_STR && o->mask)
		out_mask(cf->loser.u.s.p, cf->loser.u.s.n, buf, sizeof(buf));
	else if (cf->loser.kind == HM_V_STR)
		snprintf(buf, sizeof(buf), "%.*s", (int)cf->loser.u.s.n, cf->loser.u.s.p);
	else
		snprintf(buf, sizeof(buf), "?");
	if (o->json) {
		fputs(o->count ? "," : "", stdout);
		fputs("{\"field\":", stdout);
		out_json_cstr(stdout, cf->field);
		fputs(",\"other_value\":", stdout);
		out_json_cstr(stdout, buf);
		fputs(",\"from\":\"", stdout);
		out_node_id(stdout, &cf->loser_stamp.origin);
		fputs("\"}", stdout);
	} else {
		fputs("  ", stdout);
		out_text_cstr(stdout, cf->field);
		fputs(": '", stdout);
		out_text_cstr(stdout, buf);
		fputs("', written by node ", stdout);
		out_node_id(stdout, &cf->loser_stamp.origin);
		fputs(
		    " at the same time as the value shown, lost to it: decide with `hamlet person "
		    "edit ",
		    stdout);
		out_text_cstr(stdout, cf->id);
		fputs(" --", stdout);
		out_text_cstr(stdout, cf->field[0] == 'i' ? "id-number" : cf->field);
		fputs(" ...`\n", stdout);
	}
	o->count++;
	return 0;
}

static int person_show(cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: hamlet [-d DIR] person show ID [--show-pii] [--json]\n\n"
	    "Show a person with their journeys, contacts (both ways), episodes and follow-ups, "
	    "and\n"
	    "any open question about their identity (a name or ID number two stations changed at\n"
	    "once). Personal fields are masked unless --show-pii (recorded in the access log).\n";
	static const struct {
		const char *coll, *title, *field, *field2;
	} rel[] = {
	    {"return", "journeys", "person", NULL},
	    {"exposure", "contacts", "source", "contact"},
	    {"episode", "episodes", "person", NULL},
	    {"followup", "follow-ups", "person", NULL},
	};
	bool json = false, show_pii = false;
	const char *id = NULL;
	size_t count = 0;
	hm_node *n = NULL;
	hm_record *p = NULL;
	hm_err err;
	int rc;

	const cli_opt opts[] = {
	    {"json", 0, NULL, &json}, {"show-pii", 0, NULL, &show_pii}, {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos;

	if ((rc = cli_args_parse(c, usage, argc - 1, argv + 1, opts, pos, 1, 1, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	id = pos[0];
	if ((rc = cli_id_arg(c, "ID", id)) || (rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_get(n, "person", id, &p))) {
		rc = err == HM_ERR_NOT_FOUND
		         ? cli_fail(c, EXIT_FAIL, "unknown person '%s' (see `hamlet person find`)",
		                    id)
		         : cli_node_fail(c, n, err);
		goto out;
	}
	if (show_pii) {
		char what[256];
		snprintf(what, sizeof(what), "person show %s", id);
		if ((rc = cli_record_access(c, n, "reveal", what, 1)))
			goto out;
	}
	if (json) {
		fputs("{\"person\":", stdout);
		out_record(stdout, p, true, !show_pii);
	} else {
		out_record(stdout, p, false, !show_pii);
	}
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		show_ctx s = {id, json, !show_pii, 0, rel[i].field, rel[i].field2};
		if (json)
			printf(",\"%s\":[", rel[i].coll);
		else
			printf("%s:\n", rel[i].title);
		if ((err = hm_node_list(n, rel[i].coll, show_related, &s))) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
		if (json)
			fputs("]", stdout);
		else if (!s.count)
			printf("  (none)\n");
	}
	{
		open_ctx *o = calloc(1, sizeof(*o));
		if (!o) {
			rc = cli_fail(c, EXIT_FAIL, "out of memory");
			goto out;
		}
		o->n = n, o->json = json, o->mask = !show_pii, o->scan = true;
		if (json)
			fputs(",\"open_identity_questions\":[", stdout);
		else
			printf("open identity questions:\n");
		err = hm_node_conflicts(n, "person", id, open_one, o);
		o->scan = false;
		if (!err)
			err = hm_node_conflicts(n, "person", id, open_one, o);
		count = o->count;
		free(o);
		if (err) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
		if (json)
			fputs("]}\n", stdout);
		else if (!count)
			printf("  (none)\n");
	}
out:
	hm_record_free(p);
	hm_node_close(n);
	return rc;
}

/* ---- duplicates and merges ---- */

typedef struct person_key {
	char id[HM_ID_MAX + 1];
	char hash[2 * HM_ID_HASH_BYTES + 1];
	char village[HM_REGION_MAX + 1];
} person_key;

typedef struct dup_ctx {
	person_key *v;
	size_t n, cap;
	char (*merged)[HM_ID_MAX + 1]; /* persons dropped by a merge in force */
	size_t nmerged, mcap;
	bool nomem;
} dup_ctx;

static int dup_person(void *arg, const hm_record *r)
{
	dup_ctx *d = arg;
	person_key k = {0};

	if (!hm_rec_text(r, "id_hash", k.hash, sizeof(k.hash)))
		return 0;
	snprintf(k.id, sizeof(k.id), "%s", r->id);
	hm_rec_text(r, "village", k.village, sizeof(k.village));
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		person_key *p = realloc(d->v, cap * sizeof(*p));
		if (!p) {
			d->nomem = true;
			return 1;
		}
		d->v = p, d->cap = cap;
	}
	d->v[d->n++] = k;
	return 0;
}

static int dup_merge(void *arg, const hm_record *r)
{
	dup_ctx *d = arg;
	char state[16];

	if (hm_rec_text(r, "state", state, sizeof(state)) && !strcmp(state, "undone"))
		return 0;
	if (d->nmerged == d->mcap) {
		size_t cap = d->mcap ? 2 * d->mcap : 16;
		char(*p)[HM_ID_MAX + 1] = realloc(d->merged, cap * sizeof(*p));
		if (!p) {
			d->nomem = true;
			return 1;
		}
		d->merged = p, d->mcap = cap;
	}
	hm_rec_id(r, "drop", d->merged[d->nmerged++]);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const person_key *x = a, *y = b;
	int c = strcmp(x->hash, y->hash);
	return c ? c : strcmp(x->id, y->id);
}

static bool is_merged(const dup_ctx *d, const char *id)
{
	for (size_t i = 0; i < d->nmerged; i++)
		if (!strcmp(d->merged[i], id))
			return true;
	return false;
}

static int person_dups(cli *c, int argc, char **argv)
{
	static const char usage[] = "usage: hamlet [-d DIR] person dups [--json]\n\n"
	                            "Find persons registered more than once: records whose ID "
	                            "numbers are the same (compared\n"
	                            "by their keyed hash, never in clear), not yet merged. Each "
	                            "group is a merge proposal:\n"
	                            "`hamlet person merge KEEP DROP` on a node whose region holds "
	                            "both (their township, or\n"
	                            "the county).\n";
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json}, {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos;
	dup_ctx d = {0};
	hm_node *n = NULL;
	size_t groups = 0;
	hm_err err;
	int rc;

	if ((rc = cli_args_parse(c, usage, argc - 1, argv + 1, opts, pos, 0, 0, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_list(n, "person", dup_person, &d)) ||
	    (err = hm_node_list(n, "merge", dup_merge, &d))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	if (d.nomem) {
		rc = cli_fail(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	qsort(d.v, d.n, sizeof(*d.v), key_cmp);
	if (json)
		fputs("[", stdout);
	for (size_t i = 0; i < d.n;) {
		size_t j = i, live = 0;
		while (j < d.n && !strcmp(d.v[j].hash, d.v[i].hash))
			live += !is_merged(&d, d.v[j].id), j++;
		if (live >= 2) {
			const char *keep = NULL;
			if (json)
				fputs(groups ? ",[" : "[", stdout);
			else
				printf("same ID number:");
			for (size_t k = i, first = 1; k < j; k++) {
				if (is_merged(&d, d.v[k].id))
					continue;
				if (json) {
					fputs(first ? "{\"id\":" : ",{\"id\":", stdout);
					out_json_cstr(stdout, d.v[k].id);
					fputs(",\"village\":", stdout);
					out_json_cstr(stdout, d.v[k].village);
					fputs("}", stdout);
				} else {
					fputc(' ', stdout);
					out_text_cstr(stdout, d.v[k].id);
					fputs(" (", stdout);
					out_text_cstr(stdout, d.v[k].village);
					fputc(')', stdout);
				}
				if (!keep)
					keep = d.v[k].id;
				first = 0;
			}
			if (json)
				fputs("]", stdout);
			else
				fputc('\n', stdout);
			for (size_t k = i; !json && k < j; k++)
				if (!is_merged(&d, d.v[k].id) && strcmp(d.v[k].id, keep))
					fputs("  proposal: hamlet person merge ", stdout),
					    out_text_cstr(stdout, keep), fputc(' ', stdout),
					    out_text_cstr(stdout, d.v[k].id), fputc('\n', stdout);
			groups++;
		}
		i = j;
	}
	if (json)
		fputs("]\n", stdout);
	else if (!groups)
		printf("no person is registered twice\n");
out:
	free(d.v);
	free(d.merged);
	hm_node_close(n);
	return rc;
}

/* The smallest region holding both a and b (their common leading path segments). */
static void common_region(const char *a, const char *b, char out[HM_REGION_MAX + 1])
{
	size_t i = 0, cut = 0;

	while (a[i] && a[i] == b[i]) {
		i++;
		if (a[i] == '/' || (!a[i] && !b[i]) || (!a[i] && b[i] == '/') ||
		    (a[i] == '/' && !b[i]))
			cut = i;
	}
	if (!a[i] && !b[i])
		cut = i;
	snprintf(out, HM_REGION_MAX + 1, "%.*s", (int)cut, a);
}

typedef struct merged_ctx {
	const char *keep, *drop;
	char drop_into[HM_ID_MAX + 1]; /* the person drop is merged into already, if any */
	char keep_into[HM_ID_MAX + 1]; /* the person keep is merged into, if any */
} merged_ctx;

static int merged_one(void *arg, const hm_record *r)
{
	merged_ctx *m = arg;
	char state[16], k[HM_ID_MAX + 1], d[HM_ID_MAX + 1];

	if (hm_rec_text(r, "state", state, sizeof(state)) && !strcmp(state, "undone"))
		return 0;
	if (!hm_rec_id(r, "keep", k) || !hm_rec_id(r, "drop", d))
		return 0;
	if (!strcmp(d, m->drop))
		snprintf(m->drop_into, sizeof(m->drop_into), "%s", k);
	if (!strcmp(d, m->keep))
		snprintf(m->keep_into, sizeof(m->keep_into), "%s", k);
	return 0;
}

static int person_merge(cli *c, int argc, char **argv, bool undo)
{
	static const char usage[] =
	    "usage: hamlet [-d DIR] person merge KEEP DROP [--reason TEXT] [--json]\n"
	    "       hamlet [-d DIR] person unmerge KEEP DROP [--json]\n\n"
	    "Merge: person DROP is the same person as KEEP (found by `hamlet person dups`); "
	    "reports\n"
	    "count them once and follow-ups of either belong to KEEP. Nothing is deleted, so\n"
	    "`unmerge` undoes it. Run it on a node whose region holds both persons' villages.\n";
	const char *keep = NULL, *drop = NULL, *reason = NULL;
	bool json = false;
	char id[HM_ID_MAX + 1], va[HM_REGION_MAX + 1], vb[HM_REGION_MAX + 1],
	    region[HM_REGION_MAX + 1];
	hm_node *n = NULL;
	hm_record *a = NULL, *b = NULL;
	hm_write *w = NULL;
	hm_changeset_info info;
	hm_err err;
	int rc;

	const cli_opt opts[] = {
	    {"json", 0, NULL, &json}, {"reason", 0, &reason, NULL}, {NULL, 0, NULL, NULL}};
	char *pos[2];
	int npos;

	if ((rc = cli_args_parse(c, usage, argc - 1, argv + 1, opts, pos, 2, 2, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	keep = pos[0], drop = pos[1];
	if ((rc = cli_id_arg(c, "KEEP", keep)) || (rc = cli_id_arg(c, "DROP", drop)))
		return rc;
	if (!strcmp(keep, drop))
		return cli_fail(c, EXIT_FAIL, "KEEP and DROP are the same person");
	if (strlen(keep) + strlen(drop) + 4 > HM_ID_MAX)
		return cli_fail(c, EXIT_FAIL, "person ids too long to merge");
	if (snprintf(id, sizeof(id), "m-%s-%s", keep, drop) >= (int)sizeof(id))
		return cli_fail(c, EXIT_FAIL, "person ids too long to merge");
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_get(n, "person", keep, &a)) ||
	    (err = hm_node_get(n, "person", drop, &b))) {
		rc = err == HM_ERR_NOT_FOUND
		         ? cli_fail(c, EXIT_FAIL, "unknown person '%s'", a ? drop : keep)
		         : cli_node_fail(c, n, err);
		goto out;
	}
	if (!undo) {
		/* A person is merged into one other at most, and never into someone merged away:
		 * that keeps every chain of merges short and free of loops. */
		merged_ctx m = {keep, drop, "", ""};
		if ((err = hm_node_list(n, "merge", merged_one, &m))) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
		if (m.drop_into[0] && strcmp(m.drop_into, keep)) {
			rc = cli_fail(
			    c, EXIT_FAIL,
			    "%s is already merged into %s: unmerge that first, or merge %s "
			    "and %s",
			    drop, m.drop_into, keep, m.drop_into);
			goto out;
		}
		if (m.keep_into[0]) {
			rc = cli_fail(c, EXIT_FAIL, "%s is itself merged into %s: merge into %s",
			              keep, m.keep_into, m.keep_into);
			goto out;
		}
	}
	if (undo) {
		hm_record *m;
		if ((err = hm_node_get(n, "merge", id, &m))) {
			rc = cli_fail(c, EXIT_FAIL, "%s and %s were never merged", keep, drop);
			goto out;
		}
		hm_record_free(m);
	}
	hm_rec_text(a, "village", va, sizeof(va));
	hm_rec_text(b, "village", vb, sizeof(vb));
	common_region(va, vb, region);
	if ((err = hm_write_begin(n, &w))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
#define SET(f, str)                                                                                \
	hm_write_set(w, "merge", id, f,                                                            \
	             &(hm_value){HM_V_STR, {.s = {(str), (uint32_t)strlen(str)}}})
	if ((err = SET("keep", keep)) || (err = SET("drop", drop)) ||
	    (err = SET("state", undo ? "undone" : "merged")) ||
	    (region[0] && (err = SET("region", region))) ||
	    (reason && (err = SET("reason", reason)))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
#undef SET
	err = hm_write_commit(w, &info);
	w = NULL; /* consumed */
	if (err) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	if (json) {
		fputs("{\"merge\":", stdout);
		out_json_cstr(stdout, id);
		printf(",\"state\":\"%s\",\"seq\":%" PRIu64 "}\n", undo ? "undone" : "merged",
		       info.seq);
	} else {
		printf("%s %s %s %s (merge %s, change set %" PRIu64 ")\n",
		       undo ? "unmerged" : "merged", drop, undo ? "from" : "into", keep, id,
		       info.seq);
	}
out:
	hm_write_abort(w);
	hm_record_free(a);
	hm_record_free(b);
	hm_node_close(n);
	return rc;
}

int cmd_person(cli *c, int argc, char **argv)
{
	static char name[32];

	if (argc >= 2 && strlen(argv[1]) < 16) {
		snprintf(name, sizeof(name), "person %s", argv[1]); /* for messages */
		c->cmd = name;
	}
	if (argc >= 2) {
		if (!strcmp(argv[1], "show"))
			return person_show(c, argc, argv);
		if (!strcmp(argv[1], "find"))
			return person_find(c, argc, argv);
		if (!strcmp(argv[1], "dups"))
			return person_dups(c, argc, argv);
		if (!strcmp(argv[1], "merge"))
			return person_merge(c, argc, argv, false);
		if (!strcmp(argv[1], "unmerge"))
			return person_merge(c, argc, argv, true);
	}
	return cmd_field(c, argc, argv);
}

/* ---- settings ---- */

typedef struct setting_ctx {
	bool json;
	size_t count;
} setting_ctx;

static int setting_one(void *arg, const hm_record *r)
{
	setting_ctx *s = arg;
	char v[HM_STR_MAX + 1];

	hm_rec_text(r, "value", v, sizeof(v));
	if (s->json) {
		fputs(s->count ? "," : "", stdout);
		out_json_cstr(stdout, r->id);
		fputc(':', stdout);
		out_json_cstr(stdout, v);
	} else {
		out_text_pad(stdout, r->id, 20);
		fputc(' ', stdout);
		out_text_cstr(stdout, v);
		fputc('\n', stdout);
	}
	s->count++;
	return 0;
}

int cmd_setting(cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: hamlet [-d DIR] setting list [--json]\n"
	    "       hamlet [-d DIR] setting set NAME VALUE [--json]\n\n"
	    "The county's settings, which reach every node by sync. Set them on the county node.\n"
	    "Known settings (default):\n"
	    "  reward.tip       500         reward per verified tip-off\n"
	    "  penalty.before   2000        per missed returnee dated before the cutoff\n"
	    "  penalty.after    5000        per missed returnee dated on or after the cutoff\n"
	    "  penalty.cutoff   1970-01-01  the cutoff date\n"
	    "  fever.threshold  37.3        the temperature (degrees C) that raises a fever "
	    "alert\n"
	    "  clock.max_drift  1440        minutes a change set's clock may be ahead of a\n"
	    "                               receiver's before it waits in quarantine (1 to "
	    "10080)\n";
	static const char *const known[] = {"reward.tip",      "penalty.before",
	                                    "penalty.after",   "penalty.cutoff",
	                                    "fever.threshold", HM_SETTING_MAX_DRIFT};
	bool json = false;
	hm_node *n = NULL;
	hm_err err;
	int rc, npos = 0;
	char *pos[3];

	const cli_opt opts[] = {{"json", 0, NULL, &json}, {NULL, 0, NULL, NULL}};

	if ((rc = cli_args_parse(c, usage, argc, argv, opts, pos, 1, 3, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	if (npos == 0 ||
	    !((npos == 1 && !strcmp(pos[0], "list")) || (npos == 3 && !strcmp(pos[0], "set"))))
		return cli_fail(c, EXIT_USAGE, "usage:\n%s", usage);
	if (npos == 3) {
		size_t k;
		double d;
		char *end;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(pos[1], known[k]))
				break;
		if (k == sizeof(known) / sizeof(known[0]))
			return cli_fail(c, EXIT_USAGE,
			                "no setting '%s' (see `hamlet setting --help`)", pos[1]);
		if (!strcmp(pos[1], HM_SETTING_MAX_DRIFT)) {
			uint64_t ms;
			if (hm_drift_parse(pos[2], strlen(pos[2]), &ms))
				return cli_fail(
				    c, EXIT_FAIL,
				    "%s must be a whole number of minutes from 1 to %u, "
				    "not '%s'",
				    pos[1], HM_DRIFT_MAX_MINUTES, pos[2]);
		} else if (!strcmp(pos[1], "penalty.cutoff")) {
			if (!hm_date_valid(pos[2]))
				return cli_fail(c, EXIT_FAIL,
				                "penalty.cutoff must be a date YYYY-MM-DD");
		} else {
			bool money = strcmp(pos[1], "fever.threshold") != 0;
			d = money ? (double)strtoll(pos[2], &end, 10) : strtod(pos[2], &end);
			if (*end || end == pos[2] || d < 0 || (!money && (d < 35 || d > 42)))
				return cli_fail(c, EXIT_FAIL, "%s must be %s, not '%s'", pos[1],
				                strcmp(pos[1], "fever.threshold")
				                    ? "a whole amount of zero or more"
				                    : "a temperature between 35 and 42",
				                pos[2]);
		}
	}
	if ((rc = cli_open(c, &n)))
		return rc;
	if (npos == 3) {
		hm_changeset_info info;
		if ((err = hm_node_set_setting(n, pos[1], pos[2], &info)))
			rc = cli_node_fail(c, n, err);
		else if (json)
			printf("{\"setting\":\"%s\",\"seq\":%" PRIu64 "}\n", pos[1], info.seq);
		else
			printf("%s = %s (change set %" PRIu64 ")\n", pos[1], pos[2], info.seq);
	} else {
		setting_ctx s = {json, 0};
		if (json)
			fputs("{", stdout);
		if ((err = hm_node_list(n, "_setting", setting_one, &s)))
			rc = cli_node_fail(c, n, err);
		if (json)
			fputs("}\n", stdout);
		else if (!s.count)
			printf("(no setting changed: every default applies)\n");
	}
	hm_node_close(n);
	return rc;
}

/* ---- purge ---- */

typedef struct ended_ctx {
	const char *before;
	struct ended {
		char person[HM_ID_MAX + 1];
		char village[HM_REGION_MAX + 1];
		bool open;  /* an episode without an end, or ending on or after the date */
		bool purge; /* to purge */
	} * v;
	size_t n, cap;
} ended_ctx;

static struct ended *ended_find(ended_ctx *e, const char *person)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].person, person))
			return &e->v[i];
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		struct ended *p = realloc(e->v, cap * sizeof(*p));
		if (!p)
			return NULL;
		e->v = p, e->cap = cap;
	}
	memset(&e->v[e->n], 0, sizeof(e->v[0]));
	snprintf(e->v[e->n].person, sizeof(e->v[0].person), "%s", person);
	return &e->v[e->n++];
}

static int ended_one(void *arg, const hm_record *r)
{
	ended_ctx *e = arg;
	char person[HM_ID_MAX + 1], end[16];
	struct ended *p;

	if (!hm_rec_id(r, "person", person) || !(p = ended_find(e, person)))
		return !person[0] ? 0 : 1;
	if (!hm_rec_text(r, "end", end, sizeof(end)) || strcmp(end, e->before) >= 0)
		p->open = true;
	return 0;
}

/* Whether r still holds a personal value (one written after a purge, by a node that had not
 * heard of it yet). */
static bool holds_personal(const hm_record *r)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (r->fields[i].value.kind != HM_V_NIL && out_field_masked(r, r->fields[i].name))
			return true;
	return false;
}

static int ended_cmp(const void *a, const void *b)
{
	const struct ended *x = a, *y = b;
	int c = strcmp(x->village, y->village);
	return c ? c : strcmp(x->person, y->person);
}

/* Villages per write of a purge: below the limit of regions one write may touch. */
#define HM_PURGE_REGIONS 32

int cmd_purge(cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: hamlet [-d DIR] purge --ended-before YYYY-MM-DD [--dry-run] [--json]\n\n"
	    "Clear the personal fields (name, ID number, phone, address, and the ID hash) of "
	    "every\n"
	    "person whose monitoring ended before the date: every episode of theirs has ended, "
	    "and\n"
	    "before it. The clearing is one change set that reaches every replica; the records,\n"
	    "their counts and every signature stay (docs/privacy.md says exactly what remains).\n"
	    "--dry-run lists who would be purged.\n";
	static const char *const clear[] = {"name", "id_number", "phone", "address", "id_hash"};
	const char *before = NULL;
	bool json = false, dry = false;
	ended_ctx e = {0};
	hm_node *n = NULL;
	hm_write *w = NULL;
	hm_changeset_info info = {0};
	char today[11], last[HM_REGION_MAX + 1] = "";
	size_t count = 0, nseq = 0, nvillages = 0;
	hm_err err;
	int rc;

	const cli_opt opts[] = {{"json", 0, NULL, &json},
	                        {"dry-run", 0, NULL, &dry},
	                        {"ended-before", 0, &before, NULL},
	                        {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos;

	if ((rc = cli_args_parse(c, usage, argc, argv, opts, pos, 0, 0, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	if (!before)
		return cli_fail(c, EXIT_USAGE, "say --ended-before YYYY-MM-DD; usage:\n%s", usage);
	if (!hm_date_valid(before))
		return cli_fail(c, EXIT_USAGE, "--ended-before must be a date YYYY-MM-DD");
	hm_ledger_today(&c->led, today);
	if (strcmp(before, today) > 0)
		return cli_fail(c, EXIT_FAIL, "--ended-before %s is in the future", before);
	e.before = before;
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_list(n, "episode", ended_one, &e))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	/* Who: every episode ended before the date, and personal data still held. */
	for (size_t i = 0; i < e.n; i++) {
		hm_record *p;
		char purged[16];
		e.v[i].purge = false;
		if (e.v[i].open || hm_node_get(n, "person", e.v[i].person, &p))
			continue;
		hm_rec_text(p, "purged", purged, sizeof(purged));
		hm_rec_text(p, "village", e.v[i].village, sizeof(e.v[i].village));
		e.v[i].purge = !purged[0] || holds_personal(p); /* or written since a purge */
		hm_record_free(p);
	}
	/* A write holds at most HM_PURGE_REGIONS villages (a change set per village): purge in
	 * batches by village, each batch one write, all or nothing. */
	qsort(e.v, e.n, sizeof(e.v[0]), ended_cmp);
	if (json)
		fputs("{\"persons\":[", stdout);
	for (size_t i = 0; i < e.n; i++) {
		hm_value nil = {HM_V_NIL}, when = {HM_V_STR, {.s = {today, 10}}};
		const char *id = e.v[i].person;

		if (!e.v[i].purge)
			continue;
		if (json) {
			fputs(count ? "," : "", stdout);
			out_json_cstr(stdout, id);
		} else if (dry) {
			printf("would purge %s\n", id);
		}
		count++;
		if (dry)
			continue;
		if (w && nvillages == HM_PURGE_REGIONS && strcmp(e.v[i].village, last) != 0) {
			err = hm_write_commit(w, &info);
			w = NULL; /* consumed */
			if (err)
				goto write_failed;
			nseq++;
		}
		if (!w) {
			if ((err = hm_write_begin(n, &w)))
				goto write_failed;
			nvillages = 0, last[0] = '\0';
		}
		if (strcmp(e.v[i].village, last) != 0) {
			nvillages++;
			snprintf(last, sizeof(last), "%s", e.v[i].village);
		}
		if ((err = hm_write_set(w, "person", id, "purged", &when)))
			goto write_failed;
		for (size_t f = 0; f < sizeof(clear) / sizeof(clear[0]); f++)
			if ((err = hm_write_set(w, "person", id, clear[f], &nil)))
				goto write_failed;
	}
	if (w) {
		err = hm_write_commit(w, &info);
		w = NULL; /* consumed */
		if (err)
			goto write_failed;
		nseq++;
	}
	if (json)
		printf("],\"purged\":%zu,\"dry_run\":%s,\"writes\":%zu}\n", dry ? 0 : count,
		       dry ? "true" : "false", nseq);
	else if (!dry && !count)
		printf("nobody to purge: no monitoring ended before %s left personal data\n",
		       before);
	else if (!dry)
		printf("purged the personal fields of %zu person%s (%zu write%s)\n", count,
		       count == 1 ? "" : "s", nseq, nseq == 1 ? "" : "s");
	else
		printf("%zu person%s would be purged\n", count, count == 1 ? "" : "s");
	goto out;
write_failed:
	if (json)
		fputs("]}\n", stdout);
	rc = nseq ? cli_fail(c, EXIT_FAIL,
	                     "%s; %zu write%s of the purge were made and stand: run it again to "
	                     "finish",
	                     hm_node_errmsg(n), nseq, nseq == 1 ? "" : "s")
	          : cli_node_fail(c, n, err);
out:
	hm_write_abort(w);
	free(e.v);
	hm_node_close(n);
	return rc;
}
