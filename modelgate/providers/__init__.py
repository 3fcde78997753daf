"""Built-in approval providers, each a plugin implementing ``modelgate_collect_approvals``."""
