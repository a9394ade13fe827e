"""Graph programs: a sparse Ising / QUBO model for the colour-parallel p-bit core (``pbit_graph``).

Conventions (docs/graph.md has the derivations)
-----------------------------------------------
* **Bits and spins.** The core holds bits y in {0,1}. A model given in Ising spins m = 2y - 1
  (``spins=True``, the default) has E(m) = -sum_i h_i m_i - sum_{i<j} J_ij m_i m_j and is converted
  to the QUBO form E(y) = -sum_i h'_i y_i - sum_{i<j} J'_ij y_i y_j (J' = 4 J,
  h'_i = 2 h_i - 2 sum_j J_ij: :func:`pysampler.contract.program.spin_to_qubo`, the same formula on
  the edge list), with E(m) = E(y) + ``offset``. Energies are *minimised*: low energy, high
  probability; the target law is exp(-b E) / Z.
* **beta.** b is the target inverse temperature (``beta``; a per-sweep table of up to
  :data:`MAX_BETA_SCHEDULE` entries). The program is built at b_max = max(beta): its fields are
  the QUBO weights times b_max / cfg.beta (the project's beta rule: cfg.beta is the LUT's gain and
  only sets how many energy units one LSB is), quantized to ``weight_bits``. A spin model's h' is
  quantized from 2 b h minus half the sum of the *rounded* couplings of each unit
  (h'_q = q(2 b h - sum_j J'_q,ij / 2)), not from -2 b sum_j J_ij on its own: rounding the two
  separately leaves the spin model a uniform field of up to 1/4 + D/8 LSB at degree D, which
  breaks the up-down symmetry (a ferromagnet at beta 0.4 then magnetises: |m| 0.72 where float
  gives 0.20, found by `make graph`); from the rounded couplings the residual field is at most a
  quarter LSB, and none at even degree with h = 0. Sweep entry t scales
  each integer field by r_t = b_t / b_max, realised as ``m_t * 2**-(BETA_MANT_BITS + e_t)``
  (:func:`scale_field`): a shift-and-add multiply by a few-bit mantissa and a shift, no new LUT.
* **Topology.** Units 0..n-1, edges (i, j) with i < j in lexicographic order (edge e), each unit's
  neighbours in ascending order padded to the core's degree D, and a proper colouring: colour c's
  units update together, in the order colour 0 .. C-1 each sweep, each from the state before its
  colour step. The topology is a build-time parameter of the core; h, J per edge, the clamps and
  the beta schedule are written through the register map (:meth:`GraphProgram.register_writes`).
* **Clamps.** A clamped unit holds its value: it draws and computes its field like every unit
  (its generator stays in step), and its bit is forced.

Bad input raises ValueError naming what is wrong: a non-symmetric J, a self-coupling, NaN or
inf, an empty graph, a degree above the core's, an improper colouring, saturating weights under
``strict=True`` (:class:`~pysampler.contract.program.SaturationError`), a beta <= 0 or NaN, a
clamped unit or value out of range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .config import HwConfig
from .fixedpoint import dequantize, quantize
from .program import DenseProgram, RegisterWrite, SaturationError, field_values
from .validation import check_int

__all__ = [
    "MAX_BETA_SCHEDULE", "BETA_MANT_BITS", "BETA_EXP_MAX", "MAX_DEGREE", "MAX_GRAPH_UNITS",
    "MAX_BETA_HOLD", "COLOURINGS", "FITS", "GraphTopology", "GraphProgram", "graph_program",
    "colour_graph", "check_colouring", "beta_code", "scale_field", "graph_field_bits",
    "clamp_code", "lattice_edges", "dequantized_weights",
]

MAX_BETA_SCHEDULE = 16      # entries of the per-sweep beta table (the core holds this many)
BETA_MANT_BITS = 4          # M: r_t = m_t * 2**-(M + e_t), m_t in 1..2**M (5-bit register)
BETA_EXP_MAX = 7            # e_t in 0..7 (3-bit register)
MAX_BETA_HOLD = (1 << 16) - 1  # sweeps per schedule entry (16-bit register)
MAX_DEGREE = 64             # the largest core degree D a build may have
MAX_GRAPH_UNITS = 1 << 20   # the largest graph a program may describe
COLOURINGS = ("dsatur", "greedy")
FITS = ("saturate", "scale")


def graph_field_bits(cfg: HwConfig, max_degree: int) -> int:
    """Width of the graph core's field: h plus D couplings, weight_bits + ceil(log2(D + 1)) bits;
    the sum never wraps."""
    return cfg.weight_bits + int(np.ceil(np.log2(max_degree + 1)))


def beta_code(ratio: float) -> tuple[int, int]:
    """The (mantissa, exponent) pair nearest ``ratio`` = b_t / b_max in (0, 1].

    r = m * 2**-(M + e), m in 1..2**M, e in 0..BETA_EXP_MAX, chosen to minimise |r_hat - r| / r
    (ties: the smaller e). For ratio >= 2**-BETA_EXP_MAX the mantissa is normalised
    (m >= 2**(M-1)), so the relative error is at most 2**-M; smaller ratios are refused.
    """
    r = float(ratio)
    low = 2.0 ** -BETA_EXP_MAX
    if not np.isfinite(r) or not low <= r <= 1.0:
        raise ValueError(f"beta ratio b_t / max(beta) must be in [{low}, 1] (the schedule spans "
                         f"at most {1 << BETA_EXP_MAX}x), got {ratio!r}")
    best = None
    for e in range(BETA_EXP_MAX + 1):
        m = int(min(max(round(r * 2.0 ** (BETA_MANT_BITS + e)), 1), 1 << BETA_MANT_BITS))
        err = abs(m * 2.0 ** -(BETA_MANT_BITS + e) - r)
        if best is None or err < best[0] * (1 - 1e-12):
            best = (err, m, e)
    return best[1], best[2]


def scale_field(field: ArrayLike, mant: ArrayLike, exp: ArrayLike) -> np.ndarray:
    """The beta-scaled field of the graph core (int64, exact):

        scaled = (field * m + 2**(M + e - 1)) >> (M + e)        (arithmetic shift: floor)

    i.e. field * m * 2**-(M+e) rounded half up. With m = 2**M and e = 0 (ratio 1) it is the
    field itself. The LUT index is then ``clamp(scaled >> lut_shift)`` as in every core."""
    f = np.asarray(field, dtype=np.int64)
    shift = BETA_MANT_BITS + np.asarray(exp, dtype=np.int64)
    return (f * np.asarray(mant, dtype=np.int64) + (np.int64(1) << (shift - 1))) >> shift


def clamp_code(clamped: bool, value: int) -> int:
    """The CLAMP register value: bit 1 = clamped, bit 0 = the held bit (0 when free)."""
    return (2 | int(value)) if clamped else 0


def lattice_edges(rows: int, cols: int, *, periodic: bool = True) -> np.ndarray:
    """Edges (E, 2) of a rows x cols square lattice, unit r * cols + c (periodic: a torus; a
    side of 2 then gives no double edge). A handy source of test and benchmark graphs."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    pairs = []
    if cols > 1:
        right = np.roll(idx, -1, axis=1) if periodic else idx[:, 1:]
        left = idx if periodic else idx[:, :-1]
        pairs.append(np.stack([left.ravel(), right.ravel()], 1))
    if rows > 1:
        down = np.roll(idx, -1, axis=0) if periodic else idx[1:, :]
        up = idx if periodic else idx[:-1, :]
        pairs.append(np.stack([up.ravel(), down.ravel()], 1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    e = np.sort(np.concatenate(pairs), axis=1)
    return np.unique(e[e[:, 0] != e[:, 1]], axis=0)


# --- colouring -----------------------------------------------------------------------------------
def colour_graph(n: int, edges: np.ndarray, method: str = "dsatur") -> np.ndarray:
    """A proper colouring of the graph (n units, edges (E, 2)) by networkx's greedy colouring:
    ``"dsatur"`` (saturation largest first) or ``"greedy"`` (largest degree first). Returns
    int64 (n,) colours 0..C-1, checked proper."""
    if method not in COLOURINGS:
        raise ValueError(f"colouring must be one of {COLOURINGS} or an array of n colours, "
                         f"got {method!r}")
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, np.asarray(edges, dtype=np.int64).tolist()))
    strategy = "saturation_largest_first" if method == "dsatur" else "largest_first"
    found = nx.greedy_color(g, strategy=strategy)
    colours = np.array([found[i] for i in range(n)], dtype=np.int64)
    check_colouring(colours, n, edges)
    return colours


