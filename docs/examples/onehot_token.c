/* Draw one token with the one-hot core from C, through the generated register header.
 *
 * The platform gives two functions: pbit_reg_write(word, value) and pbit_reg_read(word), each
 * one register access (on AXI4-Lite: a 32-bit store or load at base + PBIT_BYTE_ADDR(word);
 * over the UART: the byte protocol of pysampler.contract.link). The program below is plain C99.
 *
 * Build: cc -std=c99 -Iinclude docs/examples/onehot_token.c your_platform.c
 */
#include <stdint.h>
#include <stdio.h>

#include "pbit_regs_default.h"

void pbit_reg_write(uint32_t word, uint32_t value);
uint32_t pbit_reg_read(uint32_t word);

/* Write one register; a refused write leaves a flag in ERR. */
static int write_checked(uint32_t word, int32_t value) {
    pbit_reg_write(word, (uint32_t)value);
    uint32_t err = pbit_reg_read(PBIT_ONEHOT_ERR);
    if (err) {
        fprintf(stderr, "write %#x = %ld refused: ERR = %#lx\n", (unsigned)word, (long)value,
                (unsigned long)err);
        pbit_reg_write(PBIT_ONEHOT_CLEAR_ERR, 0);
        return -1;
    }
    return 0;
}

/* Run one attempt of `sweeps` sweeps of the one-hot program (h[0..n-1], coupling j) from
 * generator state `seed`; returns the token, -1 when the read-out is not one-hot, -2 on error. */
int pbit_onehot_token(const int32_t *h, int n, int32_t j, uint32_t seed, unsigned sweeps) {
    if (n < PBIT_ONEHOT_N_ACTIVE_MIN || n > PBIT_ONEHOT_N_ACTIVE_MAX) return -2;
    if (pbit_reg_read(PBIT_ONEHOT_CORE_ID) != PBIT_ONEHOT_ID_VALUE) return -2;
    int bad = write_checked(PBIT_ONEHOT_N_ACTIVE, n);
    for (int i = 0; i < n && !bad; ++i) bad = write_checked(PBIT_ONEHOT_H(i), h[i]);
    bad = bad || write_checked(PBIT_ONEHOT_SCHED_LEN, 1)
              || write_checked(PBIT_ONEHOT_SCHED_OFFSET(0), 0)
              || write_checked(PBIT_ONEHOT_SCHED_COUPLING(0), j)
              || write_checked(PBIT_ONEHOT_SEED_LO, (int32_t)seed);
    if (bad) return -2;
    uint32_t start = ((uint32_t)sweeps << PBIT_START_SWEEPS_SHIFT & PBIT_START_SWEEPS_MASK)
                   | ((uint32_t)PBIT_INIT_ZEROS << PBIT_START_INIT_SHIFT & PBIT_START_INIT_MASK);
    if (write_checked(PBIT_ONEHOT_START, (int32_t)start)) return -2;
    uint32_t status;
    do {  /* or wait for the irq line with IRQ_ENABLE = 1 */
        status = pbit_reg_read(PBIT_ONEHOT_STATUS);
    } while ((status & PBIT_STATUS_BUSY) || !(status & PBIT_STATUS_DONE));
    if (status & PBIT_STATUS_ERROR) return -2;
    if (!(status & PBIT_STATUS_ONEHOT)) return -1;
    return (int)pbit_reg_read(PBIT_ONEHOT_TOKEN);
}

int main(void) {
    /* h = q(z + lambda), j = q(-2 lambda): logits (0, -1, -0.5, -3), lambda 2.5, 4 fractional
     * bits (what pysampler.contract.program.onehot_program writes for the default HwConfig) */
    static const int32_t h[4] = {40, 24, 32, -8};
    for (uint32_t seed = 1; seed <= 8; ++seed) {
        int token = pbit_onehot_token(h, 4, -80, seed, 20);
        printf("seed %u token %d\n", (unsigned)seed, token);
    }
    return 0;
}
