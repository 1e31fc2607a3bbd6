/* fuzz_safetensors.c — libFuzzer target: a safetensors file, or a sharded
 * checkpoint's model.safetensors.index.json plus one shard (fuzz_util.h says
 * how targets build and replay).
 *   byte 0 even: the rest is model.safetensors; opened alone
 *                (gq_safetensors_open) and as a checkpoint folder beside a
 *                fixed config.json (split views, name mapping);
 *   byte 0 odd:  the rest is INDEX FUZZ_SPLIT SHARD; the index may name the
 *                shard "a.safetensors" (the seeds do).
 * Small tensors are widened to float32 (gq_tensor_load_f32), which reads
 * every byte the header promised. */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fuzz_util.h"
#include "gq_error.h"
#include "safetensors.h"

static const char config_json[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 16,"
    " \"intermediate_size\": 24, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 4,"
    " \"num_hidden_layers\": 1, \"vocab_size\": 32, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0,"
    " \"max_position_embeddings\": 64, \"tie_word_embeddings\": false, \"bos_token_id\": 1,"
    " \"eos_token_id\": 2}";

static void open_checkpoint(void)
{
    gq_checkpoint *ck = NULL;
    gq_error err = {0};
    int rc = gq_checkpoint_open(&ck, fuzz_dir(), &err);
    fuzz_note("checkpoint", rc, &err);
    if (rc != GQ_OK) return;
    for (size_t i = 0; i < gq_checkpoint_tensor_count(ck); i++) fuzz_widen_small(gq_checkpoint_tensor(ck, i));
    gq_checkpoint_find(ck, "model.embed_tokens.weight");
    gq_checkpoint_close(ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    fuzz_reset();
    if (!fuzz_write(0, "config.json", config_json, sizeof config_json - 1)) return 0;
    if ((data[0] & 1) == 0) {
        const char *path = fuzz_write(1, "model.safetensors", data + 1, size - 1);
        if (!path) return 0;
        gq_safetensors *st = NULL;
        gq_error err = {0};
        if (gq_safetensors_open(&st, path, &err) == GQ_OK) {
            for (size_t i = 0; i < gq_safetensors_count(st); i++) fuzz_widen_small(gq_safetensors_tensor(st, i));
            gq_safetensors_find(st, "lm_head.weight");
            gq_safetensors_close(st);
        }
        open_checkpoint();
        return 0;
    }
    const uint8_t *index, *shard;
    size_t n_index, n_shard;
    fuzz_split2(data + 1, size - 1, &index, &n_index, &shard, &n_shard);
    if (!fuzz_write(1, "model.safetensors.index.json", index, n_index)) return 0;
    if (!fuzz_write(2, "a.safetensors", shard, n_shard)) return 0;
    open_checkpoint();
    return 0;
}
