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

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define HM_MUST_CHECK __attribute__((warn_unused_result))
#define HM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HM_MUST_CHECK
#define HM_PRINTF(a, b)
#endif

/* The one error type. HM_OK is zero; every other value is a failure with a stable meaning. */
typedef enum hm_err {
	HM_OK = 0,
	HM_ERR_NOMEM,      /* an allocation failed */
	HM_ERR_IO,         /* a file or device operation failed (errno-level) */
	HM_ERR_INVALID,    /* a bad argument: malformed text, out-of-range number */
	HM_ERR_CORRUPT,    /* bytes from outside are not well formed */
	HM_ERR_TRUNCATED,  /* bytes from outside end too early */
	HM_ERR_TOO_BIG,    /* a declared length or count is beyond hamlet's caps */
	HM_ERR_VERSION,    /* a format or protocol version hamlet does not speak */
	HM_ERR_NOT_FOUND,  /* no such record, node, file or key */
	HM_ERR_EXISTS,     /* it is already there */
	HM_ERR_SCHEMA,     /* unknown collection or field, or an operation the schema forbids */
	HM_ERR_TYPE,       /* a value of the wrong type for its field */
	HM_ERR_FULL,       /* the store reached its size cap or the disk is full */
	HM_ERR_STORE,      /* the LMDB store failed for another reason */
	HM_ERR_FUTURE,     /* a clock stamp too far ahead of the local clock */
	HM_ERR_FORK,       /* an origin signed two different change sets for one seq */
	HM_ERR_CRYPTO,     /* a signature, tag or key did not verify */
	HM_ERR_BUSY,       /* another process holds what this one needs */
	HM_ERR_NET,        /* a transport failure */
	HM_ERR__COUNT
} hm_err;

/* A short English description of err; never NULL, also for values outside the enum. */
const char *hm_strerror(hm_err err);

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

#endif
