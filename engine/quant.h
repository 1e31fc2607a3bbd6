/* quant.h — widening GGUF/safetensors weight encodings to float32.
 *
 * Encodings: F32, F16 (IEEE binary16), BF16 (top half of a binary32), F64,
 * and llama.cpp's block formats of 32 elements:
 *   Q8_0  f16 d,        32 x int8 q               x = q * d
 *   Q4_0  f16 d,        16 bytes of nibbles        x = d * (q - 8)
 *   Q4_1  f16 d, f16 m, 16 bytes of nibbles        x = (d * q) + m
 *   Q5_0  f16 d,        u32 qh, 16 bytes nibbles   x = d * (q - 16)
 *   Q5_1  f16 d, f16 m, u32 qh, 16 bytes nibbles   x = (d * q) + m
 * In the nibble formats byte i holds element i in its low nibble and element
 * i + 16 in its high nibble; in Q5_x bit j of qh is bit 4 of element j.
 * The K-quants work on super-blocks of 256 elements with 16 or 8 sub-blocks,
 * each with its own small integer scale (and min) times a f16 super-scale;
 * their layouts are written above each block function.  Sub-block scales are
 * rounded to float32 first (dl = d * sc), then x = dl * q [- dm], each step
 * rounded separately, as the numpy code does.  Q8_K (f32 d, 256 x int8,
 * 16 x int16 block sums that a reader ignores) is llama.cpp's dot-product
 * intermediate; the gguf package has no dequantize for it, ggml's is x = d * q.
 * All multi-byte fields are little-endian.
 *
 * The results are bit-identical to the `gguf` Python package's dequantize
 * (numpy, float32 arithmetic): binary16 -> binary32 is exact (subnormals,
 * Inf and NaN payloads included, no quieting), and Q4_1 rounds d*q to float32
 * *before* adding m.  That last point is why the helpers below use
 * gq_mul_rn/gq_add_rn: a fused multiply-add would round once and differ in the
 * last bit.  Host C is compiled as ISO C11, where GCC does not contract
 * (-ffp-contract=off); nvcc does contract by default, hence the intrinsics.
 *
 * The per-element and per-block functions are `static inline GQ_HD` so a CUDA
 * kernel can include this header and run the same arithmetic.  They take
 * unaligned byte pointers and never read outside one block.
 *
 * Not here: quantisation (gqla-eval only reads), the IQ, TQ and FP4 types.
 * Tested by tests/test_gguf.c against tests/fixtures/gguf/tiny_expected.f32
 * (the 32-element types) and by tests/test_gguf_kquant.c against the gguf
 * package's dequantize of llama-quantize output (every type above).
 */
#ifndef GQ_QUANT_H
#define GQ_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gq_error.h"
#include "gq_hd.h"
#include "tensor.h"

#if defined(__clang__) && !defined(__CUDACC__)
#pragma STDC FP_CONTRACT OFF
#endif

#define GQ_QBLOCK 32  /* elements per Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 block */
#define GQ_QK_K 256   /* elements per K-quant super-block */

// ---------------------------------------------------------------- scalars

