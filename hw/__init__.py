"""The p-bit cores in Amaranth HDL: RNG, sigmoid LUT, update engine, the programming-port decoder
and run sequencer, and the one-hot, dense and tree cores (``pbit_onehot``, ``pbit_dense``,
``pbit_tree``).

Every contract piece (LUT contents, RNG step, seed derivation, widths, the register map) is
imported from :mod:`pysampler.contract`; nothing here restates it.
"""
