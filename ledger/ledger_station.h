/*
 * ledger_station.h - the station's people and their day: the accounts of the persons who use a
 * station and what their role lets them do (users.c), and the clerk's day: who is due for a
 * check, checks entered in one write, a returnee registered in one write (today.c,
 * register.c). What the web interface's pages call; the command line calls the accounts. Part of
 * ledger.h, which includes it (include ledger.h, not this file); its conventions are ledger.h's.
 */
#ifndef HM_LEDGER_STATION_H
#define HM_LEDGER_STATION_H

#include "ledger.h"

/* ---- People of the station (users.c) ----
 *
 * The persons who use this station (clerks, doctors, officers, auditors) each have an account:
 * a name, a role and a password. Accounts are the station's own and never replicated: they are
 * kept in the file `users` of the node directory (format in docs/formats.md), written whole and
 * atomically (a temporary file, fsync, rename, fsync of the folder), read and changed under a
 * lock (the file `users.lock`), so two commands at once lose no account.
 *
 * Passwords are stored only as libsodium crypto_pwhash_str strings (Argon2id, INTERACTIVE
 * costs: hm_password_hash in crypto.h); a hash made at older costs is made again at the next
 * login. The file ends with a keyed BLAKE2b MAC under a key derived from the node's storage key
 * (hm_node_derive_key, context "hm-users"), which only the node's passphrase unlocks: a users
 * file edited by hand, copied from another station, or cut short is refused whole
 * (HM_ERR_CORRUPT, "the users file ... was altered"), so an account cannot be added by editing
 * the file of a copied node directory.
 *
 * Every function takes the node directory dir (where `users` is) and the ledger l, whose node
 * must be open with its keys (HM_ERR_CRYPTO otherwise); errors are reported through
 * hm_node_fail(l->node, ...) and read with hm_node_errmsg(l->node). A missing users file is a
 * station without accounts.
 *
 * Names: the word hm_role is the node's role in the county (crypto.h); a person's role is an
 * hm_user_role. */

/* The role of a person. */
typedef enum hm_user_role {
	HM_ROLE_CLERK = 1, /* village clerk: field work, stock, tips, sync */
	HM_ROLE_DOCTOR,    /* village doctor: follow-ups and registrations */
	HM_ROLE_OFFICER,   /* township officer: reports, questions, reveals, exports */
	HM_ROLE_AUDITOR,   /* county auditor: reports, the audit, reveals, exports */
} hm_user_role;

/* What a person may see or do; hm_role_may says which role may. */
typedef enum hm_right {
	HM_RIGHT_FOLLOWUP = 1, /* enter temperature checks (clerk, doctor) */
	HM_RIGHT_REGISTER,     /* persons, returns, episodes, contacts (clerk, doctor) */
	HM_RIGHT_STOCK,        /* stock received/issued/counted (clerk) */
	HM_RIGHT_TIPS,         /* tips, rewards, notices (clerk, officer) */
	HM_RIGHT_NAMES,        /* see persons' names (all four) */
	HM_RIGHT_REVEAL,       /* see phone and ID number unmasked (officer, auditor) */
	HM_RIGHT_REPORTS,      /* the six reports (officer, auditor; clerk: own village) */
	HM_RIGHT_QUESTIONS,    /* identity questions, duplicates, conflicts (officer, auditor) */
	HM_RIGHT_AUDIT,        /* the audit and each peer's state (auditor, officer) */
	HM_RIGHT_SYNC,         /* sync now, write a bundle (clerk, officer, auditor) */
	HM_RIGHT_EXPORT,       /* CSV downloads (officer, auditor) */
} hm_right;

/* "clerk", "doctor", "officer", "auditor"; "unknown" for any other value. Never fails. */
const char *hm_user_role_name(hm_user_role r);
/* The role's Chinese word: 文书, 医生, 干部, 审计; "未知" for any other value. Never fails. */
const char *hm_user_role_zh(hm_user_role r);
/* The role named by word: its English name or its Chinese word. False (out untouched) for any
 * other word. */
bool hm_user_role_parse(const char *word, hm_user_role *out);
/* Whether role r may what: the one table of permissions every front end consults. False for
 * an unknown role or right. */
bool hm_role_may(hm_user_role r, hm_right what);

#define HM_USER_NAME_MAX 64     /* bytes of UTF-8; Chinese names allowed */
#define HM_USERS_MAX     10000u /* accounts on one station */

typedef struct hm_user {
	char name[HM_USER_NAME_MAX + 1];
	hm_user_role role;
	uint64_t created_ms, changed_ms; /* the ledger's clock; changed: role or password */
} hm_user;

/* Whether name may name a person: 1 to HM_USER_NAME_MAX bytes of UTF-8, no control character,
 * bidi override or line separator (the rule of record ids, hm_id_check), no white space at
 * either end (a space, a tab, U+3000). Names are compared byte for byte. HM_OK, or
 * HM_ERR_INVALID with *why a static reason following the words "the name". */
