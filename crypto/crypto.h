/*
 * crypto.h - hamlet's base layer: errors, logging, hashing and randomness.
 *
 * Everything above (node/, sync/, cli/) stands on this header. It owns the one error enum of
 * the project (hm_err, with hm_strerror), the log callback type that library code reports
 * through, and the libsodium primitives hamlet uses, wrapped under hm_ names so that no
 * dependency's namespace leaks upward. It is the only folder that includes <sodium.h>.
 *
 * Guarantees: every function here is thread-safe after hm_crypto_init() has returned HM_OK;
 * secrets passed in are never copied anywhere but where the caller asked.
 */
#ifndef HM_CRYPTO_H
#define HM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#if defined(__GNUC__)
#define HM_MUST_CHECK   __attribute__((warn_unused_result))
#define HM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HM_MUST_CHECK
#define HM_PRINTF(a, b)
#endif

/* The one error type. HM_OK is zero; every other value is a failure with a stable meaning. */
typedef enum hm_err {
	HM_OK = 0,
	HM_ERR_NOMEM,     /* an allocation failed */
	HM_ERR_IO,        /* a file or device operation failed (errno-level) */
	HM_ERR_INVALID,   /* a bad argument: malformed text, out-of-range number */
	HM_ERR_CORRUPT,   /* bytes from outside are not well formed */
	HM_ERR_TRUNCATED, /* bytes from outside end too early */
	HM_ERR_TOO_BIG,   /* a declared length or count is beyond hamlet's caps */
	HM_ERR_VERSION,   /* a format or protocol version hamlet does not speak */
	HM_ERR_NOT_FOUND, /* no such record, node, file or key */
	HM_ERR_EXISTS,    /* it is already there */
	HM_ERR_SCHEMA,    /* unknown collection or field, or an operation the schema forbids */
	HM_ERR_TYPE,      /* a value of the wrong type for its field */
	HM_ERR_FULL,      /* the store reached its size cap or the disk is full */
	HM_ERR_STORE,     /* the LMDB store failed for another reason */
	HM_ERR_FUTURE,    /* a clock stamp too far ahead of the local clock */
	HM_ERR_FORK,      /* an origin signed two different change sets for one seq */
	HM_ERR_CRYPTO,    /* a signature, tag or key did not verify */
	HM_ERR_BUSY,      /* another process holds what this one needs */
	HM_ERR_NET,       /* a transport failure */
	HM_ERR_AMBIGUOUS, /* an id names records in more than one region: name the region */
	HM_ERR__COUNT
} hm_err;

/* A short English description of err; never NULL, also for values outside the enum. */
const char *hm_strerror(hm_err err);

/* What a failed file operation's errno means, for a clerk: "the disk is full" for ENOSPC and
 * EDQUOT, "I/O error (the disk failed)" for EIO, strerror's text otherwise. Never NULL; the text
 * is static or strerror's (valid until the next strerror call). */
const char *hm_strerrno(int errnum);

/* Log levels for hm_log_fn. */
typedef enum hm_log_level {
	HM_LOG_ERROR = 0,
	HM_LOG_WARN = 1,
	HM_LOG_INFO = 2,
	HM_LOG_DEBUG = 3,
} hm_log_level;

/* Library code never prints: it calls a function of this type, which may be NULL (silence).
 * msg is borrowed for the duration of the call. */
typedef void (*hm_log_fn)(void *ctx, hm_log_level level, const char *msg);

/* A logger: a callback and its context. A zeroed hm_logger logs nothing. */
typedef struct hm_logger {
	hm_log_fn fn;
	void *ctx;
} hm_logger;

/* printf-style helper that formats into a bounded buffer and calls the logger, if any. */
void hm_logf(const hm_logger *log, hm_log_level level, const char *fmt, ...) HM_PRINTF(3, 4);

/* Initialise libsodium. Call once before anything else here; safe to call again.
 * Errors: HM_ERR_CRYPTO if libsodium cannot initialise. */
