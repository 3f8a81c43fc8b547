/*
 * users.c - the people of the station: roles, the one table of permissions, and the accounts
 * in DIR/users (see ledger.h, "People of the station", and docs/formats.md):
 *
 *   hamlet users 1
 *   NAME \t ROLE \t CREATED_MS \t CHANGED_MS \t PWHASH      one line per account, by name
 *   mac HEX64                                                 BLAKE2b-256 keyed, of all above
 *
 * The MAC key is hm_node_derive_key(node, "hm-users"): only the node's passphrase unlocks it.
 */
#include "i18n.h"
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define USERS_FILE  "users"
#define USERS_LOCK  "users.lock"
#define USERS_MAGIC "hamlet users 1\n"
#define USERS_LINE  (HM_USER_NAME_MAX + 16 + 2 * 21 + HM_PASSWORD_STR_BYTES + 8)
#define USERS_BYTES ((size_t)HM_USERS_MAX * USERS_LINE + 128)
#define MAC_LINE    (4 + 2 * HM_HASH_BYTES + 1) /* "mac " HEX "\n" */
#define PATH_CAP    4200

/* ---- Roles and the permissions table ---- */

#define R(x) (1u << (x))
static const struct {
	const char *name, *zh;
	unsigned rights;
} roles[] = {
    [HM_ROLE_CLERK] = {"clerk", "文书",
                       R(HM_RIGHT_FOLLOWUP) | R(HM_RIGHT_REGISTER) | R(HM_RIGHT_STOCK) |
                           R(HM_RIGHT_TIPS) | R(HM_RIGHT_NAMES) | R(HM_RIGHT_REPORTS) |
                           R(HM_RIGHT_SYNC)},
    [HM_ROLE_DOCTOR] = {"doctor", "医生",
                        R(HM_RIGHT_FOLLOWUP) | R(HM_RIGHT_REGISTER) | R(HM_RIGHT_NAMES)},
    [HM_ROLE_OFFICER] = {"officer", "干部",
                         R(HM_RIGHT_TIPS) | R(HM_RIGHT_NAMES) | R(HM_RIGHT_REVEAL) |
                             R(HM_RIGHT_REPORTS) | R(HM_RIGHT_QUESTIONS) | R(HM_RIGHT_AUDIT) |
                             R(HM_RIGHT_SYNC) | R(HM_RIGHT_EXPORT)},
    [HM_ROLE_AUDITOR] = {"auditor", "审计",
                         R(HM_RIGHT_NAMES) | R(HM_RIGHT_REVEAL) | R(HM_RIGHT_REPORTS) |
                             R(HM_RIGHT_QUESTIONS) | R(HM_RIGHT_AUDIT) | R(HM_RIGHT_SYNC) |
                             R(HM_RIGHT_EXPORT)},
};
#undef R
#define ROLE_VALID(r) ((r) >= HM_ROLE_CLERK && (r) <= HM_ROLE_AUDITOR)

const char *hm_user_role_name(hm_user_role r)
{
	return ROLE_VALID(r) ? roles[r].name : "unknown";
}

const char *hm_user_role_zh(hm_user_role r)
{
	return ROLE_VALID(r) ? roles[r].zh : "未知";
}

bool hm_user_role_parse(const char *word, hm_user_role *out)
{
	for (int r = HM_ROLE_CLERK; r <= HM_ROLE_AUDITOR; r++)
		if (!strcmp(word, roles[r].name) || !strcmp(word, roles[r].zh)) {
			*out = (hm_user_role)r;
			return true;
		}
	return false;
}

bool hm_role_may(hm_user_role r, hm_right what)
{
	return ROLE_VALID(r) && what >= HM_RIGHT_FOLLOWUP && what <= HM_RIGHT_EXPORT &&
	       (roles[r].rights & (1u << what));
}

/* ---- Names ---- */

/* Whether s[0..n) ends (at_end) or begins with white space: an ASCII space or tab, a no-break
 * space U+00A0, an ideographic space U+3000. */
static bool space_at(const char *s, size_t n, bool at_end)
{
	static const char *const spaces[] = {" ", "\t", "\xc2\xa0", "\xe3\x80\x80"};
	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		size_t k = strlen(spaces[i]);
		if (n >= k && !memcmp(at_end ? s + n - k : s, spaces[i], k))
			return true;
	}
	return false;
}

