"""The cluster-wide side of drafts, deployed once per cluster by an admin (stack ``platform``)."""
