"""Where modelgate runs inside other tools: the GitHub Action's run step and the pytest plugin."""
