/*
 * keyfile.c - a node's identity (and optional storage key) sealed with a passphrase.
 *
 * Byte layout, version 1 (integers little-endian; offsets in bytes):
 *
 *   off  len  field
 *     0    7  magic "HMKEY\x00\x01"
 *     7    1  version = 1
 *     8    1  kdf id = 1 (Argon2id v1.3, crypto_pwhash ALG_ARGON2ID13)
 *     9    1  aead id = 1 (XChaCha20-Poly1305-IETF)
 *    10    1  flags: bit 0 = a storage key follows the identity; other bits must be 0
 *    11    1  reserved, must be 0
 *    12    8  opslimit (u64), HM_PWHASH_OPSLIMIT_MIN..HM_PWHASH_OPSLIMIT_MAX
 *    20    8  memlimit in bytes (u64), HM_PWHASH_MEMLIMIT_MIN..HM_PWHASH_MEMLIMIT_MAX
 *    28   16  Argon2id salt
 *    44   24  XChaCha20 nonce
 *    68    n  ciphertext || 16-byte Poly1305 tag, n = plaintext + 16
 *
 * The header (bytes 0..67) is the associated data, so no field of it can be changed without
 * the tag failing. The key is Argon2id(passphrase, salt, opslimit, memlimit), 32 bytes. The
 * plaintext is the Ed25519 seed (32) || the X25519 secret key (32) [|| the storage key (32)],
 * so a file is exactly 148 bytes, or 180 with a storage key; anything else is refused.
 *
 * Default cost, opslimit 2 and memlimit 32 MiB, measured on the 2-core reference machine
 * (libsodium 1.0.18, -O2): crypto_pwhash alone 0.021 s idle (64 MiB took 0.051 s, 16 MiB
 * 0.009 s); a whole hm_keyfile_read 0.026 s best, 0.039 s mean with the other core busy.
 */
#include "crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KF_MAGIC        "HMKEY\x00\x01"
#define KF_MAGIC_BYTES  7
#define KF_VERSION      1
#define KF_KDF_ARGON2ID 1
#define KF_AEAD_XCHACHA 1
#define KF_FLAG_STORAGE 0x01u
#define KF_HEADER_BYTES 68
#define KF_SECRET_BYTES 64 /* Ed25519 seed || X25519 secret */
#define KF_PLAIN_MAX    (KF_SECRET_BYTES + HM_STORAGE_KEY_BYTES)

_Static_assert(KF_HEADER_BYTES == 28 + HM_KEYFILE_SALT_BYTES + HM_KEYFILE_NONCE_BYTES,
               "key file header layout");
_Static_assert(HM_KEYFILE_SALT_BYTES == crypto_pwhash_SALTBYTES, "Argon2id salt size");
_Static_assert(HM_KEYFILE_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "XChaCha20 nonce size");
_Static_assert(KF_HEADER_BYTES + KF_PLAIN_MAX + HM_AEAD_TAG_BYTES <= HM_KEYFILE_MAX_BYTES,
               "key file cap too small");

/* A parsed header; salt and nonce point into the caller's buffer. */
typedef struct kf_header {
	uint8_t version;
	uint8_t flags;
	uint64_t opslimit;
	uint64_t memlimit;
	const uint8_t *salt;
	const uint8_t *nonce;
	size_t plain_len;
} kf_header;

static int params_in_range(uint64_t ops, uint64_t mem)
{
	return ops >= HM_PWHASH_OPSLIMIT_MIN && ops <= HM_PWHASH_OPSLIMIT_MAX &&
	       mem >= HM_PWHASH_MEMLIMIT_MIN && mem <= HM_PWHASH_MEMLIMIT_MAX;
}

