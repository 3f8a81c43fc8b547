/*
 * session.c - who is logged in, in memory only: a table of sessions, each known by a random
 * 32-byte id (its cookie, hex) and holding its own random CSRF token; a session ends after
 * idle_ms without a request. Ids and tokens are kept as BLAKE2b hashes and compared in
 * constant time. And the login throttle: five wrong passwords for a name (twenty for the
 * station as a whole, a spray over many names) and each later try waits 2^(k-5) seconds, at
 * most 60, from the last wrong one. Only the web's one thread uses these: no lock.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SESSIONS_MAX      256
#define SESSIONS_ANON     64 /* of them, at most, the login forms' (no user yet) */
#define SESSIONS_PER_USER 8  /* a user's: a ninth login ends their oldest */
#define THROTTLE_NAMES    64
#define THROTTLE_FREE     5  /* wrong passwords for a name before the waits begin */
#define THROTTLE_STATION  20 /* for the station, over every name */
#define THROTTLE_MAX_S    60
#define THROTTLE_FORGET   (60u * 60 * 1000) /* an hour without a wrong try forgets them */

struct web_session {
	bool used, has_user;
	hm_hash id;   /* of the cookie's id */
	hm_hash csrf; /* of the token */
	char csrf_hex[WEB_TOKEN_HEX + 1];
	hm_user user;
	uint64_t last; /* monotonic ms */
	/* what a save said, for the page it redirects to (web_session_flash_*) */
	hm_hash flash_key; /* of the save's key; zero: none */
	bool flash;
	char flash_note[512], flash_warning[512];
};

typedef struct throttle {
	char name[HM_USER_NAME_MAX + 1];
	unsigned fails;
	uint64_t last;
} throttle;

struct web_sessions {
	uint64_t idle_ms;
	web_session s[SESSIONS_MAX];
	throttle names[THROTTLE_NAMES];
	throttle station;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

hm_err web_sessions_new(uint64_t idle_ms, web_sessions **out)
{
	web_sessions *t = calloc(1, sizeof(*t));

	if (!t)
		return HM_ERR_NOMEM;
	t->idle_ms = idle_ms;
	*out = t; /* owned by the caller: web_sessions_free */
	return HM_OK;
}

void web_sessions_free(web_sessions *t)
{
	if (!t)
		return;
	hm_wipe(t, sizeof(*t));
	free(t);
}

static void session_wipe(web_session *s)
{
	hm_wipe(s, sizeof(*s));
}

web_session *web_session_find(web_sessions *t, const char *cookie)
{
	uint64_t now = mono_ms();
	web_session *found = NULL;
	hm_hash h;

	if (strlen(cookie) != WEB_TOKEN_HEX)
		return NULL;
	hm_hash_buf(cookie, WEB_TOKEN_HEX, &h);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		web_session *s = &t->s[i];
		if (s->used && now - s->last > t->idle_ms)
			session_wipe(s); /* idle too long: ended, whoever asks */
		if (s->used && hm_hash_equal(&s->id, &h))
			found = s;
	}
	if (found)
		found->last = now;
	return found;
}

static web_session *older(web_session *a, web_session *b)
{
	return !a || b->last < a->last ? b : a;
}

/* The slot of a new session, the idle ones ended first. A login form's session takes a free
 * slot while fewer than SESSIONS_ANON are the login forms', else the oldest of those: a flood
 * of requests for /login (any page of any site can send them) never ends a user's session. A
 * user's takes that user's oldest once they have SESSIONS_PER_USER, else a free slot while the
 * users hold fewer than SESSIONS_MAX - SESSIONS_ANON, else the oldest user's. Never NULL. */
static web_session *slot_for(web_sessions *t, const hm_user *user)
{
	web_session *free_s = NULL, *old_anon = NULL, *old_user = NULL, *old_mine = NULL;
	size_t nanon = 0, nuser = 0, nmine = 0;
	uint64_t now = mono_ms();

	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		web_session *s = &t->s[i];
		if (s->used && now - s->last > t->idle_ms)
			session_wipe(s);
		if (!s->used) {
			free_s = free_s ? free_s : s;
		} else if (!s->has_user) {
			nanon++, old_anon = older(old_anon, s);
		} else {
			nuser++, old_user = older(old_user, s);
			if (user && !strcmp(s->user.name, user->name))
				nmine++, old_mine = older(old_mine, s);
		}
	}
	if (!user)
		return nanon < SESSIONS_ANON && free_s ? free_s : old_anon;
	if (nmine >= SESSIONS_PER_USER)
		return old_mine;
	return nuser < SESSIONS_MAX - SESSIONS_ANON && free_s ? free_s : old_user;
}

web_session *web_session_new(web_sessions *t, const hm_user *user,
                             char cookie_out[WEB_TOKEN_HEX + 1])
{
	web_session *slot = slot_for(t, user);
	uint8_t id[WEB_TOKEN_HEX / 2], csrf[WEB_TOKEN_HEX / 2];

	session_wipe(slot);
	hm_random_bytes(id, sizeof(id));
	hm_random_bytes(csrf, sizeof(csrf));
	hm_hex_encode(cookie_out, id, sizeof(id));
	hm_hex_encode(slot->csrf_hex, csrf, sizeof(csrf));
	hm_hash_buf(cookie_out, WEB_TOKEN_HEX, &slot->id);
	hm_hash_buf(slot->csrf_hex, WEB_TOKEN_HEX, &slot->csrf);
	hm_wipe(id, sizeof(id));
	hm_wipe(csrf, sizeof(csrf));
	slot->used = true;
	slot->has_user = user != NULL;
	if (user)
		slot->user = *user;
	slot->last = mono_ms();
	return slot;
}

