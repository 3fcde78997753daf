"""Git access: the repository (plain git subprocesses), trees to read files from, LFS pointers."""