hm_err hm_crypto_init(void) HM_MUST_CHECK;

/* ---- Hashing (BLAKE2b) ---- */

#define HM_HASH_BYTES 32

/* A BLAKE2b-256 digest. Compared with hm_hash_equal, printed with hm_hex_encode. */
typedef struct hm_hash {
	uint8_t b[HM_HASH_BYTES];
} hm_hash;

/* Streaming BLAKE2b-256. The state lives in caller storage (_init/_update/_final). */
typedef struct hm_hash_state {
	/* Opaque, large enough for libsodium's crypto_generichash_state (checked at build time). */
	_Alignas(64) uint8_t opaque[384];
} hm_hash_state;

void hm_hash_init(hm_hash_state *st);
void hm_hash_update(hm_hash_state *st, const void *data, size_t len);
void hm_hash_final(hm_hash_state *st, hm_hash *out);

/* One-shot BLAKE2b-256 of data. */
void hm_hash_buf(const void *data, size_t len, hm_hash *out);

/* BLAKE2b-256 keyed with a 32-byte key (a MAC, or a hash only key holders can compute). */
void hm_hash_keyed(const uint8_t key[HM_HASH_BYTES], const void *data, size_t len, hm_hash *out);
/* Constant-time equality of two hashes (1 when equal). */
int hm_hash_equal(const hm_hash *a, const hm_hash *b);

/* 1 when every byte of h is zero (the "no previous change set" hash). */
int hm_hash_is_zero(const hm_hash *h);

/* ---- Node identity ---- */

#define HM_NODE_ID_BYTES 16

/* A node's id: 16 bytes (the first half of BLAKE2b-256 of its Ed25519 public key once keys
 * exist). Printed as 32 lowercase hex digits. Defined here because every layer names origins. */
typedef struct hm_node_id {
	uint8_t b[HM_NODE_ID_BYTES];
} hm_node_id;

/* ---- Randomness and hex ---- */

/* Fill buf with len bytes from the system CSPRNG. */
void hm_random_bytes(void *buf, size_t len);

/* Write 2*len lowercase hex digits and a NUL to out (which holds 2*len+1 bytes). */
void hm_hex_encode(char *out, const void *bin, size_t len);

/* Parse exactly 2*len hex digits from hex (NUL-terminated) into bin.
 * Errors: HM_ERR_INVALID if hex is not exactly that many hex digits. */
hm_err hm_hex_decode(void *bin, size_t len, const char *hex) HM_MUST_CHECK;

/* Overwrite len bytes at p with zeros in a way the compiler cannot remove. */
void hm_wipe(void *p, size_t len);

/* Keep the pages holding len bytes at p in memory, never written to swap and left out of core
 * dumps (sodium_mlock). Whole pages are locked: a neighbour of p on them is too. Returns false
 * when the system refuses (RLIMIT_MEMLOCK): the secret is then only as safe as other memory. */
bool hm_secret_lock(void *p, size_t len);

/* Wipe len bytes at p and let their pages be swapped again (sodium_munlock). A lock of another
 * secret on the same pages ends too (locks of one page do not nest). */
void hm_secret_unlock(void *p, size_t len);

/* ==== Trust primitives: identities, signatures, sealing, key files, certificates ====
 *
 * A node has one identity: an Ed25519 key pair that signs and a separate X25519 key pair that
 * receives sealed data keys. Its node id is the first 16 bytes of BLAKE2b-256 of the Ed25519
 * public key. Signatures are domain-separated: hm_sign, hm_sign_hash and certificates each
 * sign under their own context tag, so a signature made for one purpose never verifies for
 * another. All secret material passing through these functions is wiped before they return;
 * the caller wipes its own copies (hm_identity_release, hm_wipe).
 */

#define HM_SEED_BYTES        32
#define HM_SIGN_PUB_BYTES    32
#define HM_SIGN_SECRET_BYTES 64
#define HM_SIGNATURE_BYTES   64
#define HM_BOX_PUB_BYTES     32
#define HM_BOX_SECRET_BYTES  32

