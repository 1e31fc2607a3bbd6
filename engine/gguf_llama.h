/* gguf_llama.h — GGUF metadata and tensor names of the llama family (llama,
 * mistral-as-llama, qwen2, qwen3, phi3; see gguf_llama.c) seen as a Hugging
 * Face checkpoint.  Keys below are written for llama; the others use their
 * own general.architecture as the prefix.
 *
 * Metadata: llama.block_count, llama.embedding_length, llama.feed_forward_length,
 * llama.attention.head_count(_kv), llama.attention.layer_norm_rms_epsilon,
 * llama.rope.freq_base, llama.rope.dimension_count, llama.context_length,
 * llama.vocab_size (else the token list's length), tokenizer.ggml.bos/eos_token_id;
 * tie_word_embeddings = no output.weight tensor.
 * Names: token_embd -> model.embed_tokens, blk.N.attn_q -> model.layers.N.self_attn.q_proj,
 * ..., attn_q_norm / attn_k_norm -> self_attn.q_norm / k_norm (qwen3),
 * attn_qkv -> self_attn.qkv_proj (phi3, fused; checkpoint.c splits it and
 * phi3's fused ffn_up), output_norm -> model.norm, output -> lm_head.
 */
#ifndef GQ_GGUF_LLAMA_H
#define GQ_GGUF_LLAMA_H

#include <stddef.h>
#include "config.h"
#include "gguf.h"

int gq_gguf_llama_config(const gq_gguf *g, gq_config *cfg, gq_error *err);

/* Write the Hugging Face name of a GGUF tensor into out; returns 1 on
 * success, 0 if the name is not one of the llama architecture's. */
int gq_gguf_llama_hf_name(const char *gguf_name, char *out, size_t out_size);

/* Number of heads whose rows llama.cpp's converter permuted for this HF
 * tensor name (llama architecture: H for q_proj, Hkv for k_proj, weights and
 * biases), else 0. */
int gq_gguf_llama_rope_permuted_heads(const gq_config *cfg, const char *hf_name);

#endif