def check_colouring(colours: ArrayLike, n: int, edges: np.ndarray) -> np.ndarray:
    """``colours`` as int64 (n,) after checking it: integers in 0..C-1 and proper (no edge joins
    two units of one colour). An improper colouring is an error naming the first bad edge."""
    c = np.asarray(colours)
    if c.shape != (n,):
        raise ValueError(f"colouring must have one colour per unit, shape ({n},), got {c.shape}")
    if not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"colouring must hold integers, got {c.dtype}")
    if n and c.min() < 0:
        raise ValueError(f"colouring must hold colours >= 0, got {int(c.min())}")
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    same = np.flatnonzero(c[e[:, 0]] == c[e[:, 1]]) if e.size else np.zeros(0, np.int64)
    if same.size:
        i, j = e[same[0]]
        raise ValueError(f"colouring is not proper: units {i} and {j} share an edge and colour "
                         f"{int(c[i])} ({same.size} such edges)")
    return c.astype(np.int64)


# --- topology ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GraphTopology:
    """What the graph core is built for (hard-wired): units, edges, degree and colouring.

    Attributes
    ----------
    n : int
        Units (p-bits), 1..MAX_GRAPH_UNITS.
    edges : np.ndarray of int64, shape (E, 2)
        Edge e joins units edges[e, 0] < edges[e, 1]; lexicographic order, no duplicates.
    colours : np.ndarray of int64, shape (n,)
        A proper colouring, colours 0..C-1.
    max_degree : int
        D, the core's degree (each unit has D neighbour slots), >= every unit's degree.

    Derived (read-only arrays): ``neighbours`` and ``edge_slots`` int64 (n, D) (neighbour j and
    edge index of each slot in ascending neighbour order, -1 in unused slots), ``degree`` (n,),
    ``order`` (n,) (units by colour, then index: the update order of one sweep), ``class_start``
    (C + 1,) (colour c's units are ``order[class_start[c]:class_start[c+1]]``), ``slot`` (n,)
    (a unit's rank within its colour: its lane slot).
    """

    n: int
    edges: np.ndarray
    colours: np.ndarray
    max_degree: int
    neighbours: np.ndarray = field(init=False, repr=False)
    edge_slots: np.ndarray = field(init=False, repr=False)
    degree: np.ndarray = field(init=False, repr=False)
    order: np.ndarray = field(init=False, repr=False)
    class_start: np.ndarray = field(init=False, repr=False)
    slot: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.n
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"graph is empty: need at least one unit, got n={n!r}")
        if n > MAX_GRAPH_UNITS:
            raise ValueError(f"graph has {n} units; allowed 1..{MAX_GRAPH_UNITS}")
        e = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        if e.size:
            if e.min() < 0 or e.max() >= n:
                raise ValueError(f"edges must join units in 0..{n - 1}")
            if np.any(e[:, 0] == e[:, 1]):
                raise ValueError(f"self-coupling on unit {int(e[e[:, 0] == e[:, 1]][0, 0])}: "
                                 f"J must have a zero diagonal")
            if np.any(e[:, 0] > e[:, 1]):
                raise ValueError("edges must be given as (i, j) with i < j")
            key = e[:, 0] * n + e[:, 1]
            if np.any(np.diff(key) <= 0):
                raise ValueError("edges must be in lexicographic order without duplicates")
        degree = np.bincount(e.ravel(), minlength=n).astype(np.int64)
        d = self.max_degree
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= MAX_DEGREE:
            raise ValueError(f"max_degree must be an int in [0, {MAX_DEGREE}], got {d!r}")
        if degree.size and degree.max() > d:
            worst = int(np.argmax(degree))
            raise ValueError(f"unit {worst} has degree {int(degree[worst])}, above the core's "
                             f"max_degree={d}")
        colours = check_colouring(self.colours, n, e)
        neighbours = np.full((n, max(d, 1)), -1, dtype=np.int64)[:, :d]
        slots = np.full((n, max(d, 1)), -1, dtype=np.int64)[:, :d]
        if e.size:
            both = np.concatenate([np.stack([e[:, 0], e[:, 1], np.arange(len(e))], 1),
                                   np.stack([e[:, 1], e[:, 0], np.arange(len(e))], 1)])
            both = both[np.lexsort((both[:, 1], both[:, 0]))]
            first = np.searchsorted(both[:, 0], np.arange(n))
            rank = np.arange(len(both)) - first[both[:, 0]]
            neighbours[both[:, 0], rank] = both[:, 1]
            slots[both[:, 0], rank] = both[:, 2]
        n_colours = int(colours.max()) + 1
        order = np.lexsort((np.arange(n), colours)).astype(np.int64)
        class_start = np.searchsorted(colours[order], np.arange(n_colours + 1)).astype(np.int64)
        slot = np.empty(n, dtype=np.int64)
        slot[order] = np.arange(n) - class_start[colours[order]]
        for name, value in (("edges", e), ("colours", colours), ("neighbours", neighbours),
                            ("edge_slots", slots), ("degree", degree), ("order", order),
                            ("class_start", class_start), ("slot", slot)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "n", int(n))
        object.__setattr__(self, "max_degree", int(d))

    @property
    def n_edges(self) -> int:
        return int(len(self.edges))

    @property
    def n_colours(self) -> int:
        """C, the colour steps of one sweep."""
        return int(len(self.class_start) - 1)

    @property
    def lanes(self) -> int:
        """Units updated in one colour step at most: the core's datapath lanes (max class size)."""
        return int(np.diff(self.class_start).max())

    def classes(self) -> list[np.ndarray]:
        """The units of each colour, ascending."""
        return [self.order[a:b] for a, b in zip(self.class_start[:-1], self.class_start[1:])]


