"""Integration of the IOLoop with event loops, pollers and resolvers of other libraries."""
