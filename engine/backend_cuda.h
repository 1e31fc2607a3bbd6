/* backend_cuda.h — the CUDA twin of the CPU backend (backend_cuda.cu).
 * Same op table as backend.h; pointers given to its ops are device
 * pointers.  Built whenever nvcc is found (GQLA_WITH_CUDA); without a GPU
 * at run time gq_backend_cuda_init fails with a clear message. */
#ifndef GQ_BACKEND_CUDA_H
#define GQ_BACKEND_CUDA_H

#include <stddef.h>
#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0 and the table, or -1 with a message in msg (no device, driver error).
 * open makes device `index` current for the process; init is open(0). */
int gq_backend_cuda_init(const gq_backend_ops **ops, char *msg, size_t msg_size);
int gq_backend_cuda_open(int index, const gq_backend_ops **ops, char *msg, size_t msg_size);
/* The device's name (cudaGetDeviceProperties), for reports. */
void gq_backend_cuda_device_name(char *buf, size_t size);
/* Device memory helpers for tests and the model loader (abort tier on failure). */
void *gq_cuda_malloc(size_t bytes);
void gq_cuda_free(void *p);
void gq_cuda_upload(void *dst, const void *src, size_t bytes);
void gq_cuda_download(void *dst, const void *src, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
