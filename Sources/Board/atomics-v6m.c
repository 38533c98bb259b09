/* ARMv6-M (Cortex-M0/M0+) has no LDREX/STREX, so the compiler emits __atomic_*_4 libcalls
 * (the Embedded Swift runtime's refcounting and lazy globals). Single core: implement them by
 * masking interrupts through PRIMASK. Compiled to nothing on other architectures. */
#include <stdint.h>
#include <stdbool.h>
#if defined(__ARM_ARCH_6M__)
static inline uint32_t irq_save(void) {
    uint32_t p;
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(p) :: "memory");
    return p;
}
static inline void irq_restore(uint32_t p) { __asm__ volatile("msr primask, %0" :: "r"(p) : "memory"); }

uint32_t __atomic_load_4(const volatile void *p, int m) { (void)m; return *(const volatile uint32_t *)p; }
void __atomic_store_4(volatile void *p, uint32_t v, int m) { (void)m; *(volatile uint32_t *)p = v; }
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
