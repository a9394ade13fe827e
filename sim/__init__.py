"""cocotb co-simulation of the Verilog cores against the bit-accurate model.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``bus``            :class:`ProgBus`, the programming-port driver (addresses from the register map)
``tb``             :class:`TB` (clock, reset, the bus, error flags) and :class:`ArrayTB` (runs
                   and read-out of the one-hot and dense cores)
``compare``        the comparison of an RTL run with the model, :class:`CompareError`
``checks``         the check routines (random, edge and keep programs, bad input, reset)
``tb_common``      the cocotb tests both sweep cores run
``tb_onehot``,     one cocotb test module per core, named after its Verilog module
``tb_dense``,      (``pbit_onehot`` <-> ``hw/onehot.py`` <-> ``sim/tb_onehot.py``)
``tb_tree``
``env``            what the runner passes a cocotb process, and the report it gets back
``runner``         export, build, run, and fail loudly (:func:`run_cosim`); the cocotb and bulk
                   cases
``programs``       the random and edge programs (no simulator needed)
``bulk``           bulk mode: the core runs free in a compiled Verilator harness
                   (``bulk_main.cpp``), its records compared with the model in batches;
                   functional coverage (:class:`~sim.bulk.Coverage`)
``soak``           ``pysampler soak`` (``make soak``): 10^8 compared updates, fresh seed
``coverage``       ``pysampler coverage`` (``make coverage``): the coverage report
``mutate``         ``pysampler mutate`` (``make mutate``): single-line mutations of the cores
``bench``          co-simulation speed (:func:`cosim_speed`, :func:`bulk_speed`)
=================  ==========================================================================
"""