# --- the program ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GraphProgram:
    """A sparse QUBO program for the graph core: integer h per unit, J per edge, clamps and the
    beta schedule, on a :class:`GraphTopology`.

    Attributes
    ----------
    cfg : HwConfig
        Widths: h and J are weight_bits signed (LSB 2**-frac_bits), the LUT, the generator.
    topology : GraphTopology
    h : np.ndarray of int64, shape (n,)
    J : np.ndarray of int64, shape (E,)
        Coupling of edge e (the topology's edge order).
    clamped : np.ndarray of bool, shape (n,)
    clamp_values : np.ndarray of int64, shape (n,)
        The held bit of each clamped unit (0 where free).
    beta_mant, beta_exp : tuple of int
        The beta schedule, T entries: sweep entry t scales fields by m_t * 2**-(M + e_t)
        (:func:`scale_field`); T = 1, (2**M,), (0,) without a schedule.
    beta_hold : int
        Sweeps per schedule entry: sweep s of a run uses entry min(s // beta_hold, T - 1).
    beta : float
        b_max, the target inverse temperature the weights were scaled for (fields = QUBO weights
        times beta / cfg.beta, quantized).
    betas : tuple of float
        The requested schedule b_0 .. b_{T-1} (max = beta).
    h_float, J_float : np.ndarray of float64
        The QUBO model (input units, after the threshold and the spin conversion), unscaled: what
        the float reference runs.
    offset : float
        E_input(state) = E_qubo(y) + offset (nonzero for spins).
    spins : bool
        The input convention (spins m = 2y - 1, or bits y).
    n_saturated : int
        h and J values clamped by the quantizer.
    n_dropped : int
        Couplings at or below the threshold, dropped (each edge once).
    fit_scale : float
        1, or the factor the weights were scaled down by to fit (``fit="scale"``): then the
        realised target is beta * fit_scale.
    """

    kernel: ClassVar[str] = "chromatic"

    cfg: HwConfig
    topology: GraphTopology
    h: np.ndarray
    J: np.ndarray
    clamped: np.ndarray
    clamp_values: np.ndarray
    beta_mant: tuple[int, ...]
    beta_exp: tuple[int, ...]
    beta_hold: int
    beta: float
    betas: tuple[float, ...]
    h_float: np.ndarray
    J_float: np.ndarray
    offset: float = 0.0
    spins: bool = True
    n_saturated: int = 0
    n_dropped: int = 0
    fit_scale: float = 1.0

    def __post_init__(self) -> None:
        n, e = self.topology.n, self.topology.n_edges
        cfg = self.cfg
        for name, shape in (("h", (n,)), ("J", (e,)), ("clamped", (n,)), ("clamp_values", (n,)),
                            ("h_float", (n,)), ("J_float", (e,))):
            arr = np.asarray(getattr(self, name))
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        for name in ("h", "J"):
            arr = np.asarray(getattr(self, name))
            if not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"{name} must hold integers (fixed-point codes), got {arr.dtype}")
            if arr.size and (arr.min() < cfg.weight_min or arr.max() > cfg.weight_max):
                raise ValueError(f"{name} values must be in [{cfg.weight_min}, {cfg.weight_max}] "
                                 f"for weight_bits={cfg.weight_bits}")
        values = np.asarray(self.clamp_values, dtype=np.int64)
        if not np.isin(values, (0, 1)).all():
            raise ValueError("clamp_values must hold bits 0 and 1")
        t = len(self.beta_mant)
        if not 1 <= t <= MAX_BETA_SCHEDULE or len(self.beta_exp) != t or len(self.betas) != t:
            raise ValueError(f"beta_mant, beta_exp and betas must have the same length in "
                             f"1..{MAX_BETA_SCHEDULE}")
        if any(not 1 <= m <= 1 << BETA_MANT_BITS for m in self.beta_mant):
            raise ValueError(f"beta_mant entries must be in 1..{1 << BETA_MANT_BITS}")
        if any(not 0 <= x <= BETA_EXP_MAX for x in self.beta_exp):
            raise ValueError(f"beta_exp entries must be in 0..{BETA_EXP_MAX}")
        check_int("beta_hold", self.beta_hold, 1, MAX_BETA_HOLD)
        for name, dtype in (("h", np.int64), ("J", np.int64), ("clamped", bool),
                            ("clamp_values", np.int64), ("h_float", np.float64),
                            ("J_float", np.float64)):
            arr = np.array(getattr(self, name), dtype=dtype)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "clamp_values", np.where(self.clamped, values, 0))
        self.clamp_values.setflags(write=False)
        object.__setattr__(self, "beta_mant", tuple(int(v) for v in self.beta_mant))
        object.__setattr__(self, "beta_exp", tuple(int(v) for v in self.beta_exp))
        object.__setattr__(self, "betas", tuple(float(v) for v in self.betas))
        object.__setattr__(self, "beta_hold", int(self.beta_hold))

    # --- the protocol every program kind has ---
    @property
    def n(self) -> int:
        return self.topology.n

    @property
    def schedule_length(self) -> int:
        """T, the entries of the beta table."""
        return len(self.beta_mant)

    def schedule_entries(self, sweeps: int) -> np.ndarray:
        """Entry of each sweep of a run of ``sweeps`` sweeps: min(s // beta_hold, T - 1),
        int64 (sweeps,). Every run starts the table at entry 0."""
        s = np.arange(int(sweeps), dtype=np.int64)
        return np.minimum(s // self.beta_hold, self.schedule_length - 1)

    @property
    def realised_betas(self) -> np.ndarray:
        """The inverse temperature each entry implements on the integer fields:
        beta * fit_scale * m_t * 2**-(M + e_t), float64 (T,)."""
        m = np.asarray(self.beta_mant, dtype=np.float64)
        e = np.asarray(self.beta_exp, dtype=np.float64)
        return self.beta * self.fit_scale * m * 2.0 ** -(BETA_MANT_BITS + e)

    def register_writes(self, *, full_matrix: bool = True) -> list[RegisterWrite]:
        """The graph core's programming writes: H[i], EDGE_J[e], CLAMP[i], BETA_LEN, BETA_HOLD
        and the whole beta table (BETA_MANT[t], BETA_EXP[t]). Generator lane seeds and a GIVEN
        state are written apart (``LANE_SEED``, ``STATE``). ``full_matrix`` is the dense form's
        option and changes nothing here."""
        writes: list[RegisterWrite] = [(("H", i), int(v)) for i, v in enumerate(self.h)]
        writes += [(("EDGE_J", e), int(v)) for e, v in enumerate(self.J)]
        writes += [(("CLAMP", i), clamp_code(bool(c), int(v)))
                   for i, (c, v) in enumerate(zip(self.clamped, self.clamp_values))]
        writes += [("BETA_LEN", self.schedule_length), ("BETA_HOLD", self.beta_hold)]
        for t, (m, x) in enumerate(zip(self.beta_mant, self.beta_exp)):
            writes += [(("BETA_MANT", t), m), (("BETA_EXP", t), x)]
        return writes

    def to_dense(self) -> DenseProgram:
        """The same integer weights on the sequential dense array (its own update order), at
        ratio 1 (the schedule's b_max). A clamped program has no dense form (the dense core
        cannot hold a unit)."""
        if self.clamped.any():
            raise ValueError("a program with clamped units has no dense form")
        J = self.dense_couplings()
        return DenseProgram(self.cfg, self.h.copy(), J, self.n_saturated)

    # --- fields and energies ---
    def dense_couplings(self) -> np.ndarray:
        """The integer J as a dense symmetric (n, n) int64 matrix (small graphs)."""
        J = np.zeros((self.n, self.n), dtype=np.int64)
        e = self.topology.edges
        J[e[:, 0], e[:, 1]] = self.J
        J[e[:, 1], e[:, 0]] = self.J
        return J

    def fields(self, y: ArrayLike) -> np.ndarray:
        """Integer fields h_i + sum_j J_ij y_j of states y (..., n), int64."""
        yy = np.asarray(y, dtype=np.int64)
        nb, slots = self.topology.neighbours, self.topology.edge_slots
        used = nb >= 0
        weights = np.where(used, self.J[np.maximum(slots, 0)], 0)
        return self.h + (yy[..., np.maximum(nb, 0)] * weights).sum(axis=-1)

    def unit_energy_scale(self) -> float:
        """Energy units (of the input model) per integer LSB: cfg.beta * 2**-f / (beta *
        fit_scale); an integer QUBO energy times this is the model's energy."""
        return self.cfg.beta * self.cfg.lsb / (self.beta * self.fit_scale)

    def energy(self, y: ArrayLike, *, quantized: bool = False, qubo: bool = False
               ) -> np.ndarray:
        """Energy of bit states y (..., n), float64, in the input convention (plus ``offset``
        for spins) unless ``qubo``. ``quantized``: of the integer program, in the same units
        (what the hardware samples at ratio 1: exp(-beta * fit_scale * E_q) in exact
        arithmetic), else of the float model."""
        yy = np.asarray(y, dtype=np.float64)
        i, j = self.topology.edges[:, 0], self.topology.edges[:, 1]
        if quantized:
            scale = self.unit_energy_scale()
            h, J = self.h * scale, self.J * scale
        else:
            h, J = self.h_float, self.J_float
        e = -(yy @ h) - (yy[..., i] * yy[..., j]) @ J
        return e if qubo else e + self.offset

    def spins_of(self, y: ArrayLike) -> np.ndarray:
        """Spins 2y - 1 (int8) of bit states."""
        return (2 * np.asarray(y, dtype=np.int8) - 1).astype(np.int8)


# --- the builder ---------------------------------------------------------------------------------
def _edge_list(couplings: Any, n_hint: int | None) -> tuple[int, np.ndarray, np.ndarray,
                                                            np.ndarray | None, tuple | None]:
    """(n, edges (E', 2) i<j, weights (E',), node h or None, node labels or None) of a dense
    array, a scipy.sparse matrix or a networkx graph, checked symmetric with a zero diagonal."""
    if hasattr(couplings, "nodes") and hasattr(couplings, "edges"):   # a networkx graph
        if couplings.is_directed():
            raise ValueError("graph must be undirected (J symmetric); got a directed graph")
        labels = tuple(couplings.nodes)
        index = {v: k for k, v in enumerate(labels)}
        rows = []
        for u, v, data in couplings.edges(data=True):
            w = float(data.get("weight", 1.0))
            if index[u] == index[v]:
                if w != 0:
                    raise ValueError(f"self-coupling on node {u!r}: J must have a zero diagonal")
                continue
            rows.append((min(index[u], index[v]), max(index[u], index[v]), w))
        node_h = np.array([float(couplings.nodes[v].get("h", 0.0)) for v in labels])
        arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
        return (len(labels), arr[:, :2].astype(np.int64), arr[:, 2], node_h, labels)
    if hasattr(couplings, "tocoo"):                                     # scipy.sparse
        coo = couplings.tocoo()
        if coo.shape[0] != coo.shape[1]:
            raise ValueError(f"J must be square, got shape {coo.shape}")
        n = coo.shape[0]
        data = np.asarray(coo.data, dtype=np.float64)
        r, c = np.asarray(coo.row, np.int64), np.asarray(coo.col, np.int64)
        # sum duplicates (scipy's meaning of repeated entries)
        key = r * n + c
        uniq, inv = np.unique(key, return_inverse=True)
        vals = np.bincount(inv, weights=data, minlength=uniq.size) if data.size else data
        if not np.isfinite(vals).all():
            raise ValueError("J contains NaN or inf")
        r, c = uniq // max(n, 1), uniq % max(n, 1)
        nz = vals != 0
        r, c, vals = r[nz], c[nz], vals[nz]
    else:
        arr = np.asarray(couplings, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise ValueError(f"J must be a square 2-D array, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("J contains NaN or inf")
        n = arr.shape[0]
        r, c = np.nonzero(arr)
        vals = arr[r, c]
    diag = r == c
    if diag.any():
        raise ValueError(f"self-coupling J[{int(r[diag][0])}, {int(r[diag][0])}] = "
                         f"{vals[diag][0]!r}: J must have a zero diagonal")
    upper = {(int(i), int(j)): float(v) for i, j, v in zip(r, c, vals) if i < j}
    lower = {(int(j), int(i)): float(v) for i, j, v in zip(r, c, vals) if i > j}
    if upper != lower:
        bad = sorted(set(upper.items()) ^ set(lower.items()))[0][0]
        raise ValueError(f"J must be symmetric: J[{bad[0]}, {bad[1]}] = {upper.get(bad, 0.0)!r} "
                         f"but J[{bad[1]}, {bad[0]}] = {lower.get(bad, 0.0)!r}")
    keys = sorted(upper)
    edges = np.array(keys, dtype=np.int64).reshape(-1, 2)
    return n, edges, np.array([upper[k] for k in keys], dtype=np.float64), None, None


def _beta_table(beta: float | Sequence[float]) -> tuple[float, ...]:
    values = (beta,) if np.ndim(beta) == 0 else tuple(beta)
    if not 1 <= len(values) <= MAX_BETA_SCHEDULE:
        raise ValueError(f"beta schedule must have 1..{MAX_BETA_SCHEDULE} entries, "
                         f"got {len(values)}")
    out = []
    for k, v in enumerate(values):
        name = "beta" if len(values) == 1 else f"beta[{k}]"
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}") from None
        if not np.isfinite(x) or x <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        out.append(x)
    return tuple(out)


def _clamps(clamp: Mapping[int, int] | None, n: int, spins: bool
            ) -> tuple[np.ndarray, np.ndarray]:
    clamped = np.zeros(n, dtype=bool)
    values = np.zeros(n, dtype=np.int64)
    if clamp is None:
        return clamped, values
    allowed = (-1, 1) if spins else (0, 1)
    for unit, value in dict(clamp).items():
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) \
                or not 0 <= unit < n:
            raise ValueError(f"clamped unit {unit!r} is outside 0..{n - 1}")
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(f"clamp[{unit}] = {value!r}: a clamped value must be one of "
                             f"{allowed} ({'spins' if spins else 'bits'})")
        clamped[unit] = True
        values[unit] = (int(value) + 1) // 2 if spins else int(value)
    return clamped, values


def graph_program(couplings: Any, h: ArrayLike | None = None, cfg: HwConfig | None = None, *,
                  spins: bool = True, beta: float | Sequence[float] = 1.0,
                  theta: float = 0.0, clamp: Mapping[int, int] | None = None,
                  max_degree: int | None = None,
                  colouring: str | ArrayLike = "dsatur", beta_hold: int = 1,
                  fit: str = "saturate", strict: bool = False) -> GraphProgram:
    """Build a graph program.

    Parameters
    ----------
    couplings : (n, n) array, scipy.sparse matrix or networkx graph
        J, symmetric with a zero diagonal (a networkx graph: edge attribute ``weight``, default
        1; node attribute ``h`` where ``h`` is not given; nodes in ``G.nodes`` order).
    h : array_like (n,), optional
        Fields (zeros by default).
    cfg : HwConfig
        Widths (weight_bits, frac_bits, the LUT, the generator). The graph's size is its own,
        not cfg.n_pbits.
    spins : bool
        The model is in Ising spins m = +-1 (True) or QUBO bits y in {0,1} (False).
    beta : float or sequence of float
        Target inverse temperature b > 0, or a per-sweep table of up to 16 entries.
    theta : float
        Sparsity threshold: couplings with |J| <= theta are dropped (counted in ``n_dropped``).
    clamp : mapping unit -> value, optional
        Units held at a value (+-1 for spins, 0/1 for bits).
    max_degree : int, optional
        The core's degree D (default: the graph's largest degree); a larger degree is an error.
    colouring : "dsatur", "greedy" or array of n ints
        How the units are coloured; a given colouring is checked proper.
    beta_hold : int
        Sweeps per beta-table entry, 1..65535.
    fit : "saturate" or "scale"
        Weights that do not fit weight_bits saturate (counted; an error with ``strict``), or all
        weights are scaled down to fit (the realised beta drops by ``fit_scale``).
    strict : bool
        Raise :class:`SaturationError` when a value saturates.
    """
    cfg = HwConfig() if cfg is None else cfg
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    th = float(theta)
    if not np.isfinite(th) or th < 0:
        raise ValueError(f"theta must be a finite number >= 0, got {theta!r}")
    betas = _beta_table(beta)
    n, edges, weights, node_h, _ = _edge_list(couplings, None)
    if n == 0:
        raise ValueError("graph is empty: need at least one unit")
    if h is None:
        hf = np.zeros(n) if node_h is None else node_h
    else:
        hf = np.asarray(h, dtype=np.float64)
        if hf.shape != (n,):
            raise ValueError(f"h must have shape ({n},) to match J, got {hf.shape}")
    if not np.isfinite(hf).all():
        raise ValueError("h contains NaN or inf; all values must be finite")
    keep = np.abs(weights) > th
    n_dropped = int((~keep).sum())
    edges, weights = edges[keep], weights[keep]
    degree = np.bincount(edges.ravel(), minlength=n)
    d = int(degree.max()) if max_degree is None else max_degree
    colours = colour_graph(n, edges, colouring) if isinstance(colouring, str) else colouring
    topology = GraphTopology(n, edges, colours, d)
    if spins:   # spin_to_qubo on the edge list: J' = 4 J, h' = 2 h - 2 sum_j J_ij
        row = np.bincount(edges.ravel(), weights=np.repeat(weights, 2), minlength=n) \
            if edges.size else np.zeros(n)
        Jq, hq = 4.0 * weights, 2.0 * hf - 2.0 * row
        offset = float(hf.sum() - weights.sum())
    else:
        Jq, hq, offset = weights.copy(), hf.copy(), 0.0
    clamped, values = _clamps(clamp, n, spins)
    b_max = max(betas)
    hb, Jb = field_values(b_max * hq, cfg), field_values(b_max * Jq, cfg)  # the beta rule
    fit_scale = 1.0
    if fit == "scale":
        top = max(np.abs(hb).max(initial=0.0), np.abs(Jb).max(initial=0.0))
        room = cfg.weight_max * cfg.lsb
        if top > room:
            fit_scale = room / top
    Jqz = quantize(Jb * fit_scale, cfg.frac_bits, cfg.weight_bits, name="J")
    if spins:  # h' = 2 h - sum_j J'_ij / 2 from the ROUNDED couplings (the up-down symmetry)
        row_q = np.bincount(edges.ravel(), weights=np.repeat(Jqz.values, 2).astype(np.float64),
                            minlength=n) if edges.size else np.zeros(n)
        hb_spin = field_values(b_max * 2.0 * hf, cfg) * fit_scale - np.ldexp(row_q,
                                                                             -cfg.frac_bits) / 2
        hqz = quantize(hb_spin, cfg.frac_bits, cfg.weight_bits, name="h")
    else:
        hqz = quantize(hb * fit_scale, cfg.frac_bits, cfg.weight_bits, name="h")
    n_sat = hqz.n_saturated + Jqz.n_saturated
    if n_sat and strict:
        raise SaturationError(f"{hqz.n_saturated} h and {Jqz.n_saturated} J values saturated "
                              f"weight_bits={cfg.weight_bits} at beta={b_max} "
                              f"(cfg.beta={cfg.beta}, strict=True); lower beta, widen "
                              f"weight_bits or use fit='scale'")
    codes = [beta_code(b / b_max) for b in betas]
    return GraphProgram(cfg, topology, hqz.values, Jqz.values, clamped, values,
                        tuple(m for m, _ in codes), tuple(e for _, e in codes), beta_hold,
                        b_max, betas, hq, Jq, offset, bool(spins), n_sat, n_dropped, fit_scale)


def dequantized_weights(program: GraphProgram) -> tuple[np.ndarray, np.ndarray]:
    """(h, J) of the integer program in the input model's units (float64)."""
    s = program.unit_energy_scale()
    return dequantize(program.h, 0) * s, dequantize(program.J, 0) * s
