/* roofline.c — arithmetic intensity of decode attention per path (the
 * formulas are in report.h, above gq_roofline_point). */
#include <string.h>

#include "report.h"

static void point(gq_roofline_point *p, const char *path, int64_t elems, int64_t macs, int64_t H, int s_q,
                  int dtype_bytes)
{
    p->path = path;
    p->cache_elems = elems;
    p->macs_per_head = macs;
    p->bytes = elems * dtype_bytes;
    p->flops = (double)s_q * (double)H * 2.0 * (double)macs;
    p->intensity = p->bytes > 0 ? p->flops / (double)p->bytes : 0.0;
}

size_t gq_roofline_points(const gq_roofline_attn *a, int s_q, int dtype_bytes, gq_roofline_point out[4])
{
    const int64_t H = a->H, G = a->G, dn = a->dn, dr = a->dr, dv = a->dv, r = a->r;
    size_t n = 0;
    switch (a->kind) {
    case GQ_ROOFLINE_GQLA:
        point(&out[n++], "gqa", G * (dn + dv) + dr, (dn + dr) + dv, H, s_q, dtype_bytes);
        point(&out[n++], "gqa_kpe", G * (dn + dr + dv), (dn + dr) + dv, H, s_q, dtype_bytes);
        point(&out[n++], "absorb", r + dr, (r + dr) + r, H, s_q, dtype_bytes);
        break;
    case GQ_ROOFLINE_MLA:
        point(&out[n++], "absorb", r + dr, (r + dr) + r, H, s_q, dtype_bytes);
        point(&out[n++], "expanded", H * (dn + dr + dv), (dn + dr) + dv, H, s_q, dtype_bytes);
        break;
    default:
        point(&out[n++], "native", 2 * G * a->head_dim, 2 * a->head_dim, H, s_q, dtype_bytes);
        break;
    }
    return n;
}

const gq_roofline_hw *gq_roofline_hw_find(const char *name)
{
    static const gq_roofline_hw builtin[] = {
        {"h100", 989e12, 3.35e12},   /* H100 SXM: dense bf16 tensor core peak, HBM3 */
        {"h20", 148e12, 4.0e12},     /* H20: dense bf16 peak, HBM3 */
    };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(name, builtin[i].name)) return &builtin[i];
    return NULL;
}
