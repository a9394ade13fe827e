/* Register maps of the p-bit cores, configuration 'default'.
 * Generated from pysampler/contract/regmap.py by `pysampler docs`; do not edit.
 * HwConfig: {"beta": 1.0, "frac_bits": 4, "lut_addr_bits": 10, "lut_shift": 0, "n_pbits": 64, "prob_bits": 16, "rng": "lfsr", "rng_bits": 32, "rng_steps": 16, "schedule": "sequential", "weight_bits": 10}
 * A word address is a register of the programming port; on AXI4-Lite the byte
 * address is 4 x word address (PBIT_BYTE_ADDR). Signed values are two's complement.
 */
#ifndef PBIT_REGS_DEFAULT_H
#define PBIT_REGS_DEFAULT_H

#include <stdint.h>

#define PBIT_MAP_VERSION 1u
#define PBIT_CORE_ID_MAGIC 0x5042u
#define PBIT_DATA_BITS 32u
#define PBIT_REGION_BITS 2u
#define PBIT_BYTE_ADDR(word) ((uint32_t)(word) << 2)

#define PBIT_ERR_ADDR 0x1u  /* write to an address the core's map does not hold */
#define PBIT_ERR_VALUE 0x2u  /* value the register does not accept */
#define PBIT_ERR_SEED 0x4u  /* seed load of 0 */
#define PBIT_ERR_BUSY_WRITE 0x8u  /* programming write while busy */
#define PBIT_ERR_BUSY_START 0x10u  /* start while busy */
#define PBIT_ERR_BAD_START 0x20u  /* start with sweeps = 0, an init policy the core lacks, KEEP with no chain to keep */
#define PBIT_ERR_STREAM 0x40u  /* stream core: a row whose `last` flag disagrees with N_ACTIVE */
#define PBIT_STATUS_BUSY 0x1u
#define PBIT_STATUS_DONE 0x2u
#define PBIT_STATUS_ERROR 0x4u
#define PBIT_STATUS_ONEHOT 0x8u
#define PBIT_INIT_ZEROS 0u
#define PBIT_INIT_RANDOM_ONEHOT 1u
#define PBIT_INIT_GIVEN 2u
#define PBIT_INIT_KEEP 3u
#define PBIT_START_SWEEPS_SHIFT 0u
#define PBIT_START_SWEEPS_MASK 0xFFFFu
#define PBIT_START_INIT_SHIFT 16u
#define PBIT_START_INIT_MASK 0x30000u

/* --- pbit_onehot: 18 registers, word addresses 8 bits (byte address = 4 x word) --- */
#define PBIT_ONEHOT_ID_VALUE 0x50420101u  /* what CORE_ID reads */
#define PBIT_ONEHOT_N_PBITS 64u  /* what CAPACITY reads */
#define PBIT_ONEHOT_ADDR_BITS 8u
#define PBIT_ONEHOT_OFFSET_BITS 6u
#define PBIT_ONEHOT_H(i) (0x0u + (uint32_t)(i))
#define PBIT_ONEHOT_H_COUNT 64u
#define PBIT_ONEHOT_H_MIN (-512)
#define PBIT_ONEHOT_H_MAX (511)
#define PBIT_ONEHOT_COUPLING 0x40u
#define PBIT_ONEHOT_COUPLING_MIN (-512)
#define PBIT_ONEHOT_COUPLING_MAX (511)
#define PBIT_ONEHOT_N_ACTIVE 0x41u
#define PBIT_ONEHOT_N_ACTIVE_MIN (1)
#define PBIT_ONEHOT_N_ACTIVE_MAX (64)
#define PBIT_ONEHOT_SEED_LO 0x42u
#define PBIT_ONEHOT_CLEAR_ERR 0x44u
#define PBIT_ONEHOT_SCHED_LEN 0x45u
#define PBIT_ONEHOT_SCHED_LEN_MIN (1)
#define PBIT_ONEHOT_SCHED_LEN_MAX (8)
#define PBIT_ONEHOT_SCHED_OFFSET(t) (0x48u + (uint32_t)(t) * 2u)
#define PBIT_ONEHOT_SCHED_OFFSET_COUNT 8u
#define PBIT_ONEHOT_SCHED_OFFSET_MIN (-512)
#define PBIT_ONEHOT_SCHED_OFFSET_MAX (511)
#define PBIT_ONEHOT_SCHED_COUPLING(t) (0x49u + (uint32_t)(t) * 2u)
#define PBIT_ONEHOT_SCHED_COUPLING_COUNT 8u
#define PBIT_ONEHOT_SCHED_COUPLING_MIN (-512)
#define PBIT_ONEHOT_SCHED_COUPLING_MAX (511)
#define PBIT_ONEHOT_TOKEN 0x46u
#define PBIT_ONEHOT_POPCOUNT 0x47u
#define PBIT_ONEHOT_START 0x58u
#define PBIT_ONEHOT_IRQ_ENABLE 0x59u
#define PBIT_ONEHOT_IRQ_ENABLE_MIN (0)
#define PBIT_ONEHOT_IRQ_ENABLE_MAX (1)
#define PBIT_ONEHOT_STATUS 0x5Au
#define PBIT_ONEHOT_ERR 0x5Bu
#define PBIT_ONEHOT_RUNS 0x5Cu
#define PBIT_ONEHOT_CYCLES 0x5Du
#define PBIT_ONEHOT_CORE_ID 0x5Eu
#define PBIT_ONEHOT_CAPACITY 0x5Fu