static hm_err parse_header(kf_header *h, const uint8_t *p, size_t len)
{
	size_t total;

	if (len > HM_KEYFILE_MAX_BYTES)
		return HM_ERR_TOO_BIG;
	if (len == 0)
		return HM_ERR_TRUNCATED;
	if (memcmp(p, KF_MAGIC, len < KF_MAGIC_BYTES ? len : KF_MAGIC_BYTES) != 0)
		return HM_ERR_CORRUPT;
	if (len <= KF_MAGIC_BYTES)
		return HM_ERR_TRUNCATED;
	h->version = p[7];
	if (h->version != KF_VERSION)
		return HM_ERR_VERSION;
	if (len < KF_HEADER_BYTES)
		return HM_ERR_TRUNCATED;
	if (p[8] != KF_KDF_ARGON2ID || p[9] != KF_AEAD_XCHACHA)
		return HM_ERR_VERSION;
	h->flags = p[10];
	if ((h->flags & ~KF_FLAG_STORAGE) != 0 || p[11] != 0)
		return HM_ERR_CORRUPT;
	h->opslimit = hm_get_u64le(p + 12);
	h->memlimit = hm_get_u64le(p + 20);
	if (h->opslimit < HM_PWHASH_OPSLIMIT_MIN || h->memlimit < HM_PWHASH_MEMLIMIT_MIN)
		return HM_ERR_CORRUPT;
	if (!params_in_range(h->opslimit, h->memlimit))
		return HM_ERR_TOO_BIG;
	h->salt = p + 28;
	h->nonce = p + 28 + HM_KEYFILE_SALT_BYTES;
	h->plain_len = KF_SECRET_BYTES + (h->flags & KF_FLAG_STORAGE ? HM_STORAGE_KEY_BYTES : 0);
	total = KF_HEADER_BYTES + h->plain_len + HM_AEAD_TAG_BYTES;
	if (len < total)
		return HM_ERR_TRUNCATED;
	if (len > total)
		return HM_ERR_CORRUPT;
	return HM_OK;
}

