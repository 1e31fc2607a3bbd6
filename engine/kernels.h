/* kernels.h — the per-row math of the forward pass, shared by the CPU
 * backend and the CUDA kernels (static inline, host+device).
 *
 * What is here: RMSNorm, RoPE (HF rotate-half layout: pairs (j, j+n/2)),
 * the RoPE frequency table (default and llama3 scaling, in float32 as HF
 * computes it), softmax over a row, SwiGLU, log-softmax + gather in float64.
 * What is not: matrix products (BLAS / cuBLAS), threading, memory.
 * Tested by tests/test_kernels.c against plain double-precision formulas.
 */
#ifndef GQ_KERNELS_H
#define GQ_KERNELS_H

#include <math.h>
#include <stdint.h>

#ifndef GQ_HD
#ifdef __CUDACC__
#define GQ_HD __host__ __device__
#else
#define GQ_HD
#endif
#endif

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

/* gate[i] = silu(gate[i]) * up[i] over n elements. */
static inline GQ_HD void gq_swiglu_row(float *gate, const float *up, int n)
{
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = (g / (1.0f + expf(-g))) * up[i];
    }
}

/* log-softmax of logits[n] at index `target`, in float64; also the argmax
 * (first index of the maximum, as torch.argmax) and its log-prob. */
static inline GQ_HD double gq_logsoftmax_gather_row(const float *logits, int n, int target,
                                                    int *argmax, double *max_logprob)
{
    int am = 0;
    float mx = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > mx) {
            mx = logits[i];
            am = i;
        }
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - (double)mx);
    double lse = (double)mx + log(sum);
    if (argmax) *argmax = am;
    if (max_logprob) *max_logprob = (double)mx - lse;
    return (double)logits[target] - lse;
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

#endif
