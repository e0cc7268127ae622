"""A realistic, clearly fictional history for newcomers, built through the real service."""
