"""One configuration end to end: run it (train, evaluate, measure), its figures, kept weights, forecasts."""
