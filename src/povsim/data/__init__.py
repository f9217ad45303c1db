"""Data files shipped with povsim: the communes table and its sources."""
