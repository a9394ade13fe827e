// Free-running harness of the graph core (pbit_graph) for bulk co-simulation (sim/bulk_graph.py)
// and the RTL TSU backend (sim/tsu_rtl.py).
//
// The stimulus ops are those of sim/bulk_main.cpp (32-bit little-endian words, argv[1]), plus
// TRACE; every record is R = argv[3] words (the widest, a beat, sets R; the others are padded):
//   1 WRITE addr data        one programming write (one clock)
//   2 START sweeps init      start pulse (one clock); does not wait
//   3 WAIT                   clock until done and not busy; END record
//   4 ERR                    ERR record with the sticky flags (no clock)
//   5 RESET                  rst for 2 clocks, then one clock
//   6 READ n                 y[0..n-1] through rd_addr (2 clocks each); one READ record of
//                            ceil(n / 32) words of bits (n <= 32 (R - 1))
//   7 IDLE n                 n clocks
//   8 TRACE on               beat records on (1) or off (0; the TSU backend reads states only)
// Records: w0 = tag << 28 | payload, then R - 1 words.
//   tag 1 BEAT  w0 |= colour; then the trace port's bits, field, lut and u signals, each as the
//               32-bit words of its Verilator value (lane s in the s-th slice, as hw/graph.py)
//   tag 2 END   w0 |= err; w1 clocks since START
//   tag 3 ERR   w0 |= err
//   tag 4 READ  the state's bits, unit i in bit i % 32 of word 1 + i / 32
//   tag 5 FAIL  w1 = reason (1: run did not finish, 2: bad op); the harness stops
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <vector>
#include "verilated.h"
#include "Vbulk.h"  // built with --prefix Vbulk; "__" in port names is escaped as "___05F"

static Vbulk* top;
static FILE* out;
static uint64_t since_start = 0;
static bool tracing = true;
static std::vector<uint32_t> rec;

template <typename T>
static void put_words(const T& value, size_t& k, size_t words) {
    if constexpr (std::is_integral_v<T>) {
        uint64_t v = (uint64_t)value;
        for (size_t w = 0; w < words; ++w) rec[k++] = (uint32_t)(w < 2 ? v >> (32 * w) : 0);
    } else {
        for (size_t w = 0; w < words; ++w) rec[k++] = value[w];
    }
}

static size_t W_BITS, W_FIELD, W_LUT, W_U;

static void emit() { fwrite(rec.data(), 4, rec.size(), out); }

static void record(uint32_t w0, uint32_t w1) {
    std::fill(rec.begin(), rec.end(), 0);
    rec[0] = w0;
    rec[1] = w1;
    emit();
}

static void tick() {
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
    ++since_start;
    if (tracing && top->trace___05Fvalid) {
        size_t k = 1;
        rec[0] = (1u << 28) | (uint32_t)top->trace___05Fcolour;
        put_words(top->trace___05Fbits, k, W_BITS);
        put_words(top->trace___05Ffield, k, W_FIELD);
        put_words(top->trace___05Flut, k, W_LUT);
        put_words(top->trace___05Fu, k, W_U);
        while (k < rec.size()) rec[k++] = 0;
        emit();
    }
}

int main(int argc, char** argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s STIMULUS TRACE RECORD_WORDS BITS_W FIELD_W LUT_W U_W "
                "[MAX_CLOCKS_PER_WAIT]\n", argv[0]);
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
    rec.assign(strtoul(argv[3], nullptr, 10), 0);
    W_BITS = strtoul(argv[4], nullptr, 10);
    W_FIELD = strtoul(argv[5], nullptr, 10);
    W_LUT = strtoul(argv[6], nullptr, 10);
    W_U = strtoul(argv[7], nullptr, 10);
    static char buffer[1 << 20];
    setvbuf(out, buffer, _IOFBF, sizeof buffer);
    const uint64_t wait_limit = argc > 8 ? strtoull(argv[8], nullptr, 10) : 1ull << 32;
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
            if (!top->busy) since_start = 0;
            tick();
            top->start = 0;
            break;
        case 3: {
            uint64_t clocks = 0;
            while (!(top->done && !top->busy)) {
                if (++clocks > wait_limit) {
                    record(5u << 28, 1);
                    rc = 1;
                    goto finish;
                }
                tick();
            }
            record((2u << 28) | top->err, (uint32_t)since_start);
            break;
        }
        case 4:
            record((3u << 28) | top->err, 0);
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
        case 6: {
            next(a);
            std::vector<uint32_t> bits((a + 31) / 32 + 1, 0);
            for (uint32_t i = 0; i < a; ++i) {
                top->rd_addr = i;
                tick();
                tick();
                if (top->rd_data) bits[1 + i / 32] |= 1u << (i % 32);
            }
            std::fill(rec.begin(), rec.end(), 0);
            rec[0] = 4u << 28;
            for (size_t w = 1; w < bits.size() && w < rec.size(); ++w) rec[w] = bits[w];
            emit();
            break;
        }
        case 7:
            next(a);
            for (uint32_t i = 0; i < a; ++i) tick();
            break;
        case 8:
            next(a);
            tracing = a != 0;
            break;
        default:
            record(5u << 28, 2);
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
