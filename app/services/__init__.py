"""Use cases: one function per action, explicit session; they flush, never commit."""
