"""The switches of ``torch.__future__`` (``gradkit.__future__``): how ``nn.Module`` conversions
(``to``, ``double()``, ``half()``, ``to_empty``) treat existing parameters. Read by
``nn.Module._apply``; kept here, under every floor, so any package may read them."""

from __future__ import annotations

#: assign new Parameter objects on conversion (``set_overwrite_module_params_on_conversion``)
OVERWRITE = [False]
#: swap the converted values into the existing objects (``set_swap_module_params_on_conversion``)
SWAP = [False]
