/* tp.c — how a model is split over tensor-parallel ranks and what each
 * rank's KV cache holds (tp.h).  The slicing of the weights themselves is
 * in weights.c, the all-reduces in forward.c. */
#include "tp.h"

void gq_tp_range(int64_t count, int rank, int size, int64_t *lo, int64_t *hi)
{
    *lo = count * rank / size;
    *hi = count * (rank + 1) / size;
}

int gq_tp_check(const gq_config *cfg, int rank, int size, const char *what, gq_error *err)
{
    if (size < 1 || rank < 0 || rank >= size)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor-parallel rank %d of %d is out of range", what, rank, size);
    if (size > cfg->num_key_value_heads)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: --tp %d exceeds the model's %lld KV groups (num_key_value_heads); tensor "
                            "parallelism splits along groups, so 1 <= tp <= %lld",
                            what, size, (long long)cfg->num_key_value_heads, (long long)cfg->num_key_value_heads);
    if (size > cfg->intermediate_size)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: --tp %d exceeds the MLP's %lld intermediate rows", what, size,
                            (long long)cfg->intermediate_size);
    return GQ_OK;
}

int64_t gq_tp_cache_elems(const gq_config *cfg, gq_path p, int rank, int size)
{
    int mla = cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA;
    int64_t g0, g1;
    gq_tp_range(cfg->num_key_value_heads, rank, size, &g0, &g1);
    int64_t G = g1 - g0, dn = cfg->qk_nope_head_dim, dr = cfg->qk_rope_head_dim, dv = cfg->v_head_dim;
    switch (p) {
    case GQ_PATH_NATIVE: return mla ? 0 : 2 * G * cfg->head_dim;
    case GQ_PATH_GQA: return mla ? G * (dn + dv) + dr : 0;       /* k^R: one copy per rank */
    case GQ_PATH_ABSORB: return mla ? cfg->kv_lora_rank + dr : 0; /* the latent, whole on every rank */
    case GQ_PATH_EXPANDED: return mla ? G * (dn + dr + dv) : 0;
    case GQ_PATH_COUNT: break;
    }
    return 0;
}