static inline GQ_HD uint16_t gq_load_u16le(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline GQ_HD float gq_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* binary16 -> binary32, exact.  NaN payloads are shifted up unchanged (a
 * signalling NaN stays signalling), as numpy's astype(float32) does. */
static inline GQ_HD float gq_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1fu) {
        bits = sign | 0x7f800000u | (man << 13);        /* Inf / NaN */
    } else if (exp != 0) {
        bits = sign | ((exp + (127 - 15)) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;                                   /* signed zero */
    } else {
        /* Subnormal man * 2^-24: shift the leading one up to bit 10. */
        uint32_t e = 127 - 15 + 1;
        while (!(man & 0x400u)) {
            man <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
    return gq_f32_from_bits(bits);
}

static inline GQ_HD float gq_bf16_to_f32(uint16_t h)
{
    return gq_f32_from_bits((uint32_t)h << 16);
}

/* Separately rounded multiply and add (see the file comment). */
static inline GQ_HD float gq_mul_rn(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

static inline GQ_HD float gq_add_rn(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

static inline GQ_HD float gq_sub_rn(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

// ---------------------------------------------------------------- blocks

/* Q8_0: 2 + 32 bytes -> 32 floats. */
static inline GQ_HD void gq_dequant_block_q8_0(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    const unsigned char *qs = blk + 2;
    for (int i = 0; i < GQ_QBLOCK; i++) {
        int q = (int)qs[i] - ((qs[i] & 0x80) ? 256 : 0);
        y[i] = gq_mul_rn((float)q, d);
    }
}

/* Q4_0: 2 + 16 bytes -> 32 floats. */
static inline GQ_HD void gq_dequant_block_q4_0(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    const unsigned char *qs = blk + 2;
    for (int i = 0; i < GQ_QBLOCK / 2; i++) {
        y[i] = gq_mul_rn(d, (float)((int)(qs[i] & 0x0f) - 8));
        y[i + GQ_QBLOCK / 2] = gq_mul_rn(d, (float)((int)(qs[i] >> 4) - 8));
    }
}

/* Q4_1: 2 + 2 + 16 bytes -> 32 floats. */
static inline GQ_HD void gq_dequant_block_q4_1(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    float m = gq_f16_to_f32(gq_load_u16le(blk + 2));
    const unsigned char *qs = blk + 4;
    for (int i = 0; i < GQ_QBLOCK / 2; i++) {
        y[i] = gq_add_rn(gq_mul_rn(d, (float)(qs[i] & 0x0f)), m);
        y[i + GQ_QBLOCK / 2] = gq_add_rn(gq_mul_rn(d, (float)(qs[i] >> 4)), m);
    }
}

static inline GQ_HD uint32_t gq_load_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Q5_0: f16 d | u32 qh | 16 bytes of low nibbles -> 32 floats. */
static inline GQ_HD void gq_dequant_block_q5_0(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    uint32_t qh = gq_load_u32le(blk + 2);
    const unsigned char *qs = blk + 6;
    for (int i = 0; i < GQ_QBLOCK / 2; i++) {
        int lo = (qs[i] & 0x0f) | (int)(((qh >> i) & 1u) << 4);
        int hi = (qs[i] >> 4) | (int)(((qh >> (i + 16)) & 1u) << 4);
        y[i] = gq_mul_rn(d, (float)(lo - 16));
        y[i + GQ_QBLOCK / 2] = gq_mul_rn(d, (float)(hi - 16));
    }
}

/* Q5_1: f16 d | f16 m | u32 qh | 16 bytes of low nibbles -> 32 floats. */
static inline GQ_HD void gq_dequant_block_q5_1(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    float m = gq_f16_to_f32(gq_load_u16le(blk + 2));
    uint32_t qh = gq_load_u32le(blk + 4);
    const unsigned char *qs = blk + 8;
    for (int i = 0; i < GQ_QBLOCK / 2; i++) {
        int lo = (qs[i] & 0x0f) | (int)(((qh >> i) & 1u) << 4);
        int hi = (qs[i] >> 4) | (int)(((qh >> (i + 16)) & 1u) << 4);
        y[i] = gq_add_rn(gq_mul_rn(d, (float)lo), m);
        y[i + GQ_QBLOCK / 2] = gq_add_rn(gq_mul_rn(d, (float)hi), m);
    }
}

/* Q2_K (84 bytes): scales[16] (low nibble scale, high nibble min of each
 * 16-element sub-block) | qs[64] (2-bit) | f16 d | f16 dmin.
 * Element f = 128c + 32s + l (c < 2, s < 4, l < 32) is bits 2s..2s+1 of
 * qs[32c + l]; its sub-block is f / 16.  x = (d*sc) * q - (dmin*mn). */
static inline GQ_HD void gq_dequant_block_q2_k(const unsigned char *blk, float *y)
{
    const unsigned char *sc = blk, *qs = blk + 16;
    float d = gq_f16_to_f32(gq_load_u16le(blk + 80));
    float dmin = gq_f16_to_f32(gq_load_u16le(blk + 82));
    for (int f = 0; f < GQ_QK_K; f++) {
        int c = f / 128, s = (f / 32) % 4, l = f % 32, j = f / 16;
        float dl = gq_mul_rn(d, (float)(sc[j] & 0x0f));
        float ml = gq_mul_rn(dmin, (float)(sc[j] >> 4));
        int q = (qs[32 * c + l] >> (2 * s)) & 3;
        y[f] = gq_sub_rn(gq_mul_rn(dl, (float)q), ml);
    }
}

/* Q3_K (110 bytes): hmask[32] | qs[64] (low 2 bits) | scales[12] | f16 d.
 * Element f = 128c + 32s + l: low bits 2s..2s+1 of qs[32c + l], high bit
 * (4c + s) of hmask[l]; q = low - 4 when that bit is 0, else low.
 * 16 six-bit scales, sub-block j = f / 16: low nibble from scales[j] (j < 8)
 * or its high nibble from scales[j - 8], the two high bits from
 * scales[8 + j % 4] at bit 2*(j / 4); scale = that - 32. x = (d*scale) * q. */
static inline GQ_HD void gq_dequant_block_q3_k(const unsigned char *blk, float *y)
{
    const unsigned char *hm = blk, *qs = blk + 32, *sc = blk + 96;
    float d = gq_f16_to_f32(gq_load_u16le(blk + 108));
    for (int f = 0; f < GQ_QK_K; f++) {
        int c = f / 128, s = (f / 32) % 4, l = f % 32, j = f / 16;
        int lo4 = j < 8 ? (sc[j] & 0x0f) : (sc[j - 8] >> 4);
        int hi2 = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
        int scale = (lo4 | (hi2 << 4)) - 32;
        float dl = gq_mul_rn(d, (float)scale);
        int low = (qs[32 * c + l] >> (2 * s)) & 3;
        int high = (hm[l] >> (4 * c + s)) & 1;
        y[f] = gq_mul_rn(dl, (float)(low - (high ? 0 : 4)));
    }
}

/* The 8 six-bit scales and mins of Q4_K / Q5_K, packed in 12 bytes:
 * j < 4: sc = b[j] & 63, mn = b[j+4] & 63;
 * j >= 4: sc = (b[j+4] & 15) | ((b[j-4] >> 6) << 4), mn = (b[j+4] >> 4) | ((b[j] >> 6) << 4). */
static inline GQ_HD void gq_kquant_scale_min(const unsigned char *b, int j, int *sc, int *mn)
{
    if (j < 4) {
        *sc = b[j] & 63;
        *mn = b[j + 4] & 63;
    } else {
        *sc = (b[j + 4] & 0x0f) | ((b[j - 4] >> 6) << 4);
        *mn = (b[j + 4] >> 4) | ((b[j] >> 6) << 4);
    }
}

/* Q4_K (144 bytes): f16 d | f16 dmin | scales[12] | qs[128].
 * Sub-block j = f / 32 (8 of 32): element f = 64c + 32s + l is nibble s of
 * qs[32c + l].  x = (d*sc_j) * q - (dmin*mn_j). */
static inline GQ_HD void gq_dequant_block_q4_k(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    float dmin = gq_f16_to_f32(gq_load_u16le(blk + 2));
    const unsigned char *scales = blk + 4, *qs = blk + 16;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        gq_kquant_scale_min(scales, j, &sc, &mn);
        float dl = gq_mul_rn(d, (float)sc), ml = gq_mul_rn(dmin, (float)mn);
        int c = j / 2, s = j % 2;
        for (int l = 0; l < 32; l++) {
            int q = (qs[32 * c + l] >> (4 * s)) & 0x0f;
            y[32 * j + l] = gq_sub_rn(gq_mul_rn(dl, (float)q), ml);
        }
    }
}

/* Q5_K (176 bytes): f16 d | f16 dmin | scales[12] | qh[32] | qs[128].
 * As Q4_K, plus bit j of qh[l] as bit 4 of element 32j + l. */
static inline GQ_HD void gq_dequant_block_q5_k(const unsigned char *blk, float *y)
{
    float d = gq_f16_to_f32(gq_load_u16le(blk));
    float dmin = gq_f16_to_f32(gq_load_u16le(blk + 2));
    const unsigned char *scales = blk + 4, *qh = blk + 16, *qs = blk + 48;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        gq_kquant_scale_min(scales, j, &sc, &mn);
        float dl = gq_mul_rn(d, (float)sc), ml = gq_mul_rn(dmin, (float)mn);
        int c = j / 2, s = j % 2;
        for (int l = 0; l < 32; l++) {
            int q = ((qs[32 * c + l] >> (4 * s)) & 0x0f) | (((qh[l] >> j) & 1) << 4);
            y[32 * j + l] = gq_sub_rn(gq_mul_rn(dl, (float)q), ml);
        }
    }
}

/* Q6_K (210 bytes): ql[128] (low 4 bits) | qh[64] (high 2 bits) |
 * scales[16] (int8) | f16 d.  Element f = 128c + w (c < 2, w < 128): low
 * nibble (w / 64) of ql[64c + w % 64], high bits 2*(w / 32) of
 * qh[32c + w % 32]; q = that 6-bit value - 32.  x = (d*scales[f/16]) * q. */
static inline GQ_HD void gq_dequant_block_q6_k(const unsigned char *blk, float *y)
{
    const unsigned char *ql = blk, *qh = blk + 128, *sc = blk + 192;
    float d = gq_f16_to_f32(gq_load_u16le(blk + 208));
    for (int f = 0; f < GQ_QK_K; f++) {
        int c = f / 128, w = f % 128;
        int lo = (ql[64 * c + w % 64] >> (4 * (w / 64))) & 0x0f;
        int hi = (qh[32 * c + w % 32] >> (2 * (w / 32))) & 3;
        int s8 = (int)sc[f / 16] - ((sc[f / 16] & 0x80) ? 256 : 0);
        float dl = gq_mul_rn(d, (float)s8);
        y[f] = gq_mul_rn(dl, (float)((lo | (hi << 4)) - 32));
    }
}

/* Q8_K (292 bytes): f32 d | qs[256] (int8) | bsums[16] (int16, unused).
 * x = d * q (ggml's dequantize_row_q8_K). */
static inline GQ_HD void gq_dequant_block_q8_k(const unsigned char *blk, float *y)
{
    float d = gq_f32_from_bits(gq_load_u32le(blk));
    const unsigned char *qs = blk + 4;
    for (int i = 0; i < GQ_QK_K; i++) {
        int q = (int)qs[i] - ((qs[i] & 0x80) ? 256 : 0);
        y[i] = gq_mul_rn(d, (float)q);
    }
}

/* Widen one block of type t (one element for F32/F16/BF16/F64), for the
 * CUDA widening kernel (one thread a block).  quant.c's rows switch once
 * per row instead, so each type's loop inlines its block function. */
static inline GQ_HD void gq_dequant_block(gq_dtype t, const unsigned char *blk, float *y)
{
    switch (t) {
    case GQ_DTYPE_F32: y[0] = gq_f32_from_bits(gq_load_u32le(blk)); break;
    case GQ_DTYPE_F16: y[0] = gq_f16_to_f32(gq_load_u16le(blk)); break;
    case GQ_DTYPE_BF16: y[0] = gq_bf16_to_f32(gq_load_u16le(blk)); break;
    case GQ_DTYPE_F64: {
        double v;
        memcpy(&v, blk, sizeof v);
        y[0] = (float)v;
        break;
    }
    case GQ_DTYPE_Q8_0: gq_dequant_block_q8_0(blk, y); break;
    case GQ_DTYPE_Q4_0: gq_dequant_block_q4_0(blk, y); break;
    case GQ_DTYPE_Q4_1: gq_dequant_block_q4_1(blk, y); break;
    case GQ_DTYPE_Q5_0: gq_dequant_block_q5_0(blk, y); break;
    case GQ_DTYPE_Q5_1: gq_dequant_block_q5_1(blk, y); break;
    case GQ_DTYPE_Q2_K: gq_dequant_block_q2_k(blk, y); break;
    case GQ_DTYPE_Q3_K: gq_dequant_block_q3_k(blk, y); break;
    case GQ_DTYPE_Q4_K: gq_dequant_block_q4_k(blk, y); break;
    case GQ_DTYPE_Q5_K: gq_dequant_block_q5_k(blk, y); break;
    case GQ_DTYPE_Q6_K: gq_dequant_block_q6_k(blk, y); break;
    case GQ_DTYPE_Q8_K: gq_dequant_block_q8_k(blk, y); break;
    default: break; /* callers check gq_dequant_supported first */
    }
}

// ---------------------------------------------------------------- rows (quant.c)

/* 1 when gq_dequant_row can widen dtype t (F32, F16, BF16, F64 and every
 * block type above), else 0. */
int gq_dequant_supported(gq_dtype t);

/* Widen n elements of type t starting at src (any alignment; for block types
 * src is the start of a block) into dst[0..n).  n must be a whole number of
 * blocks.  Returns GQ_OK, or GQ_ERR_UNSUPPORTED / GQ_ERR_INVALID with err
 * filled (no file name: the caller prefixes it).  dst is unspecified on
 * failure. */
int gq_dequant_row(gq_dtype t, const void *src, float *dst, size_t n, gq_error *err);

#endif
