/* test_clock_trust.c - wrong clocks and certificates (issue #10, part 5). A village whose clock is
 * behind its issuer's by less than the tolerance (two drifts: each clock may be off by one)
 * enrolls, writes, and its change sets verify at the county; one whose clock falls back before
 * its certificate starts keeps writing; one further behind than the tolerance is told plainly by
 * how much. Real LMDB and libsodium; the default drift (one day). */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything v wrote, applied at the county: all new, none refused or quarantined. */
static void county_takes(tnode *c, tnode *v)
{
	test_envs e = {0};
	hm_apply_stats st = {0};

	test_envs_collect(v->n, NULL, &e);
	assert_int_equal(hm_node_apply(c->n, e.v, e.n, &st, NULL), HM_OK);
	if (st.refused || st.quarantined)
		fail_msg("the county refused %zu, quarantined %zu of %s's change sets (%s)",
		         (size_t)st.refused, (size_t)st.quarantined, v->region,
		         hm_node_errmsg(c->n));
	test_envs_release(&e);
}

static void must_write(tnode *v, const char *id, const char *name)
{
	hm_err err = test_set_str(v->n, "person", id, "name", name, NULL);
	if (err)
		fail_msg("%s could not write at %lld ms from the county: %s (%s)", v->region,
		         (long long)v->clock.now_ms - (long long)TEST_T0_MS, hm_strerror(err),
		         hm_node_errmsg(v->n));
}

/* A village 20 hours behind the county that enrolls it: it could not accept ("certificate is
 * not yet valid") when the certificate started an hour before the issuer's clock. */
static void test_enroll_behind(void **state)
{
	tnode c, v;
	(void)state;

	tnode_init(&c, "clkt_eb_c", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	tnode_init(&v, "clkt_eb_v", HM_ROLE_VILLAGE, TT_V1, 0x01);
	c.clock.now_ms += 2 * TT_DAY_MS; /* the root's own not_before is a day before its birth */
	v.clock.now_ms = c.clock.now_ms - 20 * TT_HOUR_MS;
	tnode_enroll(&c, &v, 365, false);
	must_write(&v, "p1", "behind");
	county_takes(&c, &v);
	tnode_release(&c);
	tnode_release(&v);
}

/* Villages enrolled with a right clock whose clocks then fall back before their first write
 * (nothing of their own has moved their clocks yet): two hours, and a week (beyond the bound:
 * it still writes, its stamps follow its certificate). */
static void test_clock_falls_back(void **state)
{
	tnode c, v1, v2;
	(void)state;

	tnode_init(&c, "clkt_fb_c", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	tnode_init(&v1, "clkt_fb_v1", HM_ROLE_VILLAGE, TT_V1, 0x01);
	tnode_init(&v2, "clkt_fb_v2", HM_ROLE_VILLAGE, TT_V2, 0x02);
	c.clock.now_ms += 3 * TT_DAY_MS, v1.clock.now_ms += 3 * TT_DAY_MS;
	v2.clock.now_ms += 3 * TT_DAY_MS;
	tnode_enroll(&c, &v1, 365, false);
	tnode_enroll(&c, &v2, 365, false);
	v1.clock.now_ms -= 2 * TT_HOUR_MS;
	must_write(&v1, "p1", "two hours back");
	must_write(&v1, "p1", "still two hours back");
	county_takes(&c, &v1);
	v2.clock.now_ms -= 7 * TT_DAY_MS;
	must_write(&v2, "p2", "a week back");
	must_write(&v2, "p2", "still a week back");
	county_takes(&c, &v2);
	tnode_release(&c);
	tnode_release(&v1);
	tnode_release(&v2);
}

/* Three days behind its issuer: more than the tolerance. The answer is refused, and the message
 * says the clock is behind and by how much; the node stays unenrolled and can accept the same
 * answer once its clock is set right. */
static void test_enroll_far_behind(void **state)
{
	tnode c, v;
	uint8_t *req = NULL, *ans = NULL;
	size_t rl = 0, al = 0;
	hm_enroll_info info;
	hm_node_info ci, vi;
	(void)state;

	tnode_init(&c, "clkt_fa_c", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	tnode_init(&v, "clkt_fa_v", HM_ROLE_VILLAGE, TT_V1, 0x01);
	c.clock.now_ms += 5 * TT_DAY_MS;
	v.clock.now_ms = c.clock.now_ms - 3 * TT_DAY_MS;
	assert_int_equal(hm_enroll_request(v.n, &req, &rl), HM_OK);
	assert_int_equal(hm_enroll_sign(c.n, req, rl, 365, false, &ans, &al, &info), HM_OK);
	assert_int_equal(hm_node_info_get(c.n, &ci), HM_OK);
	assert_int_equal(hm_enroll_accept(v.n, ans, al, &ci.root, &info), HM_ERR_CRYPTO);
	assert_non_null(strstr(hm_node_errmsg(v.n), "certificate is not yet valid"));
	assert_non_null(strstr(hm_node_errmsg(v.n),
	                       "clock is more than twice the allowed drift (1440 minutes) "
	                       "behind its issuer's, by at least 1440 minutes more"));
	assert_int_equal(hm_node_info_get(v.n, &vi), HM_OK);
	assert_false(vi.enrolled);
	v.clock.now_ms = c.clock.now_ms;
	assert_int_equal(hm_enroll_accept(v.n, ans, al, &ci.root, &info), HM_OK);
	free(req);
	free(ans);
	tnode_release(&c);
	tnode_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enroll_behind),
	    cmocka_unit_test(test_clock_falls_back),
	    cmocka_unit_test(test_enroll_far_behind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
