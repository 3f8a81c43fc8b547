/* test_audit.c - the audit document (ledger/audit.c) of a two-node fixture: a village writes a
 * person, the county imports its bundle and audits it, as text and as JSON, clean; the signed
 * report is the county's alone, its signature verifies over what precedes it, and
 * hm_audit_verify tells an intact report from another signer's, an altered one, a malformed
 * signature line and a file that is no report. A certificate as enroll shows it. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

#define V(...) __VA_ARGS__, NULL

typedef struct fixture {
	field_env county, village;
} fixture;

static void fixture_open(fixture *fx)
{
	char path[1100];
	hm_bundle_stats st;

	field_env_open(&fx->county, "audit-c", HM_ROLE_COUNTY, "lin");
	field_env_open(&fx->village, "audit-v", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(field_run(&fx->village, "person", "add", "p-1", NULL, V("name=Li Wei")),
	                 HM_OK);
	snprintf(path, sizeof(path), "%s.bundle", fx->village.dir);
	assert_int_equal(hm_bundle_export(fx->village.n, NULL, path, true, NULL, &st), HM_OK);
	assert_int_equal(hm_bundle_import(fx->county.n, path, NULL, NULL, &st), HM_OK);
}

static void fixture_close(fixture *fx)
{
	field_env_close(&fx->village);
	field_env_close(&fx->county);
}

/* The audit of e in fmt, into a NUL-terminated buffer (free). */
static char *render(field_env *e, hm_report_format fmt, size_t *findings)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(hm_audit_render(&e->l, fmt, f, findings), HM_OK);
	fclose(f);
	return buf;
}

static void test_audit_text(void **state)
{
	fixture fx;
	size_t findings = 99;
	char *doc, *line;
	(void)state;

	fixture_open(&fx);
	doc = render(&fx.county, HM_REPORT_FMT_TEXT, &findings);
	assert_int_equal(findings, 0);
	assert_true(strncmp(doc, "audit by audit-c (", 18) == 0);
	assert_non_null(strstr(doc, ") of lin\n\norigins:\n"));
	/* The village's origin: without certificates (a node for tests) its role and region are
	 * unknown, the region's column padded all the same. */
	line = strstr(doc, "  ?                                 seq 1..1      last ");
	assert_non_null(line);
	assert_non_null(strstr(line, "  0 findings\n\nclean: 0 findings\n"));
	assert_int_equal(strlen(strstr(doc, "\nclean: 0 findings\n")),
	                 strlen("\nclean: 0 findings\n"));
	free(doc);
	fixture_close(&fx);
}

static void test_audit_json(void **state)
{
	fixture fx;
	size_t findings = 99;
	json_error_t jerr;
	json_t *j, *o;
	char *doc;
	(void)state;

	fixture_open(&fx);
	doc = render(&fx.county, HM_REPORT_FMT_JSON, &findings);
	assert_int_equal(findings, 0);
	assert_non_null(strchr(doc, '\n'));
	assert_int_equal(strchr(doc, '\n')[1], '\0'); /* one line */
	j = json_loads(doc, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "region")), "lin");
	assert_int_equal(json_integer_value(json_object_get(j, "at")), FIELD_T0_MS / 1000);
	assert_true(json_is_true(json_object_get(j, "clean")));
	assert_int_equal(json_array_size(json_object_get(j, "findings")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "origins")), 1);
	o = json_array_get(json_object_get(j, "origins"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "region")), "");
	assert_string_equal(json_string_value(json_object_get(o, "role")), "");
	assert_int_equal(json_integer_value(json_object_get(o, "seq_to")), 1);
	json_decref(j);
	free(doc);
	/* Neither HTML nor CSV: refused, nothing written. */
	assert_int_equal(hm_audit_render(&fx.county.l, HM_REPORT_FMT_HTML, stdout, &findings),
	                 HM_ERR_INVALID);
	fixture_close(&fx);
}

