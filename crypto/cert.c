/*
 * cert.c - certificates: a node's keys, role and region, signed by its issuer.
 *
 * Byte layout, version 1 (integers little-endian; L = region length):
 *
 *   off     len  field
 *     0       1  version = 1
 *     1       8  serial (u64)
 *     9      16  node id (first 16 bytes of BLAKE2b-256 of the Ed25519 key below)
 *    25       1  role: 1 county, 2 township, 3 village
 *    26       1  L, 1..HM_REGION_MAX
 *    27       L  region, e.g. "county/township/village" (hm_region_valid, no NUL)
 *  27+L      32  Ed25519 public key
 *  59+L      32  X25519 public key
 *  91+L       8  not_before (u64 unix seconds, inclusive)
 *  99+L       8  not_after (u64 unix seconds, inclusive, >= not_before)
 * 107+L      16  issuer node id
 * 123+L       1  flags: bit 0 = may enroll villages of its region; other bits must be 0
 * 124+L      64  Ed25519 signature by the issuer over bytes 0..123+L, signing context
 *                "hamlet/cert" (see crypto_int.h)
 *
 * Total 188 + L bytes; a decoder accepts exactly that and nothing after it.
 */
#include "crypto_int.h"

#include <string.h>

#define CERT_SIGNED_FIXED (HM_CERT_FIXED_BYTES - HM_SIGNATURE_BYTES)

_Static_assert(HM_REGION_MAX <= 255, "region length must fit its one-byte prefix");

/* 1 when every field is one hm_cert_decode would accept (the signature aside). */
static int cert_fields_ok(const hm_cert *c)
{
	hm_node_id id;

	if (c->version != HM_CERT_VERSION || c->role < HM_ROLE_COUNTY ||
	    c->role > HM_ROLE_VILLAGE || (c->flags & ~HM_CERT_MAY_ENROLL) != 0 ||
	    c->not_before > c->not_after || !hm_region_valid(c->region))
		return 0;
	hm_node_id_from_pub(&id, &c->sign_pub);
	return hm_node_id_equal(&id, &c->node);
}

/* Write the signed part of c to out (HM_CERT_MAX_BYTES) and return its length. */
static size_t cert_put_signed(uint8_t *out, const hm_cert *c)
{
	size_t rlen = strlen(c->region), off = 0;

	out[off++] = c->version;
	hm_put_u64le(out + off, c->serial);
	off += 8;
	memcpy(out + off, c->node.b, HM_NODE_ID_BYTES);
	off += HM_NODE_ID_BYTES;
	out[off++] = c->role;
	out[off++] = (uint8_t)rlen;
	memcpy(out + off, c->region, rlen);
	off += rlen;
	memcpy(out + off, c->sign_pub.b, HM_SIGN_PUB_BYTES);
	off += HM_SIGN_PUB_BYTES;
	memcpy(out + off, c->box_pub.b, HM_BOX_PUB_BYTES);
	off += HM_BOX_PUB_BYTES;
	hm_put_u64le(out + off, c->not_before);
	off += 8;
	hm_put_u64le(out + off, c->not_after);
	off += 8;
	memcpy(out + off, c->issuer.b, HM_NODE_ID_BYTES);
	off += HM_NODE_ID_BYTES;
	out[off++] = c->flags;
	return off;
}

hm_err hm_cert_init(hm_cert *cert, const hm_identity *subject, uint64_t serial, hm_role role,
                    const char *region, uint64_t not_before, uint64_t not_after, uint8_t flags)
{
	memset(cert, 0, sizeof(*cert));
	if (!hm_region_valid(region))
		return HM_ERR_INVALID;
	cert->version = HM_CERT_VERSION;
	cert->serial = serial;
	cert->node = subject->id;
	cert->role = (uint8_t)role;
	memcpy(cert->region, region, strlen(region) + 1);
	cert->sign_pub = subject->sign_pub;
	cert->box_pub = subject->box_pub;
	cert->not_before = not_before;
	cert->not_after = not_after;
	cert->flags = flags;
	if (!cert_fields_ok(cert)) {
		memset(cert, 0, sizeof(*cert));
		return HM_ERR_INVALID;
	}
	return HM_OK;
}

