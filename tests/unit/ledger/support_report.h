/* support_report.h - what the report tests share: a real node in a scratch directory with the
 * ledger's clock frozen, records written through the node's own write path, the small county of
 * docs/reports.md's examples (the one cli_report.sh used to check by hand), and a table of a
 * built report as text, one row a line, cells joined by '|' (no figure: '-'). */
#ifndef HM_TESTS_SUPPORT_REPORT_H
#define HM_TESTS_SUPPORT_REPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger.h"

/* 2026-02-03T10:00:00Z: the day D of the county's figures. */
#define RPT_NOW_MS 1770112800000ull
#define RPT_D      "2026-02-03"

typedef struct rpt_node {
	char dir[4096];
	hm_node *n;
	hm_ledger l;
	uint64_t now_ms; /* the ledger's and the node's clock */
} rpt_node;

/* Create and open a node of role and region in the scratch directory name, clocks frozen at
 * RPT_NOW_MS; the process runs in UTC. Fails the test when it cannot. */
void rpt_node_open(rpt_node *t, const char *name, hm_role role, const char *region);
void rpt_node_close(rpt_node *t);

/* One change set: COLLECTION, ID, then "field=value" texts ended by NULL, each parsed by its
 * field's type as `hamlet put` does. Fails the test when the write fails. */
void rpt_put(rpt_node *t, const char *coll, const char *id, ...);
/* A county setting. */
void rpt_setting(rpt_node *t, const char *name, const char *value);

/* The county of the examples: persons, merges, episodes, returns, follow-ups, checkpoints,
 * exposures, stock, shipments, notices, tips and penalties (support_report.c says who is who). */
void rpt_county(rpt_node *t);
/* The fixture of a test file: a static county `county` of rpt_county, named name (one scratch
 * directory a file), opened by setup and closed by teardown for cmocka. */
#define RPT_COUNTY_FIXTURE(name)                                                                   \
	static rpt_node county;                                                                    \
	static int setup(void **state)                                                             \
	{                                                                                          \
		(void)state;                                                                       \
		rpt_node_open(&county, name, HM_ROLE_COUNTY, "lin");                               \
		rpt_county(&county);                                                               \
		return 0;                                                                          \
	}                                                                                          \
	static int teardown(void **state)                                                          \
	{                                                                                          \
		(void)state;                                                                       \
		rpt_node_close(&county);                                                           \
		return 0;                                                                          \
	}

/* Build report name for RPT_D on t (region NULL: the node's); fails the test unless HM_OK. */
void rpt_build(rpt_node *t, const char *name, const char *region, hm_report *out);

/* Assert that table name of r holds exactly the rows of want ("a|b|1\nc|d|2\n"), naming the
 * first row and cell that differ. */
#define rpt_table_is(r, name, want) rpt_table_is_at(r, name, want, __FILE__, __LINE__)
void rpt_table_is_at(const hm_report *r, const char *name, const char *want, const char *file,
                     int line);

#endif
