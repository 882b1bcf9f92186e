"""Datasets: catalog readers, the synthetic catalog, the teacher -> refiner pipeline and the dataset writer."""
