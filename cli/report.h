/*
 * report.h - `hamlet report`: the command (report.c) and how it prints the model the ledger
 * builds (ledger.h, Reports) as text, CSV, JSON or one HTML page (render.c), so the four formats
 * always say the same thing.
 */
#ifndef HM_CLI_REPORT_H
#define HM_CLI_REPORT_H

#include <stdio.h>

#include "ledger.h"

typedef enum rp_format {
	RP_FMT_TEXT = 0,
	RP_FMT_CSV,
	RP_FMT_JSON,
	RP_FMT_HTML,
} rp_format;

/* Write r to f in the format. Returns 0, or -1 when writing failed (errno says why). */
int rp_render(const hm_report *r, rp_format fmt, FILE *f);

/* `hamlet report NAME ...` (report.c), and its --help (for `hamlet help report`). */
struct cli;
int cmd_report(struct cli *c, int argc, char **argv);
void cmd_report_help(FILE *f);

#endif