hm_err hm_user_name_check(const char *name, const char **why)
{
	size_t n = strlen(name);

	*why = n == 0                     ? _("is empty")
	       : n > HM_USER_NAME_MAX     ? _("is longer than 64 bytes")
	       : hm_id_check(name, why)   ? *why
	       : space_at(name, n, false) ? _("begins with a space")
	       : space_at(name, n, true)  ? _("ends with a space")
	                                  : NULL;
	return *why ? HM_ERR_INVALID : HM_OK;
}

/* ---- The file ---- */

typedef struct entry {
	hm_user u;
	char hash[HM_PASSWORD_STR_BYTES];
} entry;

typedef struct table {
	entry *e;
	size_t n;
	char path[PATH_CAP];
	int lock_fd; /* -1: not locked */
} table;

static void table_release(table *t)
{
	if (t->e) {
		hm_wipe(t->e, t->n * sizeof(*t->e));
		free(t->e);
	}
	t->e = NULL;
	t->n = 0;
	if (t->lock_fd >= 0)
		close(t->lock_fd); /* drops the flock */
	t->lock_fd = -1;
}

static entry *table_find(table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].u.name, name))
			return &t->e[i];
	return NULL;
}

/* The MAC of the file's text (everything before its mac line). */
static hm_err users_mac(hm_ledger *l, const char *text, size_t len, hm_hash *mac)
{
	uint8_t key[32];
	hm_err err;

	if ((err = hm_node_derive_key(l->node, "hm-users", key)))
		return hm_node_fail(
		    l->node, err, "the accounts need the node's keys: open it with its passphrase");
	hm_hash_keyed(key, text, len, mac);
	hm_wipe(key, sizeof(key));
	return HM_OK;
}

/* Take the lock of DIR/users (held until table_release), for a read that is followed by a
 * write: two commands at once then change the file one after the other. */
