/* test_csv_import.c - hm_csv_import over a real node: the header (names, Chinese headers, --map),
 * every row checked by the ledger's rules with its line, all or nothing, dry run, skip_bad,
 * progress, persons that must exist (hm_ledger_need_record), the GBK look, the template taken
 * back as it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"
#include "scratch.h"

typedef struct csv_fixture {
	char dir[4096];
	hm_node *n;
	hm_ledger l;
	hm_csv_result res;
	char *buf;
} csv_fixture;

static int setup(void **state)
{
	csv_fixture *t = calloc(1, sizeof(*t));
	static int count;
	char name[32];

	assert_non_null(t);
	snprintf(name, sizeof(name), "csv-import-%d", count++);
	test_scratch_path(t->dir, sizeof(t->dir), "ledger", name);
	assert_int_equal(hm_node_create(t->dir, HM_ROLE_VILLAGE, "lin/east/elm", "elm", NULL, NULL),
	                 HM_OK);
	assert_int_equal(hm_node_open(t->dir, NULL, &t->n), HM_OK);
	hm_ledger_init(&t->l, t->n);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	csv_fixture *t = *state;
	hm_csv_result_release(&t->res);
	free(t->buf);
	hm_node_close(t->n);
	free(t);
	return 0;
}

/* Import text into coll with opts o (may be NULL). */
static hm_err import(csv_fixture *t, const char *coll, const char *text,
                     const hm_csv_import_opts *o)
{
	hm_csv_import_opts dflt = {.name = "test.csv"};
	size_t len = strlen(text);

	hm_csv_result_release(&t->res);
	free(t->buf);
	t->buf = malloc(len + 1);
	assert_non_null(t->buf);
	memcpy(t->buf, text, len + 1);
	return hm_csv_import(&t->l, coll, t->buf, len, o ? o : &dflt, &t->res);
}

/* The text of coll/id's field, or "<none>". */
static const char *field(csv_fixture *t, const char *coll, const char *id, const char *name,
                         char *buf, size_t cap)
{
	hm_record *r;
	if (hm_node_get(t->n, coll, id, &r)) {
		snprintf(buf, cap, "<no record>");
		return buf;
	}
	if (!hm_rec_text(r, name, buf, cap))
		snprintf(buf, cap, "<none>");
	hm_record_free(r);
	return buf;
}

#define FIELD(coll, id, name) field(t, coll, id, name, buf, sizeof(buf))

static uint64_t seq_of(csv_fixture *t)
{
	hm_vv vv;
	uint64_t s;
	assert_int_equal(hm_node_version_vector(t->n, &vv), HM_OK);
	s = hm_vv_get(&vv, hm_node_self(t->n));
	hm_vv_release(&vv);
	return s;
}

static void test_template_round_trip(void **state)
{
	csv_fixture *t = *state;
	char text[2048], buf[256];
	size_t n = hm_csv_template(hm_schema_collection("person"), text, sizeof(text));
	uint64_t before = seq_of(t);

	snprintf(text + n, sizeof(text) - n,
	         "p-1,王芳,,13800000000,11010519491231002X,女,1949,,,2026/11/20,返乡人员,,,,\r\n"
	         ",李伟,lin/east/elm,,,男,,,,2026-11-21 08:00,密切接触者,,,,\r\n");
	assert_int_equal(import(t, "person", text, NULL), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_WRITTEN);
	assert_int_equal(t->res.rows, 2);
	assert_int_equal(t->res.written, 2);
	assert_int_equal(t->res.nbad, 0);
	assert_int_equal(seq_of(t), before + 1); /* one change set */
	assert_int_equal(t->res.first_seq, before + 1);
	assert_int_equal(t->res.last_seq, before + 1);
	assert_string_equal(FIELD("person", "p-1", "name"), "王芳");
	assert_string_equal(FIELD("person", "p-1", "sex"), "female");
	assert_string_equal(FIELD("person", "p-1", "category"), "returnee");
	assert_string_equal(FIELD("person", "p-1", "arrival_date"), "2026-11-20");
	assert_string_equal(FIELD("person", "p-1", "village"), "lin/east/elm");
	assert_int_equal(strlen(FIELD("person", "p-1", "id_hash")), 32);
}

