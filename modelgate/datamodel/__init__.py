"""The data model: strict YAML, the manifest, policy and config documents, and run results."""
