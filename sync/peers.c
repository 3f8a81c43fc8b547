/*
 * peers.c - the peers of a node (DIR/peers), how the syncs with each went (DIR/peers.state,
 * DIR/peer-NAME.vv), and the outcome of one sync. The formats are in sync.h.
 */
#include "sync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_LEN 600
#define PATH_CAP     4200

bool hm_peer_url_valid(const char *u)
{
	return (!strncmp(u, "tcp://", 6) || !strncmp(u, "ws://", 5) || !strncmp(u, "ipc://", 6)) &&
	       strlen(u) <= HM_PEER_URL_MAX && !strpbrk(u, " \t\n");
}

bool hm_listen_urls_valid(const char *urls)
{
	char one[HM_PEER_URL_MAX + 1];
	size_t n = 0;

	for (const char *p = urls;; p++) {
		size_t len = strcspn(p, ",");
		if (len > HM_PEER_URL_MAX || ++n > HM_LISTEN_URLS_MAX)
			return false;
		memcpy(one, p, len);
		one[len] = '\0';
		if (!hm_peer_url_valid(one))
			return false;
		p += len;
		if (!*p)
			return true;
	}
}

bool hm_peer_name_valid(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > HM_PEER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-' ||
		      n[i] == '_'))
			return false;
	return true;
}

static hm_err path_of(const char *dir, const char *file, char *out, size_t cap)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, file) >= cap)
		return hm_sync_fail(HM_ERR_INVALID, "%s/%s: the name is too long", dir, file);
	return HM_OK;
}

/* One line of DIR/peers.state onto the peer it names; a line without its six numbers, or for
 * no peer, is skipped. */
static void state_line(hm_peers *ps, const char *line)
{
	char name[HM_PEER_NAME_MAX + 1];
	uint64_t ok, er;
	unsigned fails;
	size_t sent, recv;
	int used = 0;
	hm_link *l;

	if (sscanf(line, "%32s %" SCNu64 " %" SCNu64 " %u %zu %zu %n", name, &ok, &er, &fails,
	           &sent, &recv, &used) < 6 ||
	    !(l = hm_peers_find(ps, name)))
		return;
	l->last_ok = ok, l->last_err = er, l->failures = fails;
	l->sent = sent, l->received = recv;
	snprintf(l->reason, sizeof(l->reason), "%s", line + used);
	l->reason[strcspn(l->reason, "\n")] = 0;
}

/* DIR/file opened for reading into *f; *f NULL (and no error) when it does not exist. */
static hm_err open_read(const char *dir, const char *file, FILE **f)
{
	char path[PATH_CAP];
	hm_err err;

	*f = NULL;
	if ((err = path_of(dir, file, path, sizeof(path))))
		return err;
	if (!(*f = fopen(path, "r")) && errno != ENOENT)
		return hm_sync_fail(HM_ERR_IO, "cannot read %s: %s", path, hm_strerrno(errno));
	return HM_OK;
}

hm_err hm_peers_load(const char *dir, hm_peers *ps)
{
	char line[LINE_MAX_LEN];
	hm_err err;
	FILE *f;

	memset(ps, 0, sizeof(*ps));
	if ((err = open_read(dir, "peers", &f)) || !f)
		return err;
	while (fgets(line, sizeof(line), f) && ps->n < HM_PEERS_MAX) {
		hm_link *l = &ps->p[ps->n];
		if (sscanf(line, "%32s %256s", l->name, l->url) == 2 &&
		    hm_peer_name_valid(l->name) && hm_peer_url_valid(l->url))
			ps->n++;
	}
	fclose(f);
	/* a state that cannot be read is an error: it would be saved over as if no sync had
	 * happened yet */
	if ((err = open_read(dir, "peers.state", &f)) || !f)
		return err;
	while (fgets(line, sizeof(line), f))
		state_line(ps, line);
	fclose(f);
	return HM_OK;
}

/* Write DIR/file whole (hm_file_replace: 0600, never through a planted link). On failure the
 * old file stays as it was. */