static void test_bad_rows(void **state)
{
	csv_fixture *t = *state;
	hm_csv_import_opts o = {.name = "bad.csv"};
	const char *text = "id,name,id_number,sex,category,address\n"
	                   "r-1,Good One,,male,returnee,\"Road 1\nBuilding 2\"\n"
	                   "r-2,Bad Id,110105194912310021,female,close,x\n"
	                   "r-3,Bad Word,,woman,close,y\n"
	                   "r-4,,,male,close,z\n"
	                   "r-5,Short,male\n"
	                   "r-6,Good Two,,女,second,w\n"
	                   "r-1,Dup,,male,close,v\n"
	                   "r-7,Excel,1.10105E+17,male,close,v\n";
	static const size_t lines[] = {4, 5, 6, 7, 9, 10};
	static const char *fields[] = {"id_number", "sex", "name", NULL, "id", "id_number"};
	char buf[256];
	uint64_t before = seq_of(t);

	assert_int_equal(import(t, "person", text, &o), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_REFUSED);
	assert_int_equal(t->res.rows, 8);
	assert_int_equal(t->res.good, 2);
	assert_int_equal(t->res.bad_rows, 6);
	assert_int_equal(t->res.nbad, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(t->res.bad[i].line, lines[i]);
		if (fields[i])
			assert_string_equal(t->res.bad[i].field, fields[i]);
		else
			assert_null(t->res.bad[i].field);
	}
	assert_string_equal(t->res.bad[0].reason,
	                    "must be an ID number with the right check character (the 18th is "
	                    "wrong: mistyped?), not '110*************21'");
	assert_string_equal(t->res.bad[1].reason, "must be one of male|female, not 'woman'");
	assert_string_equal(t->res.bad[3].reason, "has 3 columns; the header has 6");
	assert_string_equal(t->res.bad[4].reason, "'r-1' is also on line 2");
	assert_non_null(strstr(t->res.bad[5].reason, "turned into a number by a spreadsheet"));
	assert_int_equal(seq_of(t), before); /* nothing written */
	assert_string_equal(FIELD("person", "r-1", "name"), "<no record>");
	o.dry_run = true;
	assert_int_equal(import(t, "person", text, &o), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_CHECKED);
	assert_int_equal(seq_of(t), before);
	o.dry_run = false, o.skip_bad = true;
	assert_int_equal(import(t, "person", text, &o), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_WRITTEN);
	assert_int_equal(t->res.written, 2);
	assert_int_equal(seq_of(t), before + 1);
	assert_string_equal(FIELD("person", "r-1", "name"), "Good One");
	assert_string_equal(FIELD("person", "r-6", "sex"), "female");
	assert_string_equal(FIELD("person", "r-2", "name"), "<no record>");
}

static void test_persons_must_exist(void **state)
{
	csv_fixture *t = *state;
	hm_record *r;
	char buf[256];

	assert_int_equal(import(t, "person", "id,name\nw-1,Wu\n", NULL), HM_OK);
	assert_int_equal(hm_ledger_need_record(&t->l, "person", "w-1", &r), HM_OK);
	assert_string_equal(r->id, "w-1");
	hm_record_free(r);
	assert_int_equal(hm_ledger_need_record(&t->l, "person", "ghost", NULL), HM_ERR_NOT_FOUND);
	assert_string_equal(hm_node_errmsg(t->n),
	                    "unknown person 'ghost' (register them with `hamlet person add`, or "
	                    "find their id with `hamlet person find`)");
	assert_int_equal(import(t, "followup",
	                        "id,person,time,temperature,method\n"
	                        "f-1,ghost,2026-12-06T08:00,36.6,visit\n"
	                        "f-2,w-1,2026/12/6 9:00,36.6,上门\n",
	                        NULL),
	                 HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_REFUSED);
	assert_int_equal(t->res.nbad, 1);
	assert_int_equal(t->res.bad[0].line, 2);
	assert_string_equal(t->res.bad[0].field, "person");
	assert_non_null(strstr(t->res.bad[0].reason, "unknown person 'ghost'"));
	assert_int_equal(import(t, "exposure", "source,contact,degree\nw-1,nobody,1\n", NULL),
	                 HM_OK);
	assert_int_equal(t->res.nbad, 1);
	assert_string_equal(t->res.bad[0].field, "contact");
	assert_int_equal(import(t, "followup",
	                        "id,person,time,temperature,method\n"
	                        "f-2,w-1,2026/12/6 9:00,36.6,上门\n",
	                        NULL),
	                 HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_WRITTEN);
	assert_string_equal(FIELD("followup", "f-2", "time"), "2026-12-06T09:00");
	assert_string_equal(FIELD("followup", "f-2", "method"), "visit");
}