/* Argon2id of the passphrase into key; HM_ERR_NOMEM when libsodium cannot run it. */
static hm_err derive_key(uint8_t key[32], const char *pass, size_t pass_len, const uint8_t *salt,
                         uint64_t ops, uint64_t mem)
{
	if (crypto_pwhash(key, 32, pass, pass_len, salt, ops, (size_t)mem,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return HM_ERR_NOMEM;
	return HM_OK;
}

hm_err hm_keyfile_encode_fixed(uint8_t *out, size_t cap, size_t *out_len, const hm_identity *ident,
                               const uint8_t *storage_key, const char *pass, size_t pass_len,
                               const hm_pwhash_params *params,
                               const uint8_t salt[HM_KEYFILE_SALT_BYTES],
                               const uint8_t nonce[HM_KEYFILE_NONCE_BYTES])
{
	hm_pwhash_params def = {HM_PWHASH_OPSLIMIT_DEFAULT, HM_PWHASH_MEMLIMIT_DEFAULT};
	uint8_t plain[KF_PLAIN_MAX], key[32];
	size_t plain_len = KF_SECRET_BYTES + (storage_key ? HM_STORAGE_KEY_BYTES : 0);
	size_t total = KF_HEADER_BYTES + plain_len + HM_AEAD_TAG_BYTES;
	hm_err err;

	if (!params)
		params = &def;
	if (!params_in_range(params->opslimit, params->memlimit) || cap < total)
		return HM_ERR_INVALID;
	memcpy(out, KF_MAGIC, KF_MAGIC_BYTES);
	out[7] = KF_VERSION;
	out[8] = KF_KDF_ARGON2ID;
	out[9] = KF_AEAD_XCHACHA;
	out[10] = storage_key ? KF_FLAG_STORAGE : 0;
	out[11] = 0;
	hm_put_u64le(out + 12, params->opslimit);
	hm_put_u64le(out + 20, params->memlimit);
	memcpy(out + 28, salt, HM_KEYFILE_SALT_BYTES);
	memcpy(out + 28 + HM_KEYFILE_SALT_BYTES, nonce, HM_KEYFILE_NONCE_BYTES);

	/* The Ed25519 secret key is seed || public key: the seed is all the file needs. */
	memcpy(plain, ident->sign_secret, 32);
	memcpy(plain + 32, ident->box_secret, 32);
	if (storage_key)
		memcpy(plain + KF_SECRET_BYTES, storage_key, HM_STORAGE_KEY_BYTES);
	err = derive_key(key, pass, pass_len, salt, params->opslimit, params->memlimit);
	if (err != HM_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + KF_HEADER_BYTES, NULL, plain,
	                                               plain_len, out, KF_HEADER_BYTES, NULL, nonce,
	                                               key) != 0) {
		err = HM_ERR_CRYPTO;
		goto out;
	}
	*out_len = total;
	err = HM_OK;
out:
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(key, sizeof(key));
	if (err != HM_OK)
		sodium_memzero(out, total);
	return err;
}

hm_err hm_keyfile_encode(uint8_t *out, size_t cap, size_t *out_len, const hm_identity *ident,
                         const uint8_t *storage_key, const char *pass, size_t pass_len,
                         const hm_pwhash_params *params)
{
	uint8_t salt[HM_KEYFILE_SALT_BYTES], nonce[HM_KEYFILE_NONCE_BYTES];

	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	return hm_keyfile_encode_fixed(out, cap, out_len, ident, storage_key, pass, pass_len,
	                               params, salt, nonce);
}

hm_err hm_keyfile_inspect(hm_keyfile_info *info, const void *buf, size_t len)
{
	kf_header h;
	hm_err err;

	memset(info, 0, sizeof(*info));
	err = parse_header(&h, buf, len);
	if (err != HM_OK)
		return err;
	info->version = h.version;
	info->params.opslimit = h.opslimit;
	info->params.memlimit = h.memlimit;
	info->has_storage_key = (h.flags & KF_FLAG_STORAGE) != 0;
	return HM_OK;
}

/* Rebuild the identity from the Ed25519 seed and X25519 secret in plain. */
static hm_err identity_from_secrets(hm_identity *ident, const uint8_t *plain)
{
	memset(ident, 0, sizeof(*ident));
	if (crypto_sign_seed_keypair(ident->sign_pub.b, ident->sign_secret, plain) != 0)
		return HM_ERR_CRYPTO;
	memcpy(ident->box_secret, plain + 32, HM_BOX_SECRET_BYTES);
	if (crypto_scalarmult_base(ident->box_pub.b, ident->box_secret) != 0)
		return HM_ERR_CRYPTO;
	hm_node_id_from_pub(&ident->id, &ident->sign_pub);
	return HM_OK;
}

hm_err hm_keyfile_decode(hm_keyfile_secrets *out, const void *buf, size_t len, const char *pass,
                         size_t pass_len)
{
	const uint8_t *p = buf;
	uint8_t plain[KF_PLAIN_MAX], key[32];
	kf_header h;
	hm_err err;

	memset(out, 0, sizeof(*out));
	err = parse_header(&h, p, len);
	if (err != HM_OK)
		return err;
	err = derive_key(key, pass, pass_len, h.salt, h.opslimit, h.memlimit);
	if (err != HM_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, p + KF_HEADER_BYTES,
	                                               h.plain_len + HM_AEAD_TAG_BYTES, p,
	                                               KF_HEADER_BYTES, h.nonce, key) != 0) {
		err = HM_ERR_CRYPTO; /* wrong passphrase, or altered bytes */
		goto out;
	}
	err = identity_from_secrets(&out->ident, plain);
	if (err != HM_OK)
		goto out;
	if (h.flags & KF_FLAG_STORAGE) {
		out->has_storage_key = 1;
		memcpy(out->storage_key, plain + KF_SECRET_BYTES, HM_STORAGE_KEY_BYTES);
	}
out:
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(key, sizeof(key));
	if (err != HM_OK)
		hm_keyfile_secrets_release(out);
	return err;
}

void hm_keyfile_secrets_release(hm_keyfile_secrets *s)
{
	sodium_memzero(s, sizeof(*s));
}

static hm_err errno_to_err(int e)
{
	switch (e) {
	case ENOENT:
		return HM_ERR_NOT_FOUND;
	case EEXIST:
		return HM_ERR_EXISTS;
	case ENOSPC:
	case EDQUOT:
		return HM_ERR_FULL;
	case ENOMEM:
		return HM_ERR_NOMEM;
	default:
		return HM_ERR_IO;
	}
}

static hm_err write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno_to_err(n < 0 ? errno : EIO);
		p += n;
		len -= (size_t)n;
	}
	return HM_OK;
}

int hm_stream_close(FILE *f)
{
	int bad = ferror(f);
	return fclose(f) != 0 || bad ? EOF : 0;
}