static hm_err table_lock(hm_ledger *l, const char *dir, table *t)
{
	char path[PATH_CAP];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, USERS_LOCK) >= sizeof(path))
		return hm_node_fail(l->node, HM_ERR_INVALID, "%s: the name is too long", dir);
	t->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (t->lock_fd < 0)
		return hm_node_fail(l->node, HM_ERR_IO, "cannot open %s: %s", path,
		                    hm_strerrno(errno));
	while (flock(t->lock_fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return hm_node_fail(l->node, HM_ERR_IO, "cannot lock %s: %s", path,
			                    hm_strerrno(errno));
	return HM_OK;
}

/* The whole of t->path into *out (owned: free), at most USERS_BYTES; *out NULL when there is
 * no file. */
static hm_err read_whole(hm_ledger *l, table *t, char **out, size_t *len)
{
	int fd = open(t->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	hm_err err = HM_OK;

	*out = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT)
		return HM_OK;
	if (fd < 0 || fstat(fd, &st) != 0) {
		err = hm_node_fail(l->node, HM_ERR_IO, "cannot read %s: %s", t->path,
		                   hm_strerrno(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = hm_node_fail(l->node, HM_ERR_IO, "cannot read %s: not a file", t->path);
		goto out;
	}
	if (st.st_size > (off_t)USERS_BYTES) {
		err = hm_node_fail(l->node, HM_ERR_CORRUPT, "the users file %s is too large",
		                   t->path);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 2))) {
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory reading %s", t->path);
		goto out;
	}
	/* One byte past its size: a file that grew since fstat is refused, not cut. */
	for (ssize_t r; got <= (size_t)st.st_size; got += (size_t)r)
		if ((r = read(fd, buf + got, (size_t)st.st_size + 1 - got)) <= 0) {
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			if (r < 0)
				err = hm_node_fail(l->node, HM_ERR_IO, "cannot read %s: %s",
				                   t->path, hm_strerrno(errno));
			break;
		}
	if (!err && got > (size_t)st.st_size)
		err = hm_node_fail(l->node, HM_ERR_CORRUPT, "%s changed while read", t->path);
	if (!err) {
		buf[got] = '\0';
		*out = buf; /* owned by the caller */
		*len = got;
		buf = NULL;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

static hm_err altered(hm_ledger *l, const table *t, const char *what)
{
	return hm_node_fail(l->node, HM_ERR_CORRUPT,
	                    "the users file %s was altered (%s): no account in it is accepted; "
	                    "move it away and add the accounts again",
	                    t->path, what);
}

/* One account line (NUL-terminated, without its newline) into e. */
static bool parse_line(char *line, entry *e)
{
	char *f[5], *save = NULL, *end;
	size_t k = 0;

	memset(e, 0, sizeof(*e));
	for (char *p = strtok_r(line, "\t", &save); p && k < 5; p = strtok_r(NULL, "\t", &save))
		f[k++] = p;
	if (k != 5 || strtok_r(NULL, "\t", &save) || strlen(f[0]) > HM_USER_NAME_MAX ||
	    !hm_user_role_parse(f[1], &e->u.role) || strlen(f[4]) >= sizeof(e->hash))
		return false;
	memcpy(e->u.name, f[0], strlen(f[0]));
	memcpy(e->hash, f[4], strlen(f[4]));
	errno = 0;
	e->u.created_ms = strtoull(f[2], &end, 10);
	if (*end || errno)
		return false;
	e->u.changed_ms = strtoull(f[3], &end, 10);
	return !*end && !errno;
}

/* Check the MAC of text (len bytes, NUL after them) and parse its accounts into t. */
static hm_err parse_users(hm_ledger *l, table *t, char *text, size_t len)
{
	size_t body = len >= MAC_LINE ? len - MAC_LINE : 0, magic = strlen(USERS_MAGIC), lines = 0;
	hm_hash mac, got;
	hm_err err;

	if (len < magic + MAC_LINE || memcmp(text, USERS_MAGIC, magic) != 0 ||
	    memcmp(text + body, "mac ", 4) != 0 || text[len - 1] != '\n' ||
	    (body > 0 && text[body - 1] != '\n'))
		return altered(l, t, "it is cut short or not a users file");
	text[len - 1] = '\0';
	if (hm_hex_decode(got.b, sizeof(got.b), text + body + 4))
		return altered(l, t, "its MAC line is damaged");
	if ((err = users_mac(l, text, body, &mac)))
		return err;
	if (!hm_hash_equal(&mac, &got))
		return altered(l, t,
		               "its MAC does not match: edited by hand, or from another station");
	text[body] = '\0';
	for (char *p = text + magic; p < text + body;
	     p = (char *)memchr(p, '\n', (size_t)(text + body - p)) + 1)
		lines++;
	if (lines > HM_USERS_MAX)
		return altered(l, t, "it holds more accounts than a station keeps");
	if (!(t->e = calloc(lines ? lines : 1, sizeof(*t->e))))
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory reading %s", t->path);
	for (char *p = text + magic, *nl; p < text + body; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + body - p)); /* text[body - 1] is one */
		*nl = '\0';
		if (strlen(p) != (size_t)(nl - p) || !parse_line(p, &t->e[t->n]))
			return altered(l, t, "a line does not read as an account");
		t->n++;
	}
	return HM_OK;
}

/* Read DIR/users into t (empty when there is none), after taking its lock when lock. */
static hm_err table_load(hm_ledger *l, const char *dir, table *t, bool lock)
{
	char *text = NULL;
	size_t len;
	hm_err err;

	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	if ((size_t)snprintf(t->path, sizeof(t->path), "%s/%s", dir, USERS_FILE) >= sizeof(t->path))
		return hm_node_fail(l->node, HM_ERR_INVALID, "%s: the name is too long", dir);
	/* Without the keys nothing can be checked or written: say so before anything else. */
	{
		hm_hash probe;
		if ((err = users_mac(l, "", 0, &probe)))
			return err;
	}
	if (lock && (err = table_lock(l, dir, t)))
		goto out;
	if ((err = read_whole(l, t, &text, &len)))
		goto out;
	if (text)
		err = parse_users(l, t, text, len);
out:
	if (text) {
		hm_wipe(text, len);
		free(text);
	}
	return err;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->u.name, ((const entry *)b)->u.name);
}

