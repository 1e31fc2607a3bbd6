/* tokenizer.h — text to token ids and back, exactly as Hugging Face
 * `tokenizers` does for the supported families:
 *   - byte-level BPE (GPT-2 / LLaMA-3 / SmolLM2): ByteLevel pre-tokenizer
 *     with the GPT-2 or LLaMA-3 split regex (PCRE2, UTF + UCP), merges by rank;
 *   - SentencePiece-style BPE (LLaMA-2, Mistral): Metaspace "▁", merges by
 *     rank (or by score when loaded from a GGUF "llama" vocabulary), byte
 *     fallback <0xNN>;
 *   - added/special tokens matched whole in the text before BPE.
 * Sources: tokenizer.json (+ tokenizer_config.json beside it for
 * add_bos_token / add_eos_token), or the tokenizer embedded in a GGUF file.
 * Not here: chat templates, normalisers beyond what these families use
 * (NFC/NFKC/Lowercase... load as GQ_ERR_UNSUPPORTED), WordPiece/Unigram.
 * Implementation: tokenizer.c (pipeline), tokenizer_bpe.c (merges),
 * tokenizer_json.c, tokenizer_gguf.c; tests/test_tokenizer*.c.
 *
 * Failure contract: every int-returning call returns GQ_OK or a negative
 * gq_status and fills err with a message naming the file (and key/place).
 * A loader leaves *out NULL on failure and frees what it built; on success
 * the caller owns the tokenizer and frees it with gq_tokenizer_free (NULL
 * is fine).  A loaded tokenizer is read-only: encode/decode may run on it
 * from several threads at once.
 */
#ifndef GQ_TOKENIZER_H
#define GQ_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"

struct gq_gguf;

typedef struct gq_tokens {
    int32_t *ids;
    size_t n, cap;
} gq_tokens;

int gq_tokens_push(gq_tokens *t, int32_t id, gq_error *err);
void gq_tokens_free(gq_tokens *t);

typedef struct gq_tokenizer gq_tokenizer;

/* tokenizer_config may be NULL; when it exists its add_bos_token /
 * add_eos_token / bos_token / eos_token override what tokenizer.json implies:
 * bos_token / eos_token name the BOS/EOS ids; if add_bos_token or
 * add_eos_token is present, add_special adds exactly [BOS] ... [EOS] as
 * those flags say (a missing one keeps what the post_processor does), as
 * transformers' LlamaTokenizerFast rebuilds its template; if neither is
 * present, tokenizer.json's post_processor decides.
 * Errors: GQ_ERR_IO (unreadable), GQ_ERR_FORMAT (not JSON), GQ_ERR_INVALID
 * (missing model.vocab / merges, merges outside the vocabulary...),
 * GQ_ERR_UNSUPPORTED (another model type, normalizer or pre-tokenizer). */
int gq_tokenizer_load_json(gq_tokenizer **out, const char *tokenizer_json,
                           const char *tokenizer_config, gq_error *err);
/* The tokenizer embedded in a GGUF file, read as llama.cpp reads it
 * (tokenizer.ggml.model "gpt2" or "llama"; tokenizer.ggml.pre picks the
 * split regex).  g may be closed after this returns: everything is copied. */
int gq_tokenizer_load_gguf(gq_tokenizer **out, const struct gq_gguf *g, gq_error *err);
void gq_tokenizer_free(gq_tokenizer *tok);

/* add_special: 1 = add BOS/EOS as the tokenizer's configuration says
 * (HF add_special_tokens=True), 0 = add none.  Appends to out (which the
 * caller owns; start it as {0} and free with gq_tokens_free).  text must be
 * valid UTF-8 (else GQ_ERR_INVALID naming the byte offset).  On failure out
 * is left as it was before the call. */
int gq_tokenizer_encode(const gq_tokenizer *tok, const char *text, size_t len, int add_special,
                        gq_tokens *out, gq_error *err);
/* Decoded UTF-8 text (caller frees with gq_free; *out is NULL on failure);
 * skip_special drops special tokens as HF decode(skip_special_tokens=True)
 * does.  Ids outside the vocabulary are dropped, as HF does; invalid UTF-8
 * from byte tokens becomes U+FFFD as HF's decoders make it. */
int gq_tokenizer_decode(const gq_tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                        char **out, gq_error *err);

size_t gq_tokenizer_vocab_size(const gq_tokenizer *tok);
int32_t gq_tokenizer_bos(const gq_tokenizer *tok);   /* -1 if none */
int32_t gq_tokenizer_eos(const gq_tokenizer *tok);   /* -1 if none */
int gq_tokenizer_adds_bos(const gq_tokenizer *tok);
int gq_tokenizer_adds_eos(const gq_tokenizer *tok);
const char *gq_tokenizer_kind(const gq_tokenizer *tok); /* "bpe-bytelevel" | "bpe-sentencepiece" */
/* Token text as stored in the vocabulary (NULL if out of range). */
const char *gq_tokenizer_token(const gq_tokenizer *tok, int32_t id);

#endif