hm_err hm_cert_encode(uint8_t *out, size_t cap, size_t *out_len, const hm_cert *cert)
{
	uint8_t buf[HM_CERT_MAX_BYTES];
	size_t n;

	if (!cert_fields_ok(cert))
		return HM_ERR_INVALID;
	n = cert_put_signed(buf, cert);
	memcpy(buf + n, cert->sig.b, HM_SIGNATURE_BYTES);
	n += HM_SIGNATURE_BYTES;
	if (cap < n)
		return HM_ERR_INVALID;
	memcpy(out, buf, n);
	*out_len = n;
	return HM_OK;
}

/* Decode into *c, which the caller zeroes on error. */
static hm_err cert_parse(hm_cert *c, const uint8_t *p, size_t len)
{
	size_t rlen, off;

	if (len > HM_CERT_MAX_BYTES)
		return HM_ERR_TOO_BIG;
	if (len < 1)
		return HM_ERR_TRUNCATED;
	c->version = p[0];
	if (c->version != HM_CERT_VERSION)
		return HM_ERR_VERSION;
	if (len < 27)
		return HM_ERR_TRUNCATED;
	c->serial = hm_get_u64le(p + 1);
	memcpy(c->node.b, p + 9, HM_NODE_ID_BYTES);
	c->role = p[25];
	rlen = p[26];
	if (rlen == 0)
		return HM_ERR_CORRUPT;
	if (rlen > HM_REGION_MAX)
		return HM_ERR_TOO_BIG;
	if (len < HM_CERT_FIXED_BYTES + rlen)
		return HM_ERR_TRUNCATED;
	if (len > HM_CERT_FIXED_BYTES + rlen)
		return HM_ERR_CORRUPT;
	if (memchr(p + 27, '\0', rlen))
		return HM_ERR_CORRUPT;
	memcpy(c->region, p + 27, rlen);
	c->region[rlen] = '\0';
	off = 27 + rlen;
	memcpy(c->sign_pub.b, p + off, HM_SIGN_PUB_BYTES);
	off += HM_SIGN_PUB_BYTES;
	memcpy(c->box_pub.b, p + off, HM_BOX_PUB_BYTES);
	off += HM_BOX_PUB_BYTES;
	c->not_before = hm_get_u64le(p + off);
	c->not_after = hm_get_u64le(p + off + 8);
	off += 16;
	memcpy(c->issuer.b, p + off, HM_NODE_ID_BYTES);
	off += HM_NODE_ID_BYTES;
	c->flags = p[off++];
	memcpy(c->sig.b, p + off, HM_SIGNATURE_BYTES);
	return cert_fields_ok(c) ? HM_OK : HM_ERR_CORRUPT;
}

hm_err hm_cert_decode(hm_cert *cert, const void *buf, size_t len)
{
	hm_err err;

	memset(cert, 0, sizeof(*cert));
	err = cert_parse(cert, buf, len);
	if (err != HM_OK)
		memset(cert, 0, sizeof(*cert));
	return err;
}

hm_err hm_cert_sign(hm_cert *cert, const hm_identity *issuer)
{
	uint8_t buf[HM_CERT_MAX_BYTES];
	size_t n;

	if (!cert_fields_ok(cert))
		return HM_ERR_INVALID;
	cert->issuer = issuer->id;
	n = cert_put_signed(buf, cert);
	return hm_sign_ctx(&cert->sig, issuer, HM_SIGN_CTX_CERT, buf, n);
}

hm_err hm_cert_verify(const hm_cert *cert, const hm_sign_pub *issuer_pub)
{
	uint8_t buf[HM_CERT_MAX_BYTES];
	hm_node_id issuer_id;
	size_t n;

	if (!cert_fields_ok(cert))
		return HM_ERR_INVALID;
	hm_node_id_from_pub(&issuer_id, issuer_pub);
	if (!hm_node_id_equal(&issuer_id, &cert->issuer))
		return HM_ERR_CRYPTO;
	n = cert_put_signed(buf, cert);
	return hm_verify_ctx(&cert->sig, issuer_pub, HM_SIGN_CTX_CERT, buf, n);
}

