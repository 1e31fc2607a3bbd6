/* gq_hd.h — one macro that marks a function as callable from both host C
 * and CUDA device code.  Headers of `static inline GQ_HD` functions (quant.h,
 * the per-row math) are included by plain C files and by .cu files alike, so
 * the CPU path and the CUDA kernels run the same arithmetic and the CPU tests
 * cover it.  Nothing else lives here. */
#ifndef GQ_HD_H
#define GQ_HD_H

#ifdef __CUDACC__
#define GQ_HD __host__ __device__
#else
#define GQ_HD
#endif

#endif
