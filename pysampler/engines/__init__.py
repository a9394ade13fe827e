"""Engines that run programs: the bit-accurate array (``array``), the float references
(``reference``), the bit-accurate tree sampler (``tree``) and the exact propagation of a chain's
state law (``propagate``). They import the contract only."""
