/* tokenizer_internal.h — the inside of gq_tokenizer, shared by tokenizer.c
 * (encode/decode pipeline), tokenizer_vocab.c (vocabulary and merge maps,
 * the byte-level map), tokenizer_norm.c (normalizers), tokenizer_bpe.c (the
 * merge loops),
 * tokenizer_json.c (tokenizer.json loader) and tokenizer_gguf.c (GGUF
 * loader).  Nothing outside engine/tokenizer*.c includes this.
 *
 * The pipeline mirrors Hugging Face `tokenizers`:
 *   text -> split on added tokens (non-normalized ones, on the raw text)
 *        -> per remaining piece: normalizer -> split on normalized added tokens
 *        -> pre-tokenizer steps -> model (BPE) -> ids
 *        -> post-processor (prefix/suffix ids) when add_special.
 * Decoding runs the decoder steps over the token strings.
 */
#ifndef GQ_TOKENIZER_INTERNAL_H
#define GQ_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cjson/cJSON.h>

#include "gq_error.h"
#include "gq_sbuf.h"
#include "gq_utf8.h"
#include "tokenizer.h"

/* ---------------------------------------------------------------- hash maps */

/* String -> id, open addressing; keys point into memory the tokenizer owns. */
typedef struct gq_strmap {
    const char **keys;
    uint32_t *lens;
    int32_t *vals;
    size_t cap, n; /* cap is a power of two, 0 when empty */
} gq_strmap;

int gq_strmap_put(gq_strmap *m, const char *key, size_t len, int32_t val, gq_error *err);
int32_t gq_strmap_get(const gq_strmap *m, const char *key, size_t len); /* -1 if absent */
void gq_strmap_free(gq_strmap *m);

/* (left id, right id) -> (rank, merged id). */
typedef struct gq_pairmap {
    uint64_t *keys; /* (uint64)left << 32 | right, UINT64_MAX = empty */
    int32_t *rank;
    int32_t *merged;
    size_t cap, n;
} gq_pairmap;

/* Insert or overwrite (HF builds its merge map with collect(): the last
 * duplicate wins). */
int gq_pairmap_put(gq_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t merged, gq_error *err);
int gq_pairmap_get(const gq_pairmap *m, int32_t a, int32_t b, int32_t *rank, int32_t *merged);
void gq_pairmap_free(gq_pairmap *m);

/* ---------------------------------------------------------------- pipeline parts */

typedef enum {
    GQ_TOK_KIND_BYTELEVEL = 0, /* byte-level BPE (GPT-2, LLaMA-3, SmolLM2) */
    GQ_TOK_KIND_SPM = 1        /* SentencePiece-style BPE (LLaMA-2, Mistral) */
} gq_tok_kind;

typedef enum {
    GQ_NORM_PREPEND = 0,   /* prepend str when the piece is not empty */
    GQ_NORM_REPLACE,       /* replace every literal `from` by str */
    GQ_NORM_REPLACE_REGEX, /* replace every match of re by str */
    GQ_NORM_NFC,
    GQ_NORM_NFD,
    GQ_NORM_NFKC,
    GQ_NORM_NFKD,
    GQ_NORM_LOWERCASE,
    GQ_NORM_STRIP,         /* strip_left / strip_right */
    GQ_NORM_STRIP_ACCENTS, /* drop combining marks (Mn, Mc, Me) */
    GQ_NORM_PRECOMPILED,   /* SentencePiece charsmap: trie + pool */
    GQ_NORM_BERT           /* BertNormalizer with its four flags */
} gq_norm_type;

typedef struct gq_norm_step {
    gq_norm_type type;
    char *from;            /* GQ_NORM_REPLACE */
    char *str;             /* PREPEND, REPLACE, REPLACE_REGEX */
    pcre2_code *re;        /* GQ_NORM_REPLACE_REGEX */
    int strip_left, strip_right;
    int bert_clean, bert_chinese, bert_strip_accents, bert_lowercase;
    uint32_t *trie;        /* GQ_NORM_PRECOMPILED: darts-clone units */
    size_t n_trie;
    char *pool;            /* NUL-separated replacements, n_pool bytes */
    size_t n_pool;
} gq_norm_step;

