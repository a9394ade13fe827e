/* A platform for docs/examples/onehot_token.c in the tests: every register access is one command
 * of the byte protocol (pysampler.contract.link) on stdout, its reply read from stdin; the test
 * answers with the register-level model (pysampler.device.link.ModelLink). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void put_le(uint32_t value, int bytes) {
    for (int k = 0; k < bytes; ++k) putchar((int)((value >> (8 * k)) & 0xFF));
}

static uint32_t get_le(int bytes) {
    uint32_t value = 0;
    for (int k = 0; k < bytes; ++k) {
        int c = getchar();
        if (c == EOF) exit(3);
        value |= (uint32_t)c << (8 * k);
    }
    return value;
}

void pbit_reg_write(uint32_t word, uint32_t value) {
    putchar('W');
    put_le(word, 3);
    put_le(value, 4);
    fflush(stdout);
    (void)get_le(1);  /* 0 written, 1 refused: the example reads ERR */
}

uint32_t pbit_reg_read(uint32_t word) {
    putchar('R');
    put_le(word, 3);
    fflush(stdout);
    if (get_le(1) != 0) return 0xFFFFFFFFu;
    return get_le(4);
}