/* 1 when a holder of parent may enroll a node of role child_role. */
static int may_enroll(const hm_cert *parent, uint8_t child_role)
{
	if (parent->role == HM_ROLE_COUNTY)
		return child_role == HM_ROLE_TOWNSHIP || child_role == HM_ROLE_VILLAGE;
	if (parent->role == HM_ROLE_TOWNSHIP)
		return child_role == HM_ROLE_VILLAGE && (parent->flags & HM_CERT_MAY_ENROLL);
	return 0;
}

/* Check chain[i] against its issuer (the root key for i == 0). */
static hm_cert_fault chain_link_fault(const hm_sign_pub *root, const hm_cert *chain, size_t i,
                                      uint64_t now)
{
	const hm_cert *c = &chain[i], *parent = i > 0 ? &chain[i - 1] : NULL;
	const hm_sign_pub *issuer_pub = parent ? &parent->sign_pub : root;

	if (!parent && (!hm_sign_pub_equal(&c->sign_pub, root) || c->role != HM_ROLE_COUNTY ||
	                !hm_node_id_equal(&c->issuer, &c->node)))
		return HM_CERT_FAULT_ROOT;
	if (parent && !hm_node_id_equal(&c->issuer, &parent->node))
		return HM_CERT_FAULT_ISSUER;
	if (hm_cert_verify(c, issuer_pub) != HM_OK)
		return HM_CERT_FAULT_SIGNATURE;
	if (now < c->not_before)
		return HM_CERT_FAULT_NOT_YET;
	if (now > c->not_after)
		return HM_CERT_FAULT_EXPIRED;
	if (hm_region_depth(c->region) != c->role)
		return HM_CERT_FAULT_REGION;
	if (parent && !hm_region_contains(parent->region, c->region))
		return HM_CERT_FAULT_REGION;
	if (parent && !may_enroll(parent, c->role))
		return HM_CERT_FAULT_ROLE;
	return HM_CERT_FAULT_NONE;
}

hm_err hm_cert_chain_verify(const hm_sign_pub *root, const hm_cert *chain, size_t n, uint64_t now,
                            hm_cert_fault *fault, size_t *fault_index)
{
	hm_cert_fault f = HM_CERT_FAULT_NONE;
	size_t i = 0;
	hm_err err = HM_OK;

	if (n == 0 || n > HM_CERT_CHAIN_MAX) {
		f = HM_CERT_FAULT_LENGTH;
		err = HM_ERR_CRYPTO;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!cert_fields_ok(&chain[i])) {
			err = HM_ERR_INVALID;
			goto out;
		}
		f = chain_link_fault(root, chain, i, now);
		if (f != HM_CERT_FAULT_NONE) {
			err = HM_ERR_CRYPTO;
			goto out;
		}
	}
	i = 0;
out:
	if (fault)
		*fault = f;
	if (fault_index)
		*fault_index = i;
	return err;
}

const char *hm_cert_fault_str(hm_cert_fault fault)
{
	switch (fault) {
	case HM_CERT_FAULT_NONE:
		return "no fault";
	case HM_CERT_FAULT_LENGTH:
		return "certificate chain is empty or too long";
	case HM_CERT_FAULT_ROOT:
		return "first certificate is not the root's self-signed county certificate";
	case HM_CERT_FAULT_ISSUER:
		return "certificate was not issued by the certificate before it";
	case HM_CERT_FAULT_SIGNATURE:
		return "certificate signature does not verify";
	case HM_CERT_FAULT_NOT_YET:
		return "certificate is not yet valid";
	case HM_CERT_FAULT_EXPIRED:
		return "certificate has expired";
	case HM_CERT_FAULT_REGION:
		return "certificate region is outside its issuer's or does not match its role";
	case HM_CERT_FAULT_ROLE:
		return "issuer may not enroll a node of this role";
	}
	return "unknown certificate fault";
}
