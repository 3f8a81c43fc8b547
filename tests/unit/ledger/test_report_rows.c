/* test_report_rows.c - a report built for a window of rows (hm_report_params.rows): every
 * report of the county of support_report.c built whole and with 1, 2 and 3 rows a list; each
 * list holds the first rows of the whole one, cell for cell, and counts the rest; tables of
 * figures per region are held whole; the renderers of whole documents refuse it, and the body's
 * window says how many rows there are in all. */
#include "support_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

RPT_COUNTY_FIXTURE("rows")

static void build(const char *name, const char *person, size_t rows, hm_report *r)
{
	hm_report_params p = {.name = name, .date = RPT_D, .person = person, .rows = rows};

	assert_int_equal(hm_report_build(&county.l, &p, r), HM_OK);
	assert_false(r->nomem);
}

static bool cells_equal(const hm_report_table *a, const hm_report_table *b, size_t j)
{
	for (size_t k = 0; k < a->ncols; k++) {
		const hm_report_cell *x = &a->rows[j].cells[k], *y = &b->rows[j].cells[k];
		if (x->kind != y->kind || x->decimals != y->decimals ||
		    (x->kind == HM_REPORT_NUM && x->num != y->num) ||
		    (x->kind == HM_REPORT_TEXT && strcmp(x->text, y->text) != 0))
			return false;
	}
	return true;
}

/* win holds the first rows of whole and counts the others; returns the lists cut short. */
static size_t compare(const hm_report *whole, const hm_report *win, size_t rows)
{
	size_t cut = 0;

	assert_int_equal(win->ntables, whole->ntables);
	/* the access log counts every person the report lists, held or not */
	assert_int_equal(win->persons_listed, whole->persons_listed);
	for (size_t i = 0; i < whole->ntables; i++) {
		const hm_report_table *a = whole->tables[i], *b = win->tables[i];
		bool per_region = false;
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->rows_more, 0);
		for (size_t j = 0; j < a->nrows; j++)
			per_region |= a->rows[j].kind != HM_REPORT_ROW_DATA;
		per_region |= a->chart >= 0; /* bars scaled against the largest: whole too */
		if (per_region)              /* figures per region, a subtotal and a total: whole */
			assert_int_equal(b->nrows, a->nrows);
		assert_int_equal(b->nrows + b->rows_more, a->nrows);
		if (b->nrows > rows && !per_region)
			fail_msg("%s: table %s holds %zu rows in a window of %zu", whole->name,
			         a->name, b->nrows, rows);
		if (b->rows_more) {
			assert_int_equal(b->nrows, rows); /* a list cut holds as many as it may */
			cut++;
		}
		for (size_t j = 0; j < b->nrows; j++)
			if (!cells_equal(a, b, j))
				fail_msg("%s: table %s row %zu differs in a window of %zu",
				         whole->name, a->name, j + 1, rows);
	}
	return cut;
}

static void test_rows_each_report(void **state)
{
	const char *const *names = hm_report_names();
	size_t cut = 0;
	(void)state;

	for (size_t i = 0; names[i]; i++)
		for (int with_person = 0; with_person < 2; with_person++) {
			const char *person = with_person ? "p2" : NULL;
			hm_report whole;
			if (person && strcmp(names[i], "contacts") != 0)
				continue;
			build(names[i], person, 0, &whole);
			for (size_t rows = 1; rows <= 3; rows++) {
				hm_report win;
				build(names[i], person, rows, &win);
				assert_int_equal(win.rows_max, rows);
				cut += compare(&whole, &win, rows);
				hm_report_release(&win);
			}
			hm_report_release(&whole);
		}
	/* the county's lists are long enough for a window of 1 to 3 to cut some of them: the
	 * fever alerts (3), the persons not seen (2), the contacts' chains and trees, ... */
	assert_true(cut >= 10);
}

/* A window no smaller than every list is the whole report. */
static void test_rows_enough_is_whole(void **state)
{
	hm_report whole, win;
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	(void)state;

	build("monitoring", NULL, 0, &whole);
	build("monitoring", NULL, 1000, &win);
	assert_int_equal(hm_report_render_mem(&whole, HM_REPORT_FMT_JSON, 0, &a, &na), HM_OK);
	assert_int_equal(hm_report_render_mem(&win, HM_REPORT_FMT_JSON, 0, &b, &nb), HM_OK);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
	hm_report_release(&whole);
	hm_report_release(&win);
}

/* A document of the report (text, CSV, JSON, a page) would say less than it seems to: refused,
 * nothing written. */
static void test_rows_whole_documents_refused(void **state)
{
	static const hm_report_format fmts[] = {HM_REPORT_FMT_TEXT, HM_REPORT_FMT_CSV,
	                                        HM_REPORT_FMT_JSON, HM_REPORT_FMT_HTML};
	hm_report win;
	(void)state;

	build("monitoring", NULL, 1, &win);
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char *out = NULL;
		size_t n = 0;
		assert_int_equal(hm_report_render_mem(&win, fmts[i], 0, &out, &n), HM_ERR_INVALID);
		assert_null(out);
	}
	{ /* the body too, unless it writes a window */
		char *page = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&page, &n);
		assert_non_null(f);
		assert_int_equal(hm_report_render_body(&win, NULL, f), HM_ERR_INVALID);
		fclose(f);
		assert_int_equal(n, 0);
		free(page);
	}
	hm_report_release(&win);
}

static size_t first_of(void *arg, const hm_report_table *t)
{
	return !strcmp(t->name, "fever_alerts") ? *(size_t *)arg : 0;
}

/* The body of win with one row a window, the fever alerts' window from row first. */
static char *body_at(const hm_report *win, size_t first)
{
	hm_report_html h = {0};
	char *page = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&page, &n);

	assert_non_null(f);
	h.rows_max = 1, h.first = first_of, h.arg = &first;
	assert_int_equal(hm_report_render_body(win, &h, f), HM_OK);
	fclose(f);
	return page;
}

/* The body's window of a list built for it: the count of all its rows, the rows held; a window
 * past what is held shows none of them rather than other rows. */
static void test_rows_body_window(void **state)
{
	hm_report win;
	char *page;
	(void)state;

	build("monitoring", NULL, 2, &win);
	page = body_at(&win, 1);
	/* the second of three fever alerts (p8 at 07:00), "rows 2-2 of 3" */
	assert_non_null(strstr(page, "rows 2-2 of 3"));
	assert_non_null(strstr(page, "2026-02-03T07:00"));
	assert_null(strstr(page, "2026-02-02T09:00"));
	free(page);
	page = body_at(&win, 2); /* the third is not held */
	assert_null(strstr(page, "2026-02-03T18:00"));
	assert_null(strstr(page, "2026-02-03T07:00"));
	assert_null(strstr(page, "2026-02-02T09:00"));
	free(page);
	hm_report_release(&win);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows_each_report),
	    cmocka_unit_test(test_rows_enough_is_whole),
	    cmocka_unit_test(test_rows_whole_documents_refused),
	    cmocka_unit_test(test_rows_body_window),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
