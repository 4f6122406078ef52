"""lstmexp: hyperparameter experiments for LSTMs (batch_size, time_step, hidden_size)."""

__version__ = "0.1.0"
