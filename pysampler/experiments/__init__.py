"""Experiments and reports: each runs samplers and the exact evaluator over a grid and writes tables
and plots under results/ (``pysampler <command>``, the make target named in the README).

============  ==============================================================================
module        what
============  ==============================================================================
``logitsets`` synthetic logit rows and Ising models with documented generators
``rows``      the benchmark of logit rows (V = 8 .. 50,257, flat to peaked, LM-captured)
``tables``    Markdown and CSV tables of dataclass rows
``match``     softmax match over a (V, lambda, sweeps) grid (``pysampler match``)
``calibrate`` fewest sweeps per lambda for a target TV (``pysampler calibrate``)
``ising``     Ising convergence against exact enumeration (``pysampler ising``)
``study``     the quantization study (``pysampler study``)
``frontier``  the exact cost frontier (``pysampler frontier``)
``fullvocab`` every sampler on the benchmark rows (``pysampler fullvocab``)
``stream_error`` the stream sampler's error analysis (``pysampler stream-error``)
``bench``     speed benchmarks (``pysampler bench``)
============  ==============================================================================
"""