/* Longest message hm_sign accepts; sign anything longer through hm_sign_hash. */
#define HM_SIGN_MSG_MAX 4096

/* An Ed25519 public key. */
typedef struct hm_sign_pub {
	uint8_t b[HM_SIGN_PUB_BYTES];
} hm_sign_pub;

/* An X25519 public key. */
typedef struct hm_box_pub {
	uint8_t b[HM_BOX_PUB_BYTES];
} hm_box_pub;

/* A detached Ed25519 signature. */
typedef struct hm_signature {
	uint8_t b[HM_SIGNATURE_BYTES];
} hm_signature;

/* A node identity in caller storage (_init/_release). The public fields may be read freely;
 * sign_secret and box_secret are secret and wiped by hm_identity_release. */
typedef struct hm_identity {
	hm_node_id id;
	hm_sign_pub sign_pub;
	hm_box_pub box_pub;
	uint8_t sign_secret[HM_SIGN_SECRET_BYTES]; /* secret: Ed25519 seed || public key */
	uint8_t box_secret[HM_BOX_SECRET_BYTES];   /* secret: X25519 scalar */
} hm_identity;

/* Generate a fresh identity from the system CSPRNG into *ident.
 * Errors: HM_ERR_CRYPTO if key generation fails (nothing is left in *ident). */
hm_err hm_identity_init(hm_identity *ident) HM_MUST_CHECK;

/* Derive an identity deterministically from a 32-byte seed (the Ed25519 and X25519 key pairs
 * come from independent BLAKE2b subkeys of it). For golden tests and reproducible fixtures;
 * the seed is borrowed and not kept.
 * Errors: HM_ERR_CRYPTO if key generation fails (nothing is left in *ident). */
hm_err hm_identity_init_seed(hm_identity *ident, const uint8_t seed[HM_SEED_BYTES]) HM_MUST_CHECK;

/* Wipe every byte of *ident. Safe on a zeroed or already released identity. */
void hm_identity_release(hm_identity *ident);

/* The node id of an Ed25519 public key: the first 16 bytes of its BLAKE2b-256. */
void hm_node_id_from_pub(hm_node_id *out, const hm_sign_pub *pub);

/* 1 when a and b are the same node id (constant time). */
int hm_node_id_equal(const hm_node_id *a, const hm_node_id *b);

/* 1 when a and b are the same public key (constant time). */
int hm_sign_pub_equal(const hm_sign_pub *a, const hm_sign_pub *b);

/* Sign a short message (at most HM_SIGN_MSG_MAX bytes) with ident's Ed25519 key.
 * Errors: HM_ERR_TOO_BIG if len > HM_SIGN_MSG_MAX; HM_ERR_CRYPTO if signing fails. */
hm_err hm_sign(hm_signature *sig, const hm_identity *ident, const void *msg,
               size_t len) HM_MUST_CHECK;

/* Check sig over msg against pub.
 * Errors: HM_ERR_CRYPTO if it does not verify; HM_ERR_TOO_BIG if len > HM_SIGN_MSG_MAX. */
hm_err hm_verify(const hm_signature *sig, const hm_sign_pub *pub, const void *msg,
                 size_t len) HM_MUST_CHECK;

/* Sign the BLAKE2b-256 digest of a message of any size (hash it with hm_hash_*).
 * Errors: HM_ERR_CRYPTO if signing fails. */
hm_err hm_sign_hash(hm_signature *sig, const hm_identity *ident, const hm_hash *h) HM_MUST_CHECK;

/* Check sig over the digest h against pub. Errors: HM_ERR_CRYPTO if it does not verify. */
hm_err hm_verify_hash(const hm_signature *sig, const hm_sign_pub *pub,
                      const hm_hash *h) HM_MUST_CHECK;

/* ---- Authenticated encryption (XChaCha20-Poly1305) and sealed boxes ---- */

