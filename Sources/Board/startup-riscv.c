/* FlexBMS RISC-V startup (RV32, machine mode, no libc): the counterpart of startup.c for the
 * rv32 image (board_riscv_virt.c; ESP32-C3 class: rv32imc, ilp32, no FPU).
 *  - _start (section .text.entry, first in the image): gp, sp, mtvec, then C; harts other
 *    than 0 park
 *  - reset: paint the stack, copy .data, zero .bss, then main() (emitted by Swift's @main)
 *  - trap vector: a machine timer interrupt goes to board_timer_interrupt() (the board's
 *    watchdog); an ebreak that QEMU did not take as a semihosting call (semihosting off)
 *    returns -1 to the caller; every other trap prints "hardfault" and exits with code 90
 * putchar() and the stack measurement are in board_common.c; the few C library functions the
 * image needs are in libc-riscv.c.
 * Compiled to nothing on other architectures. */
#if defined(__riscv)
#include <stdint.h>
#include <stddef.h>
#include "board.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
extern int main(int argc, char **argv);

/* The board file's machine timer interrupt (the watchdog on QEMU virt). */
void board_timer_interrupt(void);


/* ---------------- entry ---------------- */
__asm__(
    ".section .text.entry, \"ax\", @progbits\n"
    ".globl _start\n"
    ".type _start, @function\n"
    "_start:\n"
    "  .option push\n"
    "  .option norelax\n"
    "  la gp, __global_pointer$\n"
    "  .option pop\n"
    "  csrr t0, mhartid\n"
    "  bnez t0, 2f\n"
    "  la sp, __stack_top\n"
    "  la t0, riscv_trap_entry\n"
    "  csrw mtvec, t0\n"                 /* direct mode: every trap to riscv_trap_entry */
    "  j riscv_reset\n"
    "2: wfi\n"
    "  j 2b\n"
    ".size _start, . - _start\n"
    ".text\n");

__attribute__((noreturn, used)) void riscv_reset(void) {
    /* Paint the stack below the current frame (sp starts at __stack_top). */
    board_stack_repaint();

    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end) *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end;) *dst++ = 0;
    int rc = main(0, NULL);
    board_exit(rc);
}

/* ---------------- traps ----------------
 * Saves the caller-saved registers (the C handler saves the rest), calls riscv_trap(frame)
 * which returns the address to resume at (mepc). frame[]: ra t0-t2 a0-a7 t3-t6. */
__asm__(
    ".section .text.riscv_trap_entry, \"ax\", @progbits\n"
    ".balign 4\n"
    ".globl riscv_trap_entry\n"
    "riscv_trap_entry:\n"
    "  addi sp, sp, -64\n"
    "  sw ra, 0(sp)\n  sw t0, 4(sp)\n  sw t1, 8(sp)\n  sw t2, 12(sp)\n"
    "  sw a0, 16(sp)\n  sw a1, 20(sp)\n  sw a2, 24(sp)\n  sw a3, 28(sp)\n"
    "  sw a4, 32(sp)\n  sw a5, 36(sp)\n  sw a6, 40(sp)\n  sw a7, 44(sp)\n"
    "  sw t3, 48(sp)\n  sw t4, 52(sp)\n  sw t5, 56(sp)\n  sw t6, 60(sp)\n"
    "  mv a0, sp\n"
    "  call riscv_trap\n"
    "  csrw mepc, a0\n"
    "  lw ra, 0(sp)\n  lw t0, 4(sp)\n  lw t1, 8(sp)\n  lw t2, 12(sp)\n"
    "  lw a0, 16(sp)\n  lw a1, 20(sp)\n  lw a2, 24(sp)\n  lw a3, 28(sp)\n"
    "  lw a4, 32(sp)\n  lw a5, 36(sp)\n  lw a6, 40(sp)\n  lw a7, 44(sp)\n"
    "  lw t3, 48(sp)\n  lw t4, 52(sp)\n  lw t5, 56(sp)\n  lw t6, 60(sp)\n"
    "  addi sp, sp, 64\n"
    "  mret\n"
    ".text\n");

#define FRAME_A0 4
#define MCAUSE_INTERRUPT 0x80000000u
#define MCAUSE_MTI 7u          /* machine timer interrupt */
#define MCAUSE_BREAKPOINT 3u

static void fault(const char *what, int code) {
    size_t n = 0;
    while (what[n]) n++;
    board_uart_write((const uint8_t *)what, n);
    board_exit(code);
}

__attribute__((used)) uint32_t riscv_trap(uint32_t *frame) {
    uint32_t cause, epc;
    __asm__ volatile("csrr %0, mcause" : "=r"(cause));
    __asm__ volatile("csrr %0, mepc" : "=r"(epc));
    if (cause == (MCAUSE_INTERRUPT | MCAUSE_MTI)) {
        board_timer_interrupt();
        return epc;
    }
    if (cause == MCAUSE_BREAKPOINT && *(const volatile uint32_t *)epc == 0x00100073u) {
        frame[FRAME_A0] = (uint32_t)-1;      /* a semihosting call without semihosting */
        return epc + 4;                      /* the uncompressed ebreak */
    }
    if (cause & MCAUSE_INTERRUPT) fault("unexpected interrupt\n", 91);
    fault("hardfault\n", 90);
    return epc;
}


#endif
