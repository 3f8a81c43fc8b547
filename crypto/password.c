/* password.c - the passwords of people (the station's accounts), from libsodium's
 * crypto_pwhash_str: Argon2id at the INTERACTIVE costs, the salt and costs in the string. */
#include "crypto.h"

#include <sodium.h>
#include <string.h>

_Static_assert(HM_PASSWORD_STR_BYTES == crypto_pwhash_STRBYTES, "pwhash string size");

/* A hash of a random password no one knows, at the same costs as every new hash: what an
 * unknown name is checked against, so that it costs the time a wrong password does. */
static const char dummy_str[] = "$argon2id$v=19$m=65536,t=2,p=1$uLoZjDDWcTNkf3uBhrLL8A$"
                                "xDUcxa6dVPxGbVU+MUYA83lrrnc4zn6zif7IuMchwlI";

hm_err hm_password_hash(char out[HM_PASSWORD_STR_BYTES], const char *pw, size_t len)
{
	if (len > HM_PASSWORD_MAX_BYTES)
		return HM_ERR_TOO_BIG;
	/* Fails only when Argon2id cannot get its memory (64 MiB). */
	if (crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		sodium_memzero(out, HM_PASSWORD_STR_BYTES);
		return HM_ERR_NOMEM;
	}
	return HM_OK;
}

hm_err hm_password_verify(const char *str, const char *pw, size_t len)
{
	if (!str)
		str = dummy_str;
	if (len > HM_PASSWORD_MAX_BYTES ||
	    strnlen(str, HM_PASSWORD_STR_BYTES) >= HM_PASSWORD_STR_BYTES)
		return HM_ERR_CRYPTO;
	return crypto_pwhash_str_verify(str, pw, len) == 0 ? HM_OK : HM_ERR_CRYPTO;
}

bool hm_password_needs_rehash(const char *str)
{
	return crypto_pwhash_str_needs_rehash(str, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}