#define HM_AEAD_KEY_BYTES   32
#define HM_AEAD_NONCE_BYTES 24
#define HM_AEAD_TAG_BYTES   16
/* A sealed message is nonce || ciphertext || tag: this many bytes longer than the plaintext. */
#define HM_AEAD_OVERHEAD (HM_AEAD_NONCE_BYTES + HM_AEAD_TAG_BYTES)

/* Encrypt msg (len bytes) under key with associated data ad (may be NULL when ad_len is 0),
 * writing nonce || ciphertext || tag, len + HM_AEAD_OVERHEAD bytes, to out (cap bytes) and
 * that size to *out_len. The nonce is random. All pointers are borrowed.
 * Errors: HM_ERR_INVALID if cap is too small; HM_ERR_TOO_BIG if len is beyond libsodium's
 * limit; HM_ERR_CRYPTO if encryption fails (out is wiped). */
hm_err hm_aead_seal(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[HM_AEAD_KEY_BYTES],
                    const void *msg, size_t len, const void *ad, size_t ad_len) HM_MUST_CHECK;

/* hm_aead_seal with a nonce the caller guarantees never repeats under key (e.g. a random prefix
 * per process and a counter): no system call for randomness per message. Same output layout.
 * Errors: those of hm_aead_seal. */
hm_err hm_aead_seal_nonce(uint8_t *out, size_t cap, size_t *out_len,
                          const uint8_t key[HM_AEAD_KEY_BYTES],
                          const uint8_t nonce[HM_AEAD_NONCE_BYTES], const void *msg, size_t len,
                          const void *ad, size_t ad_len) HM_MUST_CHECK;
/* Decrypt a message made by hm_aead_seal into out (cap bytes), its length into *out_len.
 * Errors: HM_ERR_TRUNCATED if sealed_len < HM_AEAD_OVERHEAD; HM_ERR_INVALID if cap is too
 * small; HM_ERR_CRYPTO if the key, the associated data or any byte is wrong (out is wiped). */
hm_err hm_aead_open(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[HM_AEAD_KEY_BYTES],
                    const void *sealed, size_t sealed_len, const void *ad,
                    size_t ad_len) HM_MUST_CHECK;

/* A 32-byte data key sealed to an X25519 public key (crypto_box_seal): 80 bytes. */
#define HM_BOX_SEALED_BYTES (32 + 48)

/* Seal the 32-byte data key to the holder of to, anonymously.
 * Errors: HM_ERR_CRYPTO if to is not a usable public key. */
hm_err hm_box_seal(uint8_t out[HM_BOX_SEALED_BYTES], const hm_box_pub *to,
                   const uint8_t key[32]) HM_MUST_CHECK;

/* Open a data key sealed to ident into key_out (32 bytes).
 * Errors: HM_ERR_CRYPTO if it was not sealed to ident or was altered (key_out is wiped). */
hm_err hm_box_seal_open(uint8_t key_out[32], const hm_identity *ident,
                        const uint8_t sealed[HM_BOX_SEALED_BYTES]) HM_MUST_CHECK;

/* ---- Key files: an identity sealed with a passphrase (Argon2id + XChaCha20-Poly1305) ---- */

#define HM_STORAGE_KEY_BYTES 32
/* Key files are never larger than this; reading refuses anything bigger. */
#define HM_KEYFILE_MAX_BYTES 4096

/* Argon2id cost. The defaults unlock in about 0.02 s on the 2-core reference machine; pass
 * stronger values for keys that deserve them. Decoding refuses values above the caps so that
 * a hostile file cannot make unlocking take unbounded time or memory. */
typedef struct hm_pwhash_params {
	uint64_t opslimit;
	uint64_t memlimit; /* bytes */
} hm_pwhash_params;

#define HM_PWHASH_OPSLIMIT_DEFAULT 2
#define HM_PWHASH_MEMLIMIT_DEFAULT (32u << 20)
#define HM_PWHASH_OPSLIMIT_MIN     1
#define HM_PWHASH_MEMLIMIT_MIN     8192
#define HM_PWHASH_OPSLIMIT_MAX     16
#define HM_PWHASH_MEMLIMIT_MAX     (1024u << 20)