int hm_file_replace(const char *path, const void *data, size_t len)
{
	const char *p = data;
	char tmp[4096 + 32];
	int fd, e = 0;

	if (strlen(path) > 4096)
		return ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	/* The umask can only narrow the mode; fchmod makes it exactly 0600 regardless. */
	if (fchmod(fd, 0600) != 0)
		e = errno;
	for (size_t off = 0; !e && off < len;) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno != EINTR)
			e = errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e)
		unlink(tmp);
	return e;
}

hm_err hm_file_sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	int fd = -1;
	hm_err err = HM_OK;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return HM_ERR_NOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		err = errno_to_err(errno);
	if (fd >= 0)
		close(fd);
	free(dir);
	return err;
}

hm_err hm_keyfile_write(const char *path, const hm_identity *ident, const uint8_t *storage_key,
                        const char *pass, size_t pass_len, const hm_pwhash_params *params)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	size_t len = 0;
	int fd = -1, created = 0;
	hm_err err;

	/* Derive before creating the file, so a bad parameter leaves nothing on disk. */
	err = hm_keyfile_encode(buf, sizeof(buf), &len, ident, storage_key, pass, pass_len, params);
	if (err != HM_OK)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = errno_to_err(errno);
		goto out;
	}
	created = 1;
	/* The umask can only narrow the mode; fchmod makes it exactly 0600 regardless. */
	if (fchmod(fd, 0600) != 0) {
		err = errno_to_err(errno);
		goto out;
	}
	err = write_all(fd, buf, len);
	if (err != HM_OK)
		goto out;
	if (fsync(fd) != 0) {
		err = errno_to_err(errno);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = errno_to_err(errno);
		goto out;
	}
	fd = -1;
	err = hm_file_sync_parent(path);
out:
	if (fd >= 0)
		close(fd);
	if (err != HM_OK && created)
		unlink(path);
	sodium_memzero(buf, sizeof(buf));
	return err;
}