void web_session_end(web_sessions *t, web_session *s)
{
	(void)t;
	if (s)
		session_wipe(s);
}

static int user_cmp(const void *name, const void *u)
{
	return strcmp(name, ((const hm_user *)u)->name);
}

/* The account is the one the session logged in: same name, made at the same time (not removed
 * and added again), no new password or role since. */
static bool user_same(const hm_user *s, const hm_user *now)
{
	return now && now->created_ms == s->created_ms && now->changed_ms == s->changed_ms &&
	       now->role == s->role;
}

void web_sessions_recheck(web_sessions *t, const hm_user *users, size_t n)
{
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		web_session *s = &t->s[i];
		if (s->used && s->has_user &&
		    !user_same(&s->user,
		               users ? bsearch(s->user.name, users, n, sizeof(*users), user_cmp)
		                     : NULL))
			session_wipe(s);
	}
}

void web_session_flash_set(web_session *s, const char *key, const char *note, const char *warning)
{
	hm_hash_buf(key, strlen(key), &s->flash_key);
	s->flash = true;
	snprintf(s->flash_note, sizeof(s->flash_note), "%s", note);
	snprintf(s->flash_warning, sizeof(s->flash_warning), "%s", warning);
}

bool web_session_flash_take(web_session *s, const char *key, char *note, size_t ncap, char *warning,
                            size_t wcap)
{
	hm_hash h;

	hm_hash_buf(key, strlen(key), &h);
	if (!s->flash || !hm_hash_equal(&s->flash_key, &h))
		return false;
	snprintf(note, ncap, "%s", s->flash_note);
	snprintf(warning, wcap, "%s", s->flash_warning);
	s->flash = false;
	return true;
}

const hm_user *web_session_user(const web_session *s)
{
	return s->has_user ? &s->user : NULL;
}

const char *web_session_csrf(const web_session *s)
{
	return s->csrf_hex;
}

bool web_session_csrf_ok(const web_session *s, const char *token)
{
	hm_hash h;

	if (!token || strlen(token) != WEB_TOKEN_HEX)
		return false;
	hm_hash_buf(token, WEB_TOKEN_HEX, &h);
	return hm_hash_equal(&s->csrf, &h);
}

void web_session_cookie(char *out, size_t cap, const char *id)
{
	snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", WEB_COOKIE_SESSION,
	         id ? id : "", id ? "" : "; Max-Age=0");
}

/* ---- the login throttle ---- */

/* The entry of name; a new one (the oldest giving way) when create. */
static throttle *throttle_of(web_sessions *t, const char *name, bool create)
{
	throttle *oldest = &t->names[0];
	uint64_t now = mono_ms();

	for (size_t i = 0; i < THROTTLE_NAMES; i++) {
		throttle *e = &t->names[i];
		if (e->fails && now - e->last > THROTTLE_FORGET)
			memset(e, 0, sizeof(*e));
		if (e->fails && !strcmp(e->name, name))
			return e;
		if (!e->fails || (oldest->fails && e->last < oldest->last))
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->name, sizeof(oldest->name), "%s", name);
	return oldest;
}

/* Seconds e must still wait, free wrong tries allowed. */
static unsigned wait_left(const throttle *e, unsigned free_tries, uint64_t now)
{
	uint64_t wait_ms, since;
	unsigned k;

	if (!e || e->fails < free_tries)
		return 0;
	k = e->fails - free_tries;
	wait_ms = (k >= 6                       ? THROTTLE_MAX_S
	           : (1u << k) < THROTTLE_MAX_S ? (1u << k)
	                                        : THROTTLE_MAX_S) *
	          1000ull;
	since = now - e->last;
	return since >= wait_ms ? 0 : (unsigned)((wait_ms - since + 999) / 1000);
}

bool web_login_wait(web_sessions *t, const char *name, unsigned *wait_s)
{
	uint64_t now = mono_ms();
	unsigned a = wait_left(throttle_of(t, name, false), THROTTLE_FREE, now),
	         b = wait_left(&t->station, THROTTLE_STATION, now);

	*wait_s = a > b ? a : b;
	return *wait_s > 0;
}

void web_login_failed(web_sessions *t, const char *name)
{
	throttle *e = throttle_of(t, name, true);
	uint64_t now = mono_ms();

	e->fails++, e->last = now;
	if (t->station.fails && now - t->station.last > THROTTLE_FORGET)
		t->station.fails = 0;
	t->station.fails++, t->station.last = now;
}

/* The station's count is not forgotten at a right password: anyone with an account of their
 * own (a doctor guessing the officer's password) could otherwise reset it between guesses. */
void web_login_ok(web_sessions *t, const char *name)
{
	throttle *e = throttle_of(t, name, false);

	if (e)
		memset(e, 0, sizeof(*e));
}
