"""Run PyTorch programs twice, with torch and with gradkit aliased as torch, and compare."""
