"""Training one LSTM: the model and its head, batch sources, one optimisation step, the loop, evaluation."""
