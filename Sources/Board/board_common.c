/* What every board's startup shares: putchar for the Embedded Swift stdlib's print(), and the
 * stack measurement of board.h (the stack is painted with a pattern; the deepest word no longer
 * holding it is the peak). */
#include <stdint.h>
#include "board.h"

extern uint32_t __stack_bottom[], __stack_top[];
#define STACK_PAINT 0x5AC3A55Au

int putchar(int c) {
    uint8_t b = (uint8_t)c;
    board_uart_write(&b, 1);
    return c;
}

uint32_t board_stack_used(void) {
    const uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT) p++;
    return (uint32_t)((const char *)__stack_top - (const char *)p);
}

/* Paints the free stack below the caller's frame: at reset (before .data and .bss are set up:
 * only linker symbols are used here), and again after start-up so that board_stack_used() gives
 * the peak of what runs after it. */
void board_stack_repaint(void) {
    uint32_t *sp;
#if defined(__riscv)
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#else
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#endif
    for (uint32_t *p = __stack_bottom; p < sp - 16; p++) *p = STACK_PAINT;
}

uint32_t board_stack_size(void) {
    return (uint32_t)((const char *)__stack_top - (const char *)__stack_bottom);
}