hm_err hm_user_name_check(const char *name, const char **why) HM_MUST_CHECK;

/* A new account name with role and password (NUL-terminated; checked by hm_password_check; the
 * caller wipes its copy). Errors: HM_ERR_INVALID (the name, role or password, with why),
 * HM_ERR_EXISTS (the name has an account), HM_ERR_TOO_BIG (HM_USERS_MAX reached), HM_ERR_CORRUPT
 * (the users file is damaged or altered), HM_ERR_CRYPTO (node without keys), HM_ERR_NOMEM,
 * HM_ERR_IO. */
hm_err hm_user_add(hm_ledger *l, const char *dir, const char *name, hm_user_role role,
                   const char *password) HM_MUST_CHECK;
/* A new password for name's account. Errors: as hm_user_add; HM_ERR_NOT_FOUND (no account). */
hm_err hm_user_passwd(hm_ledger *l, const char *dir, const char *name,
                      const char *password) HM_MUST_CHECK;
/* A new role for name's account. Errors: as hm_user_passwd. */
hm_err hm_user_set_role(hm_ledger *l, const char *dir, const char *name,
                        hm_user_role role) HM_MUST_CHECK;
/* Remove name's account. Errors: HM_ERR_NOT_FOUND, and those of the file as hm_user_add. */
hm_err hm_user_remove(hm_ledger *l, const char *dir, const char *name) HM_MUST_CHECK;
/* Every account, sorted by name (bytes), into *out (owned by the caller: free; NULL when none)
 * and their count into *n. Errors: HM_ERR_CORRUPT, HM_ERR_CRYPTO, HM_ERR_NOMEM, HM_ERR_IO. */
hm_err hm_user_list(hm_ledger *l, const char *dir, hm_user **out, size_t *n) HM_MUST_CHECK;
/* HM_OK and *out (may be NULL) when name has an account and password is its password; a
 * password hashed at older costs is hashed again and saved (a failure to save is not the
 * login's). HM_ERR_CRYPTO "wrong name or password" for an unknown name or a wrong password
 * alike: an unknown name is checked against a dummy hash, so it takes the same time.
 * Other errors: HM_ERR_CORRUPT (the users file is damaged or altered: no one logs in),
 * HM_ERR_CRYPTO also for a node without keys, HM_ERR_NOMEM, HM_ERR_IO. */
hm_err hm_user_login(hm_ledger *l, const char *dir, const char *name, const char *password,
                     hm_user *out) HM_MUST_CHECK;

/* ==== The clerk's day: Today, checks entered in one write, a returnee registered (today.c,
 * register.c) ==== */

/* Today: every person under monitoring on a date (an episode started on or before it and not
 * ended by it: the reports' rule, a person registered twice counted once through merges) whose
 * village lies in a region, with what the day asks of them. Built from one reading of each
 * collection (persons, episodes, follow-ups, merges), as the reports are. A follow-up's slot is
 * its `slot`, or morning before 12:00 by its time (as `followup add` sets it). */
typedef struct hm_today_row {
	char person[HM_ID_MAX + 1]; /* the person (through merges: the one kept) */
	char name[128];             /* masked (hm_ledger_mask) unless the build revealed names */
	char compound[64];          /* "" when unknown; cut to fit, as are the fields below */
	char household[64];
	char village[HM_REGION_MAX + 1];
	char worker[64];                 /* the episode's worker */
	char episode[HM_ID_MAX + 1];     /* the episode the person is monitored under */
	char kind[16];                   /* home | central | monitoring */
	char start[11], planned_end[11]; /* planned_end "" when none */
	int checks_per_day;              /* the episode's (2 when unset); 1: one check a day */
	bool due_morning; /* no check yet in the morning slot of the date (checks_per_day 1: no
	                   * check yet that day, whatever its slot) */
	bool due_evening; /* no check yet in the evening slot of the date (never when 1 a day) */
	bool overdue;     /* an earlier day of the episode (start .. date - 1) lacks a check */
	int missed;       /* how many checks those earlier days lack */
	bool fever;       /* a temperature on the date or the day before at or above the county's
	                   * fever.threshold (the reports' setting) */
	bool ends_today;  /* planned_end is the date */
	double last_temp; /* the latest temperature of the episode up to the date; NaN when none */
	char last_time[20]; /* its time ("" when none) */
} hm_today_row;

typedef struct hm_today {
	char date[11];
	char region[HM_REGION_MAX + 1];
	double threshold;   /* the fever threshold used */
	bool revealed;      /* names in clear */
	hm_today_row *rows; /* owned; sorted by compound, household, name, then person id */
	size_t n;
} hm_today;

