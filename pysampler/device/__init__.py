"""The sampler as a device: a host driver for the cores through their register map.

=============  ==================================================================================
module         what it holds
=============  ==================================================================================
``regdoc``     the register map rendered for hardware users: Markdown tables, the C header
=============  ==================================================================================
"""
