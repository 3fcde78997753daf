"""The repository as a registry: resolve a version, diff two states or two versions, compare
every version of a model, a model's history."""
