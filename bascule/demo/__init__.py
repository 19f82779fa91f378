"""The demo data set loaded by `bascule serve --demo`."""