static hm_err write_atomic(const char *dir, const char *file, const char *text)
{
	char path[PATH_CAP];
	hm_err err;
	int e;

	if ((err = path_of(dir, file, path, sizeof(path))))
		return err;
	if ((e = hm_file_replace(path, text, strlen(text))))
		return hm_sync_fail(HM_ERR_IO, "cannot write %s: %s", path, hm_strerrno(e));
	return HM_OK;
}

hm_err hm_peers_save(const char *dir, const hm_peers *ps, hm_peers_file which)
{
	char *text = NULL;
	size_t len;
	FILE *m = open_memstream(&text, &len);
	hm_err err;

	if (!m)
		return hm_sync_fail(HM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < ps->n; i++) {
		const hm_link *l = &ps->p[i];
		if (which == HM_PEERS_STATE)
			fprintf(m, "%s %" PRIu64 " %" PRIu64 " %u %zu %zu %s\n", l->name,
			        l->last_ok, l->last_err, l->failures, l->sent, l->received,
			        l->reason);
		else
			fprintf(m, "%s %s\n", l->name, l->url);
	}
	if (hm_stream_close(m) != 0 || !text) {
		free(text);
		return hm_sync_fail(HM_ERR_NOMEM, "out of memory");
	}
	err = write_atomic(dir, which == HM_PEERS_STATE ? "peers.state" : "peers", text);
	free(text);
	return err;
}

hm_link *hm_peers_find(hm_peers *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->p[i].name, name))
			return &ps->p[i];
	return NULL;
}

hm_err hm_peers_add(hm_peers *ps, const char *name, const char *url)
{
	hm_link *l;

	if (!hm_peer_name_valid(name))
		return hm_sync_fail(HM_ERR_INVALID, "a peer name is 1-32 of a-z, 0-9, - and _");
	if (!hm_peer_url_valid(url))
		return hm_sync_fail(HM_ERR_INVALID,
		                    "'%s' is not tcp://HOST:PORT, ws://HOST:PORT or ipc://PATH",
		                    url);
	if (strchr(url, ','))
		return hm_sync_fail(HM_ERR_INVALID,
		                    "'%s' is a list: a peer is one URL (one of those its daemon "
		                    "listens on)",
		                    url);
	if (hm_peers_find(ps, name))
		return hm_sync_fail(HM_ERR_EXISTS, "a peer named '%s' exists", name);
	if (ps->n == HM_PEERS_MAX)
		return hm_sync_fail(HM_ERR_FULL, "at most %d peers", HM_PEERS_MAX);
	l = &ps->p[ps->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->url, sizeof(l->url), "%s", url);
	return HM_OK;
}

hm_err hm_peers_remove(hm_peers *ps, const char *name)
{
	hm_link *l = hm_peers_find(ps, name);

	if (!l)
		return hm_sync_fail(HM_ERR_NOT_FOUND, "no peer named '%s'", name);
	memmove(l, l + 1, (size_t)(&ps->p[ps->n] - (l + 1)) * sizeof(*l));
	ps->n--;
	return HM_OK;
}