/* --- pbit_dense: 17 registers, word addresses 14 bits (byte address = 4 x word) --- */
#define PBIT_DENSE_ID_VALUE 0x50420102u  /* what CORE_ID reads */
#define PBIT_DENSE_N_PBITS 64u  /* what CAPACITY reads */
#define PBIT_DENSE_ADDR_BITS 14u
#define PBIT_DENSE_OFFSET_BITS 12u
#define PBIT_DENSE_H(i) (0x0u + (uint32_t)(i))
#define PBIT_DENSE_H_COUNT 64u
#define PBIT_DENSE_H_MIN (-512)
#define PBIT_DENSE_H_MAX (511)
#define PBIT_DENSE_COUPLING 0x1000u
#define PBIT_DENSE_COUPLING_MIN (-512)
#define PBIT_DENSE_COUPLING_MAX (511)
#define PBIT_DENSE_N_ACTIVE 0x1001u
#define PBIT_DENSE_N_ACTIVE_MIN (1)
#define PBIT_DENSE_N_ACTIVE_MAX (64)
#define PBIT_DENSE_SEED_LO 0x1002u
#define PBIT_DENSE_CLEAR_ERR 0x1004u
#define PBIT_DENSE_TOKEN 0x1006u
#define PBIT_DENSE_POPCOUNT 0x1007u
#define PBIT_DENSE_START 0x1018u
#define PBIT_DENSE_IRQ_ENABLE 0x1019u
#define PBIT_DENSE_IRQ_ENABLE_MIN (0)
#define PBIT_DENSE_IRQ_ENABLE_MAX (1)
#define PBIT_DENSE_STATUS 0x101Au
#define PBIT_DENSE_ERR 0x101Bu
#define PBIT_DENSE_RUNS 0x101Cu
#define PBIT_DENSE_CYCLES 0x101Du
#define PBIT_DENSE_CORE_ID 0x101Eu
#define PBIT_DENSE_CAPACITY 0x101Fu
#define PBIT_DENSE_STATE(i) (0x2000u + (uint32_t)(i))
#define PBIT_DENSE_STATE_COUNT 64u
#define PBIT_DENSE_STATE_MIN (0)
#define PBIT_DENSE_STATE_MAX (1)
#define PBIT_DENSE_J(i, j) (0x3000u | ((uint32_t)(i) << 6) | (uint32_t)(j))
#define PBIT_DENSE_J_COUNT 64u
#define PBIT_DENSE_J_MIN (-512)
#define PBIT_DENSE_J_MAX (511)

/* --- pbit_tree: 14 registers, word addresses 8 bits (byte address = 4 x word) --- */
#define PBIT_TREE_ID_VALUE 0x50420103u  /* what CORE_ID reads */
#define PBIT_TREE_N_PBITS 64u  /* what CAPACITY reads */
#define PBIT_TREE_ADDR_BITS 8u
#define PBIT_TREE_OFFSET_BITS 6u
#define PBIT_TREE_H(i) (0x0u + (uint32_t)(i))
#define PBIT_TREE_H_COUNT 64u
#define PBIT_TREE_H_MIN (-16384)
#define PBIT_TREE_H_MAX (16383)
#define PBIT_TREE_COUPLING 0x40u
#define PBIT_TREE_COUPLING_MIN (-16384)
#define PBIT_TREE_COUPLING_MAX (16383)
#define PBIT_TREE_N_ACTIVE 0x41u
#define PBIT_TREE_N_ACTIVE_MIN (1)
#define PBIT_TREE_N_ACTIVE_MAX (64)
#define PBIT_TREE_SEED_LO 0x42u
#define PBIT_TREE_CLEAR_ERR 0x44u
#define PBIT_TREE_TOKEN 0x46u
#define PBIT_TREE_START 0x58u
#define PBIT_TREE_IRQ_ENABLE 0x59u
#define PBIT_TREE_IRQ_ENABLE_MIN (0)
#define PBIT_TREE_IRQ_ENABLE_MAX (1)
#define PBIT_TREE_STATUS 0x5Au
#define PBIT_TREE_ERR 0x5Bu
#define PBIT_TREE_RUNS 0x5Cu
#define PBIT_TREE_CYCLES 0x5Du
#define PBIT_TREE_CORE_ID 0x5Eu
#define PBIT_TREE_CAPACITY 0x5Fu

/* --- pbit_stream: 13 registers, word addresses 18 bits (byte address = 4 x word) --- */
#define PBIT_STREAM_ID_VALUE 0x50420104u  /* what CORE_ID reads */
#define PBIT_STREAM_N_PBITS 65536u  /* what CAPACITY reads */
#define PBIT_STREAM_ADDR_BITS 18u
#define PBIT_STREAM_OFFSET_BITS 16u
#define PBIT_STREAM_COUPLING 0x10000u
#define PBIT_STREAM_COUPLING_MIN (-67108864)
#define PBIT_STREAM_COUPLING_MAX (67108863)
#define PBIT_STREAM_N_ACTIVE 0x10001u
#define PBIT_STREAM_N_ACTIVE_MIN (1)
#define PBIT_STREAM_N_ACTIVE_MAX (65536)
#define PBIT_STREAM_SEED_LO 0x10002u
#define PBIT_STREAM_CLEAR_ERR 0x10004u
#define PBIT_STREAM_TOKEN 0x10006u
#define PBIT_STREAM_START 0x10018u
#define PBIT_STREAM_IRQ_ENABLE 0x10019u
#define PBIT_STREAM_IRQ_ENABLE_MIN (0)
#define PBIT_STREAM_IRQ_ENABLE_MAX (1)
#define PBIT_STREAM_STATUS 0x1001Au
#define PBIT_STREAM_ERR 0x1001Bu
#define PBIT_STREAM_RUNS 0x1001Cu
#define PBIT_STREAM_CYCLES 0x1001Du
#define PBIT_STREAM_CORE_ID 0x1001Eu
#define PBIT_STREAM_CAPACITY 0x1001Fu

#endif /* PBIT_REGS_DEFAULT_H */