/* What a key file's header says, readable without the passphrase. */
typedef struct hm_keyfile_info {
	uint8_t version;
	hm_pwhash_params params;
	int has_storage_key; /* 1 when the file also holds a node storage key */
} hm_keyfile_info;

/* The secrets a key file holds. Caller storage; wipe with hm_keyfile_secrets_release. */
typedef struct hm_keyfile_secrets {
	hm_identity ident;
	int has_storage_key;
	uint8_t storage_key[HM_STORAGE_KEY_BYTES]; /* secret; zero when has_storage_key is 0 */
} hm_keyfile_secrets;

/* Wipe every byte of *s. */
void hm_keyfile_secrets_release(hm_keyfile_secrets *s);

/* Encode ident (and storage_key, or NULL for none) sealed with the passphrase pass (pass_len
 * bytes, any content) into out (cap bytes, HM_KEYFILE_MAX_BYTES is always enough); its size
 * into *out_len. params NULL means the defaults. Salt and nonce are random. Borrowed pointers.
 * Errors: HM_ERR_INVALID for params outside [MIN, MAX] or a small cap; HM_ERR_NOMEM if Argon2id
 * cannot get its memory; HM_ERR_CRYPTO if encryption fails. */
hm_err hm_keyfile_encode(uint8_t *out, size_t cap, size_t *out_len, const hm_identity *ident,
                         const uint8_t *storage_key, const char *pass, size_t pass_len,
                         const hm_pwhash_params *params) HM_MUST_CHECK;

/* Parse the header of the key file bytes buf (len bytes) into *info, without the passphrase.
 * Errors: HM_ERR_CORRUPT (not a key file, bad field, trailing bytes), HM_ERR_TRUNCATED,
 * HM_ERR_VERSION (unknown version or algorithm), HM_ERR_TOO_BIG (len or Argon2id cost above
 * the caps). */
hm_err hm_keyfile_inspect(hm_keyfile_info *info, const void *buf, size_t len) HM_MUST_CHECK;

/* Unlock the key file bytes buf (len bytes) with pass into *out.
 * Errors: those of hm_keyfile_inspect; HM_ERR_CRYPTO for a wrong passphrase or altered
 * secrets; HM_ERR_NOMEM if Argon2id cannot get its memory. *out is zeroed on error. */
hm_err hm_keyfile_decode(hm_keyfile_secrets *out, const void *buf, size_t len, const char *pass,
                         size_t pass_len) HM_MUST_CHECK;

/* fsync the folder holding path, so that a name just created or renamed there survives a
 * power cut (a file's own fsync does not make its name durable). Errors: HM_ERR_IO (also for
 * a full disk: HM_ERR_FULL), HM_ERR_NOMEM. */
hm_err hm_file_sync_parent(const char *path) HM_MUST_CHECK;
/* Replace the file at path with data[0..len) whole: a temporary file beside it (PATH.tmp.PID,
 * mode 0600 whatever the umask, created exclusively and never through a link), written,
 * fsynced and renamed over path. On failure the temporary file is removed and path is as it
 * was. The folder is not synced (hm_file_sync_parent, when the name must survive a power cut).
 * Returns 0, or the errno of the step that failed (ENOSPC: the disk is full). */
int hm_file_replace(const char *path, const void *data, size_t len);

/* fclose(f), failing (EOF) also when a write to f failed before: a stream in memory
 * (open_memstream) that could not grow loses what was written, sets its error and goes on, and
 * its fclose then succeeds. Every stream whose text is used once closed is closed with this. */
int hm_stream_close(FILE *f);

/* Create the key file at path (mode 0600, exclusive) holding what hm_keyfile_encode would
 * encode, and fsync it and its directory. On failure no file is left behind.
 * Errors: HM_ERR_EXISTS if path exists; HM_ERR_IO; those of hm_keyfile_encode. */
