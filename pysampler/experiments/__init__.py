"""Experiments and reports: each runs samplers and the exact evaluator over a grid and writes tables
and plots under results/ (``pysampler <command>``, the make target named in the README).

============  ==============================================================================
module        what
============  ==============================================================================
``logitsets`` synthetic logit rows and Ising models with documented generators
``tables``    Markdown and CSV tables of dataclass rows
``match``     softmax match over a (V, lambda, sweeps) grid (``pysampler match``)
``calibrate`` fewest sweeps per lambda for a target TV (``pysampler calibrate``)
``ising``     Ising convergence against exact enumeration (``pysampler ising``)
``study``     the quantization study (``pysampler study``)
``frontier``  the exact cost frontier (``pysampler frontier``)
``bench``     speed benchmarks (``pysampler bench``)
============  ==============================================================================
"""
