"""The repository as a registry: resolve a version, diff two states, a model's history."""
