"""Floor 0: the data model (Tensor, dtypes, backends, printing, the graph node, grad modes,
source locations). Imports nothing else from gradkit."""
