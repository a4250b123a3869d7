print("follow-graph-svd: not yet implemented")
