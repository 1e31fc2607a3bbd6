/* tokenizer_export.h — a GGUF source's embedded tokenizer written as a
 * Hugging Face tokenizer.json + tokenizer_config.json, so that a converted
 * folder carries its tokenizer (conversion.md §5.1 "tokenizer files").
 *
 * Supported: tokenizer.ggml.model "gpt2" (byte-level BPE) with the
 * tokenizer.ggml.pre families engine/tokenizer_gguf.c knows: gpt2/default
 * (ByteLevel with its regex), smollm/starcoder-like (Digits individual +
 * ByteLevel, which is what the original SmolLM2 tokenizer.json says),
 * llama-bpe (Split by the LLaMA-3 regex + ByteLevel, ignore_merges) and
 * qwen2 (Split by the Qwen2 regex + ByteLevel).  Token types 2/3 (unknown,
 * control) become special added tokens, 4 (user-defined) plain added
 * tokens, as tokenizer_gguf.c treats them.  BOS/EOS: tokenizer_config.json
 * carries add_bos_token / add_eos_token from the GGUF flags and the
 * bos/eos token names, which tokenizer_json.c honours.
 * Anything else: GQ_ERR_UNSUPPORTED (the caller may skip the tokenizer).
 * The round trip (same ids as the GGUF tokenizer) is tested on SmolLM2 by
 * tests/test_convert_smollm2.c.
 */
#ifndef GQ_CONVERT_TOKENIZER_EXPORT_H
#define GQ_CONVERT_TOKENIZER_EXPORT_H

#include "gq_error.h"
#include "output.h"

struct gq_gguf;

int gq_tokenizer_export_gguf(const struct gq_gguf *g, gq_convert_out *o, gq_error *err);

#endif
