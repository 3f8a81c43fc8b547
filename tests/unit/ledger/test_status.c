/* test_status.c - a node's status (ledger/status.c) as the status command and the web's sync
 * page show it: a village holding one person, with one peer that last synced 30 s ago and one
 * that failed twice; its JSON, its text, a probe of a peer nobody answers, the clock warning. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL

static void open_village(field_env *e, char *url, size_t cap)
{
	hm_peers ps = {.n = 0};

	field_env_open(e, "status", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(field_run(e, "person", "add", "p-1", NULL, V("name=Li Wei")), HM_OK);
	snprintf(url, cap, "ipc://%s/nobody.ipc", e->dir);
	assert_int_equal(hm_peers_add(&ps, "county", url), HM_OK);
	assert_int_equal(hm_peers_add(&ps, "town", "tcp://127.0.0.1:1"), HM_OK);
	hm_link_succeeded(&ps.p[0], FIELD_T0_MS - 30000, 3, 2, 0);
	hm_link_failed(&ps.p[1], FIELD_T0_MS - 3 * 3600000ull, "refused");
	hm_link_failed(&ps.p[1], FIELD_T0_MS - 3 * 3600000ull, "refused");
	assert_int_equal(hm_peers_save(e->dir, &ps, HM_PEERS_LIST), HM_OK);
	assert_int_equal(hm_peers_save(e->dir, &ps, HM_PEERS_STATE), HM_OK);
}

static size_t count_of(const hm_status *s, const char *coll)
{
	for (size_t i = 0; i < s->ncoll; i++)
		if (!strcmp(s->colls[i].name, coll))
			return s->counts[i];
	fail_msg("no collection %s", coll);
	return 0;
}

static void test_status_model_json(void **state)
{
	field_env e;
	char url[1200];
	hm_status s;
	json_t *j, *p;
	(void)state;

	open_village(&e, url, sizeof(url));
	assert_int_equal(hm_status_read(&e.l, e.dir, false, &s), HM_OK);
	assert_int_equal(count_of(&s, "person"), 1);
	assert_int_equal(s.info.seq, 1);
	assert_int_equal(s.vv.n, 1);
	assert_true(s.peers_loaded);
	assert_int_equal(s.npeers, 2);
	assert_int_equal(s.peers[0].waiting, -1); /* no sync has succeeded through the library */
	assert_false(s.peers[0].probed);
	j = hm_status_json(&s);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "region")), "lin/east/elm");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "records"), "person")), 1);
	assert_false(json_is_true(json_object_get(json_object_get(j, "disk"), "full")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "clock"), "offset_ms")));
	p = json_array_get(json_object_get(j, "peers"), 1);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "town");
	assert_int_equal(json_integer_value(json_object_get(p, "failures")), 2);
	assert_string_equal(json_string_value(json_object_get(p, "last_error")), "refused");
	assert_int_equal(json_integer_value(json_object_get(p, "waiting_to_send")), -1);
	assert_null(json_object_get(p, "probe"));
	json_decref(j);
	hm_status_release(&s);
	field_env_close(&e);
}

/* The links alone (the web's /sync and /peers): the same peers, clock and identity, no counts. */
static void test_status_links(void **state)
{
	field_env e;
	char url[1200];
	hm_status all, links;
	(void)state;

	open_village(&e, url, sizeof(url));
	assert_int_equal(hm_status_read(&e.l, e.dir, false, &all), HM_OK);
	assert_int_equal(hm_status_read_links(&e.l, e.dir, false, &links), HM_OK);
	assert_int_equal(count_of(&links, "person"), 0);
	assert_int_equal(links.info.records, 0);
	assert_string_equal(links.info.region, all.info.region);
	assert_memory_equal(&links.info.id, &all.info.id, sizeof(all.info.id));
	assert_int_equal(links.vv.n, all.vv.n);
	assert_int_equal(links.npeers, all.npeers);
	for (size_t i = 0; i < all.npeers; i++) {
		assert_string_equal(links.peers[i].link.name, all.peers[i].link.name);
		assert_int_equal(links.peers[i].link.failures, all.peers[i].link.failures);
		assert_int_equal(links.peers[i].waiting, all.peers[i].waiting);
	}
	assert_int_equal(links.disk_full, all.disk_full);
	hm_status_release(&all);
	hm_status_release(&links);
	field_env_close(&e);
}

static void test_status_text(void **state)
{
	field_env e;
	char url[1200], *buf = NULL, want[1400];
	size_t len;
	hm_status s;
	FILE *f;
	(void)state;

	open_village(&e, url, sizeof(url));
	assert_int_equal(hm_status_read(&e.l, e.dir, false, &s), HM_OK);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(hm_status_write(&s, FIELD_T0_MS, f), HM_OK);
	fclose(f);
	assert_true(strncmp(buf, "node      ", 10) == 0);
	assert_non_null(strstr(buf,
	                       "\nname      status\nrole      village\nregion    lin/east/elm\n"
	                       "seq       1\nrecords  "));
	assert_non_null(strstr(buf, " person 1"));
	assert_non_null(strstr(buf, "\nkeys      none (a node for tests)\n"));
	assert_non_null(strstr(buf, "\nversion vector (1 origin):\n  "));
	assert_non_null(strstr(buf, "\nclock     not measured yet (a sync measures it against the "
	                            "peer); allowed drift "));
	assert_non_null(strstr(buf, "\npeers (2):\n  county       "));
	snprintf(want, sizeof(want), "%-28s last ok 30 s ago     sent 3, received 2\n", url);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf,
	                       "  town         tcp://127.0.0.1:1            last ok never       "
	                       " sent 0, received 0; 2 failures, last 3 h ago: refused\n"));
	free(buf);
	hm_status_release(&s);
	field_env_close(&e);
}

static void test_status_probe_and_clock(void **state)
{
	field_env e;
	char url[1200], warning[256];
	hm_status s;
	hm_clock_report k = {.known = true, .offset_ms = 3 * 86400000ll, .max_drift_ms = 300000};
	(void)state;

	open_village(&e, url, sizeof(url));
	assert_int_equal(hm_status_read(&e.l, e.dir, true, &s), HM_OK);
	assert_true(s.peers[0].probed);
	assert_false(s.peers[0].reachable); /* nobody listens there */
	assert_true(s.peers[0].probe_error[0] != '\0');
	hm_status_release(&s);
	assert_false(hm_status_clock_warning(&k, warning, sizeof(warning)));
	k.off = true;
	assert_true(hm_status_clock_warning(&k, warning, sizeof(warning)));
	assert_non_null(strstr(warning, "this station's clock is "));
	assert_non_null(strstr(warning, " behind its peer's, more than the allowed drift ("));
	field_env_close(&e);
}

static void test_bytes_text(void **state)
{
	char t[32];
	(void)state;
	hm_status_bytes_text(t, sizeof(t), 300 * 1024);
	assert_string_equal(t, "300 KiB");
	hm_status_bytes_text(t, sizeof(t), 12 * 1024 * 1024 + 512 * 1024);
	assert_string_equal(t, "12.5 MiB");
	hm_status_bytes_text(t, sizeof(t), 15ull << 30);
	assert_string_equal(t, "15.0 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_model_json), cmocka_unit_test(test_status_links),
	    cmocka_unit_test(test_status_text),       cmocka_unit_test(test_status_probe_and_clock),
	    cmocka_unit_test(test_bytes_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
