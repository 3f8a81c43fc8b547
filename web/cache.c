/*
 * cache.c - what pages built from the store (a report, the Today list), kept until the store
 * changes. The key says what was built (the page, its region, its date, masked or not); the
 * stamp (hm_node_stamp) says from which state of the store. An entry whose stamp is not the
 * store's is never returned. The least recently used entry gives way when the cache is full.
 * Only the server's one thread, under the node lock, calls these.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_ENTRIES 32
#define CACHE_BYTES   ((size_t)256 << 20) /* what the kept values may weigh together */
#define CACHE_KEY_MAX 240

typedef struct entry {
	char key[CACHE_KEY_MAX + 1];
	uint64_t stamp, used;
	bool restamp; /* valid over an access-log record (web_cache_restamp) */
	void *val;
	size_t bytes;
	web_cache_free_fn free;
} entry;

struct web_cache {
	entry e[CACHE_ENTRIES];
	uint64_t clock; /* counts uses, for least recently used */
	size_t bytes;
};

hm_err web_cache_new(web_cache **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return HM_ERR_NOMEM;
	return HM_OK;
}

static void drop(web_cache *c, entry *e)
{
	if (e->val && e->free)
		e->free(e->val);
	c->bytes -= e->bytes;
	memset(e, 0, sizeof(*e));
}

void web_cache_free(web_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		drop(c, &c->e[i]);
	free(c);
}

static entry *find(web_cache *c, const char *key)
{
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (c->e[i].val && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

void *web_cache_get(web_cache *c, const char *key, uint64_t stamp)
{
	entry *e = find(c, key);

	if (!e)
		return NULL;
	if (e->stamp != stamp) {
		drop(c, e);
		return NULL;
	}
	e->used = ++c->clock;
	return e->val;
}

/* The least recently used entry that holds a value, or NULL when none does. */
static entry *oldest(web_cache *c)
{
	entry *old = NULL;

	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (c->e[i].val && (!old || c->e[i].used < old->used))
			old = &c->e[i];
	return old;
}

/* The entry to fill: a free one, else the least recently used (emptied). */
static entry *slot(web_cache *c)
{
	entry *e;

	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (!c->e[i].val)
			return &c->e[i];
	e = oldest(c);
	drop(c, e);
	return e;
}

bool web_cache_put(web_cache *c, const char *key, uint64_t stamp, void *val, size_t bytes,
                   bool restamp, web_cache_free_fn free_fn)
{
	entry *e;

	if (strlen(key) > CACHE_KEY_MAX || bytes > CACHE_BYTES)
		return false;
	if ((e = find(c, key)))
		drop(c, e);
	/* make room: the least recently used go first */
	while (c->bytes + bytes > CACHE_BYTES && (e = oldest(c)))
		drop(c, e);
	e = slot(c);
	memcpy(e->key, key, strlen(key) + 1);
	e->stamp = stamp;
	e->used = ++c->clock;
	e->restamp = restamp;
	e->val = val;
	e->bytes = bytes;
	e->free = free_fn;
	c->bytes += bytes;
	return true;
}

void web_cache_restamp(web_cache *c, uint64_t before, uint64_t after)
{
	if (after != before + 1)
		return; /* another write landed between: what was built may be stale */
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (c->e[i].val && c->e[i].restamp && c->e[i].stamp == before)
			c->e[i].stamp = after;
}

hm_err web_record_access(web_req *r, const char *action, const char *what, size_t records)
{
	uint64_t before = hm_node_stamp(r->led.node);
	hm_err err = hm_ledger_record_access(&r->led, action, what, records);

	if (!err)
		web_cache_restamp(web_cache_of(r), before, hm_node_stamp(r->led.node));
	return err;
}
