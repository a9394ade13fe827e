"""``python -m pysampler``: the command line (:mod:`pysampler.cli`)."""

from .cli import main

main()
