/* The C library subset of the RISC-V image: the rv32 image links no C library (Debian's
 * picolibc-riscv64-unknown-elf is 1 GB), only libgcc (soft float, 64-bit helpers). The Swift
 * objects call memcpy, memset, round and roundf (llvm-nm -u); memmove and memcmp are here as
 * well because the compiler may emit them (--gc-sections drops what nothing calls).
 * The Embedded runtime also references free, posix_memalign and arc4random_buf; nothing in
 * the image reaches them (--gc-sections drops the callers), and a link that needs them fails,
 * which keeps the image heap-free. Compiled to nothing on other architectures. */
#if defined(__riscv)
#include <stdint.h>
#include <stddef.h>

/* ---------------- string.h ----------------
 * Word-wise when both pointers allow it (rv32imc has no misaligned access in hardware).
 * The Board target is compiled -ffreestanding, so these loops do not become calls to
 * themselves. */
typedef uint32_t __attribute__((may_alias)) word_t;

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) *(word_t *)d = *(const word_t *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    while (n--) d[n] = s[n];                 /* overlapping, destination above: backwards */
    return dst;
}

void *memset(void *dst, int value, size_t n) {
    uint8_t *d = dst;
    uint8_t v = (uint8_t)value;
    while (n && ((uintptr_t)d & 3u)) { *d++ = v; n--; }
    uint32_t w = v * 0x01010101u;
    for (; n >= 4; n -= 4, d += 4) *(word_t *)d = w;
    while (n--) *d++ = v;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *p = a, *q = b;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
    }
    return 0;
}

/* ---------------- math.h: round half away from zero ----------------
 * On the bits, without the soft-float library: clear the fraction bits after adding half
 * a unit of the last integer bit (a carry into the exponent is the right result). */
float roundf(float x) {
    union { float f; uint32_t i; } u = { x };
    int e = (int)((u.i >> 23) & 0xFFu) - 127;
    if (e >= 23) return x;                            /* integral, infinite or NaN */
    if (e < 0) {                                      /* |x| < 1: +-1 from 0.5 up, else +-0 */
        u.i = (u.i & 0x80000000u) | (e == -1 ? 0x3F800000u : 0u);
        return u.f;
    }
    uint32_t fraction = 0x007FFFFFu >> e;
    if ((u.i & fraction) == 0) return x;
    u.i += 0x00400000u >> e;
    u.i &= ~fraction;
    return u.f;
}

double round(double x) {
    union { double f; uint64_t i; } u = { x };
    int e = (int)((u.i >> 52) & 0x7FFu) - 1023;
    if (e >= 52) return x;
    if (e < 0) {
        u.i = (u.i & 0x8000000000000000ull) | (e == -1 ? 0x3FF0000000000000ull : 0u);
        return u.f;
    }
    uint64_t fraction = 0x000FFFFFFFFFFFFFull >> e;
    if ((u.i & fraction) == 0) return x;
    u.i += 0x0008000000000000ull >> e;
    u.i &= ~fraction;
    return u.f;
}
#endif