hm_err hm_link_remember(const char *dir, hm_node *node, const hm_link *l, const char *peer_region)
{
	char file[64 + HM_PEER_NAME_MAX], *vvs = NULL, *text = NULL;
	hm_err err = HM_OK;
	hm_vv vv;

	if (!hm_region_valid(peer_region))
		return hm_sync_fail(HM_ERR_INVALID, "'%s' is not a region", peer_region);
	if (hm_node_version_vector(node, &vv))
		return HM_OK; /* a count for status, not worth failing over */
	if (hm_vv_format(&vv, &vvs) || !(text = malloc(strlen(vvs) + strlen(peer_region) + 3))) {
		err = hm_sync_fail(HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	sprintf(text, "%s\n%s\n", peer_region, vvs);
	snprintf(file, sizeof(file), "peer-%s.vv", l->name);
	err = write_atomic(dir, file, text);
out:
	free(text);
	free(vvs);
	hm_vv_release(&vv);
	return err;
}

typedef struct waiting {
	const char *region;
	uint64_t n;
} waiting;

static int count_waiting(void *ctx, const hm_changeset_view *cs)
{
	waiting *w = ctx;
	w->n += hm_region_visible(w->region, cs->region);
	return 0;
}

hm_err hm_link_waiting(const char *dir, hm_node *node, const hm_link *l, uint64_t *count)
{
	char path[PATH_CAP], file[64 + HM_PEER_NAME_MAX], region[HM_REGION_MAX + 2];
	char *vvtext = NULL;
	size_t cap = 0;
	waiting w = {region, 0};
	hm_err err = HM_ERR_CORRUPT;
	hm_vv vv;
	FILE *f;

	snprintf(file, sizeof(file), "peer-%s.vv", l->name);
	if (!node || path_of(dir, file, path, sizeof(path)) || !(f = fopen(path, "r")))
		return hm_sync_fail(HM_ERR_NOT_FOUND, "no sync with %s has succeeded", l->name);
	if (fgets(region, sizeof(region), f) && getline(&vvtext, &cap, f) > 0) {
		region[strcspn(region, "\n")] = 0;
		vvtext[strcspn(vvtext, "\n")] = 0;
		if (hm_region_valid(region) && !hm_vv_parse(vvtext, &vv)) {
			err = hm_node_changesets(node, &vv, count_waiting, &w);
			hm_vv_release(&vv);
		}
	}
	free(vvtext);
	fclose(f);
	if (err == HM_ERR_CORRUPT)
		return hm_sync_fail(err, "%s is damaged", path);
	if (err)
		return hm_sync_fail(err, "%s", hm_node_errmsg(node));
	*count = w.n;
	return HM_OK;
}

hm_err hm_link_probe(hm_node *node, const hm_link *l, int timeout_ms, uint64_t *to_send,
                     uint64_t *to_receive)
{
	hm_sync_opts o = {.timeout_ms = timeout_ms};
	const char *why = NULL;
	hm_transport t;
	hm_err err;

	if ((err = hm_net_connect_within(l->url, timeout_ms, &t, &why)))
		return hm_sync_fail(err, "%s", why ? why : hm_strerror(err));
	err = hm_sync_probe(node, &t, &o, to_send, to_receive, NULL);
	t.close(t.ctx); /* the probe's reason is set; closing does not touch it */
	return err;
}

void hm_link_failed(hm_link *l, uint64_t now, const char *reason)
{
	snprintf(l->reason, sizeof(l->reason), "%s", reason ? reason : "");
	l->reason[strcspn(l->reason, "\n")] = 0;
	l->failures++;
	l->last_err = now;
	/* failures counts this one: retry number failures comes next */
	l->next_try = now + hm_retry_draw_ms(l->failures);
}

void hm_link_succeeded(hm_link *l, uint64_t now, size_t sent, size_t received, uint64_t every_ms)
{
	l->failures = 0;
	l->last_ok = now;
	l->reason[0] = 0;
	l->sent += sent, l->received += received;
	l->next_try = now + every_ms;
}

static uint64_t last_outcome(const hm_link *l)
{
	return l->last_ok > l->last_err ? l->last_ok : l->last_err;
}

void hm_peers_adopt(hm_peers *ps, const hm_peers *disk, const hm_link *except)
{
	for (size_t i = 0; i < ps->n; i++) {
		hm_link *l = &ps->p[i];
		const hm_link *d = NULL;

		if (l == except)
			continue;
		for (size_t j = 0; j < disk->n && !d; j++)
			if (!strcmp(disk->p[j].name, l->name) && !strcmp(disk->p[j].url, l->url))
				d = &disk->p[j];
		if (!d || last_outcome(d) <= last_outcome(l))
			continue;
		l->last_ok = d->last_ok, l->last_err = d->last_err;
		l->failures = d->failures;
		l->sent = d->sent, l->received = d->received;
		memcpy(l->reason, d->reason, sizeof(l->reason));
	}
}
