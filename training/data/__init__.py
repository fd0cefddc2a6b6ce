"""Datasets and readers (Sen1Floods11, ETCI 2021, OMBRIA, TerraMind, pairs) and augmentation."""
