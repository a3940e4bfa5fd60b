"""Tests of the assessment drafts domain."""
