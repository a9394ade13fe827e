// Free-running harness of the one-hot and dense cores for bulk co-simulation (sim/bulk.py).
//
// Reads a stimulus of 32-bit little-endian words (argv[1]) and writes one 16-byte record per
// event (argv[2], a file or a FIFO): every trace beat the core shows, the end of each run, the
// error flags and read-out values when asked. No Python runs per clock; sim/bulk.py compares the
// records with the bit-accurate model in batches. The core is built
// with --prefix Vbulk, so this file serves every core and configuration.
//
// Clocking is that of the cocotb test benches: inputs are set, the rising edge takes them, and
// the outputs are sampled after the edge (the cocotb benches sample at the falling edge).
//
// Stimulus ops (first word: op code):
//   1 WRITE addr data        one programming write (one clock)
//   2 START sweeps init      start pulse (one clock); does not wait
//   3 WAIT                   clock until done and not busy; END record
//   4 ERR                    ERR record with the sticky flags (no clock)
//   5 RESET                  rst for 2 clocks, then one clock
//   6 READ n                 y[0..n-1] through rd_addr (2 clocks each); READ records
//   7 IDLE n                 n clocks
// Records (4 words): w0 = tag << 28 | payload, then three words.
//   tag 1 BEAT  w0 |= bit << 27 | index; w1 field bits; w2 LUT entry; w3 draw u
//   tag 2 END   w0 |= err; w1 popcount; w2 token | onehot << 31; w3 clocks since START
//   tag 3 ERR   w0 |= err
//   tag 4 READ  w1 unit; w2 rd_data
//   tag 5 FAIL  w1 = reason (1: run did not finish, 2: bad op); the harness stops
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>
#include "verilated.h"
#include "Vbulk.h"  // built with --prefix Vbulk; Verilator escapes "__" in port names as "___05F"

static Vbulk* top;
static FILE* out;
static uint64_t since_start = 0;

static void record(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
    uint32_t r[4] = {w0, w1, w2, w3};
    fwrite(r, 4, 4, out);
}

static void tick() {
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
    ++since_start;
    if (top->trace___05Fvalid) {
        record((1u << 28) | ((uint32_t)top->trace___05Fbit << 27) | (uint32_t)top->trace___05Findex,
               (uint32_t)top->trace___05Ffield, (uint32_t)top->trace___05Flut, (uint32_t)top->trace___05Fu);
    }
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s STIMULUS TRACE [MAX_CLOCKS_PER_WAIT]\n", argv[0]);
        return 2;
    }
    VerilatedContext ctx;
    top = new Vbulk{&ctx};
    FILE* in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    static char buffer[1 << 20];
    setvbuf(out, buffer, _IOFBF, sizeof buffer);
    const uint64_t wait_limit = argc > 3 ? strtoull(argv[3], nullptr, 10) : 1ull << 32;
    top->clk = 0;
    top->rst = 1;
    top->prog___05Fwe = 0;
    top->start = 0;
    top->eval();
    for (int k = 0; k < 2; ++k) tick();
    top->rst = 0;
    tick();
    std::vector<uint32_t> words(1 << 16);
    size_t have = 0, pos = 0;
    auto next = [&](uint32_t& w) -> bool {
        if (pos == have) {
            have = fread(words.data(), 4, words.size(), in);
            pos = 0;
            if (have == 0) return false;
        }
        w = words[pos++];
        return true;
    };
    uint32_t op, a, b;
    int rc = 0;
    while (next(op)) {
        switch (op) {
        case 1:
            next(a); next(b);
            top->prog___05Faddr = a;
            top->prog___05Fdata = b;
            top->prog___05Fwe = 1;
            tick();
            top->prog___05Fwe = 0;
            break;
        case 2:
            next(a); next(b);
            top->sweeps = a;
            top->init = b;
            top->start = 1;
            if (!top->busy) since_start = 0;  // a start while busy is refused: keep counting
            tick();
            top->start = 0;
            break;
        case 3: {
            uint64_t clocks = 0;
            while (!(top->done && !top->busy)) {
                if (++clocks > wait_limit) {
                    record(5u << 28, 1, 0, 0);
                    rc = 1;
                    goto finish;
                }
                tick();
            }
            record((2u << 28) | top->err, top->popcount,
                   (uint32_t)top->token | ((uint32_t)top->onehot << 31), (uint32_t)since_start);
            break;
        }
        case 4:
            record((3u << 28) | top->err, 0, 0, 0);
            break;
        case 5:
            top->rst = 1;
            top->start = 0;
            top->prog___05Fwe = 0;
            tick();
            tick();
            top->rst = 0;
            tick();
            break;
        case 6:
            next(a);
            for (uint32_t i = 0; i < a; ++i) {
                top->rd_addr = i;
                tick();
                tick();
                record(4u << 28, i, top->rd_data, 0);
            }
            break;
        case 7:
            next(a);
            for (uint32_t i = 0; i < a; ++i) tick();
            break;
        default:
            record(5u << 28, 2, op, 0);
            rc = 1;
            goto finish;
        }
    }
finish:
    fclose(out);
    top->final();
    delete top;
    return rc;
}
