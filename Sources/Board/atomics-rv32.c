/* RISC-V without the A extension (rv32imc, as the ESP32-C3) has no atomic instructions, so
 * the compiler emits __atomic_*_4 libcalls (the Embedded Swift runtime's refcounting and lazy
 * globals: swift_retain/release, swift_once; the current image uses none of them, so
 * --gc-sections drops these, but a class or a lazy global would need them). Single hart,
 * machine mode: implement them with the machine interrupt enable (mstatus.MIE) off. Compiled
 * to nothing elsewhere (and on RISC-V with the A extension). */
#include <stdint.h>
#include <stdbool.h>
#if defined(__riscv) && !defined(__riscv_atomic)
static inline uint32_t irq_save(void) {
    uint32_t s;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(s) :: "memory");   /* clear MIE */
    return s;
}
static inline void irq_restore(uint32_t s) { __asm__ volatile("csrs mstatus, %0" :: "r"(s & 8u) : "memory"); }

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