/* Read the whole file at path into buf (HM_KEYFILE_MAX_BYTES), refusing anything larger. */
static hm_err read_capped(const char *path, uint8_t *buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd;
	hm_err err = HM_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_to_err(errno);
	if (fstat(fd, &st) != 0) {
		err = errno_to_err(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = HM_ERR_IO;
		goto out;
	}
	if (st.st_size > HM_KEYFILE_MAX_BYTES) {
		err = HM_ERR_TOO_BIG;
		goto out;
	}
	/* Read one byte past the cap: the file may have grown since fstat. */
	for (;;) {
		uint8_t extra;
		uint8_t *dst = got < HM_KEYFILE_MAX_BYTES ? buf + got : &extra;
		size_t want = got < HM_KEYFILE_MAX_BYTES ? HM_KEYFILE_MAX_BYTES - got : 1;
		ssize_t n = read(fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno_to_err(errno);
			goto out;
		}
		if (n == 0)
			break;
		if (got >= HM_KEYFILE_MAX_BYTES) {
			err = HM_ERR_TOO_BIG;
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	close(fd);
	return err;
}

hm_err hm_keyfile_read(hm_keyfile_secrets *out, const char *path, const char *pass, size_t pass_len)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	size_t len = 0;
	hm_err err;

	memset(out, 0, sizeof(*out));
	err = read_capped(path, buf, &len);
	if (err == HM_OK)
		err = hm_keyfile_decode(out, buf, len, pass, pass_len);
	sodium_memzero(buf, sizeof(buf));
	return err;
}

/* Classes of characters, for the estimate of hm_passphrase_check. */
enum { PC_DIGIT = 1, PC_LOWER = 2, PC_UPPER = 4, PC_SYMBOL = 8, PC_OTHER = 16 };

/* Whether pass, lower-cased, is a run of a keyboard row or of the alphabet or digits (or the
 * same backwards), or one of the passwords everyone tries first, with digits after it. */
static bool predictable(const char *pass, size_t n)
{
	static const char *const runs[] = {"qwertyuiopasdfghjklzxcvbnm",
	                                   "abcdefghijklmnopqrstuvwxyz", "01234567890",
	                                   "1qaz2wsx3edc4rfv5tgb"};
	static const char *const common[] = {"password", "passw0rd", "iloveyou", "admin",
	                                     "welcome",  "letmein",  "hamlet",   "woaini"};
	char low[64], rev[64];

	if (n >= sizeof(low))
		return false;
	for (size_t i = 0; i < n; i++) {
		low[i] = (char)((pass[i] >= 'A' && pass[i] <= 'Z') ? pass[i] + 32 : pass[i]);
		rev[n - 1 - i] = low[i];
	}
	low[n] = rev[n] = '\0';
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (strstr(runs[i], low) || strstr(runs[i], rev))
			return true;
	for (size_t end = n; end > 0 && low[end - 1] >= '0' && low[end - 1] <= '9'; end--)
		low[end - 1] = '\0'; /* password1, password2026 */
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (!strcmp(low, common[i]))
			return true;
	return false;
}

hm_err hm_passphrase_check(const char *pass, size_t pass_len, const char **why)
{
	static const struct {
		unsigned bit, size;
	} pools[] = {
	    {PC_DIGIT, 10}, {PC_LOWER, 26}, {PC_UPPER, 26}, {PC_SYMBOL, 33}, {PC_OTHER, 2000}};
	const unsigned char *p = (const unsigned char *)pass;
	unsigned classes = 0, pool = 0;
	size_t chars = 0, distinct = 0;
	double bits;

	for (size_t i = 0; i < pass_len; chars++) {
		size_t len = p[i] < 0x80 ? 1 : p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
		bool seen = false;
		classes |= p[i] >= '0' && p[i] <= '9'   ? PC_DIGIT
		           : p[i] >= 'a' && p[i] <= 'z' ? PC_LOWER
		           : p[i] >= 'A' && p[i] <= 'Z' ? PC_UPPER
		           : p[i] < 0x80                ? PC_SYMBOL
		                                        : PC_OTHER;
		for (size_t j = 0; j < i && !seen;) { /* has this character come before? */
			size_t lj = p[j] < 0x80 ? 1 : p[j] < 0xe0 ? 2 : p[j] < 0xf0 ? 3 : 4;
			seen = lj == len && i + len <= pass_len && !memcmp(p + j, p + i, len);
			j += lj;
		}
		distinct += !seen;
		i += len;
	}
	for (size_t k = 0; k < sizeof(pools) / sizeof(pools[0]); k++)
		pool += classes & pools[k].bit ? pools[k].size : 0;
	/* A character used again adds nothing: only the distinct ones count. */
	bits = pool ? (double)distinct * log2((double)pool) : 0;
	if (bits >= HM_PASSPHRASE_MIN_BITS && !predictable(pass, pass_len))
		return HM_OK;
	*why = chars < 10 ? _("it is too short: use at least 10 characters, or a few words")
	       : bits >= HM_PASSPHRASE_MIN_BITS
	           ? _("it is one of the first guesses (a row of the keyboard, a run, a common "
	               "password): use a few words of your own")
	           : _("it repeats too few characters: use a few words, or mix letters, digits and "
	               "signs");
	return HM_ERR_INVALID;
}

hm_err hm_password_check(const char *pw, size_t len, const char **why)
{
	const unsigned char *p = (const unsigned char *)pw;
	size_t chars = 0, distinct = 0;

	if (len > HM_PASSWORD_MAX_BYTES) {
		*why = _("it is too long (at most 1024 bytes)");
		return HM_ERR_INVALID;
	}
	for (size_t i = 0; i < len; chars++) {
		size_t n = p[i] < 0x80 ? 1 : p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
		bool seen = false;
		if (p[i] < 0x20 || p[i] == 0x7f) {
			*why = _("it holds a control character");
			return HM_ERR_INVALID;
		}
		for (size_t j = 0; j < i && !seen;) { /* has this character come before? */
			size_t nj = p[j] < 0x80 ? 1 : p[j] < 0xe0 ? 2 : p[j] < 0xf0 ? 3 : 4;
			seen = nj == n && i + n <= len && !memcmp(p + j, p + i, n);
			j += nj;
		}
		distinct += !seen;
		i += n;
	}
	*why = chars < HM_PASSWORD_MIN_CHARS ? _("it is too short: use at least 8 characters")
	       : distinct < 4 ? _("it repeats too few characters: use at least 4 different ones")
	       : predictable(pw, len)
	           ? _("it is one of the first guesses (a row of the keyboard, a run, a common "
	               "password): choose one of your own")
	           : NULL;
	return *why ? HM_ERR_INVALID : HM_OK;
}
