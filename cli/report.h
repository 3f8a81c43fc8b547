/*
 * report.h - `hamlet report`: the command (report.c). The ledger builds the report and renders
 * it as text, CSV, JSON or one HTML page (ledger.h, Reports: hm_report_render), so the four
 * formats always say the same thing.
 */
#ifndef HM_CLI_REPORT_H
#define HM_CLI_REPORT_H

#include <stdio.h>

#include "ledger.h"

/* `hamlet report NAME ...` (report.c), and its --help (for `hamlet help report`). */
struct cli;
int cmd_report(struct cli *c, int argc, char **argv);
void cmd_report_help(FILE *f);

#endif
