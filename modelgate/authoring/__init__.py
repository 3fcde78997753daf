"""Writing manifests: init (scaffold), hash --update (rehash), promote, YAML edited in place."""
