"""The check pipeline, in data-flow order: workspace (options, setup) -> discovery -> base ->
trust -> rules -> session -> context (what checks see); paths says where an artifact may be."""
