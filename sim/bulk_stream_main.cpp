// Free-running harness of the stream core (pbit_stream, any number of lanes) for bulk
// co-simulation (sim/bulk_stream.py): the beats of a row are driven from the stimulus with
// back-pressure on valid, every trace beat is written out raw, and sim/bulk_stream.py decodes the
// lanes and compares them with the bit-accurate model in numpy. Built with --prefix Vbulk.
//
// Clocking is that of the cocotb bench: inputs are set, the rising edge takes them, the outputs
// are sampled after the edge.
//
// Stimulus ops (32-bit little-endian words; first word the op code):
//   1 WRITE addr data               one programming write (one clock)
//   2 RUN n_beats gap seed, then n_beats x (last, W data words)
//                                   start pulse (one clock), then the beats offered with
//                                   back-pressure (gap: 0 none, 1 a gap after every beat,
//                                   2..99 a gap on that percentage of clocks, from an LCG seeded
//                                   with seed) until done; END record
//   3 ERR                           ERR record with the sticky flags (no clock)
//   4 START                         a start pulse alone (one clock; a start while busy)
// Records (R words each, R = argv[3]):
//   BEAT  w0 = 1 << 28 | merge << 27 | index; then valid, bit, forced, field, lut, u, m as raw
//         words (each port ceil(width / 32) words, in that order)
//   END   w0 = 2 << 28 | err; w1 token; w2 clocks from the start to done; w3 beats taken;
//         w4 ROM reads (popcount of rom_en, every clock); w5 draws (every clock)
//   ERR   w0 = 3 << 28 | err
//   FAIL  w0 = 5 << 28; w1 reason (1: run did not finish, 2: bad op)
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>
#include "verilated.h"
#include "Vbulk.h"

static Vbulk* top;
static FILE* out;
static size_t record_words;
static uint64_t rom_reads = 0, draws = 0;

template <typename T>
static void put(std::vector<uint32_t>& v, const T& x) {
    uint64_t q = (uint64_t)x;
    v.push_back((uint32_t)q);
    if (sizeof(T) > 4) v.push_back((uint32_t)(q >> 32));
}
template <std::size_t N>
static void put(std::vector<uint32_t>& v, const VlWide<N>& x) {
    for (std::size_t i = 0; i < N; ++i) v.push_back(x[i]);
}
template <typename T>
static int popcount(const T& x) { return __builtin_popcountll((uint64_t)x); }
template <std::size_t N>
static int popcount(const VlWide<N>& x) {
    int n = 0;
    for (std::size_t i = 0; i < N; ++i) n += __builtin_popcount(x[i]);
    return n;
}
template <typename T>
static bool any(const T& x) { return (uint64_t)x != 0; }
template <std::size_t N>
static bool any(const VlWide<N>& x) {
    for (std::size_t i = 0; i < N; ++i) if (x[i]) return true;
    return false;
}
template <typename T>
static void set(T& port, const uint32_t* words) {
    uint64_t q = words[0];
    if (sizeof(T) > 4) q |= (uint64_t)words[1] << 32;
    port = (T)q;
}
template <std::size_t N>
static void set(VlWide<N>& port, const uint32_t* words) {
    for (std::size_t i = 0; i < N; ++i) port[i] = words[i];
}

static void record(std::vector<uint32_t>& r) {
    r.resize(record_words, 0);
    fwrite(r.data(), 4, record_words, out);
}

static void tick() {
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
    rom_reads += popcount(top->trace___05From_en);
    draws += top->trace___05Fdraws;
    if (any(top->trace___05Fvalid)) {
        std::vector<uint32_t> r;
        r.push_back((1u << 28) | ((uint32_t)top->trace___05Fmerge << 27) |
                    (uint32_t)top->trace___05Findex);
        put(r, top->trace___05Fvalid);
        put(r, top->trace___05Fbit);
        put(r, top->trace___05Fforced);
        put(r, top->trace___05Ffield);
        put(r, top->trace___05Flut);
        put(r, top->trace___05Fu);
        put(r, top->trace___05Fm);
        record(r);
    }
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s STIMULUS TRACE RECORD_WORDS DATA_WORDS [MAX_CLOCKS]\n", argv[0]);
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
    record_words = strtoul(argv[3], nullptr, 10);
    const size_t data_words = strtoul(argv[4], nullptr, 10);
    const uint64_t limit = argc > 5 ? strtoull(argv[5], nullptr, 10) : 1ull << 32;
    static char buffer[1 << 20];
    setvbuf(out, buffer, _IOFBF, sizeof buffer);
    std::vector<uint32_t> stim;
    {
        uint32_t chunk[1 << 14];
        size_t got;
        while ((got = fread(chunk, 4, 1 << 14, in)) > 0) stim.insert(stim.end(), chunk, chunk + got);
    }
    top->clk = 0;
    top->rst = 1;
    top->prog___05Fwe = 0;
    top->start = 0;
    top->logit___05Fvalid = 0;
    top->logit___05Flast = 0;
    top->eval();
    for (int k = 0; k < 2; ++k) tick();
    top->rst = 0;
    tick();
    std::vector<uint32_t> zeros(data_words + 2, 0);
    size_t pos = 0;
    int rc = 0;
    while (pos < stim.size()) {
        uint32_t op = stim[pos++];
        if (op == 1) {
            top->prog___05Faddr = stim[pos];
            top->prog___05Fdata = stim[pos + 1];
            pos += 2;
            top->prog___05Fwe = 1;
            tick();
            top->prog___05Fwe = 0;
        } else if (op == 2 || op == 4) {
            const bool run = op == 2;
            uint32_t n_beats = 0, gap = 0, lcg = 1;
            size_t beats = pos;
            if (run) {
                n_beats = stim[pos];
                gap = stim[pos + 1];
                lcg = stim[pos + 2] | 1;
                beats = pos + 3;
                pos = beats + (size_t)n_beats * (1 + data_words);
            }
            const bool idle = !top->busy;
            if (idle) rom_reads = draws = 0;
            top->start = 1;
            tick();
            top->start = 0;
            if (!run) continue;
            uint64_t clocks = 1;
            uint32_t sent = 0;
            while (!(top->done && !top->busy)) {
                bool offer = sent < n_beats;
                if (gap == 1) {
                    offer = offer && (clocks % 2 == 1);
                } else if (gap > 1) {
                    lcg = lcg * 1664525u + 1013904223u;
                    offer = offer && ((lcg >> 8) % 100 >= gap);
                }
                const uint32_t* beat = offer ? &stim[beats + (size_t)sent * (1 + data_words)]
                                             : zeros.data();
                top->logit___05Fvalid = offer;
                top->logit___05Flast = offer ? beat[0] : 0;
                set(top->logit___05Fdata, beat + 1);
                const bool taken = offer && top->logit___05Fready;
                tick();
                if (taken) ++sent;
                if (++clocks > limit) {
                    std::vector<uint32_t> r{5u << 28, 1};
                    record(r);
                    rc = 1;
                    goto finish;
                }
            }
            top->logit___05Fvalid = 0;
            top->logit___05Flast = 0;
            std::vector<uint32_t> r{(2u << 28) | top->err, (uint32_t)top->token, (uint32_t)clocks,
                                    sent, (uint32_t)rom_reads, (uint32_t)draws};
            record(r);
        } else if (op == 3) {
            std::vector<uint32_t> r{(3u << 28) | top->err};
            record(r);
        } else {
            std::vector<uint32_t> r{5u << 28, 2, op};
            record(r);
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
