"""Domain rules of the entity families, in stored columns only: no wire names, no errors of the
protocol. The handlers in `orderlink.families` translate requests into calls of these."""
