"""One module per area, each defining ``bp``."""
