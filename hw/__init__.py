"""The p-bit array in Amaranth HDL: RNG, sigmoid LUT, update engine, one-hot core, dense array.

Every contract piece (LUT contents, RNG step, seed derivation, widths) is imported from
:mod:`pysampler`; nothing here restates it.
"""
