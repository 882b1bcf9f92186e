"""Describing images at scale: input streaming, the batched generation loop, result files, speed options."""