/* The text of the file for t's accounts (sorted by name), with its MAC line. */
static hm_err table_text(hm_ledger *l, table *t, char **out, size_t *len)
{
	FILE *m = open_memstream(out, len);
	char hex[2 * HM_HASH_BYTES + 1];
	hm_hash mac;
	hm_err err;

	if (!m)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory writing %s", t->path);
	if (t->n)
		qsort(t->e, t->n, sizeof(*t->e), entry_cmp);
	fputs(USERS_MAGIC, m);
	for (size_t i = 0; i < t->n; i++)
		fprintf(m, "%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\n", t->e[i].u.name,
		        hm_user_role_name(t->e[i].u.role), t->e[i].u.created_ms,
		        t->e[i].u.changed_ms, t->e[i].hash);
	if (hm_stream_close(m) != 0 || !*out) {
		free(*out);
		*out = NULL;
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory writing %s", t->path);
	}
	if ((err = users_mac(l, *out, *len, &mac)))
		return err;
	hm_hex_encode(hex, mac.b, sizeof(mac.b));
	{
		char *grown = realloc(*out, *len + MAC_LINE + 1);
		if (!grown)
			return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory writing %s",
			                    t->path);
		*out = grown;
	}
	snprintf(*out + *len, MAC_LINE + 1, "mac %s\n", hex);
	*len += MAC_LINE;
	return HM_OK;
}

/* Write text whole over t->path (hm_file_replace) and fsync the folder. On failure the old file
 * stays. */
static hm_err write_atomic(hm_ledger *l, const table *t, const char *text, size_t len)
{
	int e = hm_file_replace(t->path, text, len);
	hm_err err;

	if (e)
		return hm_node_fail(l->node, e == ENOSPC ? HM_ERR_FULL : HM_ERR_IO,
		                    "cannot write %s: %s", t->path, hm_strerrno(e));
	if ((err = hm_file_sync_parent(t->path)))
		return hm_node_fail(l->node, err, "cannot sync the folder of %s: %s", t->path,
		                    hm_strerror(err));
	return HM_OK;
}

static hm_err table_save(hm_ledger *l, table *t)
{
	char *text = NULL;
	size_t len = 0;
	hm_err err;

	if (!(err = table_text(l, t, &text, &len)))
		err = write_atomic(l, t, text, len);
	if (text) {
		hm_wipe(text, len);
		free(text);
	}
	return err;
}

/* ---- Accounts ---- */

static hm_err check_password(hm_ledger *l, const char *password)
{
	const char *why;
	if (hm_password_check(password, strlen(password), &why))
		return hm_node_fail(l->node, HM_ERR_INVALID, "the password is refused: %s", why);
	return HM_OK;
}

static hm_err hash_into(hm_ledger *l, entry *e, const char *password)
{
	hm_err err = hm_password_hash(e->hash, password, strlen(password));
	if (err)
		return hm_node_fail(l->node, err, "cannot hash the password: %s", hm_strerror(err));
	return HM_OK;
}

static hm_err find_or_fail(hm_ledger *l, table *t, const char *name, entry **e)
{
	const char *why;
	if (hm_user_name_check(name, &why))
		return hm_node_fail(l->node, HM_ERR_NOT_FOUND,
		                    "no account is named so: the name %s", why);
	if (!(*e = table_find(t, name)))
		return hm_node_fail(l->node, HM_ERR_NOT_FOUND, "no account is named %s", name);
	return HM_OK;
}

