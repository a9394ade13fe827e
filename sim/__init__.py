"""cocotb co-simulation of the Verilog cores against the bit-accurate model."""
