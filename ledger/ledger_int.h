/*
 * ledger_int.h - what the files of ledger/ share and no front end sees.
 */
#ifndef HM_LEDGER_INT_H
#define HM_LEDGER_INT_H

#include "ledger.h"

#endif