hm_err hm_user_add(hm_ledger *l, const char *dir, const char *name, hm_user_role role,
                   const char *password)
{
	table t;
	entry e = {0}, *grown;
	const char *why;
	hm_err err;

	if (hm_user_name_check(name, &why))
		return hm_node_fail(l->node, HM_ERR_INVALID, "the name %s", why);
	if (!ROLE_VALID(role))
		return hm_node_fail(l->node, HM_ERR_INVALID,
		                    "no such role: use clerk, doctor, officer or auditor");
	if ((err = check_password(l, password)))
		return err;
	if ((err = table_load(l, dir, &t, true)))
		goto out;
	if (table_find(&t, name)) {
		err = hm_node_fail(l->node, HM_ERR_EXISTS, "%s already has an account", name);
		goto out;
	}
	if (t.n >= HM_USERS_MAX) {
		err = hm_node_fail(l->node, HM_ERR_TOO_BIG,
		                   "this station has %u accounts, the most "
		                   "it keeps",
		                   HM_USERS_MAX);
		goto out;
	}
	memcpy(e.u.name, name, strlen(name));
	e.u.role = role;
	e.u.created_ms = e.u.changed_ms = hm_ledger_now_ms(l);
	if ((err = hash_into(l, &e, password)))
		goto out;
	if (!(grown = realloc(t.e, (t.n + 1) * sizeof(*t.e)))) {
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	t.e = grown;
	t.e[t.n++] = e;
	err = table_save(l, &t);
out:
	hm_wipe(&e, sizeof(e));
	table_release(&t);
	return err;
}

/* Change name's account: a new password (when password) or a new role (when role). */
static hm_err user_change(hm_ledger *l, const char *dir, const char *name, const char *password,
                          hm_user_role role)
{
	table t;
	entry *e;
	hm_err err;

	if (password && (err = check_password(l, password)))
		return err;
	if (!password && !ROLE_VALID(role))
		return hm_node_fail(l->node, HM_ERR_INVALID,
		                    "no such role: use clerk, doctor, officer or auditor");
	if ((err = table_load(l, dir, &t, true)) || (err = find_or_fail(l, &t, name, &e)))
		goto out;
	if (password && (err = hash_into(l, e, password)))
		goto out;
	if (!password)
		e->u.role = role;
	e->u.changed_ms = hm_ledger_now_ms(l);
	err = table_save(l, &t);
out:
	table_release(&t);
	return err;
}

hm_err hm_user_passwd(hm_ledger *l, const char *dir, const char *name, const char *password)
{
	return user_change(l, dir, name, password, 0);
}

hm_err hm_user_set_role(hm_ledger *l, const char *dir, const char *name, hm_user_role role)
{
	return user_change(l, dir, name, NULL, role);
}

hm_err hm_user_remove(hm_ledger *l, const char *dir, const char *name)
{
	table t;
	entry *e;
	hm_err err;

	if ((err = table_load(l, dir, &t, true)) || (err = find_or_fail(l, &t, name, &e)))
		goto out;
	hm_wipe(e, sizeof(*e));
	*e = t.e[--t.n];
	err = table_save(l, &t);
out:
	table_release(&t);
	return err;
}

hm_err hm_user_list(hm_ledger *l, const char *dir, hm_user **out, size_t *n)
{
	table t;
	hm_err err;

	*out = NULL;
	*n = 0;
	if ((err = table_load(l, dir, &t, false)))
		goto out;
	if (t.n == 0)
		goto out;
	qsort(t.e, t.n, sizeof(*t.e), entry_cmp);
	if (!(*out = malloc(t.n * sizeof(**out)))) {
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t.n; i++)
		(*out)[i] = t.e[i].u; /* owned by the caller */
	*n = t.n;
out:
	table_release(&t);
	return err;
}

/* A password verified at older costs: hashed again and saved, under the lock, if the account
 * is still as it was read. Best effort: the login stands whatever happens here. */
static void rehash(hm_ledger *l, const char *dir, const entry *seen, const char *password)
{
	table t;
	entry *e;

	if (!table_load(l, dir, &t, true) && (e = table_find(&t, seen->u.name)) &&
	    !strcmp(e->hash, seen->hash) && !hash_into(l, e, password))
		(void)table_save(l, &t);
	table_release(&t);
}

hm_err hm_user_login(hm_ledger *l, const char *dir, const char *name, const char *password,
                     hm_user *out)
{
	table t;
	entry *e;
	size_t len = strlen(password);
	hm_err err;

	if ((err = table_load(l, dir, &t, false)))
		goto out;
	e = table_find(&t, name);
	/* An unknown name is checked against the dummy hash: the same work, the same answer. */
	if (hm_password_verify(e ? e->hash : NULL, password, len) != HM_OK || !e) {
		err = hm_node_fail(l->node, HM_ERR_CRYPTO, "wrong name or password");
		goto out;
	}
	if (out)
		*out = e->u;
	if (hm_password_needs_rehash(e->hash))
		rehash(l, dir, e, password);
out:
	table_release(&t);
	return err;
}
