/* kernels.h — the per-row math of the forward pass, shared by the CPU
 * backend and the CUDA kernels (static inline, host+device).
 *
 * What is here: RMSNorm, RoPE in both layouts (HF rotate-half: pairs
 * (j, j+n/2); DeepSeek interleaved: pairs (2p, 2p+1)), the RoPE frequency
 * tables (default, llama3 and DeepSeek yarn scaling, in float32 as HF
 * computes them) and yarn's mscale, softmax over a row, SwiGLU, log-softmax
 * + gather in float64, the tree-batch mask.
 * What is not: matrix products (BLAS / cuBLAS), threading, memory.
 * Tested by tests/test_kernels.c against plain double-precision formulas.
 */
#ifndef GQ_KERNELS_H
#define GQ_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "gq_hd.h"

/* The GQA head mapping, in one place: query head h reads KV head h / (H/Hkv). */
static inline GQ_HD int gq_kv_head_of(int h, int H, int Hkv) { return h / (H / Hkv); }

/* y = w * x / sqrt(mean(x^2) + eps), n elements.  Sum of squares in double:
 * HF reduces in float32, and the double sum is the closer of the two to the
 * exact value, so differences stay at float rounding. */
static inline GQ_HD void gq_rmsnorm_row(float *y, const float *x, const float *w, int n, float eps)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    float inv = (float)(1.0 / sqrt(ss / n + (double)eps));
    for (int i = 0; i < n; i++) y[i] = w[i] * (x[i] * inv);
}

/* Rotate one head vector x[n] in place, HF rotate-half layout:
 * y[j] = x[j] c_j - x[j+n/2] s_j,  y[j+n/2] = x[j+n/2] c_j + x[j] s_j.
 * cos_t/sin_t hold n/2 values for this position. */
static inline GQ_HD void gq_rope_row(float *x, const float *cos_t, const float *sin_t, int n)
{
    int half = n / 2;
    for (int j = 0; j < half; j++) {
        float a = x[j], b = x[j + half];
        x[j] = a * cos_t[j] - b * sin_t[j];
        x[j + half] = b * cos_t[j] + a * sin_t[j];
    }
}

/* Rotate one head vector x[n] in place, interleaved (DeepSeek MLA,
 * rope_interleave: true) layout, conversion.md §1.2:
 * y[2p] = x[2p] c_p - x[2p+1] s_p,  y[2p+1] = x[2p+1] c_p + x[2p] s_p.
 * The same rotation as gq_rope_row under the row permutation
 * pi(2j+e) = e*n/2 + j.  The result stays in interleaved order (HF
 * de-interleaves into half layout; dot products are the same). */
static inline GQ_HD void gq_rope_row_interleaved(float *x, const float *cos_t, const float *sin_t, int n)
{
    for (int p = 0; p < n / 2; p++) {
        float a = x[2 * p], b = x[2 * p + 1];
        x[2 * p] = a * cos_t[p] - b * sin_t[p];
        x[2 * p + 1] = b * cos_t[p] + a * sin_t[p];
    }
}

/* In-place softmax over x[n] (max-subtracted, float32 like HF's upcast). */
static inline GQ_HD void gq_softmax_row(float *x, int n)
{
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* The tree-batch mask (backend.h), in one place.  A tree batch holds a
 * shared context (cache rows [0, shared_end)) and then several
 * continuations one after another; query row t belongs to the continuation
 * that starts at cache row seg[t], so it must not see the earlier
 * continuations, rows [shared_end, seg[t]).  seg == NULL: a plain causal
 * batch, nothing hidden.  Causality (rows after the query's own) is the
 * caller's n_ctx. */
static inline GQ_HD int gq_tree_hidden(int s, int shared_end, const int *seg, int t)
{
    return seg != NULL && s >= shared_end && s < seg[t];
}

/* Set the hidden scores of query row t's row[n_ctx] to -inf, before
 * gq_softmax_row: they come out as exact zeros and add nothing, in the same
 * order as the contiguous case (the query's own row is never hidden, so the
 * row's maximum stays finite). */
static inline GQ_HD void gq_tree_mask_row(float *row, int n_ctx, int shared_end, const int *seg, int t)
{
    if (seg == NULL) return;
    for (int s = shared_end; s < seg[t] && s < n_ctx; s++) row[s] = -INFINITY;
}

/* gate[i] = silu(gate[i]) * up[i] over n elements. */
static inline GQ_HD void gq_swiglu_row(float *gate, const float *up, int n)
{
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = (g / (1.0f + expf(-g))) * up[i];
    }
}

/* First index of the maximum of x[0..n) (torch.argmax's tie rule). */
static inline GQ_HD int gq_argmax_row(const float *x, int n)
{
    int am = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[am]) am = i;
    return am;
}

/* log-softmax of logits[n] at index `target`, in float64; also the argmax
 * (first index of the maximum, as torch.argmax) and its log-prob. */
static inline GQ_HD double gq_logsoftmax_gather_row(const float *logits, int n, int target,
                                                    int *argmax, double *max_logprob)
{
    int am = gq_argmax_row(logits, n);
    float mx = logits[am];
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - (double)mx);
    double lse = (double)mx + log(sum);
    if (argmax) *argmax = am;
    if (max_logprob) *max_logprob = (double)mx - lse;
    return (double)logits[target] - lse;
}

/* Vocabulary blocks of backend.h's vocab_scores: fixed, so the per-block
 * partial sums (and hence every rounding) depend neither on the thread
 * count nor on the backend. */