typedef enum {
    GQ_SPLIT_REMOVED = 0,
    GQ_SPLIT_ISOLATED,
    GQ_SPLIT_MERGED_PREV,
    GQ_SPLIT_MERGED_NEXT,
    GQ_SPLIT_CONTIGUOUS
} gq_split_behavior;

typedef enum {
    GQ_PRE_SPLIT = 0, /* regex split (ByteLevel use_regex, Split, Digits) */
    GQ_PRE_METASPACE = 1
} gq_pre_type;

typedef enum { GQ_PREPEND_ALWAYS = 0, GQ_PREPEND_FIRST, GQ_PREPEND_NEVER } gq_prepend_scheme;

typedef struct gq_pre_step {
    gq_pre_type type;
    pcre2_code *re;            /* GQ_PRE_SPLIT */
    gq_split_behavior behavior;
    int invert;
    char replacement[8];       /* GQ_PRE_METASPACE: UTF-8 of the replacement char */
    gq_prepend_scheme prepend;
    int split;
    int prefix_space;          /* ByteLevel add_prefix_space: prepend ' ' */
} gq_pre_step;

typedef enum {
    GQ_DEC_BYTELEVEL = 0,
    GQ_DEC_REPLACE,
    GQ_DEC_BYTEFALLBACK,
    GQ_DEC_FUSE,
    GQ_DEC_STRIP,
    GQ_DEC_METASPACE
} gq_dec_type;

typedef struct gq_dec_step {
    gq_dec_type type;
    char *from, *to;           /* REPLACE (from) -> (to); METASPACE: from = replacement */
    uint32_t strip_char;       /* STRIP */
    int start, stop;           /* STRIP */
    gq_prepend_scheme prepend; /* METASPACE */
} gq_dec_step;

enum {
    GQ_ADDED_SPECIAL = 1,
    GQ_ADDED_LSTRIP = 2,
    GQ_ADDED_RSTRIP = 4,
    GQ_ADDED_SINGLE_WORD = 8,
    GQ_ADDED_NORMALIZED = 16
};

typedef struct gq_added_token {
    char *text;     /* what is matched (normalized content when NORMALIZED) */
    size_t len;
    int32_t id;
    int flags;
} gq_added_token;

/* ---------------------------------------------------------------- the tokenizer */

struct gq_tokenizer {
    gq_tok_kind kind;
    char *source;                 /* file name for messages */

    /* Vocabulary, by id.  tok_text[id] is NUL-terminated (may hold NULs
     * inside for GGUF tokens; tok_len is the real length); NULL = hole. */
    size_t n_vocab;
    char **tok_text;
    uint32_t *tok_len;
    uint8_t *tok_special;         /* 1 = special (skipped by skip_special) */
    gq_strmap vocab;              /* token text -> id (model vocab + added); borrows the keys */
    char **retired;               /* [n_retired] texts replaced by gq_tok_set_token that the */
    size_t n_retired;             /* vocab map may still borrow: freed with the tokenizer */

    /* BPE model */
    gq_pairmap merges;            /* rank-based (tokenizer.json, GGUF gpt2) */
    float *scores;                /* GGUF llama: merge by highest score */
    int use_scores;
    int32_t byte_id[256];         /* bytelevel: id of the mapped char; spm: <0xNN> or -1 */
    int32_t unk_id;               /* -1 if none */
    int fuse_unk, byte_fallback, ignore_merges;

    /* normalizer */
    gq_norm_step *norm;
    size_t n_norm;

    /* pre-tokenizer */
    gq_pre_step *pre;
    size_t n_pre;

    /* added tokens, longest first */
    gq_added_token *added;
    size_t n_added;
    int has_normalized_added;
    int32_t added_first[256];     /* index of the first added token per first byte, -1 none */
    int32_t *added_next;          /* chain within the first-byte bucket */
    pcre2_code *re_word;          /* \w at a position (single_word checks) */

