"""Users, roles, sessions, permissions and the audit log."""
