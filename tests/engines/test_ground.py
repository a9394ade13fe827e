"""Exact ground states by Gray-code enumeration against brute force, and bad input."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from pysampler.engines.ground import MAX_ENUM_UNITS, ising_energies, ising_ground_state


def _brute(J, h):
    n = len(h)
    states = np.array(list(itertools.product([-1, 1], repeat=n)))
    e = -(states @ h) - 0.5 * np.einsum("si,ij,sj->s", states, J, states)
    return e, states


@pytest.mark.parametrize("field", [False, True])
def test_gray_walk_finds_the_brute_force_minimum_and_degeneracy(field):
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 11):
        upper = np.triu(rng.choice([-1.0, 0.0, 1.0], (n, n)), 1)   # integer weights: ties
        J = upper + upper.T
        h = rng.choice([-1.0, 1.0], n) if field else np.zeros(n)
        e, states = _brute(J, h)
        g = ising_ground_state(J, h)
        assert g.energy == e.min()
        assert g.degeneracy == int((e == e.min()).sum())
        assert ising_energies(g.spins, J, h) == e.min() and g.spins.dtype == np.int8


def test_sparse_input_and_energies_agree():
    rng = np.random.default_rng(4)
    upper = np.triu(rng.normal(size=(9, 9)) * (rng.random((9, 9)) < 0.4), 1)
    J = upper + upper.T
    e, states = _brute(J, np.zeros(9))
    assert np.allclose(ising_energies(states, sp.csr_matrix(J)), e)
    assert ising_ground_state(sp.csr_matrix(J)).energy == pytest.approx(e.min(), abs=1e-12)


def test_bad_models_are_refused():
    with pytest.raises(ValueError, match="n must be <="):
        ising_ground_state(np.zeros((MAX_ENUM_UNITS + 1, MAX_ENUM_UNITS + 1)))
    with pytest.raises(ValueError, match="symmetric"):
        ising_ground_state(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="zero diagonal"):
        ising_ground_state(np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        ising_ground_state(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        ising_ground_state(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="h must have shape"):
        ising_ground_state(np.zeros((2, 2)), [1.0])
    with pytest.raises(ValueError, match="atol"):
        ising_ground_state(np.zeros((2, 2)), atol=-1)
    with pytest.raises(ValueError, match="spins must have shape"):
        ising_energies(np.ones(3), np.zeros((2, 2)))