    /* post-processor (add_special = 1): ids before and after the sequence */
    int32_t *prefix, *suffix;
    size_t n_prefix, n_suffix;
    int32_t bos, eos;
    int adds_bos, adds_eos;

    /* decoder */
    gq_dec_step *dec;
    size_t n_dec;
    int has_decoder;              /* 0: join tokens with " " as HF does */

    /* GGUF SPM (llama.cpp): prepend a space to each raw-text fragment that
     * follows the start or a special token. */
    int spm_add_space_prefix;
    int spm_llamacpp;
};

/* Allocate an empty tokenizer (every id table -1). */
int gq_tok_new(gq_tokenizer **out, const char *source, gq_error *err);
/* Set the vocabulary size and allocate the id tables. */
int gq_tok_alloc_vocab(gq_tokenizer *t, size_t n, gq_error *err);
/* Store token text for id (copies). */
int gq_tok_set_token(gq_tokenizer *t, int32_t id, const char *s, size_t len, gq_error *err);
/* Register an added token (copies text). */
int gq_tok_add_added(gq_tokenizer *t, const char *s, size_t len, int32_t id, int flags, gq_error *err);
/* After everything is loaded: sort added tokens, build lookup tables,
 * byte tables, normalized added-token patterns. */
int gq_tok_finish(gq_tokenizer *t, gq_error *err);
/* Compile a split regex (PCRE2 UTF+UCP, JIT when available). */
int gq_tok_compile_regex(pcre2_code **out, const char *pattern, size_t len, const char *where,
                         gq_error *err);
/* The error of a failed pcre2_match (m < 0, not NOMATCH) at byte pos of the
 * text: PCRE2's own budget (its default match limit, 10 million steps, and
 * heap limit) bounds the time and memory one match of a pathological
 * pattern such as "(a|aa)+$" may take; hitting it is bad input
 * (GQ_ERR_INVALID naming the file, the regex's role and the offset), not a
 * hang.  tests/test_bounds.c (tokenizer_regex). */
int gq_tok_regex_error(int m, const char *source, const char *what, size_t pos, gq_error *err);
/* Append a pre-tokenizer regex split step. */
int gq_tok_add_split(gq_tokenizer *t, const char *pattern, gq_split_behavior b, int invert,
                     const char *where, gq_error *err);

/* The regexes HF and llama.cpp use. */
extern const char gq_regex_gpt2[];
extern const char gq_regex_llama3[];
extern const char gq_regex_qwen2[];

/* Byte-level mapping (GPT-2 bytes_to_unicode): UTF-8 of the char for byte b. */
size_t gq_bytelevel_char(uint8_t b, char out[4]);
/* Inverse: code point -> byte, -1 if the code point is not in the map. */
int gq_bytelevel_byte(uint32_t cp);

/* UTF-8: base/gq_utf8.h (gq_utf8_seq_len, gq_utf8_next, gq_utf8_put, gq_utf8_valid_len). */

/* Append s[0..n) to b with every literal `from` replaced by `to`. */
int gq_tok_replace_into(gq_sbuf *b, const char *s, size_t n, const char *from, const char *to, gq_error *err);

/* Unicode White_Space (Rust's char::is_whitespace, Oniguruma's \s). */
int gq_unicode_is_ws(int32_t cp);

/* Normalizers (tokenizer_norm.c): tokenizer.json's "normalizer" node into
 * t->norm; one step by hand (loaders that build their own); a step's
 * memory; and the whole normalizer applied to s into a fresh heap string. */
int gq_tok_load_normalizer(gq_tokenizer *t, const cJSON *node, const char *path, gq_error *err);
int gq_tok_add_norm(gq_tokenizer *t, gq_norm_type type, const char *from, const char *str, gq_error *err);
void gq_tok_free_norm(gq_norm_step *s);
int gq_tok_normalize(const gq_tokenizer *t, const char *s, size_t n, char **out, size_t *out_n, gq_error *err);

/* BPE on one word.  Appends ids to out. */
int gq_bpe_word(const gq_tokenizer *t, const char *w, size_t len, gq_tokens *out, gq_error *err);

#endif