/* Build Today for region (NULL: the node's own region) on date (NULL: today by the ledger's
 * clock) into *out (zeroed first; release with hm_today_free, also on failure). Names are
 * masked unless reveal: a caller that shows revealed names records it first
 * (hm_ledger_record_access, "reveal", "today REGION DATE", out->n). Reads only.
 * Errors (reason in hm_node_errmsg): HM_ERR_INVALID (date not a date YYYY-MM-DD, region not a
 * region), HM_ERR_NOT_FOUND (region outside this node or with no person here:
 * hm_person_region_check), HM_ERR_SCHEMA (fever.threshold not a number), HM_ERR_NOMEM, and
 * those of hm_node_list. */
hm_err hm_today_build(hm_ledger *l, const char *region, const char *date, bool reveal,
                      hm_today *out) HM_MUST_CHECK;
/* Free what t owns and zero it; accepts NULL and a zeroed hm_today. */
void hm_today_free(hm_today *t);

/* One temperature check of a batch (hm_followup_batch): the values of `followup add` for one
 * person, as typed (Chinese words and dates taken as the verb takes them). Borrowed for the
 * call; every member but person may be NULL (not given: the verb's default). */
typedef struct hm_check_row {
	const char *person;      /* required */
	const char *slot;        /* morning | evening; NULL: from the time */
	const char *temperature; /* the reading; NULL or "" with result: none taken */
	const char *method;      /* visit | phone | self */
	const char *symptoms;
	const char *result; /* what happened instead of a reading (not at home, refused) */
	const char *worker;
	const char *time;    /* NULL: now */
	const char *episode; /* NULL: the one running, as the rule finds it (Today's row has it) */
} hm_check_row;

#define HM_CHECK_WHY       160  /* bytes of a row's reason in hm_followup_batch */
#define HM_CHECK_BATCH_MAX 2000 /* rows in one batch */

/* Record n checks in one write (one change set): each row is run by the rule of `followup
 * add` (hm_verb_check, then hm_verb_run's rule and checks: the same verb), every row before
 * anything is written. When any row is refused nothing is written, errs[i] holds row i's reason
 * ("" for a good row) and the error of the first bad row is returned, with "row K: REASON (N of
 * M rows refused; nothing written)" in hm_node_errmsg. errs: n entries, each "" unless its row
 * was refused. Rows without an episode have the one running found by the rule, from the
 * episodes read once for the whole batch. info (may be NULL): the change set written.
 * Errors: HM_ERR_INVALID (n is 0), HM_ERR_TOO_BIG (n > HM_CHECK_BATCH_MAX), those of
 * hm_verb_run for a bad row, HM_ERR_NOMEM and those of hm_node_list and hm_write_commit (then
 * every errs[i] is "" and nothing is written). */
hm_err hm_followup_batch(hm_ledger *l, const hm_check_row *rows, size_t n,
                         char (*errs)[HM_CHECK_WHY], hm_changeset_info *info) HM_MUST_CHECK;

/* A returnee as a clerk registers them: the person, their journey and their isolation. Every
 * member is borrowed for the call and may be NULL (not given) unless marked required; values
 * are typed as for the verbs (person add, return add, episode start). */
typedef struct hm_returnee {
	const char *name; /* required */
	const char *id_number, *phone, *sex, *birth_year, *address;
	const char *village; /* NULL: the node's own region */
	const char *compound, *household;
	/* the journey (return) */
	const char *from_area, *departure_date, *arrival_date, *transport, *vehicle, *route;
	/* the isolation (episode): kind NULL: home; start NULL: today; days NULL:
	 * HM_RETURNEE_DAYS; worker may be NULL */
	const char *kind, *start, *days, *worker;
} hm_returnee;

#define HM_RETURNEE_DAYS "14" /* days of isolation planned when none are given */

/* What hm_register_returnee wrote. */
typedef struct hm_register_result {
	char person[HM_ID_MAX + 1], ret[HM_ID_MAX + 1], episode[HM_ID_MAX + 1];
	/* a person this node holds with the same keyed ID hash (possible duplicate), or "" */
	char dup[HM_ID_MAX + 1];
	char note[512];         /* the notes of the three verbs, "" when none */
	hm_changeset_info info; /* the one change set */
} hm_register_result;

/* Register a returnee in one write (one change set): `person add` (category returnee), `return
 * add` and `episode start` (reason returnee), each by its verb's rule, the later ones taking the
 * person as registered. A person with the same keyed ID hash is a possible duplicate: named in
 * out->dup, and the write happens anyway unless refuse_dup. *out is zeroed first and says what
 * was written (dup also on a refusal). Errors (nothing written; reason in hm_node_errmsg):
 * HM_ERR_EXISTS (refuse_dup and a possible duplicate), those of hm_verb_run (HM_ERR_TYPE for a
 * bad ID number: the ledger's check, hm_idnum_check; HM_ERR_INVALID for days out of 1 to
 * 365), those of hm_write_commit. */
hm_err hm_register_returnee(hm_ledger *l, const hm_returnee *r, bool refuse_dup,
                            hm_register_result *out) HM_MUST_CHECK;

/* (end of the clerk's day) */

#endif
