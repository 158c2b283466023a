"""drawdown."""
