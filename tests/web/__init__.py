"""Tests of the web pages and the /learn articles."""