/* The rows of field work obey the verbs' rules (review: the import skipped them). */
static void test_field_rules(void **state)
{
	csv_fixture *t = *state;

	assert_int_equal(import(t, "person", "id,name\nw-1,Wu\nw-2,Li\n", NULL), HM_OK);
	assert_int_equal(import(t, "site", "id,name,kind\nst-1,Store,store\n", NULL), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_WRITTEN);
	assert_int_equal(import(t, "followup", "id,person,time\nf-1,w-1,2026-12-06T08:00\n", NULL),
	                 HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_REFUSED);
	assert_non_null(strstr(t->res.bad[0].reason, "a follow-up needs its result"));
	assert_int_equal(import(t, "stock_txn",
	                        "item,movement,quantity,store,date\n"
	                        "N95,issued,-500,st-1,2026-12-06\n"
	                        "N95,counted,480,st-1,2026-12-06\n"
	                        "N95,issued,5,nowhere,2026-12-06\n"
	                        "N95,received,500,st-1,2026-12-06\n",
	                        NULL),
	                 HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_REFUSED);
	assert_int_equal(t->res.nbad, 3);
	assert_non_null(strstr(t->res.bad[0].reason, "must be positive"));
	assert_non_null(strstr(t->res.bad[1].reason, "stock count"));
	assert_non_null(strstr(t->res.bad[2].reason, "unknown store 'nowhere'"));
	assert_int_equal(import(t, "exposure", "source,contact,degree\nw-1,w-1,1\n", NULL), HM_OK);
	assert_int_equal(t->res.nbad, 1);
	assert_non_null(strstr(t->res.bad[0].reason, "not their own contact"));
	assert_int_equal(import(t, "return",
	                        "person,departure_date,arrival_date\nw-2,2026-12-05,2026-12-01\n",
	                        NULL),
	                 HM_OK);
	assert_int_equal(t->res.nbad, 1);
	assert_non_null(strstr(t->res.bad[0].reason, "arrival is before the departure"));
}