hm_err hm_keyfile_write(const char *path, const hm_identity *ident, const uint8_t *storage_key,
                        const char *pass, size_t pass_len,
                        const hm_pwhash_params *params) HM_MUST_CHECK;

/* ---- Passwords of people (password.c): the station's accounts, not its keys ----
 *
 * A password is stored as libsodium's crypto_pwhash_str string: Argon2id at the INTERACTIVE
 * costs (about 0.1 s and 64 MiB a hash on the reference machine), with its random salt and
 * costs inside the string. The password itself is never stored; the caller wipes its copies. */
#define HM_PASSWORD_STR_BYTES 128  /* a hash string with its NUL */
#define HM_PASSWORD_MIN_CHARS 8    /* characters (not bytes): 8 Chinese characters are enough */
#define HM_PASSWORD_MAX_BYTES 1024 /* longer is refused, not cut */

/* Hash pw (len bytes, any content) into out (NUL-terminated). Borrowed pointers.
 * Errors: HM_ERR_TOO_BIG (len above HM_PASSWORD_MAX_BYTES), HM_ERR_NOMEM (Argon2id could not
 * get its memory; out is wiped). */
hm_err hm_password_hash(char out[HM_PASSWORD_STR_BYTES], const char *pw, size_t len) HM_MUST_CHECK;
/* HM_OK when pw (len bytes) matches the hash string str. str NULL: checked against a hash of a
 * password no one knows, at the costs of a new hash, so that a name without an account takes
 * the time of a wrong password (and always fails). Errors: HM_ERR_CRYPTO for a wrong password,
 * an unknown name (str NULL), a malformed str or len above HM_PASSWORD_MAX_BYTES. */
hm_err hm_password_verify(const char *str, const char *pw, size_t len) HM_MUST_CHECK;
/* Whether str was made at other costs than a new hash would be (then hash the password again
 * once it is verified). A malformed str needs it too. */
bool hm_password_needs_rehash(const char *str);
/* Whether pw (len bytes, UTF-8) may be a person's password. Gentler than a key file's
 * passphrase (a person logs in often and is also slowed after wrong tries, on one machine):
 * at least HM_PASSWORD_MIN_CHARS characters and HM_PASSWORD_MAX_BYTES bytes at most, at least
 * four distinct characters, no control character, and not one of the first guesses
 * hm_passphrase_check refuses (a keyboard row, a run such as 12345678, a common password with
 * digits after it). HM_OK, or HM_ERR_INVALID with *why saying what to do (static text). */
hm_err hm_password_check(const char *pw, size_t len, const char **why) HM_MUST_CHECK;

/* Whether pass (pass_len bytes, UTF-8) is strong enough to seal a new key file: an estimate of
 * its guessing cost as the number of distinct characters (a repeated one counts once) times
 * the alphabet they come from (digits, lower and upper case letters, symbols, other scripts
 * such as Chinese), at least HM_PASSPHRASE_MIN_BITS, and not one of the first guesses (a
 * keyboard row, a run such as abcdef or 123456, a common password with digits after it).
 * HM_OK, or HM_ERR_INVALID with *why saying what to do (static text). */
#define HM_PASSPHRASE_MIN_BITS 40
hm_err hm_passphrase_check(const char *pass, size_t pass_len, const char **why) HM_MUST_CHECK;

/* Read and unlock the key file at path into *out.
 * Errors: HM_ERR_NOT_FOUND if path does not exist; HM_ERR_IO (also for a non-regular file);
 * HM_ERR_TOO_BIG if it is larger than HM_KEYFILE_MAX_BYTES; those of hm_keyfile_decode. */
hm_err hm_keyfile_read(hm_keyfile_secrets *out, const char *path, const char *pass,
                       size_t pass_len) HM_MUST_CHECK;

/* ---- Regions: "county", "county/township" or "county/township/village" ---- */

