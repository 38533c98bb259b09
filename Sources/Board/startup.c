/* FlexBMS Cortex-M startup, shared by every board (mps2 QEMU machines, STM32G0B1).
 *  - vector table: the 16 system exceptions; SysTick counts milliseconds (board_millis)
 *  - Reset_Handler: paint the stack, copy .data, zero .bss, picolibc's TLS block (errno),
 *    FPU on when compiled for one, then main() (emitted by Swift's @main)
 *  - HardFault: prints "hardfault" and exits with code 90 (semihosting on QEMU; the device
 *    board resets instead)
 * putchar() and the stack measurement are in board_common.c; the board files (board_mps2.c,
 * board_stm32g0b1.c) provide the rest of board.h.
 * Compiled to nothing on other architectures (RISC-V: startup-riscv.c). */
#if defined(__arm__)
#include <stdint.h>
#include <stddef.h>
#include "board.h"

#define REG(a) (*(volatile uint32_t *)(a))

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
extern int main(int argc, char **argv);
/* picolibc TLS (errno); _set_tls is weak so nothing is pulled in unless libc uses TLS. */
extern char __tls_base[], __tdata_source[], __tdata_size[], __tbss_offset[], __tbss_size[];
extern void _set_tls(void *) __attribute__((weak));

/* The board file (board_*.c) provides the NMI handler. */
void NMI_Handler(void);


/* ---------------- time ---------------- */
volatile uint32_t board_ms_ticks;

void SysTick_Handler(void) { board_ms_ticks++; }

uint32_t board_millis(void) { return board_ms_ticks; }


/* ---------------- reset ---------------- */
__attribute__((noreturn, used)) void Reset_Handler(void) {
    /* Paint the stack below the current frame (SP starts at __stack_top). */
    board_stack_repaint();

    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end) *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end;) *dst++ = 0;
    for (size_t i = 0; i < (size_t)__tdata_size; i++) __tls_base[i] = __tdata_source[i];
    for (size_t i = 0; i < (size_t)__tbss_size; i++) __tls_base[(size_t)__tbss_offset + i] = 0;
    if (_set_tls) _set_tls(__tls_base);   /* picolibc's thread pointer for errno */
#if defined(__ARM_FP)
    REG(0xE000ED88) |= (0xFu << 20);      /* SCB CPACR: CP10/CP11 full access */
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    int rc = main(0, NULL);
    board_exit(rc);
}

/* ---------------- faults ---------------- */
static void fault(const char *what, int code) {
    size_t n = 0;
    while (what[n]) n++;
    board_uart_write((const uint8_t *)what, n);
    board_exit(code);
}
void HardFault_Handler(void) { fault("hardfault\n", 90); }
void Default_Handler(void)   { fault("unexpected interrupt\n", 91); }

__attribute__((section(".isr_vector"), used))
void (*const board_vector_table[16])(void) = {
    (void (*)(void))__stack_top, /* initial SP */
    Reset_Handler,
    NMI_Handler,                 /* mps2: the CMSDK watchdog's first expiry */
    HardFault_Handler,
    Default_Handler,             /* MemManage (ARMv7-M) */
    Default_Handler,             /* BusFault  (ARMv7-M) */
    Default_Handler,             /* UsageFault (ARMv7-M) */
    0, 0, 0, 0,
    Default_Handler,             /* SVCall */
    Default_Handler,             /* DebugMon (ARMv7-M) */
    0,
    Default_Handler,             /* PendSV */
    SysTick_Handler,
};
#endif
