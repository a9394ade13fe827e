"""cocotb co-simulation of the Verilog cores against the bit-accurate model.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``bus``            :class:`ProgBus`, the programming-port driver (addresses from the register map)
``tb``             :class:`TB` (clock, reset, the bus, error flags) and :class:`ArrayTB` (runs
                   and read-out of the one-hot and dense cores)
``compare``        the comparison of an RTL run with the model, :class:`CompareError`
``scenario``       the scenarios as data (seeds, programs, runs, refused accesses) and the
                   model's expectations; replayed by every port: the native port (``checks``),
                   the bulk harness, AXI4-Lite (``tb_axil``), the host driver (any transport)
``checks``         the native port's replay and its check routines (random, edge and keep
                   programs, bad input, token runs, reset)
``tb_common``      the cocotb tests both sweep cores run
``tb_onehot``,     one cocotb test module per core, named after its Verilog module
``tb_dense``,      (``pbit_onehot`` <-> ``hw/onehot.py`` <-> ``sim/tb_onehot.py``)
``tb_tree``,
``tb_graph``       (the graph core, on the topologies of ``graph_programs``)
``tb_axil``        any core behind its AXI4-Lite bridge (cocotbext-axi, back-pressure)
``tb_uart``        a core behind a board's UART link: the driver's byte stream (cocotbext-uart)
``env``            what the runner passes a cocotb process, and the report it gets back
``runner``         export, build, run, and fail loudly (:func:`run_cosim`); the cocotb and bulk
                   cases
``programs``       the random and edge programs (no simulator needed)
``bulk``           bulk mode: the core runs free in a compiled Verilator harness
                   (``bulk_main.cpp``), its records compared with the model in batches;
                   functional coverage (:class:`~sim.bulk.Coverage`)
``bulk_graph``     bulk mode of the graph core (``bulk_graph_main.cpp``), its coverage bins
``graph_programs`` the graph core's topologies and programs (no simulator needed)
``tsu_rtl``        the TSU protocol on the simulated graph core (:class:`RtlBackend`)
``soak``           ``pysampler soak`` (``make soak``): 10^8 compared updates, fresh seed
``coverage``       ``pysampler coverage`` (``make coverage``): the coverage report
``mutate``         ``pysampler mutate`` (``make mutate``): single-line mutations of the cores
``bench``          co-simulation speed (:func:`cosim_speed`, :func:`bulk_speed`)
=================  ==========================================================================
"""