#define GQ_VOCAB_BLOCK 256

/* The vocabulary-block steps of backend.h's vocab_scores, shared by both
 * backends.  One block of one row: its maximum, the first index of it
 * (v0 + offset) and the float64 sum of exp(l - max) over the block. */
static inline GQ_HD void gq_vocab_block_partial(const float *logits, int nv, int v0, float *mx_out, int *arg_out,
                                                double *sum_out)
{
    int am = gq_argmax_row(logits, nv);
    float mx = logits[am];
    /* expf of the float difference, summed in float64: the terms that
     * matter have |l - max| small, where the difference is exact and expf
     * is within an ulp, so the log-sum-exp moves by ~1e-7 at most, and it
     * runs about 3x faster than exp in double. */
    double sum = 0.0;
    for (int v = 0; v < nv; v++) sum += (double)expf(logits[v] - mx);
    *mx_out = mx;
    *arg_out = v0 + am;
    *sum_out = sum;
}

/* Combine one row's partials of n_blocks blocks (block b at index
 * b * stride) in block order: the first block holding the maximum gives the
 * first index of it (torch.argmax); sums rescaled to the row maximum.
 * Returns the log-sum-exp; *argmax and its log-prob. */
static inline GQ_HD double gq_vocab_combine(const float *bmax, const double *bsum, const int *barg, int n_blocks,
                                            size_t stride, int *argmax, double *argmax_logprob)
{
    float mx = bmax[0];
    int am = barg[0];
    for (int b = 1; b < n_blocks; b++)
        if (bmax[(size_t)b * stride] > mx) {
            mx = bmax[(size_t)b * stride];
            am = barg[(size_t)b * stride];
        }
    double total = 0.0;
    for (int b = 0; b < n_blocks; b++) total += bsum[(size_t)b * stride] * exp((double)bmax[(size_t)b * stride] - (double)mx);
    double lse = (double)mx + log(total);
    *argmax = am;
    *argmax_logprob = (double)mx - lse;
    return lse;
}

/* RoPE inverse frequencies for rotary width n (n/2 values), as HF computes
 * them in float32: inv_freq_j = 1 / theta^(2j/n).  With llama3 scaling
 * (factor f, low/high frequency factors a/b, original context M):
 * wavelength > M/a -> /f; < M/b -> unchanged; else smooth interpolation. */
static inline GQ_HD void gq_rope_inv_freq(float *inv_freq, int n, double theta, int llama3,
                                          double f, double a, double b, double M)
{
    for (int j = 0; j < n / 2; j++) {
        float e = (float)(2 * j) / (float)n;
        float inv = 1.0f / powf((float)theta, e);
        if (llama3) {
            float wavelen = 2.0f * 3.14159265358979323846f / inv;
            float low_wl = (float)(M / a), high_wl = (float)(M / b);
            float scaled = wavelen > low_wl ? inv / (float)f : inv;
            if (!(wavelen < high_wl) && !(wavelen > low_wl)) {
                float smooth = ((float)M / wavelen - (float)a) / ((float)b - (float)a);
                scaled = (1.0f - smooth) * scaled / (float)f + smooth * scaled;
            }
            inv = scaled;
        }
        inv_freq[j] = inv;
    }
}

/* yarn's magnitude factor m(f, mu) = 0.1 mu ln f + 1 (1 when f <= 1),
 * conversion.md §1.2; the MLA softmax scale is multiplied by m(f, mu_a)^2
 * (§1.4) and cos/sin by the amplitude m(f, mu) / m(f, mu_a). */
static inline GQ_HD double gq_yarn_mscale(double f, double mu)
{
    return f <= 1.0 ? 1.0 : 0.1 * mu * log(f) + 1.0;
}

/* DeepSeek yarn inverse frequencies for rotary width n (n/2 values), the
 * way HF's _compute_yarn_parameters forms them (truncated correction range
 * in double, ramp and frequencies in float32):
 * kappa(rho) = n ln(M / (2 pi rho)) / (2 ln theta), lo = max(floor kappa(beta_fast), 0),
 * hi = min(ceil kappa(beta_slow), n-1) (+0.001 when equal),
 * ramp_j = clamp((j - lo) / (hi - lo), 0, 1),
 * inv_freq_j = theta^(-2j/n) * (1 - ramp_j + ramp_j / f). */
static inline GQ_HD void gq_rope_inv_freq_yarn(float *inv_freq, int n, double theta, double f,
                                               double beta_fast, double beta_slow, double M)
{
    const double two_pi = 6.283185307179586;
    double lo = floor(n * log(M / (beta_fast * two_pi)) / (2.0 * log(theta)));
    double hi = ceil(n * log(M / (beta_slow * two_pi)) / (2.0 * log(theta)));
    if (lo < 0.0) lo = 0.0;
    if (hi > n - 1) hi = n - 1;
    if (lo == hi) hi += 0.001;
    for (int j = 0; j < n / 2; j++) {
        float pos_freq = powf((float)theta, (float)(2 * j) / (float)n);
        float extrap = 1.0f / pos_freq;
        float interp = 1.0f / ((float)f * pos_freq);
        float ramp = ((float)j - (float)lo) / (float)(hi - lo);
        ramp = ramp < 0.0f ? 0.0f : (ramp > 1.0f ? 1.0f : ramp);
        float extrap_factor = 1.0f - ramp;
        inv_freq[j] = interp * (1.0f - extrap_factor) + extrap * extrap_factor;
    }
}

#endif
