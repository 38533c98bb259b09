/* The __atomic_*_4 libcalls the compiler emits for a core without atomic instructions (the
 * Embedded Swift runtime's refcounting and lazy globals: swift_retain/release, swift_once):
 *   ARMv6-M (Cortex-M0/M0+): no LDREX/STREX; interrupts masked through PRIMASK.
 *   RISC-V without the A extension (rv32imc, as the ESP32-C3): machine mode, interrupts
 *   masked through mstatus.MIE.
 * Single core (or hart) only: on a dual-core part these need a hardware spinlock. Compiled to
 * nothing elsewhere. The present image uses none of them (--gc-sections drops them), but a
 * class or a lazy global would. */
#include <stdint.h>
#include <stdbool.h>
#if defined(__ARM_ARCH_6M__)
#define FLEXBMS_ATOMICS_BY_MASKING 1
static inline uint32_t irq_save(void) {
    uint32_t p;
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(p) :: "memory");
    return p;
}
static inline void irq_restore(uint32_t p) { __asm__ volatile("msr primask, %0" :: "r"(p) : "memory"); }
#elif defined(__riscv) && !defined(__riscv_atomic)
#define FLEXBMS_ATOMICS_BY_MASKING 1
static inline uint32_t irq_save(void) {
    uint32_t s;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(s) :: "memory");   /* clear MIE */
    return s;
}
static inline void irq_restore(uint32_t s) { __asm__ volatile("csrs mstatus, %0" :: "r"(s & 8u) : "memory"); }
#endif

#if defined(FLEXBMS_ATOMICS_BY_MASKING)
uint32_t __atomic_load_4(const volatile void *p, int m) {
    (void)m; __asm__ volatile("" ::: "memory"); uint32_t v = *(const volatile uint32_t *)p; __asm__ volatile("" ::: "memory"); return v;
}
void __atomic_store_4(volatile void *p, uint32_t v, int m) {
    (void)m; __asm__ volatile("" ::: "memory"); *(volatile uint32_t *)p = v; __asm__ volatile("" ::: "memory");
}
uint32_t __atomic_exchange_4(volatile void *p, uint32_t v, int m) {
    (void)m; uint32_t s = irq_save(); uint32_t o = *(volatile uint32_t *)p; *(volatile uint32_t *)p = v; irq_restore(s); return o;
}
uint32_t __atomic_fetch_add_4(volatile void *p, uint32_t v, int m) {
    (void)m; uint32_t s = irq_save(); uint32_t o = *(volatile uint32_t *)p; *(volatile uint32_t *)p = o + v; irq_restore(s); return o;
}
uint32_t __atomic_fetch_sub_4(volatile void *p, uint32_t v, int m) {
    (void)m; uint32_t s = irq_save(); uint32_t o = *(volatile uint32_t *)p; *(volatile uint32_t *)p = o - v; irq_restore(s); return o;
}
uint32_t __atomic_fetch_and_4(volatile void *p, uint32_t v, int m) {
    (void)m; uint32_t s = irq_save(); uint32_t o = *(volatile uint32_t *)p; *(volatile uint32_t *)p = o & v; irq_restore(s); return o;
}
uint32_t __atomic_fetch_or_4(volatile void *p, uint32_t v, int m) {
    (void)m; uint32_t s = irq_save(); uint32_t o = *(volatile uint32_t *)p; *(volatile uint32_t *)p = o | v; irq_restore(s); return o;
}
bool __atomic_compare_exchange_4(volatile void *p, void *expected, uint32_t desired, bool weak, int ms, int mf) {
    (void)weak; (void)ms; (void)mf;
    uint32_t s = irq_save();
    uint32_t cur = *(volatile uint32_t *)p;
    bool ok = cur == *(uint32_t *)expected;
    if (ok) *(volatile uint32_t *)p = desired; else *(uint32_t *)expected = cur;
    irq_restore(s);
    return ok;
}
#endif