#define HM_REGION_SEGMENT_MAX 32
#define HM_REGION_DEPTH_MAX   3
/* Longest valid region text, without its NUL. */
#define HM_REGION_MAX (HM_REGION_DEPTH_MAX * (HM_REGION_SEGMENT_MAX + 1) - 1)

/* 1 when path is 1 to 3 '/'-separated segments of 1..32 characters from [a-z0-9_-]. */
int hm_region_valid(const char *path);

/* The number of segments of a valid region (1..3), 0 for an invalid one. */
int hm_region_depth(const char *path);

/* 1 when inner lies inside outer: both valid and outer's segments are a prefix of inner's
 * (a region contains itself; "a/b" does not contain "a/bc"). */
int hm_region_contains(const char *outer, const char *inner);

/* ---- Certificates: a node's keys, role and region, signed by its issuer ---- */

typedef enum hm_role {
	HM_ROLE_COUNTY = 1,
	HM_ROLE_TOWNSHIP = 2,
	HM_ROLE_VILLAGE = 3,
} hm_role;

#define HM_CERT_VERSION 1
/* flags bit 0: the holder may enroll villages of its region. */
#define HM_CERT_MAY_ENROLL 0x01u
/* The encoded size of a certificate: 188 bytes plus its region (at most HM_REGION_MAX). */
#define HM_CERT_FIXED_BYTES 188
#define HM_CERT_MAX_BYTES   (HM_CERT_FIXED_BYTES + HM_REGION_MAX)
/* Longest chain hm_cert_chain_verify accepts (county, township, village). */
#define HM_CERT_CHAIN_MAX 3

/* A decoded certificate. region is NUL-terminated. */
typedef struct hm_cert {
	uint8_t version;
	uint64_t serial;
	hm_node_id node;
	uint8_t role; /* an hm_role */
	char region[HM_REGION_MAX + 1];
	hm_sign_pub sign_pub;
	hm_box_pub box_pub;
	uint64_t not_before; /* unix seconds, inclusive */
	uint64_t not_after;  /* unix seconds, inclusive */
	hm_node_id issuer;
	uint8_t flags;
	hm_signature sig;
} hm_cert;

/* Fill *cert (version, node id, keys) for subject, the other fields from the arguments; the
 * issuer and signature stay zero until hm_cert_sign. region is borrowed.
 * Errors: HM_ERR_INVALID for an invalid region or role, unknown flags or not_before > not_after. */
hm_err hm_cert_init(hm_cert *cert, const hm_identity *subject, uint64_t serial, hm_role role,
                    const char *region, uint64_t not_before, uint64_t not_after,
                    uint8_t flags) HM_MUST_CHECK;

/* Encode cert (with its signature) into out (cap bytes; HM_CERT_MAX_BYTES is always enough),
 * its size into *out_len.
 * Errors: HM_ERR_INVALID if a field is out of range (as hm_cert_decode would refuse it) or cap
 * is too small. */
hm_err hm_cert_encode(uint8_t *out, size_t cap, size_t *out_len, const hm_cert *cert) HM_MUST_CHECK;

/* Decode exactly len bytes at buf into *cert. Strict: the version, every length and value is
 * checked, the node id must be that of the public key, trailing bytes are refused. Does not
 * check the signature (hm_cert_verify).
 * Errors: HM_ERR_TRUNCATED, HM_ERR_CORRUPT, HM_ERR_VERSION, HM_ERR_TOO_BIG (len above
 * HM_CERT_MAX_BYTES). *cert is zeroed on error. */
hm_err hm_cert_decode(hm_cert *cert, const void *buf, size_t len) HM_MUST_CHECK;

/* Set cert's issuer to issuer's node id and sign it with issuer's key.
 * Errors: HM_ERR_INVALID if a field is out of range; HM_ERR_CRYPTO if signing fails. */
hm_err hm_cert_sign(hm_cert *cert, const hm_identity *issuer) HM_MUST_CHECK;

