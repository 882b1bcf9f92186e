"""Datasets: catalog readers, the synthetic catalog, the teacher -> refiner steps, the dataset writer."""
