"""Built-in checks. Each module is a plugin, registered exactly like a third-party one."""