/* Check cert's signature against issuer_pub, whose node id must be cert's issuer.
 * Errors: HM_ERR_CRYPTO if it does not verify; HM_ERR_INVALID if a field is out of range. */
hm_err hm_cert_verify(const hm_cert *cert, const hm_sign_pub *issuer_pub) HM_MUST_CHECK;

/* Why hm_cert_chain_verify refused a chain. */
typedef enum hm_cert_fault {
	HM_CERT_FAULT_NONE = 0,
	HM_CERT_FAULT_LENGTH,    /* empty chain or longer than HM_CERT_CHAIN_MAX */
	HM_CERT_FAULT_ROOT,      /* chain[0] is not a self-signed county cert of the root key */
	HM_CERT_FAULT_ISSUER,    /* a cert's issuer is not the node of the cert before it */
	HM_CERT_FAULT_SIGNATURE, /* a signature does not verify */
	HM_CERT_FAULT_NOT_YET,   /* now < not_before */
	HM_CERT_FAULT_EXPIRED,   /* now > not_after */
	HM_CERT_FAULT_REGION,    /* a region is not inside its issuer's, or depth != role */
	HM_CERT_FAULT_ROLE,      /* the issuer may not enroll this role */
} hm_cert_fault;

/* Verify a chain: chain[0] is the root's self-signed county certificate and its key must be
 * root; each chain[i] is issued by chain[i-1]. Checks every signature, validity at now, that
 * regions nest (segment-wise) with depth equal to role, and that roles descend: a county
 * enrolls townships and villages, a township with HM_CERT_MAY_ENROLL enrolls villages.
 * chain (n certs) and root are borrowed. When fault is not NULL it receives the reason and
 * fault_index the failing position (either may be NULL).
 * Errors: HM_ERR_CRYPTO for any refusal (see *fault); HM_ERR_INVALID for a malformed field. */
hm_err hm_cert_chain_verify(const hm_sign_pub *root, const hm_cert *chain, size_t n, uint64_t now,
                            hm_cert_fault *fault, size_t *fault_index) HM_MUST_CHECK;

/* A short English description of fault; never NULL. */
const char *hm_cert_fault_str(hm_cert_fault fault);

/* ---- Session keys: ephemeral X25519 key exchange (crypto_kx) ---- */

#define HM_KX_PUB_BYTES         32
#define HM_KX_SESSION_KEY_BYTES 32

/* An ephemeral key pair for one session, in caller storage; wipe with hm_kx_release. */
typedef struct hm_kx {
	uint8_t pub[HM_KX_PUB_BYTES];
	uint8_t secret[32]; /* secret */
} hm_kx;

/* A fresh ephemeral key pair. Errors: HM_ERR_CRYPTO. */
hm_err hm_kx_init(hm_kx *kx) HM_MUST_CHECK;
void hm_kx_release(hm_kx *kx);

/* Derive the two session keys from our ephemeral pair and the peer's public key: rx decrypts
 * what the peer sends, tx encrypts what we send. The initiator (client) and the responder
 * (server) get each other's keys crosswise. Errors: HM_ERR_CRYPTO (a bad public key). */
hm_err hm_kx_session(const hm_kx *kx, const uint8_t peer_pub[HM_KX_PUB_BYTES], int initiator,
                     uint8_t rx[HM_KX_SESSION_KEY_BYTES],
                     uint8_t tx[HM_KX_SESSION_KEY_BYTES]) HM_MUST_CHECK;

/* XChaCha20-Poly1305 with a caller-chosen nonce (a session's frame counter), for channels
 * where both sides count: out gets len + 16 bytes (ciphertext || tag). The nonce must never
 * repeat under one key. Errors: HM_ERR_CRYPTO (open: altered, wrong key, nonce or ad). */
hm_err hm_aead_seal_n(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *msg,
                      size_t len, const void *ad, size_t ad_len) HM_MUST_CHECK;
hm_err hm_aead_open_n(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *sealed,
                      size_t sealed_len, const void *ad, size_t ad_len) HM_MUST_CHECK;

#endif
