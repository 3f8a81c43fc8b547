/*
 * bulk_put.c - write many person records into an enrolled node quickly, for the network tests.
 *
 *   bulk_put DIR PREFIX COUNT PER_CHANGESET PAD_BYTES
 *
 * Opens the node in DIR with the key file unlocked by $HAMLET_PASSPHRASE (as `hamlet` does),
 * then writes COUNT person records PREFIX-00000 ... in change sets of PER_CHANGESET records
 * each, every record with an address of PAD_BYTES random letters (so that compression does not
 * shrink them) and a sync carries megabytes.
 * `hamlet put` costs a process and a key unlock per record; this costs one of each in all.
 * Exit 0 when every change set committed, 1 otherwise (the reason on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "open_node.h"
#include "sync.h"

static hm_value str_value(const char *s)
{
	hm_value v = {.kind = HM_V_STR};
	v.u.s.p = s;
	v.u.s.n = (uint32_t)strlen(s);
	return v;
}

/* Fill pad (len letters) from the xorshift state *r: letters that do not compress away. */
static void fill_pad(char *pad, size_t len, uint64_t *r)
{
	for (size_t i = 0; i < len; i++) {
		*r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
		pad[i] = (char)('a' + *r % 26);
	}
}

static hm_err write_batch(hm_node *n, const char *prefix, unsigned from, unsigned count, char *pad,
                          size_t padn, uint64_t *r)
{
	hm_write *w;
	hm_changeset_info info;
	hm_err err;

	if ((err = hm_write_begin(n, &w)))
		return err;
	for (unsigned i = from; i < from + count && !err; i++) {
		char id[64], name[64];
		hm_value v;
		snprintf(id, sizeof(id), "%s-%05u", prefix, i);
		snprintf(name, sizeof(name), "Person %u of %s", i, prefix);
		v = str_value(name);
		if (!(err = hm_write_set(w, "person", id, "name", &v))) {
			fill_pad(pad, padn, r);
			v = str_value(pad);
			err = hm_write_set(w, "person", id, "address", &v);
		}
	}
	if (err) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, &info); /* consumes w */
}

int main(int argc, char **argv)
{
	const char *pass = getenv("HAMLET_PASSPHRASE");
	hm_node *n = NULL;
	char *pad = NULL;
	unsigned count, per, padn;
	uint64_t r = 0x2545f4914f6cdd1dull;
	hm_err err;
	int rc = 1;

	if (argc != 6 || !pass) {
		fprintf(stderr, "usage: HAMLET_PASSPHRASE=... bulk_put DIR PREFIX COUNT "
		                "PER_CHANGESET PAD_BYTES\n");
		return 2;
	}
	count = (unsigned)strtoul(argv[3], NULL, 10);
	per = (unsigned)strtoul(argv[4], NULL, 10);
	padn = (unsigned)strtoul(argv[5], NULL, 10);
	if (per == 0 || padn > 4000 || hm_crypto_init())
		return 2;
	if (!(n = test_open_node("bulk_put", argv[1], pass)))
		return 1;
	if (!(pad = malloc(padn + 1)))
		goto out;
	pad[padn] = 0;
	for (unsigned i = 0; i < count; i += per) {
		unsigned k = count - i < per ? count - i : per;
		if ((err = write_batch(n, argv[2], i, k, pad, padn, &r))) {
			fprintf(stderr, "bulk_put: record %u: %s (%s)\n", i, hm_strerror(err),
			        hm_node_errmsg(n));
			goto out;
		}
	}
	rc = 0;
out:
	free(pad);
	hm_node_close(n);
	return rc;
}
