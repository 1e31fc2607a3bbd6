/* quant.h — widening GGUF/safetensors weight encodings to float32.
 *
 * Encodings: F32, F16 (IEEE binary16), BF16 (top half of a binary32), F64,
 * and llama.cpp's block formats of 32 elements:
 *   Q8_0  f16 d,        32 x int8 q        x = q * d
 *   Q4_0  f16 d,        16 bytes of nibbles x = d * (q - 8)
 *   Q4_1  f16 d, f16 m, 16 bytes of nibbles x = (d * q) + m
 * In the nibble formats byte i holds element i in its low nibble and element
 * i + 16 in its high nibble.  All multi-byte fields are little-endian.
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
 * Not here: quantisation (gqla-eval only reads), K-quants and the IQ types.
 * Tested by tests/test_gguf.c against tests/fixtures/gguf/tiny_expected.f32.
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

#define GQ_QBLOCK 32 /* elements per Q8_0 / Q4_0 / Q4_1 block */

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

// ---------------------------------------------------------------- rows (quant.c)

/* 1 when gq_dequant_row can widen dtype t (F32, F16, BF16, F64, Q8_0, Q4_0,
 * Q4_1), else 0. */
int gq_dequant_supported(gq_dtype t);

/* Widen n elements of type t starting at src (any alignment; for block types
 * src is the start of a block) into dst[0..n).  n must be a whole number of
 * blocks.  Returns GQ_OK, or GQ_ERR_UNSUPPORTED / GQ_ERR_INVALID with err
 * filled (no file name: the caller prefixes it).  dst is unspecified on
 * failure. */
int gq_dequant_row(gq_dtype t, const void *src, float *dst, size_t n, gq_error *err);

#endif