/* A file of many bad lines is counted, not kept (review: memory grew with every bad line). */
static void test_bad_rows_capped(void **state)
{
	csv_fixture *t = *state;
	size_t n = HM_CSV_BAD_MAX + 200, len = 0;
	char *text = malloc(16 + 4 * n);

	assert_non_null(text);
	len += (size_t)sprintf(text, "id,birth_year\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "x,y\n");
	assert_int_equal(import(t, "person", text, NULL), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_REFUSED);
	assert_int_equal(t->res.nbad, HM_CSV_BAD_MAX);
	assert_true(t->res.bad_more >= 200);
	assert_int_equal(t->res.bad_rows, n);
	free(text);
}

/* At a township, a follow-up imported without a village goes to its person's village, as the
 * verb puts it (review: it was placed at the township, where the village never gets it). */
static void test_region_of_person(void **state)
{
	csv_fixture *t = *state;
	char dir[4096];
	hm_node *n;
	hm_ledger l;
	hm_csv_result res = {0};
	hm_csv_import_opts o = {.name = "t.csv"};
	hm_record *r;
	char p[] = "id,name,village\nw-1,Wu,lin/east/elm\n";
	char f[] = "id,person,time,temperature\nf-1,w-1,2026-12-06T08:00,36.5\n";

	(void)t;
	test_scratch_path(dir, sizeof(dir), "ledger", "csv-township");
	assert_int_equal(hm_node_create(dir, HM_ROLE_TOWNSHIP, "lin/east", "east", NULL, NULL),
	                 HM_OK);
	assert_int_equal(hm_node_open(dir, NULL, &n), HM_OK);
	hm_ledger_init(&l, n);
	assert_int_equal(hm_csv_import(&l, "person", p, strlen(p), &o, &res), HM_OK);
	hm_csv_result_release(&res);
	assert_int_equal(hm_csv_import(&l, "followup", f, strlen(f), &o, &res), HM_OK);
	assert_int_equal(res.verdict, HM_CSV_WRITTEN);
	hm_csv_result_release(&res);
	assert_int_equal(hm_node_get(n, "followup", "f-1", &r), HM_OK);
	assert_string_equal(r->region, "lin/east/elm");
	hm_record_free(r);
	hm_node_close(n);
}

static void test_file_errors(void **state)
{
	csv_fixture *t = *state;
	hm_csv_import_opts o = {.name = "x.csv"};

	assert_int_equal(import(t, "persons", "name\nA\n", &o), HM_ERR_SCHEMA);
	assert_int_equal(import(t, "_setting", "value\nA\n", &o), HM_ERR_SCHEMA);
	assert_int_equal(import(t, "person", "name,temp\nA,1\n", &o), HM_ERR_SCHEMA);
	assert_non_null(strstr(hm_node_errmsg(t->n), "x.csv: column 'temp' is not a field"));
	assert_int_equal(import(t, "person", "", &o), HM_ERR_INVALID);
	assert_string_equal(hm_node_errmsg(t->n),
	                    "x.csv is empty: its first row must name the columns");
	assert_int_equal(import(t, "person", "name\n\"never\nclosed\n", &o), HM_ERR_INVALID);
	assert_non_null(strstr(hm_node_errmsg(t->n), "line 2: a quoted field"));
	assert_int_equal(import(t, "person", "name\n\xd5\xc5\xc8\xfd\n", &o), HM_ERR_INVALID);
	assert_non_null(strstr(hm_node_errmsg(t->n), "line 2 is not UTF-8 text"));
	assert_int_equal(import(t, "stock", "item,quantity\n", &o), HM_ERR_SCHEMA);
	assert_int_equal(import(t, "person", "name,purged\nA,2026-12-01\n", &o), HM_ERR_SCHEMA);
	assert_int_equal(import(t, "followup", "person,temperature\nw,36\n", &o), HM_ERR_INVALID);
	assert_non_null(strstr(hm_node_errmsg(t->n), "needs the field 'time'"));
}

static void test_gbk_look(void **state)
{
	csv_fixture *t = *state;
	hm_csv_import_opts o = {.name = "gbk.csv"};
	const char *text = "id,name\ng-1,\xd0\xbb\xce\xb0\n"; /* 谢伟 in GBK */
	char buf[256];

	assert_int_equal(import(t, "person", text, &o), HM_ERR_INVALID);
	assert_true(t->res.gbk);
	assert_non_null(strstr(hm_node_errmsg(t->n), "line 2, column 'name'"));
	assert_non_null(strstr(hm_node_errmsg(t->n), "as GBK it reads '谢*'"));
	assert_string_equal(FIELD("person", "g-1", "name"), "<no record>");
	o.utf8_known = true;
	assert_int_equal(import(t, "person", text, &o), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_WRITTEN);
	/* a column skipped with --map COL=- is not read: neither judged nor quoted (review: an ID
	 * number skipped this way was printed in clear in the refusal) */
	hm_csv_map skip = {"id_number", "-"};
	hm_csv_import_opts o2 = {.name = "gbk.csv", .map = &skip, .nmap = 1};
	assert_int_equal(import(t, "person", "id,name,id_number\ng-2,Wu,\xd0\xbb\xce\xb0\n", &o2),
	                 HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_WRITTEN);
}

static void note_progress(void *arg, size_t rows, bool done)
{
	size_t *calls = arg;
	calls[done ? 1 : 0]++;
	assert_int_equal(rows % HM_CSV_PROGRESS, done ? rows % HM_CSV_PROGRESS : 0);
}

static int count_new_ids(void *arg, const hm_record *r)
{
	size_t *n = arg;
	*n += !strncmp(r->id, "p-", 2) && strlen(r->id) > 10;
	return 0;
}

static void test_maps_new_ids_progress(void **state)
{
	csv_fixture *t = *state;
	hm_csv_map map[] = {{"名字", "name"}, {"备注", "-"}};
	size_t calls[2] = {0, 0}, cap = 64 + 24 * (HM_CSV_PROGRESS + 5), o = 0;
	hm_csv_import_opts opt = {.map = map,
	                          .nmap = 2,
	                          .dry_run = true,
	                          .progress = note_progress,
	                          .progress_arg = calls};
	char *text = malloc(cap);

	assert_non_null(text);
	o += (size_t)snprintf(text, cap, "名字,性别,备注\n");
	for (size_t i = 0; i < HM_CSV_PROGRESS + 5; i++)
		o += (size_t)snprintf(text + o, cap - o, "N%zu,男,x\n", i);
	assert_int_equal(import(t, "person", text, &opt), HM_OK);
	assert_int_equal(t->res.verdict, HM_CSV_CHECKED);
	assert_int_equal(t->res.good, HM_CSV_PROGRESS + 5);
	assert_int_equal(calls[0], 1);
	assert_int_equal(calls[1], 1);
	opt.dry_run = false, opt.progress = NULL;
	assert_int_equal(import(t, "person", "名字,备注\nA,x\nB,y\n", &opt), HM_OK);
	assert_int_equal(t->res.written, 2);
	free(text);
	calls[0] = 0;
	assert_int_equal(hm_node_list(t->n, "person", count_new_ids, calls), HM_OK);
	assert_int_equal(calls[0], 2); /* new ids: p-<time><writer><random> */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_template_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_persons_must_exist, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_field_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rows_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_region_of_person, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gbk_look, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maps_new_ids_progress, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
