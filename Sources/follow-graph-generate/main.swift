print("follow-graph-generate: not yet implemented")
