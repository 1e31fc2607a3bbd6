#define _XOPEN_SOURCE 700
/* test_kernels.c — the per-row math of engine/kernels.h (shared by the CPU
 * backend and the CUDA kernels) against plain double-precision formulas,
 * on awkward sizes.  Tolerances: float32 rounding of O(n) sums, 1e-5
 * relative; the log-softmax is float64 and must match to 1e-12. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"
#include "testutil.h"

static double frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 65536.0 * 2.0 - 1.0;
}

int main(void)
{
    unsigned seed = 42;
    int sizes[] = {1, 7, 33, 64, 577};
    for (int si = 0; si < 5; si++) {
        int n = sizes[si];
        float x[600], w[600], y[600];
        for (int i = 0; i < n; i++) {
            x[i] = (float)(3 * frand(&seed));
            w[i] = (float)(1 + frand(&seed));
        }
        gq_rmsnorm_row(y, x, w, n, 1e-5f);
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
        double inv = 1 / sqrt(ss / n + 1e-5), e = 0;
        for (int i = 0; i < n; i++) e = fmax(e, fabs(y[i] - w[i] * x[i] * inv) / (fabs(w[i] * x[i] * inv) + 1e-6));
        test_cond("rmsnorm matches the formula", e < 1e-5);

        float p[600];
        for (int i = 0; i < n; i++) p[i] = x[i] * 10;
        gq_softmax_row(p, n);
        double mx = -1e30, sum = 0, sp = 0;
        for (int i = 0; i < n; i++) mx = fmax(mx, x[i] * 10.0);
        for (int i = 0; i < n; i++) sum += exp(x[i] * 10.0 - mx);
        e = 0;
        for (int i = 0; i < n; i++) {
            double ref = exp(x[i] * 10.0 - mx) / sum;
            e = fmax(e, fabs(p[i] - ref));
            sp += p[i];
        }
        test_cond("softmax matches the formula", e < 1e-6);
        test_cond("softmax sums to 1", fabs(sp - 1) < 1e-5);

        int am = -1;
        double mlp;
        double lp = gq_logsoftmax_gather_row(x, n, n / 2, &am, &mlp);
        mx = -1e30;
        int ref_am = 0;
        for (int i = 0; i < n; i++)
            if (x[i] > mx) {
                mx = x[i];
                ref_am = i;
            }
        sum = 0;
        for (int i = 0; i < n; i++) sum += exp((double)x[i] - mx);
        test_cond("log-softmax gather in float64", fabs(lp - ((double)x[n / 2] - mx - log(sum))) < 1e-12);
        test_cond("argmax is the first maximum", am == ref_am);
        test_cond("argmax log-prob", fabs(mlp - (-log(sum))) < 1e-12);

        float g[600], u[600];
        for (int i = 0; i < n; i++) {
            g[i] = x[i];
            u[i] = w[i];
        }
        gq_swiglu_row(g, u, n);
        e = 0;
        for (int i = 0; i < n; i++) e = fmax(e, fabs(g[i] - x[i] / (1 + exp(-(double)x[i])) * w[i]));
        test_cond("swiglu matches silu(g)*u", e < 1e-5);
    }
    /* Ties: the first maximum wins, as torch.argmax. */
    float tie[4] = {1, 3, 3, 2};
    int am = -1;
    gq_logsoftmax_gather_row(tie, 4, 0, &am, NULL);
    test_cond("argmax tie picks the first", am == 1);

    /* RoPE: rotate-half pairs (j, j+n/2), norm preserved, position 0 = identity. */
    float v[16], v0[16], c[8], s[8];
    for (int i = 0; i < 16; i++) v[i] = v0[i] = (float)frand(&seed);
    for (int j = 0; j < 8; j++) {
        c[j] = 1;
        s[j] = 0;
    }
    gq_rope_row(v, c, s, 16);
    int same = 1;
    for (int i = 0; i < 16; i++) same &= v[i] == v0[i];
    test_cond("rope at angle 0 is the identity", same);
    for (int j = 0; j < 8; j++) {
        c[j] = (float)cos(0.3 * (j + 1));
        s[j] = (float)sin(0.3 * (j + 1));
    }
    gq_rope_row(v, c, s, 16);
    double e = 0;
    for (int j = 0; j < 8; j++) {
        double a = v0[j], b = v0[j + 8], ang = 0.3 * (j + 1);
        e = fmax(e, fabs(v[j] - (a * cos(ang) - b * sin(ang))));
        e = fmax(e, fabs(v[j + 8] - (b * cos(ang) + a * sin(ang))));
    }
    test_cond("rope rotates the pair (j, j+n/2)", e < 1e-6);

    /* Frequencies: default, and llama3 scaling's three bands. */
    float inv[32];
    gq_rope_inv_freq(inv, 64, 10000.0, 0, 0, 0, 0, 0);
    e = 0;
    for (int j = 0; j < 32; j++) e = fmax(e, fabs(inv[j] - pow(10000.0, -2.0 * j / 64)) / pow(10000.0, -2.0 * j / 64));
    test_cond("default rope frequencies", e < 1e-6);
    float inv3[32];
    gq_rope_inv_freq(inv3, 64, 500000.0, 1, 8.0, 1.0, 4.0, 8192.0);
    int bands_ok = 1;
    for (int j = 0; j < 32; j++) {
        double f = pow(500000.0, -2.0 * j / 64), wl = 2 * M_PI / f, ref;
        if (wl < 8192.0 / 4.0) ref = f;
        else if (wl > 8192.0 / 1.0) ref = f / 8.0;
        else {
            double sm = (8192.0 / wl - 1.0) / (4.0 - 1.0);
            ref = (1 - sm) * f / 8.0 + sm * f;
        }
        if (fabs(inv3[j] - ref) / ref > 1e-5) bands_ok = 0;
    }
    test_cond("llama3 rope scaling: high, medium and low bands", bands_ok);

    /* Interleaved RoPE (DeepSeek): pairs (2p, 2p+1); equals rotate-half
     * under the permutation pi(2j+e) = e*n/2 + j (conversion.md §1.2). */
    float vi[16], vh[16];
    for (int i = 0; i < 16; i++) vi[i] = v0[i];
    for (int j = 0; j < 8; j++) {
        vh[j] = v0[2 * j];
        vh[j + 8] = v0[2 * j + 1];
    }
    gq_rope_row_interleaved(vi, c, s, 16);
    gq_rope_row(vh, c, s, 16);
    e = 0;
    double e_pi = 0;
    for (int p2 = 0; p2 < 8; p2++) {
        double a = v0[2 * p2], b = v0[2 * p2 + 1], ang = 0.3 * (p2 + 1);
        e = fmax(e, fabs(vi[2 * p2] - (a * cos(ang) - b * sin(ang))));
        e = fmax(e, fabs(vi[2 * p2 + 1] - (b * cos(ang) + a * sin(ang))));
        e_pi = fmax(e_pi, fmax(fabs(vi[2 * p2] - vh[p2]), fabs(vi[2 * p2 + 1] - vh[p2 + 8])));
    }
    test_cond("interleaved rope rotates the pair (2p, 2p+1)", e < 1e-6);
    test_cond("interleaved rope == rotate-half under the permutation pi (bit-identical)", e_pi == 0);

    /* yarn (DeepSeek-V2-Lite-like: theta 10000, f 40, M 4096, n 64) against
     * the formula of §1.2 in double, and its mscale. */
    float iy[32];
    gq_rope_inv_freq_yarn(iy, 64, 10000.0, 40.0, 32.0, 1.0, 4096.0);
    double kf = 64 * log(4096.0 / (2 * M_PI * 32)) / (2 * log(10000.0));
    double ks = 64 * log(4096.0 / (2 * M_PI * 1)) / (2 * log(10000.0));
    double lo = fmax(floor(kf), 0), hi = fmin(ceil(ks), 63);
    int n_mixed = 0;
    e = 0;
    for (int j = 0; j < 32; j++) {
        double ramp = fmin(fmax((j - lo) / (hi - lo), 0), 1), ref = pow(10000.0, -2.0 * j / 64) * (1 - ramp + ramp / 40);
        e = fmax(e, fabs(iy[j] - ref) / ref);
        n_mixed += ramp > 0 && ramp < 1;
    }
    printf("yarn: lo %g hi %g, %d interpolated frequencies, max rel error %.3g\n", lo, hi, n_mixed, e);
    test_cond("yarn frequencies match the formula (1e-5 relative), with a ramp", e < 1e-5 && n_mixed > 2);
    test_cond("yarn mscale: m(40, 0.707) = 1.260804",
              fabs(gq_yarn_mscale(40.0, 0.707) - 1.260804) < 1e-6 && gq_yarn_mscale(0.5, 1.0) == 1.0);
    double tau = 1 / sqrt(192.0) * gq_yarn_mscale(40.0, 0.707) * gq_yarn_mscale(40.0, 0.707);
    test_cond("DeepSeek-V2-Lite softmax scale tau = 0.11472139 (conversion.md §1.4)", fabs(tau - 0.11472139) < 1e-8);

    /* Tree mask: context rows [0, 5), continuations at 5 (3 rows), 8 (4
     * rows), 12 (2 rows).  Query t sits at cache row 5 + t; after the mask
     * + softmax its row must be the softmax over exactly the rows it may
     * see (the context and its own continuation up to itself), with exact
     * zeros elsewhere.  A plain causal row (seg NULL) hides nothing. */
    {
        int shared_end = 5, seg[9] = {5, 5, 5, 8, 8, 8, 8, 12, 12};
        int n_bad = 0, n_hidden = 0;
        for (int t = 0; t < 9; t++) {
            int self = shared_end + t, n_ctx = self + 1;
            float row[14];
            double sc[14], mxv = -1e30, z = 0;
            for (int s = 0; s < n_ctx; s++) row[s] = (float)(4 * frand(&seed));
            for (int s = 0; s < n_ctx; s++) {
                int visible = s < shared_end || (s >= seg[t] && s <= self);
                sc[s] = visible ? row[s] : -1e300;
                if (visible) mxv = fmax(mxv, row[s]);
                n_bad += gq_tree_hidden(s, shared_end, seg, t) == visible;
                n_bad += gq_tree_hidden(s, shared_end, NULL, t) != 0;
                n_hidden += !visible;
            }
            for (int s = 0; s < n_ctx; s++) z += sc[s] > -1e299 ? exp(sc[s] - mxv) : 0.0;
            gq_tree_mask_row(row, n_ctx, shared_end, seg, t);
            gq_softmax_row(row, n_ctx);
            for (int s = 0; s < n_ctx; s++) {
                double ref = sc[s] > -1e299 ? exp(sc[s] - mxv) / z : 0.0;
                if (ref == 0.0 ? row[s] != 0.0f : fabs(row[s] - ref) > 1e-6) n_bad++;
            }
        }
        printf("tree mask: %d hidden (query, row) pairs, %d mismatches\n", n_hidden, n_bad);
        test_cond("tree mask: softmax over exactly the visible rows, exact zeros on the hidden ones",
                  n_bad == 0 && n_hidden == 3 * 4 + 7 * 2);
        float plain[6] = {0.5f, -1, 2, 0.25f, 1, -3}, ref6[6];
        for (int s = 0; s < 6; s++) ref6[s] = plain[s];
        gq_tree_mask_row(plain, 6, 2, NULL, 0);
        int same = 1;
        for (int s = 0; s < 6; s++) same &= plain[s] == ref6[s];
        test_cond("tree mask: seg NULL leaves the row alone", same);
    }
    return test_report("kernels");
}