static void test_audit_sign(void **state)
{
	fixture fx;
	hm_identity ident, other;
	size_t len, findings;
	char *doc = NULL, *sig;
	char sighex[2 * HM_SIGNATURE_BYTES + 1], pubhex[2 * HM_SIGN_PUB_BYTES + 1];
	hm_signature s;
	hm_sign_pub pub;
	hm_hash h;
	(void)state;

	fixture_open(&fx);
	assert_int_equal(hm_identity_init(&ident), HM_OK);
	assert_int_equal(hm_identity_init(&other), HM_OK);
	assert_int_equal(hm_audit_sign(&fx.village.l, &ident, &doc, &len, &findings),
	                 HM_ERR_INVALID);
	assert_null(doc);
	field_assert_msg(&fx.village, "only the county signs audit reports");
	/* Without an identity the node signs itself: a node opened without keys cannot. */
	assert_int_equal(hm_audit_sign(&fx.county.l, NULL, &doc, &len, &findings), HM_ERR_CRYPTO);
	assert_null(doc);
	field_assert_msg(&fx.county, "this node has no keys to sign with");
	assert_int_equal(hm_audit_sign(&fx.county.l, &ident, &doc, &len, &findings), HM_OK);
	assert_int_equal(findings, 0);
	assert_int_equal(strlen(doc), len);
	assert_true(strncmp(doc, "hamlet audit report v1\n{\"auditor\":", 34) == 0);
	sig = strstr(doc, "}\nsignature ") + 2;
	assert_int_equal(sscanf(sig, "signature %128s by %64s", sighex, pubhex), 2);
	assert_int_equal(hm_hex_decode(s.b, sizeof(s.b), sighex), HM_OK);
	assert_int_equal(hm_hex_decode(pub.b, sizeof(pub.b), pubhex), HM_OK);
	assert_true(hm_sign_pub_equal(&pub, &ident.sign_pub));
	hm_hash_buf(doc, (size_t)(sig - doc), &h);
	assert_int_equal(hm_verify_hash(&s, &ident.sign_pub, &h), HM_OK);
	assert_int_equal(hm_audit_verify(doc, len, &ident.sign_pub), HM_AUDIT_INTACT);
	assert_int_equal(hm_audit_verify(doc, len, &other.sign_pub), HM_AUDIT_OTHER_SIGNER);
	assert_int_equal(hm_audit_verify(doc + 1, len - 1, &ident.sign_pub), HM_AUDIT_NOT_REPORT);
	doc[len - 2] = 'z'; /* the key's hex spoilt */
	assert_int_equal(hm_audit_verify(doc, len, &ident.sign_pub), HM_AUDIT_MALFORMED);
	doc[len - 2] = pubhex[63];
	doc[30] ^= 1; /* one byte of the document altered: the signature no longer holds */
	hm_hash_buf(doc, (size_t)(sig - doc), &h);
	assert_int_not_equal(hm_verify_hash(&s, &ident.sign_pub, &h), HM_OK);
	assert_int_equal(hm_audit_verify(doc, len, &ident.sign_pub), HM_AUDIT_ALTERED);
	free(doc);
	fixture_close(&fx);
}

static void test_finding_names(void **state)
{
	(void)state;
	assert_string_equal(hm_audit_finding_name(HM_FINDING_FORK), "equivocation");
	assert_string_equal(hm_audit_finding_name(HM_FINDING_GAP), "gap");
	assert_string_equal(hm_audit_finding_name((hm_finding_kind)999), "other");
}

static void test_enroll_info(void **state)
{
	hm_enroll_info i = {.role = HM_ROLE_VILLAGE, .serial = 7};
	char *buf = NULL;
	size_t len;
	json_t *j;
	FILE *f;
	(void)state;

	memset(i.node.b, 0x11, sizeof(i.node.b));
	memset(i.root.b, 0x22, sizeof(i.root.b));
	snprintf(i.region, sizeof(i.region), "lin/east/elm");
	snprintf(i.name, sizeof(i.name), "elm\x1b[2J");
	assert_non_null(f = open_memstream(&buf, &len));
	hm_enroll_info_write(&i, f);
	fclose(f);
	assert_string_equal(buf, "node      11111111111111111111111111111111\nrole      village\n"
	                         "region    lin/east/elm\nname      elm\\x1b[2J\n");
	free(buf);
	i.not_before = 1795694400;
	i.not_after = 1795694400 + 86400;
	assert_non_null(f = open_memstream(&buf, &len));
	hm_enroll_info_write(&i, f);
	fclose(f);
	assert_non_null(strstr(buf, "\nvalid     from 2026-11-26T12:00:00.000Z to "
	                            "2026-11-27T12:00:00.000Z\nroot key  2222"));
	free(buf);
	j = hm_enroll_info_json(&i);
	assert_int_equal(json_integer_value(json_object_get(j, "serial")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "role")), "village");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_audit_text),  cmocka_unit_test(test_audit_json),
	    cmocka_unit_test(test_audit_sign),  cmocka_unit_test(test_finding_names),
	    cmocka_unit_test(test_enroll_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
